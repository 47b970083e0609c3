//! One configured `azurerm` provider block: its settings, HTTP client,
//! credential, Azure Resource Manager client, and one Key Vault data-plane
//! client per vault (made on first use, then kept).

use super::arm::Arm;
use super::credential::credential;
use super::ids::{parse_vault_id, vault_id, vault_uri};
use super::settings::Settings;
use super::transport::{client_options, http_client};
use crate::provider::{ProviderError, error_chain};
use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

/// A configured provider block.
pub struct Connection {
    pub settings: Settings,
    pub arm: Arm,
    credential: Arc<dyn TokenCredential>,
    options: ClientOptions,
    keys: Mutex<HashMap<String, Arc<KeyClient>>>,
    secrets: Mutex<HashMap<String, Arc<SecretClient>>>,
    /// Vaults seen active in this run (a vault found missing is asked again).
    active_vaults: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Connection")
            .field("tenant_id", &self.settings.tenant_id)
            .field("subscription_id", &self.settings.subscription_id)
            .finish_non_exhaustive()
    }
}

fn client_error(vault: &str, error: &azure_core::Error) -> ProviderError {
    ProviderError::new(
        "InvalidVaultUri",
        format!("no Key Vault client for `{vault}`: {}", error_chain(error)),
    )
}

/// The client of a vault from `clients`, made by `make` on first use.
fn cached<C>(
    clients: &Mutex<HashMap<String, Arc<C>>>,
    vault_uri: &str,
    make: impl FnOnce() -> azure_core::Result<C>,
) -> Result<Arc<C>, ProviderError> {
    let mut clients = clients.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(client) = clients.get(vault_uri) {
        return Ok(client.clone());
    }
    let client = Arc::new(make().map_err(|error| client_error(vault_uri, &error))?);
    clients.insert(vault_uri.to_string(), client.clone());
    Ok(client)
}

impl Connection {
    pub fn new(settings: Settings) -> Result<Connection, ProviderError> {
        let http = http_client()?;
        let options = client_options(&http);
        let credential = credential(&settings, &options)?;
        let arm = Arm::new(http, credential.clone(), settings.environment.resource_manager.clone());
        Ok(Connection {
            settings,
            arm,
            credential,
            options,
            keys: Mutex::new(HashMap::new()),
            secrets: Mutex::new(HashMap::new()),
            active_vaults: Mutex::new(HashSet::new()),
        })
    }

    /// The data-plane URI of the vault an ARM id names.
    pub fn vault_uri_of(&self, key_vault_id: &str) -> Result<String, ProviderError> {
        let parsed = parse_vault_id(key_vault_id)?;
        Ok(vault_uri(&parsed.name, &self.settings.environment.key_vault_suffix))
    }

    /// The ARM path of a Microsoft.KeyVault collection of this subscription (`vaults`, `deletedVaults`, ...).
    pub fn key_vault_path(&self, collection: &str) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/{collection}",
            self.settings.subscription_id
        )
    }

    /// Whether the vault an ARM id names exists and is not soft-deleted (its data plane answers only then).
    pub async fn vault_is_active(&self, key_vault_id: &str) -> Result<bool, ProviderError> {
        let active_vaults = || self.active_vaults.lock().unwrap_or_else(PoisonError::into_inner);
        if active_vaults().contains(key_vault_id) {
            return Ok(true);
        }
        let active = self.arm.get(key_vault_id).await?.is_some();
        if active {
            active_vaults().insert(key_vault_id.to_string());
        }
        Ok(active)
    }

    /// The ARM id of a vault in a resource group of this subscription.
    pub fn vault_id(&self, resource_group: &str, name: &str) -> String {
        vault_id(&self.settings.subscription_id, resource_group, name)
    }

    /// The key client of a vault.
    pub fn key_client(&self, vault_uri: &str) -> Result<Arc<KeyClient>, ProviderError> {
        cached(&self.keys, vault_uri, || {
            let options = KeyClientOptions {
                client_options: self.options.clone(),
                ..KeyClientOptions::default()
            };
            KeyClient::new(vault_uri, self.credential.clone(), Some(options))
        })
    }

    /// The secret client of a vault.
    pub fn secret_client(&self, vault_uri: &str) -> Result<Arc<SecretClient>, ProviderError> {
        cached(&self.secrets, vault_uri, || {
            let options = SecretClientOptions {
                client_options: self.options.clone(),
                ..SecretClientOptions::default()
            };
            SecretClient::new(vault_uri, self.credential.clone(), Some(options))
        })
    }
}
