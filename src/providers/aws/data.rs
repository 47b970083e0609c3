//! The AWS data sources: `aws_caller_identity` (who the provider runs as) and
//! `aws_kms_key` (a key looked up by id, ARN or alias). Read-only lookups; a
//! data source is never kept in state.

use super::client::provider_error;
use crate::provider::{AttributeSchema, AttributeType, Attributes, ProviderError, ResourceSchema};

pub const CALLER_IDENTITY: &str = "aws_caller_identity";
pub const KMS_KEY: &str = "aws_kms_key";

fn computed(name: &'static str, attribute_type: AttributeType, description: &'static str) -> AttributeSchema {
    AttributeSchema::new(name, attribute_type, description).computed()
}

pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema {
            type_name: CALLER_IDENTITY,
            description: "the account, user and ARN the provider's credentials belong to",
            attributes: vec![
                computed("id", AttributeType::String, "the account id"),
                computed("account_id", AttributeType::String, "the account id"),
                computed("arn", AttributeType::String, "the caller's ARN"),
                computed("user_id", AttributeType::String, "the caller's unique id"),
            ],
            blocks: Vec::new(),
            recoverable_deletion: false,
        },
        ResourceSchema {
            type_name: KMS_KEY,
            description: "a KMS key looked up by key id, key ARN, alias name or alias ARN",
            attributes: vec![
                AttributeSchema::new(
                    "key_id",
                    AttributeType::String,
                    "the key id, key ARN, alias name or alias ARN",
                )
                .required(),
                computed("id", AttributeType::String, "the key id"),
                computed("arn", AttributeType::String, "the key's ARN"),
                computed("description", AttributeType::String, "the key's description"),
                computed("enabled", AttributeType::Bool, "whether the key is enabled"),
                computed(
                    "key_state",
                    AttributeType::String,
                    "Enabled, Disabled, PendingDeletion...",
                ),
                computed("key_usage", AttributeType::String, "ENCRYPT_DECRYPT, SIGN_VERIFY..."),
                computed("key_manager", AttributeType::String, "CUSTOMER or AWS"),
                computed("multi_region", AttributeType::Bool, "whether the key is multi-Region"),
            ],
            blocks: Vec::new(),
            recoverable_deletion: false,
        },
    ]
}

/// `aws_caller_identity`: STS GetCallerIdentity.
pub async fn caller_identity(sts: &aws_sdk_sts::Client) -> Result<Attributes, ProviderError> {
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| provider_error(error, "sts:GetCallerIdentity", "*"))?;
    let mut attributes = Attributes::new();
    let account = identity.account().unwrap_or_default().to_string();
    attributes.insert("id".into(), account.clone().into());
    attributes.insert("account_id".into(), account.into());
    attributes.insert("arn".into(), identity.arn().unwrap_or_default().into());
    attributes.insert("user_id".into(), identity.user_id().unwrap_or_default().into());
    Ok(attributes)
}

/// `aws_kms_key`: DescribeKey.
pub async fn kms_key(kms: &aws_sdk_kms::Client, arguments: &Attributes) -> Result<Attributes, ProviderError> {
    let key_id = arguments
        .get("key_id")
        .and_then(|value| value.as_str())
        .unwrap_or_default();
    let described = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|error| provider_error(error, "kms:DescribeKey", key_id))?;
    let metadata = described
        .key_metadata()
        .ok_or_else(|| ProviderError::new("NotFound", format!("DescribeKey returned no metadata for `{key_id}`")))?;
    let mut attributes = Attributes::new();
    attributes.insert("key_id".into(), key_id.into());
    attributes.insert("id".into(), metadata.key_id().into());
    attributes.insert("arn".into(), metadata.arn().unwrap_or_default().into());
    attributes.insert("description".into(), metadata.description().unwrap_or_default().into());
    attributes.insert("enabled".into(), metadata.enabled().into());
    attributes.insert(
        "key_state".into(),
        metadata
            .key_state()
            .map(|state| state.as_str().to_string())
            .unwrap_or_default()
            .into(),
    );
    attributes.insert(
        "key_usage".into(),
        metadata
            .key_usage()
            .map(|usage| usage.as_str().to_string())
            .unwrap_or_default()
            .into(),
    );
    attributes.insert(
        "key_manager".into(),
        metadata
            .key_manager()
            .map(|manager| manager.as_str().to_string())
            .unwrap_or_default()
            .into(),
    );
    attributes.insert("multi_region".into(), metadata.multi_region().unwrap_or(false).into());
    Ok(attributes)
}
