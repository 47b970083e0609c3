//! The `aws` provider: AWS KMS keys through the AWS SDK for Rust.
//!
//! One driver instance serves one provider block. `configure` builds the SDK
//! clients ([`client`]): region, profile and endpoint from the block or the
//! SDK's environment, credentials from the block or the SDK's default chain,
//! adaptive retries. Every SDK error becomes a [`ProviderError`] carrying the
//! AWS error code and message, the call (`kms:CreateKey`) and the resource,
//! with help for the common ones (AccessDenied names the missing permission).
//!
//! Resource types: `aws_kms_key` ([`kms_key`], [`kms_key_apply`]). A create
//! tags the key with the journal's token, so a create repeated after a crash
//! finds the first key instead of making a second one. Destroying a key
//! schedules its deletion; a key found pending deletion is recovered, never
//! recreated.

mod client;
mod kms_key;
mod kms_key_apply;
mod schema;
mod tags;

pub use tags::TOKEN_TAG;

use crate::provider::{
    ApplyRequest, AttributeSchema, ConfigureRequest, FindRequest, ImportRequest, LiveObject, Provider, ProviderError,
    ReadRequest, ReadSecretRequest, ResourceSchema,
};
use crate::secret::SensitiveString;
use async_trait::async_trait;
use kms_key::TokenIndex;
use std::sync::OnceLock;

/// The `aws` provider.
#[derive(Debug, Default)]
pub struct AwsProvider {
    kms: OnceLock<aws_sdk_kms::Client>,
    tokens: TokenIndex,
}

impl AwsProvider {
    pub fn new() -> Self {
        AwsProvider::default()
    }

    fn kms(&self) -> Result<&aws_sdk_kms::Client, ProviderError> {
        self.kms
            .get()
            .ok_or_else(|| ProviderError::new("NotConfigured", "the aws provider was used before it was configured"))
    }
}

fn unknown_type(resource_type: &str) -> ProviderError {
    ProviderError::new(
        "UnknownType",
        format!("the aws provider has no resource type `{resource_type}`"),
    )
}

#[async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &str {
        "aws"
    }

    fn schema(&self) -> Vec<ResourceSchema> {
        schema::resource_schemas()
    }

    fn provider_schema(&self) -> Vec<AttributeSchema> {
        schema::provider_attributes()
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), ProviderError> {
        let settings = client::Settings::from_block(&request.attributes, &request.secrets)?;
        let kms = client::kms_client(&settings).await?;
        // A second configure of the same driver keeps the first client.
        let _ = self.kms.set(kms);
        Ok(())
    }

    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => kms_key::read(self.kms()?, &request.id, &request.prior).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn apply(&self, request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => kms_key_apply::apply(self.kms()?, &self.tokens, &request).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => kms_key::read(self.kms()?, &request.id, &Default::default()).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn find_by_token(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => {
                let kms = self.kms()?;
                match self.tokens.find(kms, &request.token).await? {
                    Some(id) => kms_key::read(kms, &id, &request.attributes).await,
                    None => Ok(None),
                }
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        match resource_type {
            schema::KMS_KEY => kms_key::list(self.kms()?).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        Err(ProviderError::new(
            "NotSecret",
            format!(
                "`{}.{}` is not a secret attribute: the aws provider's resource types hold no secret value keyform can read",
                request.resource_type, request.attribute
            ),
        )
        .with_help("a KMS key's material never leaves AWS; read its `arn` or `key_id` instead"))
    }
}
