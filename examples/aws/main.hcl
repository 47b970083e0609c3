# A payments key in AWS KMS: rotated by AWS every year, with a key policy that
# lets the account administer it and one role use it.
#
# Against moto (no AWS account):   see README.md beside this file.
# Against a real account:          keyform init && keyform apply --var account_id=<your account id>

variable "account_id" {
  description = "the AWS account that owns the key (moto's account by default)"
  type        = string
  default     = "123456789012"
}

variable "region" {
  description = "the AWS region of the key"
  type        = string
  default     = "us-east-1"
}

provider "aws" {
  region = var.region
  # endpoint_url = "http://127.0.0.1:5000"   # or set AWS_ENDPOINT_URL
}

resource "aws_kms_key" "payments" {
  description             = "encrypts card tokens of the payments service"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30

  tags = {
    team        = "payments"
    cost-center = "4711"
  }

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "PaymentsServiceEncrypts"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.account_id}:role/payments-service" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
      },
    ]
  })
}

output "payments_key_arn" {
  value = aws_kms_key.payments.arn
}
