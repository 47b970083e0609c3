//! An in-repo server for the parts of Microsoft's published Azure REST APIs that keyform's `azurerm` driver uses:
//! the Entra ID token endpoint (`login.keyform.test`), Azure Resource Manager's Microsoft.KeyVault vaults
//! (`management.keyform.test`) and the Key Vault data plane for keys and secrets (`<vault>.vault.keyform.test`).
//!
//! Azure has no emulator that installs here, and the Azure SDKs send bearer tokens only over https, so the server is
//! an HTTP CONNECT proxy on 127.0.0.1 that accepts tunnels to `*.keyform.test:443`, does the TLS handshake itself with
//! a certificate signed by a CA generated per server (`rcgen`), and serves HTTP/1.1 inside the tunnel. A client is
//! pointed at it with the standard `HTTPS_PROXY` variable and trusts the CA through `SSL_CERT_FILE` /
//! `REQUESTS_CA_BUNDLE` ([`AzureTestServer::environment`]). State lives in memory, per server instance.
//!
//! Simplifications, each the documented outcome of the real, asynchronous operation: ARM vault create, delete and
//! purge finish before they answer (200/201, `provisioningState: Succeeded`); deleting a key or secret finishes at
//! once; recovering one does not: for [`AzureTestServer::set_recovery_window`] (1 s by default) the object reads as
//! not found and writes get 409 `ObjectIsBeingRecovered`, as Key Vault does while a recovery is in flight. Rotation
//! policies are stored and applied to `rotate` (expiryTime), but the server does not rotate keys by itself.
//! Soft-deleted objects report a `scheduledPurgeDate` of their deletion plus the vault's retention and are kept until
//! [`AzureTestServer::purge_expired_now`] ends every retention period at once (no test lives to see the date). A
//! vault host is reachable (the proxy accepts its CONNECT, else 502, like a name that does not resolve) only while the
//! vault exists. Not modelled: access policies and RBAC (any token of the tenant may do anything), HSM keys needing a
//! premium vault, automatic rotation, certificates, and cryptographic operations.
//!
//! The same port also answers plain-http `GET /msi/token`: the local managed identity endpoint of App Service that
//! `IDENTITY_ENDPOINT` names ([`AzureTestServer::managed_identity_environment`]).
//!
//! Each route handler cites the REST operation it implements. Nothing secret is logged.

mod arm;
mod arm_deleted;
mod arm_vaults;
mod checks;
mod checks_objects;
mod data_plane;
mod http;
mod identity;
mod key_material;
mod keys;
mod managed_identity;
mod objects;
mod proxy;
mod rotation;
mod routing;
mod secrets;
mod state;
mod tls;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use state::{Identity, Shared, State, lock};

/// A running test server; stops on Drop.
pub struct AzureTestServer {
    proxy_port: u16,
    ca_directory: tempfile::TempDir,
    identity: Identity,
    shared: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AzureTestServer {
    /// Starts the server on its own thread + tokio runtime (so it outlives any #[tokio::test] runtime), on a free
    /// loopback port; stops on Drop.
    pub fn start() -> AzureTestServer {
        let certificates = tls::generate();
        let ca_directory = tempfile::tempdir().expect("a temporary folder for the test CA");
        std::fs::write(ca_directory.path().join("ca.pem"), &certificates.ca_pem).expect("write the test CA");
        let identity = new_identity();
        let shared: Shared = Arc::new(Mutex::new(State::new(identity.clone())));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the proxy");
        let proxy_port = listener.local_addr().expect("the proxy's address").port();
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let acceptor = tokio_rustls::TlsAcceptor::from(certificates.server_config);
        let (shutdown, stopped) = tokio::sync::oneshot::channel();
        let server_state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("azure-test-server".to_string())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for the Azure test server");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    proxy::serve(listener, acceptor, server_state, stopped).await;
                });
                runtime.shutdown_background();
            })
            .expect("start the Azure test server thread");
        AzureTestServer {
            proxy_port,
            ca_directory,
            identity,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The CONNECT proxy clients reach the test domains through: `http://127.0.0.1:PORT`.
    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
    }

    /// PEM file of the CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.ca_directory.path().join("ca.pem")
    }

    /// The Entra ID authority host.
    pub fn authority_host(&self) -> String {
        format!("https://{}/", routing::LOGIN_HOST)
    }

    /// The Azure Resource Manager endpoint.
    pub fn resource_manager(&self) -> String {
        format!("https://{}/", routing::MANAGEMENT_HOST)
    }

    /// The DNS suffix of vault hosts: `https://{name}.vault.keyform.test/`.
    pub fn key_vault_suffix(&self) -> String {
        routing::VAULT_SUFFIX.to_string()
    }

    pub fn tenant_id(&self) -> String {
        self.identity.tenant_id.clone()
    }

    pub fn subscription_id(&self) -> String {
        self.identity.subscription_id.clone()
    }

    pub fn client_id(&self) -> String {
        self.identity.client_id.clone()
    }

    /// The one secret the token endpoint accepts for [`Self::client_id`].
    pub fn client_secret(&self) -> String {
        self.identity.client_secret.clone()
    }

    /// A JWT the token endpoint accepts as `client_assertion` for [`Self::client_id`] (workload identity).
    pub fn federated_token(&self) -> String {
        self.identity.federated_token.clone()
    }

    /// Variables that make a child process an App Service app with a managed identity: `IDENTITY_ENDPOINT` (this
    /// server's local token endpoint, plain http on loopback as on App Service) and `IDENTITY_HEADER`. The
    /// service principal of [`Self::client_id`] is assigned to it as its user-assigned identity.
    pub fn managed_identity_environment(&self) -> Vec<(String, String)> {
        vec![
            (
                "IDENTITY_ENDPOINT".to_string(),
                format!("http://127.0.0.1:{}{}", self.proxy_port, managed_identity::PATH),
            ),
            ("IDENTITY_HEADER".to_string(), self.identity.identity_header.clone()),
        ]
    }

    /// An access token for `audience` (`https://vault.keyform.test` or `https://management.keyform.test`) issued to
    /// [`Self::client_id`], as a signed-in Azure CLI hands out.
    pub fn issue_token(&self, audience: &str) -> String {
        identity::issue(&mut lock(&self.shared), audience, &self.identity.client_id)
    }

    /// Variables for a child process: HTTPS_PROXY (both spellings), SSL_CERT_FILE, REQUESTS_CA_BUNDLE, and an empty
    /// NO_PROXY so nothing bypasses the proxy.
    pub fn environment(&self) -> Vec<(String, String)> {
        let proxy = self.proxy_url();
        let ca = self.ca_file().display().to_string();
        [
            ("HTTPS_PROXY", proxy.as_str()),
            ("https_proxy", proxy.as_str()),
            ("NO_PROXY", ""),
            ("no_proxy", ""),
            ("SSL_CERT_FILE", ca.as_str()),
            ("REQUESTS_CA_BUNDLE", ca.as_str()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
    }

    /// The HCL of a keyform `provider "azurerm"` block for this server (client secret from
    /// `env("ARM_CLIENT_SECRET")`, endpoints under `keyform.test`), with `features` (HCL lines) inside
    /// `features { key_vault { ... } }`.
    pub fn provider_block(&self, features: &str) -> String {
        format!(
            r#"provider "azurerm" {{
  tenant_id       = "{tenant}"
  subscription_id = "{subscription}"
  client_id       = "{client}"
  client_secret   = env("ARM_CLIENT_SECRET")
  environment {{
    authority_host   = "{authority}"
    resource_manager = "{manager}"
    key_vault_suffix = "{suffix}"
  }}
  features {{
    key_vault {{
{features}
    }}
  }}
}}
"#,
            tenant = self.tenant_id(),
            subscription = self.subscription_id(),
            client = self.client_id(),
            authority = self.authority_host(),
            manager = self.resource_manager(),
            suffix = self.key_vault_suffix(),
        )
    }

    /// Ends every soft-delete retention period now: purges every soft-deleted vault, key and secret, as Azure does
    /// once `scheduledPurgeDate` passes.
    pub fn purge_expired_now(&self) {
        lock(&self.shared).purge_soft_deleted();
    }

    /// How long a recovered key or secret keeps answering 404 to reads and 409 `ObjectIsBeingRecovered` to writes.
    pub fn set_recovery_window(&self, window: Duration) {
        lock(&self.shared).recovery_window = window;
    }

    /// The recovery window of one vault only, for a test that shares the server with others.
    pub fn set_vault_recovery_window(&self, vault: &str, window: Duration) {
        if let Some(vault) = lock(&self.shared).vaults.get_mut(&vault.to_lowercase()) {
            vault.recovery_window = Some(window);
        }
    }

    /// The current value of a secret, read behind the SDKs' back (`None` when the vault or secret does not exist).
    pub fn secret_value(&self, vault: &str, name: &str) -> Option<String> {
        let state = lock(&self.shared);
        let secret = state
            .vaults
            .get(&vault.to_lowercase())?
            .secrets
            .live
            .get(&name.to_lowercase())?;
        secret.versions.last().map(|version| version.data.value.clone())
    }
}

impl Drop for AzureTestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A fresh tenant, subscription and service principal with a random secret and a federated token for it.
fn new_identity() -> Identity {
    let tenant_id = uuid::Uuid::new_v4().to_string();
    let client_id = uuid::Uuid::new_v4().to_string();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "keyform-ci"});
    let claims = serde_json::json!({
        "iss": "https://token.ci.keyform.test",
        "sub": "repo:keyform/keyform:ref:refs/heads/main",
        "aud": "api://AzureADTokenExchange",
        "iat": 1_700_000_000,
        "nbf": 1_700_000_000,
        "exp": 4_100_000_000u64,
    });
    let federated_token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
    );
    Identity {
        tenant_id,
        subscription_id: uuid::Uuid::new_v4().to_string(),
        client_id,
        client_secret: format!("kf8Q~{}", uuid::Uuid::new_v4().simple()),
        federated_token,
        identity_header: uuid::Uuid::new_v4().simple().to_string(),
        system_assigned_client_id: uuid::Uuid::new_v4().to_string(),
    }
}
