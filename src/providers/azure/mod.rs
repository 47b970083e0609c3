//! The `azurerm` provider: Azure Key Vault vaults, keys and secrets.
//!
//! One driver instance serves one provider block. `configure` reads the block
//! ([`settings`]), builds the HTTP client every call goes through
//! ([`transport`]: `HTTPS_PROXY`, extra CAs from `SSL_CERT_FILE`), the
//! azure_identity credential ([`credential`]: client secret, workload
//! identity, managed identity or the Azure CLI) and the clients
//! ([`connection`]). Vaults live in Azure Resource Manager, which has no
//! official Rust crate: [`arm`] calls its REST API with a token from the
//! credential. Keys and secrets go through Microsoft's official crates
//! `azure_security_keyvault_keys` and `azure_security_keyvault_secrets`.
//!
//! Resource types: `azurerm_key_vault` ([`vault`]), `azurerm_key_vault_key`
//! ([`keys`], [`keys_apply`], [`rotation_policy`]) and
//! `azurerm_key_vault_secret` ([`secrets`], [`secrets_apply`]); what keys and
//! secrets share is written once in [`objects`] and [`kind`]. Every create
//! tags the object with the journal's token, so a create repeated after a
//! crash finds the first object. **Soft delete is kept: destroy soft-deletes;
//! a purge happens only when `features { key_vault { purge_* } }` asks and
//! never under purge protection; a create that meets a soft-deleted name
//! recovers it when recovery is on (the default) and explains both ways out
//! when it is off ([`soft_delete`]).** Every Azure error becomes a
//! [`ProviderError`] naming the operation, the object and Azure's code
//! ([`errors`]).

mod arm;
mod connection;
mod credential;
mod data_plane;
mod errors;
mod ids;
mod keys;
mod keys_apply;
mod kind;
mod objects;
mod rotation_policy;
mod schema;
mod secrets;
mod secrets_apply;
mod settings;
mod soft_delete;
mod transport;
mod validate;
mod vault;

pub use data_plane::TOKEN_TAG;
pub use schema::{KEY, KEY_VAULT, SECRET};

use crate::provider::{
    ApplyRequest, AttributeSchema, BlockSchema, CheckChangeRequest, ConfigureRequest, FindRequest, ImportRequest,
    InvalidArgument, LiveObject, Provider, ProviderError, ReadRequest, ReadSecretRequest, ResourceSchema,
    ValidateRequest,
};
use crate::secret::SensitiveString;
use async_trait::async_trait;
use connection::Connection;
use kind::Kind;
use std::sync::OnceLock;

/// The `azurerm` provider.
#[derive(Debug, Default)]
pub struct AzureProvider {
    connection: OnceLock<Connection>,
}

impl AzureProvider {
    pub fn new() -> Self {
        AzureProvider::default()
    }

    fn connection(&self) -> Result<&Connection, ProviderError> {
        self.connection.get().ok_or_else(|| {
            ProviderError::new(
                "NotConfigured",
                "the azurerm provider was used before it was configured",
            )
        })
    }
}

fn unknown_type(resource_type: &str) -> ProviderError {
    ProviderError::new(
        "UnknownType",
        format!("the azurerm provider has no resource type `{resource_type}`"),
    )
}

/// What a resource type is about: vaults, or keys or secrets (which share their reads).
enum Target {
    Vault,
    Object(Kind),
}

fn target(resource_type: &str) -> Result<Target, ProviderError> {
    match resource_type {
        KEY_VAULT => Ok(Target::Vault),
        KEY => Ok(Target::Object(Kind::Key)),
        SECRET => Ok(Target::Object(Kind::Secret)),
        other => Err(unknown_type(other)),
    }
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        "azurerm"
    }

    fn schema(&self) -> Vec<ResourceSchema> {
        schema::resource_schemas()
    }

    fn provider_schema(&self) -> Vec<AttributeSchema> {
        schema::provider_attributes()
    }

    fn provider_blocks(&self) -> Vec<BlockSchema> {
        schema::provider_blocks()
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), ProviderError> {
        let settings = settings::Settings::from_block(&request.attributes, &request.secrets)?;
        let connection = Connection::new(settings)?;
        // A second configure of the same driver keeps the first connection.
        let _ = self.connection.set(connection);
        Ok(())
    }

    fn validate_arguments(&self, request: &ValidateRequest<'_>) -> Vec<InvalidArgument> {
        validate::problems(request.resource_type, request.arguments)
    }

    fn check_change(&self, request: &CheckChangeRequest) -> Result<(), ProviderError> {
        if request.resource_type == KEY_VAULT {
            return vault::check_change(&request.id, &request.current, &request.desired);
        }
        Ok(())
    }

    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError> {
        let connection = self.connection()?;
        match target(&request.resource_type)? {
            Target::Vault => vault::read(connection, &request.id, &request.prior).await,
            Target::Object(kind) => objects::read(connection, kind, &request.id, &request.prior).await,
        }
    }

    async fn apply(&self, request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
        let connection = self.connection()?;
        match request.resource_type.as_str() {
            KEY_VAULT => vault::apply(connection, &request).await,
            KEY => keys_apply::apply(connection, &request).await,
            SECRET => secrets_apply::apply(connection, &request).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError> {
        // An import is a read with nothing recorded yet.
        self.read(ReadRequest {
            resource_type: request.resource_type,
            id: request.id,
            prior: Default::default(),
        })
        .await
    }

    async fn find_by_token(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        let connection = self.connection()?;
        match target(&request.resource_type)? {
            Target::Vault => vault::find_by_token(connection, &request.token, &request.attributes).await,
            Target::Object(kind) => objects::find_by_token(connection, kind, &request.token, &request.attributes).await,
        }
    }

    async fn lookup_existing(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        let connection = self.connection()?;
        match target(&request.resource_type) {
            Ok(Target::Vault) => vault::lookup_existing(connection, &request.attributes).await,
            Ok(Target::Object(kind)) => objects::lookup_existing(connection, kind, &request.attributes).await,
            Err(_) => Ok(None),
        }
    }

    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        let connection = self.connection()?;
        match target(resource_type)? {
            Target::Vault => vault::list(connection).await,
            Target::Object(kind) => objects::list(connection, kind).await,
        }
    }

    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        if request.resource_type == SECRET && request.attribute == "value" {
            return secrets::read_value(self.connection()?, &request.id).await;
        }
        Err(ProviderError::new(
            "NotSecret",
            format!(
                "`{}.{}` is not a secret attribute keyform can read",
                request.resource_type, request.attribute
            ),
        )
        .with_help("a Key Vault key's private material never leaves the vault; read its `id` instead"))
    }
}
