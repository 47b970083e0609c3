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

# The services address the key by its alias, so the alias can move to a new key.
resource "aws_kms_alias" "payments" {
  name          = "alias/payments"
  target_key_id = aws_kms_key.payments.key_id
}

# The audit account may decrypt what the payments service encrypts, and
# nothing else. Its own IAM policy must allow the same on the key's ARN.
resource "aws_kms_grant" "audit" {
  name              = "audit-account-decrypts-payments"
  key_id            = aws_kms_key.payments.key_id
  grantee_principal = "arn:aws:iam::${var.audit_account_id}:root"
  operations        = ["Decrypt", "DescribeKey"]

  constraints {
    encryption_context_subset = {
      service = "payments"
    }
  }
}

variable "audit_account_id" {
  description = "the audit account that may decrypt with the payments key"
  type        = string
  default     = "111122223333"
}

output "payments_key_arn" {
  value = aws_kms_key.payments.arn
}

output "payments_alias_arn" {
  value = aws_kms_alias.payments.arn
}

output "audit_grant_id" {
  value = aws_kms_grant.audit.grant_id
}
