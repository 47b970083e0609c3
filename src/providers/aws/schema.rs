//! The `aws` provider's resource types and provider settings. Names follow
//! Terraform's AWS provider, so a Terraform configuration ports attribute by
//! attribute.

use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};

/// The resource type of a KMS key.
pub const KMS_KEY: &str = "aws_kms_key";

pub fn resource_schemas() -> Vec<ResourceSchema> {
    vec![kms_key()]
}

fn kms_key() -> ResourceSchema {
    ResourceSchema {
        type_name: KMS_KEY,
        description: "an AWS KMS key; destroying it schedules its deletion",
        attributes: vec![
            AttributeSchema::new("description", AttributeType::String, "what the key protects"),
            AttributeSchema::new(
                "key_usage",
                AttributeType::String,
                "ENCRYPT_DECRYPT (default), SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT",
            )
            .force_new(),
            AttributeSchema::new(
                "customer_master_key_spec",
                AttributeType::String,
                "the key spec: SYMMETRIC_DEFAULT (default), RSA_2048, ECC_NIST_P256, HMAC_256, ...",
            )
            .force_new(),
            AttributeSchema::new(
                "policy",
                AttributeType::Json,
                "the key policy, a JSON document (jsonencode({...}) or file(\"policy.json\")); AWS's default policy when not set",
            ),
            AttributeSchema::new(
                "enable_key_rotation",
                AttributeType::Bool,
                "whether AWS rotates the key material automatically (default false)",
            ),
            AttributeSchema::new(
                "rotation_period_in_days",
                AttributeType::Number,
                "days between automatic rotations, 90 to 2560 (AWS's default is 365)",
            ),
            AttributeSchema::new(
                "deletion_window_in_days",
                AttributeType::Number,
                "days a destroyed key stays recoverable before AWS deletes it, 7 to 30 (default 30)",
            ),
            AttributeSchema::new(
                "is_enabled",
                AttributeType::Bool,
                "whether the key may be used (default true)",
            ),
            AttributeSchema::new(
                "multi_region",
                AttributeType::Bool,
                "whether the key is a multi-Region primary key (default false)",
            )
            .force_new(),
            AttributeSchema::new("tags", AttributeType::MapOfStrings, "tags on the key"),
            AttributeSchema::new(
                "bypass_policy_lockout_safety_check",
                AttributeType::Bool,
                "skip AWS's check that the policy does not lock the caller out (default false)",
            ),
            AttributeSchema::new("id", AttributeType::String, "the key's id").computed(),
            AttributeSchema::new("key_id", AttributeType::String, "the key's id").computed(),
            AttributeSchema::new("arn", AttributeType::String, "the key's ARN").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: true,
    }
}

pub fn provider_attributes() -> Vec<AttributeSchema> {
    vec![
        AttributeSchema::new(
            "region",
            AttributeType::String,
            "the AWS region (default: AWS_REGION or the profile's region)",
        ),
        AttributeSchema::new(
            "profile",
            AttributeType::String,
            "a named profile of the shared AWS config and credentials files (default: AWS_PROFILE or `default`)",
        ),
        AttributeSchema::new(
            "endpoint_url",
            AttributeType::String,
            "send every request to this URL instead of AWS (moto, LocalStack); AWS_ENDPOINT_URL also works",
        ),
        AttributeSchema::new(
            "access_key",
            AttributeType::String,
            "a static access key id, with secret_key (default: the SDK's credential chain)",
        ),
        AttributeSchema::new(
            "secret_key",
            AttributeType::Secret,
            "the static secret access key that goes with access_key: a value source such as env(\"...\")",
        ),
    ]
}
