//! The `aws` provider: AWS KMS keys through the AWS SDK for Rust.
//!
//! One driver instance serves one provider block. `configure` builds the SDK
//! clients ([`client`]): region, profile and endpoint from the block or the
//! SDK's environment, credentials from the block or the SDK's default chain,
//! optionally as an assumed role ([`assume_role`]), adaptive retries, and
//! every request paced per operation at AWS's quotas ([`rate_limit`]: no call
//! site needs to do anything). CreateKey and PutKeyPolicy retry while a
//! principal their policy names is not visible yet ([`retry`]). Every SDK error becomes a [`ProviderError`] carrying the
//! AWS error code and message, the call (`kms:CreateKey`) and the resource,
//! with help for the common ones (AccessDenied names the missing permission).
//!
//! Resource types: `aws_kms_key` ([`kms_key`], [`kms_key_apply`]). A create
//! tags the key with the journal's token, so a create repeated after a crash
//! finds the first key instead of making a second one. Destroying a key
//! schedules its deletion; a key found pending deletion is recovered, never
//! recreated.
//!
//! `aws_kms_alias` ([`kms_alias`]) is addressed by its name, and deleting it
//! is immediate. `aws_kms_grant` ([`kms_grant`], [`kms_grant_apply`]) is
//! named by the journal's token (or its configured name), which makes
//! CreateGrant idempotent; AWS cannot change a grant, so a change replaces it.
//!
//! `aws_secretsmanager_secret` ([`secret_schema`], [`secret`],
//! [`secret_apply`]) folds the value and the rotation into one resource: the
//! value is written with the journal's token as `ClientRequestToken`, drift
//! is found through the AWSCURRENT version id without reading the value, and
//! a create whose name is pending deletion restores that secret.

mod assume_role;
mod client;
mod data;
mod kms_alias;
mod kms_grant;
mod kms_grant_apply;
mod kms_key;
mod kms_key_apply;
mod policy;
mod rate_limit;
mod retry;
mod schema;
mod secret;
mod secret_apply;
mod secret_schema;
mod tags;

pub use tags::TOKEN_TAG;

use crate::provider::{
    ApplyRequest, AttributeSchema, Attributes, ConfigureRequest, FindRequest, ImportRequest, InvalidArgument,
    LiveObject, Provider, ProviderError, ReadDataRequest, ReadRequest, ReadSecretRequest, ResourceSchema,
    ValidateRequest,
};
use crate::secret::SensitiveString;
use async_trait::async_trait;
use kms_key::TokenIndex;
use std::sync::OnceLock;

/// The `aws` provider.
#[derive(Debug, Default)]
pub struct AwsProvider {
    kms: OnceLock<aws_sdk_kms::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    secrets_manager: OnceLock<aws_sdk_secretsmanager::Client>,
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

    fn secrets_manager(&self) -> Result<&aws_sdk_secretsmanager::Client, ProviderError> {
        self.secrets_manager
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

    fn provider_blocks(&self) -> Vec<crate::provider::BlockSchema> {
        schema::provider_blocks()
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), ProviderError> {
        let settings = client::Settings::from_block(&request.attributes, &request.secrets)?;
        let config = client::sdk_config(&settings).await?;
        // A second configure of the same driver keeps the first clients.
        let _ = self.kms.set(aws_sdk_kms::Client::new(&config));
        let _ = self.sts.set(aws_sdk_sts::Client::new(&config));
        let _ = self.secrets_manager.set(aws_sdk_secretsmanager::Client::new(&config));
        Ok(())
    }

    fn data_schema(&self) -> Vec<ResourceSchema> {
        data::schemas()
    }

    async fn read_data(&self, request: ReadDataRequest) -> Result<Attributes, ProviderError> {
        match request.data_type.as_str() {
            data::CALLER_IDENTITY => {
                let sts = self.sts.get().ok_or_else(|| {
                    ProviderError::new("NotConfigured", "the aws provider was used before it was configured")
                })?;
                data::caller_identity(sts).await
            }
            data::KMS_KEY => data::kms_key(self.kms()?, &request.arguments).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => kms_key::read(self.kms()?, &request.id, &request.prior).await,
            secret_schema::SECRET => secret::read(self.secrets_manager()?, &request.id, &request.prior, None).await,
            schema::KMS_ALIAS => kms_alias::read(self.kms()?, &request.id, &request.prior).await,
            schema::KMS_GRANT => kms_grant::read(self.kms()?, &request.id, &request.prior).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn apply(&self, request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => kms_key_apply::apply(self.kms()?, &self.tokens, &request).await,
            secret_schema::SECRET => secret_apply::apply(self.secrets_manager()?, &request).await,
            schema::KMS_ALIAS => kms_alias::apply(self.kms()?, &request).await,
            schema::KMS_GRANT => kms_grant_apply::apply(self.kms()?, &request).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_KEY => kms_key::read(self.kms()?, &request.id, &Default::default()).await,
            secret_schema::SECRET => {
                secret::read(self.secrets_manager()?, &request.id, &Default::default(), None).await
            }
            schema::KMS_ALIAS => kms_alias::read(self.kms()?, &request.id, &Default::default()).await,
            schema::KMS_GRANT => kms_grant::read(self.kms()?, &request.id, &Default::default()).await,
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
            schema::KMS_ALIAS => kms_alias::find_by_name(self.kms()?, &request.attributes).await,
            schema::KMS_GRANT => kms_grant::find_by_token(self.kms()?, &request.token, &request.attributes).await,
            secret_schema::SECRET => {
                secret::find_by_token(self.secrets_manager()?, &request.token, &request.attributes).await
            }
            other => Err(unknown_type(other)),
        }
    }

    fn validate_arguments(&self, request: &ValidateRequest<'_>) -> Vec<InvalidArgument> {
        // Only arguments known at plan time are here; each check judges one that is set.
        let arguments = request.arguments;
        let mut problems: Vec<(&str, Option<ProviderError>)> = Vec::new();
        match request.resource_type {
            schema::KMS_KEY => {
                problems.push(("policy", policy::check(arguments, policy::PolicyKind::Key)));
                for (name, low, high) in kms_key::DAY_RANGES {
                    problems.push((name, kms_key::days_in_range(arguments, name, low, high).err()));
                }
            }
            secret_schema::SECRET => {
                problems.push(("policy", policy::check(arguments, policy::PolicyKind::Secret)));
                problems.push((
                    "recovery_window_in_days",
                    secret_schema::recovery_window(arguments).err(),
                ));
                problems.push((
                    "rotation",
                    secret_schema::lambda_rotation(arguments.get("rotation")).err(),
                ));
            }
            schema::KMS_ALIAS => {
                let name = arguments.get("name").and_then(serde_json::Value::as_str);
                problems.push(("name", name.and_then(|name| kms_alias::check_name(name).err())));
            }
            _ => {}
        }
        problems
            .into_iter()
            .filter_map(|(attribute, error)| {
                error.map(|error| InvalidArgument {
                    attribute: attribute.to_string(),
                    error,
                })
            })
            .collect()
    }

    async fn lookup_existing(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            schema::KMS_ALIAS => kms_alias::find_by_name(self.kms()?, &request.attributes).await,
            secret_schema::SECRET => secret::lookup_existing(self.secrets_manager()?, &request.attributes).await,
            _ => Ok(None),
        }
    }

    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        match resource_type {
            schema::KMS_KEY => kms_key::list(self.kms()?).await,
            secret_schema::SECRET => secret::list(self.secrets_manager()?).await,
            schema::KMS_ALIAS => kms_alias::list(self.kms()?).await,
            schema::KMS_GRANT => kms_grant::list(self.kms()?).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        if request.resource_type == secret_schema::SECRET && request.attribute == "value" {
            return secret::read_value(self.secrets_manager()?, &request.id).await;
        }
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
