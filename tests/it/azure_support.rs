//! What every Azure test shares: one test server for the whole test binary
//! (the driver finds it, as any client would, through `HTTPS_PROXY` and the
//! extra CA in `SSL_CERT_FILE`, which are process-wide), unique names, the
//! driver configured as the core does it, vaults made through the driver,
//! and running the binary with the server's environment.

use crate::azure_server::AzureTestServer;
use crate::support::{Workspace, code, stderr, stdout};
use keyform::provider::{
    ApplyAction, ApplyRequest, Attributes, ConfigureRequest, FindRequest, LiveObject, Provider, ProviderError,
    ReadRequest,
};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

static SERVER: OnceLock<AzureTestServer> = OnceLock::new();

/// The shared test server. The first call starts it and points this process at it: `HTTPS_PROXY` (only
/// https requests use it, and no other test makes one) and `SSL_CERT_FILE`.
pub fn server() -> &'static AzureTestServer {
    SERVER.get_or_init(|| {
        let server = AzureTestServer::start();
        for (name, value) in server.environment() {
            if name.eq_ignore_ascii_case("HTTPS_PROXY") || name == "SSL_CERT_FILE" {
                // SAFETY: set once, before any Azure client of this process is built; Rust's own
                // environment accesses are serialised, and no other test reads these variables.
                unsafe { std::env::set_var(name, value) };
            }
        }
        server
    })
}

/// A vault, key or secret name with a random suffix (vault names are 3 to 24 characters).
pub fn unique(label: &str) -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{label}-{}", &suffix[..8])
}

/// A JSON object as attributes.
pub fn object(json: serde_json::Value) -> Attributes {
    json.as_object().cloned().unwrap_or_default()
}

/// The provider block's attributes for the server: its tenant, subscription and endpoints, and `features`.
pub fn provider_attributes(server: &AzureTestServer, features: serde_json::Value) -> Attributes {
    object(serde_json::json!({
        "tenant_id": server.tenant_id(),
        "subscription_id": server.subscription_id(),
        "client_id": server.client_id(),
        "environment": {
            "authority_host": server.authority_host(),
            "resource_manager": server.resource_manager(),
            "key_vault_suffix": server.key_vault_suffix(),
        },
        "features": { "key_vault": features },
    }))
}

/// One secret, as a request's or a provider block's `secrets`.
pub fn secret(name: &str, value: impl Into<String>) -> BTreeMap<String, SensitiveString> {
    BTreeMap::from([(name.to_string(), SensitiveString::new(value.into()))])
}

/// The driver, configured with the client secret through `Provider::configure` as the core does it.
pub async fn configured_provider(features: serde_json::Value) -> Arc<dyn Provider> {
    let server = server();
    configure(
        provider_attributes(server, features),
        secret("client_secret", server.client_secret()),
    )
    .await
    .expect("configure the azurerm provider")
}

/// A fresh driver configured with `attributes` and `secrets`.
pub async fn configure(
    attributes: Attributes,
    secrets: BTreeMap<String, SensitiveString>,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let provider = keyform::providers::registry("azurerm").expect("the azurerm provider is registered");
    provider
        .configure(ConfigureRequest {
            folder: std::env::temp_dir(),
            attributes,
            secrets,
        })
        .await?;
    Ok(provider)
}

/// An apply request.
pub fn request(
    resource_type: &str,
    action: ApplyAction,
    id: Option<String>,
    attributes: Attributes,
    secrets: BTreeMap<String, SensitiveString>,
) -> ApplyRequest {
    ApplyRequest {
        resource_type: resource_type.to_string(),
        action,
        id,
        attributes,
        secrets,
        changed: Vec::new(),
    }
}

/// The attributes of a new vault named `name`.
pub fn vault_attributes(name: &str, purge_protection: bool) -> Attributes {
    object(serde_json::json!({
        "name": name,
        "location": "westeurope",
        "resource_group_name": "keyform-tests",
        "tenant_id": server().tenant_id(),
        "sku_name": "standard",
        "soft_delete_retention_days": 7,
        "purge_protection_enabled": purge_protection,
    }))
}

/// A create through the driver, with a fresh token.
pub async fn create(
    provider: &Arc<dyn Provider>,
    resource_type: &str,
    attributes: &Attributes,
    secrets: BTreeMap<String, SensitiveString>,
) -> Result<Option<LiveObject>, ProviderError> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    provider
        .apply(request(
            resource_type,
            ApplyAction::Create { token },
            None,
            attributes.clone(),
            secrets,
        ))
        .await
}

/// Creates a vault through the driver.
pub async fn new_vault(provider: &Arc<dyn Provider>, purge_protection: bool) -> LiveObject {
    let attributes = vault_attributes(&unique("kv"), purge_protection);
    create(provider, "azurerm_key_vault", &attributes, BTreeMap::new())
        .await
        .expect("create a vault")
        .expect("the created vault")
}

/// Reads an object the driver reported, with what it reported as the prior attributes.
pub async fn read(
    provider: &Arc<dyn Provider>,
    resource_type: &str,
    live: &LiveObject,
) -> Result<Option<LiveObject>, ProviderError> {
    provider
        .read(ReadRequest {
            resource_type: resource_type.to_string(),
            id: live.id.clone(),
            prior: live.attributes.clone(),
        })
        .await
}

/// The plan-time lookup of what a create of `attributes` would collide with.
pub async fn lookup(
    provider: &Arc<dyn Provider>,
    resource_type: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    provider
        .lookup_existing(FindRequest {
            resource_type: resource_type.to_string(),
            token: String::new(),
            attributes: attributes.clone(),
        })
        .await
}

/// The data-plane URI of the server's vault `name`.
pub fn vault_uri(name: &str) -> String {
    format!("https://{name}.{}/", server().key_vault_suffix())
}

/// The data-plane URI a vault the driver made reports.
pub fn vault_uri_of(vault: &LiveObject) -> String {
    vault.attributes["vault_uri"].as_str().unwrap_or_default().to_string()
}

/// The HCL of a provider block for the server (client secret from `env("ARM_CLIENT_SECRET")`) with
/// `features` inside `features { key_vault { ... } }`.
pub fn provider_block(server: &AzureTestServer, features: &str) -> String {
    server.provider_block(features)
}

/// The HCL of `resource "azurerm_key_vault" "main"` on the server's tenant.
pub fn vault_resource(name: &str, retention: u32, purge_protection: bool) -> String {
    format!(
        r#"resource "azurerm_key_vault" "main" {{
  name                       = "{name}"
  location                   = "westeurope"
  resource_group_name        = "keyform-tests"
  tenant_id                  = "{tenant}"
  sku_name                   = "standard"
  soft_delete_retention_days = {retention}
  purge_protection_enabled   = {purge_protection}
}}
"#,
        tenant = server().tenant_id(),
    )
}

/// The keyform command with the server's environment and the client secret in `ARM_CLIENT_SECRET`.
pub fn keyform_command(workspace: &Workspace, arguments: &[&str]) -> Command {
    let server = server();
    let mut command = workspace.command(arguments);
    for variable in [
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_CLIENT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
    ] {
        command.env_remove(variable);
    }
    command
        .envs(server.environment())
        .env("ARM_CLIENT_SECRET", server.client_secret());
    command
}

/// Runs keyform against the server.
pub fn keyform(workspace: &Workspace, arguments: &[&str]) -> Output {
    keyform_command(workspace, arguments).output().expect("run keyform")
}

/// Fails with the plan when a `plan --detailed-exitcode` would change something.
#[track_caller]
pub fn assert_plan_is_empty(workspace: &Workspace) {
    let plan = keyform(workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "the plan is empty:\n{}{}", stdout(&plan), stderr(&plan));
}

/// The test's own HTTP client for the server: its proxy and CA given explicitly.
fn test_http_client() -> reqwest::Client {
    let server = server();
    let ca = std::fs::read(server.ca_file()).expect("read the test CA");
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::https(server.proxy_url()).expect("the proxy URL"))
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&ca).expect("the test CA"))
        .build()
        .expect("an HTTP client")
}

/// SDK client options of the test's own (changes made "behind keyform's back").
fn test_client_options() -> azure_core::http::ClientOptions {
    let server = server();
    let mut cloud = azure_core::cloud::CustomConfiguration::default();
    cloud.authority_host = server.authority_host().trim_end_matches('/').to_string();
    azure_core::http::ClientOptions {
        transport: Some(azure_core::http::Transport::new(Arc::new(test_http_client()))),
        cloud: Some(Arc::new(cloud.into())),
        ..Default::default()
    }
}

fn test_credential() -> Arc<dyn azure_core::credentials::TokenCredential> {
    let server = server();
    azure_identity::ClientSecretCredential::new(
        &server.tenant_id(),
        server.client_id(),
        azure_core::credentials::Secret::new(server.client_secret()),
        Some(azure_identity::ClientSecretCredentialOptions {
            client_options: test_client_options(),
        }),
    )
    .expect("a client secret credential")
}

/// A key client of the test's own for a vault.
pub fn test_key_client(vault_uri: &str) -> azure_security_keyvault_keys::KeyClient {
    azure_security_keyvault_keys::KeyClient::new(
        vault_uri,
        test_credential(),
        Some(azure_security_keyvault_keys::KeyClientOptions {
            client_options: test_client_options(),
            ..Default::default()
        }),
    )
    .expect("a key client")
}

/// A secret client of the test's own for a vault.
pub fn test_secret_client(vault_uri: &str) -> azure_security_keyvault_secrets::SecretClient {
    azure_security_keyvault_secrets::SecretClient::new(
        vault_uri,
        test_credential(),
        Some(azure_security_keyvault_secrets::SecretClientOptions {
            client_options: test_client_options(),
            ..Default::default()
        }),
    )
    .expect("a secret client")
}

/// A JSON request body for the SDK.
pub fn sdk_body<T>(json: serde_json::Value) -> azure_core::http::RequestContent<T> {
    azure_core::http::RequestContent::from(json.to_string().into_bytes())
}

/// The value of one root output, after checking the command succeeded.
pub fn output(workspace: &Workspace, name: &str) -> String {
    let shown = keyform(workspace, &["output", name]);
    crate::support::assert_exit(&shown, 0);
    stdout(&shown).trim().trim_matches('"').to_string()
}
