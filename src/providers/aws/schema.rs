//! The `aws` provider's resource types and provider settings. Names follow
//! Terraform's AWS provider, so a Terraform configuration ports attribute by
//! attribute.

use crate::provider::{AttributeSchema, AttributeType, BlockSchema, ResourceSchema};

/// The resource type of a KMS key.
pub const KMS_KEY: &str = "aws_kms_key";
/// The resource type of a KMS alias.
pub const KMS_ALIAS: &str = "aws_kms_alias";
/// The resource type of a KMS grant.
pub const KMS_GRANT: &str = "aws_kms_grant";

pub fn resource_schemas() -> Vec<ResourceSchema> {
    vec![kms_key(), kms_alias(), kms_grant(), super::secret_schema::schema()]
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

fn kms_alias() -> ResourceSchema {
    ResourceSchema {
        type_name: KMS_ALIAS,
        description: "a name (alias/...) for a KMS key; retargeting it updates in place, deleting it is immediate",
        attributes: vec![
            AttributeSchema::new(
                "name",
                AttributeType::String,
                "the alias name: `alias/` and letters, digits, `/`, `_` or `-`; not under `alias/aws/`",
            )
            .required()
            .force_new(),
            AttributeSchema::new(
                "target_key_id",
                AttributeType::String,
                "the key id or key ARN the alias points at",
            )
            .required(),
            AttributeSchema::new("id", AttributeType::String, "the alias name").computed(),
            AttributeSchema::new("arn", AttributeType::String, "the alias ARN").computed(),
            AttributeSchema::new(
                "target_key_arn",
                AttributeType::String,
                "the ARN of the key the alias points at",
            )
            .computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

fn kms_grant() -> ResourceSchema {
    use crate::provider::BlockSchema;
    ResourceSchema {
        type_name: KMS_GRANT,
        description: "a grant of some operations on a KMS key to a principal; AWS cannot change a grant, so a change replaces it",
        attributes: vec![
            AttributeSchema::new(
                "name",
                AttributeType::String,
                "the grant's name (default: keyform's create token); it makes CreateGrant idempotent",
            )
            .force_new(),
            AttributeSchema::new("key_id", AttributeType::String, "the key id or key ARN of the key")
                .required()
                .force_new(),
            AttributeSchema::new(
                "grantee_principal",
                AttributeType::String,
                "who gets the grant: an IAM ARN, such as another account's `arn:aws:iam::111122223333:root`",
            )
            .required()
            .force_new(),
            AttributeSchema::new(
                "operations",
                AttributeType::ListOfStrings,
                "the operations granted (Encrypt, Decrypt, GenerateDataKey, ...), in any order",
            )
            .required()
            .force_new()
            .unordered(),
            AttributeSchema::new(
                "retiring_principal",
                AttributeType::String,
                "a principal that may retire the grant",
            )
            .force_new(),
            AttributeSchema::new(
                "retire_on_delete",
                AttributeType::Bool,
                "delete by RetireGrant instead of RevokeGrant (default false); changing it touches nothing at AWS",
            ),
            AttributeSchema::new("id", AttributeType::String, "`<key_id>:<grant_id>`").computed(),
            AttributeSchema::new("grant_id", AttributeType::String, "the grant's id").computed(),
        ],
        blocks: vec![BlockSchema {
            name: "constraints",
            attributes: vec![
                AttributeSchema::new(
                    "encryption_context_equals",
                    AttributeType::MapOfStrings,
                    "the grant allows only requests whose encryption context is exactly this",
                )
                .force_new(),
                AttributeSchema::new(
                    "encryption_context_subset",
                    AttributeType::MapOfStrings,
                    "the grant allows only requests whose encryption context includes this",
                )
                .force_new(),
            ],
            description: "limits the grant to requests with an encryption context (one of the two)",
        }],
        recoverable_deletion: false,
    }
}

/// The provider block's nested blocks: `assume_role` ([`super::assume_role`]).
pub fn provider_blocks() -> Vec<BlockSchema> {
    vec![BlockSchema {
        name: "assume_role",
        attributes: vec![
            AttributeSchema::new(
                "role_arn",
                AttributeType::String,
                "the role every call of this provider goes as: arn:aws:iam::ACCOUNT:role/NAME",
            )
            .required(),
            AttributeSchema::new(
                "session_name",
                AttributeType::String,
                "the session name CloudTrail shows for the role (default \"keyform\")",
            ),
            AttributeSchema::new(
                "external_id",
                AttributeType::String,
                "the external id the role's trust policy asks for, if any",
            ),
        ],
        description: "assume this IAM role, with the base credentials, for every call",
    }]
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
        AttributeSchema::new(
            "rate_limits",
            AttributeType::MapOfStrings,
            "calls per second by AWS operation, over AWS's default quotas: { CreateKey = \"20\" }; \"*\" sets every operation not named",
        ),
    ]
}
