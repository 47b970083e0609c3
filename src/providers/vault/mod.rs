//! The `vault` provider: HashiCorp Vault (and OpenBao, which speaks the same
//! API) through vaultrs's HTTP client.
//!
//! One driver instance serves one provider block. `configure` builds the
//! client ([`client`]): `address` (default VAULT_ADDR), `token` (a secret
//! value source, default VAULT_TOKEN), `namespace`, `ca_cert_file` and
//! `skip_tls_verify`, which is refused unless the address is loopback. The
//! token is held as a [`SensitiveString`] and never logged. Vault's `errors`
//! list becomes a [`ProviderError`] naming the method and path; a 403 says
//! which capability on which path is missing.
//!
//! Authentication is by token or by an `approle { role_id, secret_id_env,
//! mount }` block ([`client`]), which logs in and logs in again before the
//! token runs out.
//!
//! Resource types, all name-addressed: `vault_mount` ([`mount`]),
//! `vault_policy` ([`policy`]), `vault_kv_secret_v2` ([`kv_secret`]),
//! `vault_auth_backend` ([`auth_backend`]) and
//! `vault_approle_auth_backend_role` ([`approle_role`]).
//! Each create records the journal's token on the object (a mount option, a
//! comment line of the policy, a custom metadata key of the secret) so a
//! create repeated after a crash finds what the first one made, and a create
//! over an object someone else made fails instead of overwriting it.

mod approle_role;
mod auth_backend;
mod client;
mod kv_secret;
mod mount;
mod policy;
mod schema;

pub use auth_backend::TOKEN_OPTION as AUTH_TOKEN_OPTION;
pub use client::DEFAULT_SECRET_ID_ENV as APPROLE_SECRET_ID_ENV;
pub use kv_secret::TOKEN_KEY as KV_TOKEN_KEY;
pub use mount::TOKEN_OPTION as MOUNT_TOKEN_OPTION;
pub use policy::{TOKEN_MARKER as POLICY_TOKEN_MARKER, normalize_policy};

use crate::provider::{
    ApplyRequest, AttributeSchema, BlockSchema, ConfigureRequest, FindRequest, ImportRequest, LiveObject, Provider,
    ProviderError, ReadRequest, ReadSecretRequest, ResourceSchema,
};
use crate::secret::SensitiveString;
use async_trait::async_trait;
use client::VaultClient;
use std::sync::OnceLock;

/// The `vault` provider.
#[derive(Debug, Default)]
pub struct VaultProvider {
    client: OnceLock<VaultClient>,
}

impl VaultProvider {
    pub fn new() -> Self {
        VaultProvider::default()
    }

    fn client(&self) -> Result<&VaultClient, ProviderError> {
        self.client
            .get()
            .ok_or_else(|| ProviderError::new("NotConfigured", "the vault provider was used before it was configured"))
    }
}

fn unknown_type(resource_type: &str) -> ProviderError {
    ProviderError::new(
        "UnknownType",
        format!("the vault provider has no resource type `{resource_type}`"),
    )
}

/// Whether the attributes that address an object of the type are known (not left for apply).
fn names_known(request: &FindRequest) -> bool {
    let naming: &[&str] = match request.resource_type.as_str() {
        schema::MOUNT => &["path"],
        schema::POLICY => &["name"],
        schema::KV_SECRET_V2 => &["mount", "name"],
        schema::AUTH_BACKEND => &["type"],
        schema::APPROLE_ROLE => &["role_name"],
        _ => &[],
    };
    naming.iter().all(|name| {
        request
            .attributes
            .get(*name)
            .and_then(serde_json::Value::as_str)
            .is_some()
    })
}

#[async_trait]
impl Provider for VaultProvider {
    fn name(&self) -> &str {
        "vault"
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
        let settings =
            client::Settings::from_block(&request.attributes, &request.secrets, |name| std::env::var(name).ok())?;
        let client = VaultClient::new(settings)?;
        // A second configure of the same driver keeps the first client.
        let _ = self.client.set(client);
        Ok(())
    }

    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError> {
        let client = self.client()?;
        match request.resource_type.as_str() {
            schema::MOUNT => mount::read(client, &request.id, &request.prior).await,
            schema::POLICY => policy::read(client, &request.id, &request.prior).await,
            schema::KV_SECRET_V2 => {
                kv_secret::read(client, &kv_secret::Address::from_id(&request.id)?, &request.prior).await
            }
            schema::AUTH_BACKEND => auth_backend::read(client, &request.id, &request.prior).await,
            schema::APPROLE_ROLE => approle_role::read(client, &request.id).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn apply(&self, request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
        let client = self.client()?;
        match request.resource_type.as_str() {
            schema::MOUNT => mount::apply(client, &request).await,
            schema::POLICY => policy::apply(client, &request).await,
            schema::KV_SECRET_V2 => kv_secret::apply(client, &request).await,
            schema::AUTH_BACKEND => auth_backend::apply(client, &request).await,
            schema::APPROLE_ROLE => approle_role::apply(client, &request).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError> {
        self.read(ReadRequest {
            resource_type: request.resource_type,
            id: request.id,
            prior: Default::default(),
        })
        .await
    }

    async fn find_by_token(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        let client = self.client()?;
        if !names_known(&request) {
            return Ok(None);
        }
        match request.resource_type.as_str() {
            schema::MOUNT => mount::find_by_token(client, &request.token, &request.attributes).await,
            schema::POLICY => policy::find_by_token(client, &request.token, &request.attributes).await,
            schema::KV_SECRET_V2 => kv_secret::find_by_token(client, &request.token, &request.attributes).await,
            schema::AUTH_BACKEND => auth_backend::find_by_token(client, &request.token, &request.attributes).await,
            schema::APPROLE_ROLE => approle_role::find_by_token(client, &request.attributes).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn lookup_existing(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        let client = self.client()?;
        if !names_known(&request) {
            return Ok(None);
        }
        match request.resource_type.as_str() {
            schema::MOUNT => {
                let path = request
                    .attributes
                    .get("path")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                mount::read(client, path, &request.attributes).await
            }
            schema::POLICY => policy::lookup(client, &request.attributes).await,
            schema::KV_SECRET_V2 => {
                let address = kv_secret::Address::from_attributes(&request.attributes)?;
                kv_secret::read(client, &address, &request.attributes).await
            }
            schema::AUTH_BACKEND => {
                auth_backend::read(
                    client,
                    &auth_backend::path_of(&request.attributes)?,
                    &request.attributes,
                )
                .await
            }
            schema::APPROLE_ROLE => approle_role::lookup(client, &request.attributes).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        let client = self.client()?;
        match resource_type {
            schema::MOUNT => mount::list(client).await,
            schema::POLICY => policy::list(client).await,
            schema::KV_SECRET_V2 => kv_secret::list(client).await,
            schema::AUTH_BACKEND => auth_backend::list(client).await,
            schema::APPROLE_ROLE => approle_role::list(client).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        match (request.resource_type.as_str(), request.attribute.as_str()) {
            (schema::KV_SECRET_V2, kv_secret::DATA_JSON) => kv_secret::read_value(self.client()?, &request.id).await,
            (other, attribute) => Err(ProviderError::new(
                "NotSecret",
                format!("`{other}.{attribute}` is not a secret attribute the vault provider can read"),
            )),
        }
    }
}
