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
//! Authentication is by token or by one login block ([`login`]): `approle
//! { role_id, secret_id | secret_id_env, mount }`, `jwt { role, jwt, mount }`
//! or `kubernetes { role, jwt_file, mount }`; the client ([`client`]) logs in
//! and logs in again before the token runs out. Giving more than one way to
//! authenticate is refused.
//!
//! Resource types, all name-addressed: `vault_mount` ([`mount`]),
//! `vault_policy` ([`policy`]), `vault_kv_secret_v2` ([`kv_secret`]),
//! `vault_auth_backend` ([`auth_backend`]),
//! `vault_approle_auth_backend_role` ([`approle_role`]), and the database
//! secrets engine's `vault_database_secret_backend_connection`
//! ([`database_connection`], PostgreSQL, its password a value source),
//! `vault_database_secret_backend_role` ([`database_role`]) and
//! `vault_database_secret_backend_static_role` ([`database_static_role`]),
//! which share [`database`]; the JWT and Kubernetes auth methods'
//! `vault_jwt_auth_backend` ([`jwt_backend`], which enables the method
//! through [`auth_backend`]), `vault_kubernetes_auth_backend_config`
//! ([`kubernetes_config`], its reviewer token a value source), and
//! `vault_jwt_auth_backend_role` ([`jwt_role`]) and
//! `vault_kubernetes_auth_backend_role` ([`kubernetes_role`]), which share
//! [`auth_role`] with the AppRole role; the PKI engine's
//! `vault_pki_secret_backend_root_cert` ([`pki_root_cert`], its subject read
//! back by [`pki_subject`]) and
//! `vault_pki_secret_backend_role` ([`pki_role`]), and the transit engine's
//! `vault_transit_secret_backend_key` ([`transit_key`], whose destroy is
//! refused with help unless `deletion_allowed` was applied), which share
//! [`engine_path`]; and `vault_approle_auth_backend_role_secret_id`
//! ([`approle_secret_id`]): Vault generates the secret_id (or an exported
//! root's private key) and returns it once, so the driver keeps it in memory
//! for the run ([`run_values`]) and `read_secret` gives it to resources that
//! take it as their value in that run only; it is never stored.
//! The roles (AppRole, JWT, Kubernetes, database, PKI) declare their settings
//! as tables of fields and share one implementation of a role written whole
//! ([`role_fields`]); the secrets engines' objects share their addressing
//! ([`engine_path`]).
//! Each create records the journal's token on the object (a mount option, a
//! comment line of the policy, a custom metadata key of the secret, a
//! connection field of a database connection) so a
//! create repeated after a crash finds what the first one made, and a create
//! over an object someone else made fails instead of overwriting it.

mod approle_role;
mod approle_secret_id;
mod auth_backend;
mod auth_role;
mod client;
mod database;
mod database_connection;
mod database_leases;
mod database_role;
mod database_static_role;
mod engine_path;
mod generated;
mod jwt_backend;
mod jwt_role;
mod kubernetes_config;
mod kubernetes_role;
mod kv_secret;
mod login;
mod mount;
mod pki_role;
mod pki_root_cert;
mod pki_subject;
mod policy;
mod policy_check;
mod role_fields;
mod run_values;
mod schema;
mod transit_key;

pub use auth_backend::TOKEN_OPTION as AUTH_TOKEN_OPTION;
pub use database_connection::{PASSWORD_VERSION_KEY as DATABASE_PASSWORD_VERSION_KEY, TOKEN_KEY as DATABASE_TOKEN_KEY};
pub use kv_secret::TOKEN_KEY as KV_TOKEN_KEY;
pub use login::DEFAULT_SECRET_ID_ENV as APPROLE_SECRET_ID_ENV;
pub use mount::TOKEN_OPTION as MOUNT_TOKEN_OPTION;
pub use policy::{TOKEN_MARKER as POLICY_TOKEN_MARKER, normalize_policy};

use crate::provider::{
    ApplyRequest, AttributeSchema, BlockSchema, ConfigureRequest, FindRequest, ImportRequest, InvalidArgument,
    LiveObject, Provider, ProviderError, ReadRequest, ReadSecretRequest, ResourceSchema, ValidateRequest,
};
use crate::secret::SensitiveString;
use async_trait::async_trait;
use client::VaultClient;
use std::sync::OnceLock;

/// The `vault` provider.
#[derive(Debug, Default)]
pub struct VaultProvider {
    client: OnceLock<VaultClient>,
    /// The secret values Vault returned to creates in this run (never stored).
    run_values: run_values::RunValues,
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
        schema::JWT_ROLE | schema::KUBERNETES_ROLE => &["role_name"],
        schema::APPROLE_SECRET_ID => &["role_name"],
        schema::PKI_ROOT_CERT => &["backend"],
        schema::PKI_ROLE | schema::TRANSIT_KEY => &["backend", "name"],
        schema::DATABASE_CONNECTION | schema::DATABASE_ROLE | schema::DATABASE_STATIC_ROLE => &["backend", "name"],
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
        let settings = client::Settings::from_block(&request.attributes, &request.secrets, &request.folder, |name| {
            std::env::var(name).ok()
        })?;
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
            schema::JWT_BACKEND => jwt_backend::read(client, &request.id, &request.prior).await,
            schema::JWT_ROLE => jwt_role::ROLE.read(client, &request.id).await,
            schema::KUBERNETES_CONFIG => kubernetes_config::read(client, &request.id).await,
            schema::KUBERNETES_ROLE => kubernetes_role::ROLE.read(client, &request.id).await,
            schema::APPROLE_SECRET_ID => approle_secret_id::read(client, &request.id, &request.prior).await,
            schema::PKI_ROOT_CERT => pki_root_cert::read(client, &request.id, &request.prior).await,
            schema::PKI_ROLE => pki_role::read(client, &request.id).await,
            schema::TRANSIT_KEY => transit_key::read(client, &request.id).await,
            schema::DATABASE_CONNECTION => database_connection::read(client, &request.id, &request.prior).await,
            schema::DATABASE_ROLE => database_role::ROLE.read(client, &request.id).await,
            schema::DATABASE_STATIC_ROLE => database_static_role::STATIC_ROLE.read(client, &request.id).await,
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
            schema::JWT_BACKEND => jwt_backend::apply(client, &request).await,
            schema::JWT_ROLE => jwt_role::ROLE.apply(client, &request).await,
            schema::KUBERNETES_CONFIG => kubernetes_config::apply(client, &request).await,
            schema::KUBERNETES_ROLE => kubernetes_role::ROLE.apply(client, &request).await,
            schema::APPROLE_SECRET_ID => approle_secret_id::apply(client, &self.run_values, &request).await,
            schema::PKI_ROOT_CERT => pki_root_cert::apply(client, &self.run_values, &request).await,
            schema::PKI_ROLE => pki_role::apply(client, &request).await,
            schema::TRANSIT_KEY => transit_key::apply(client, &request).await,
            schema::DATABASE_CONNECTION => database_connection::apply(client, &request).await,
            schema::DATABASE_ROLE => database_role::ROLE.apply(client, &request).await,
            schema::DATABASE_STATIC_ROLE => database_static_role::STATIC_ROLE.apply(client, &request).await,
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
            schema::JWT_BACKEND => jwt_backend::find_by_token(client, &request.token, &request.attributes).await,
            schema::JWT_ROLE => jwt_role::ROLE.find_by_token(client, &request.attributes).await,
            schema::KUBERNETES_CONFIG => kubernetes_config::find_by_token(client, &request.attributes).await,
            schema::KUBERNETES_ROLE => kubernetes_role::ROLE.find_by_token(client, &request.attributes).await,
            schema::APPROLE_SECRET_ID => {
                approle_secret_id::find_by_token(client, &request.token, &request.attributes).await
            }
            schema::PKI_ROOT_CERT => pki_root_cert::find_by_token(client, &request.token, &request.attributes).await,
            schema::PKI_ROLE => pki_role::find_by_token(client, &request.attributes).await,
            schema::TRANSIT_KEY => transit_key::find_by_token(client, &request.attributes).await,
            schema::DATABASE_CONNECTION => {
                database_connection::find_by_token(client, &request.token, &request.attributes).await
            }
            schema::DATABASE_ROLE => database_role::ROLE.find_by_token(client, &request.attributes).await,
            schema::DATABASE_STATIC_ROLE => {
                database_static_role::STATIC_ROLE
                    .find_by_token(client, &request.attributes)
                    .await
            }
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
            schema::JWT_BACKEND => {
                jwt_backend::read(client, &jwt_backend::path_of(&request.attributes)?, &request.attributes).await
            }
            schema::JWT_ROLE => jwt_role::ROLE.lookup(client, &request.attributes).await,
            schema::KUBERNETES_CONFIG => kubernetes_config::lookup(client, &request.attributes).await,
            schema::KUBERNETES_ROLE => kubernetes_role::ROLE.lookup(client, &request.attributes).await,
            // A secret_id and a root are generated with new ids: a create collides with nothing.
            schema::APPROLE_SECRET_ID | schema::PKI_ROOT_CERT => Ok(None),
            schema::PKI_ROLE => pki_role::lookup(client, &request.attributes).await,
            schema::TRANSIT_KEY => transit_key::lookup(client, &request.attributes).await,
            schema::DATABASE_CONNECTION => database_connection::lookup(client, &request.attributes).await,
            schema::DATABASE_ROLE => database_role::ROLE.lookup(client, &request.attributes).await,
            schema::DATABASE_STATIC_ROLE => {
                database_static_role::STATIC_ROLE
                    .lookup(client, &request.attributes)
                    .await
            }
            other => Err(unknown_type(other)),
        }
    }

    fn validate_arguments(&self, request: &ValidateRequest<'_>) -> Vec<InvalidArgument> {
        if request.resource_type != schema::POLICY {
            return Vec::new();
        }
        let Some(text) = request.arguments.get("policy").and_then(serde_json::Value::as_str) else {
            return Vec::new();
        };
        let problems = policy_check::problems(text);
        if problems.is_empty() {
            return Vec::new();
        }
        vec![InvalidArgument {
            attribute: "policy".to_string(),
            error: ProviderError::new(
                "InvalidPolicy",
                format!("the policy is not one Vault accepts: {}", problems.join("; ")),
            )
            .with_help(
                "a policy is `path \"PATH\" { capabilities = [...] }` blocks; capabilities are create, read, update, patch, delete, list, sudo and deny (and subscribe on Vault, scan on OpenBao)",
            ),
        }]
    }

    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        let client = self.client()?;
        match resource_type {
            schema::MOUNT => mount::list(client).await,
            schema::POLICY => policy::list(client).await,
            schema::KV_SECRET_V2 => kv_secret::list(client).await,
            schema::AUTH_BACKEND => auth_backend::list(client).await,
            schema::APPROLE_ROLE => approle_role::list(client).await,
            schema::JWT_BACKEND => jwt_backend::list(client).await,
            schema::JWT_ROLE => jwt_role::ROLE.list(client).await,
            schema::KUBERNETES_CONFIG => kubernetes_config::list(client).await,
            schema::KUBERNETES_ROLE => kubernetes_role::ROLE.list(client).await,
            schema::APPROLE_SECRET_ID => approle_secret_id::list(client).await,
            schema::PKI_ROOT_CERT => pki_root_cert::list(client).await,
            schema::PKI_ROLE => pki_role::list(client).await,
            schema::TRANSIT_KEY => transit_key::list(client).await,
            schema::DATABASE_CONNECTION => database::CONNECTION.list(client).await,
            schema::DATABASE_ROLE => database::ROLE.list(client).await,
            schema::DATABASE_STATIC_ROLE => database::STATIC_ROLE.list(client).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        match (request.resource_type.as_str(), request.attribute.as_str()) {
            (schema::KV_SECRET_V2, kv_secret::DATA_JSON) => kv_secret::read_value(self.client()?, &request.id).await,
            (
                schema::APPROLE_SECRET_ID,
                attribute @ (approle_secret_id::SECRET_ID | approle_secret_id::WRAPPING_TOKEN),
            ) => approle_secret_id::read_value(&self.run_values, &request.id, attribute),
            (schema::PKI_ROOT_CERT, pki_root_cert::PRIVATE_KEY) => {
                self.run_values
                    .value(schema::PKI_ROOT_CERT, &request.id, pki_root_cert::PRIVATE_KEY)
            }
            (other, attribute) => Err(ProviderError::new(
                "NotSecret",
                format!("`{other}.{attribute}` is not a secret attribute the vault provider can read"),
            )),
        }
    }
}
