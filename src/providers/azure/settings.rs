//! The `azurerm` provider block, read into [`Settings`]: tenant and
//! subscription, how to authenticate, the cloud's endpoints (`environment`)
//! and the soft-delete choices (`features { key_vault { ... } }`).
//!
//! Like Terraform's azurerm provider, `tenant_id`, `subscription_id` and
//! `client_id` fall back to `ARM_TENANT_ID` / `ARM_SUBSCRIPTION_ID` /
//! `ARM_CLIENT_ID` (and the `AZURE_*` names azure_identity reads). Secrets
//! (`client_secret`, `oidc_token`) come only from value sources.

use crate::provider::{Attributes, ProviderError, text_attribute};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;

/// Azure's public cloud.
const PUBLIC_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";
const PUBLIC_RESOURCE_MANAGER: &str = "https://management.azure.com/";
const PUBLIC_KEY_VAULT_SUFFIX: &str = "vault.azure.net";

/// How the provider authenticates.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// A service principal's client secret.
    ClientSecret { client_id: String, secret: SensitiveString },
    /// Workload identity federation: a federated token given as a value source.
    FederatedToken { client_id: String, token: SensitiveString },
    /// Workload identity federation: a federated token read from a file (AZURE_FEDERATED_TOKEN_FILE).
    FederatedTokenFile {
        client_id: String,
        path: Option<std::path::PathBuf>,
    },
    /// A managed identity (system-assigned, or user-assigned by client id).
    ManagedIdentity { client_id: Option<String> },
    /// The Azure CLI's login (`az login`).
    AzureCli,
}

/// The endpoints of one Azure cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Entra ID, with a trailing slash: `https://login.microsoftonline.com/`.
    pub authority_host: String,
    /// Azure Resource Manager, with a trailing slash: `https://management.azure.com/`.
    pub resource_manager: String,
    /// The DNS suffix of vaults: `vault.azure.net`.
    pub key_vault_suffix: String,
}

/// The soft-delete choices of `features { key_vault { ... } }`: purging off and recovery on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyVaultFeatures {
    pub purge_soft_delete_on_destroy: bool,
    pub purge_soft_deleted_keys_on_destroy: bool,
    pub purge_soft_deleted_secrets_on_destroy: bool,
    pub recover_soft_deleted_key_vaults: bool,
    pub recover_soft_deleted_keys: bool,
    pub recover_soft_deleted_secrets: bool,
}

impl Default for KeyVaultFeatures {
    fn default() -> Self {
        KeyVaultFeatures {
            purge_soft_delete_on_destroy: false,
            purge_soft_deleted_keys_on_destroy: false,
            purge_soft_deleted_secrets_on_destroy: false,
            recover_soft_deleted_key_vaults: true,
            recover_soft_deleted_keys: true,
            recover_soft_deleted_secrets: true,
        }
    }
}

/// Everything a configured driver needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tenant_id: String,
    pub subscription_id: String,
    pub authentication: Authentication,
    pub environment: Environment,
    pub features: KeyVaultFeatures,
}

fn from_environment(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.trim().is_empty()))
}

fn flag(attributes: &Attributes, name: &str) -> Option<bool> {
    attributes.get(name).and_then(serde_json::Value::as_bool)
}

/// An endpoint as a base URL with one trailing slash.
fn with_slash(url: String) -> String {
    format!("{}/", url.trim_end_matches('/'))
}

impl Settings {
    /// Reads the provider block (attributes, nested blocks as JSON objects, and its secrets).
    pub fn from_block(
        attributes: &Attributes,
        secrets: &BTreeMap<String, SensitiveString>,
    ) -> Result<Settings, ProviderError> {
        let tenant_id = text_attribute(attributes, "tenant_id")
            .or_else(|| from_environment(&["ARM_TENANT_ID", "AZURE_TENANT_ID"]))
            .ok_or_else(|| {
                ProviderError::new("MissingTenant", "the azurerm provider needs a tenant_id")
                    .with_help("set tenant_id in the provider block, or ARM_TENANT_ID")
            })?;
        let subscription_id = text_attribute(attributes, "subscription_id")
            .or_else(|| from_environment(&["ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"]))
            .ok_or_else(|| {
                ProviderError::new("MissingSubscription", "the azurerm provider needs a subscription_id")
                    .with_help("set subscription_id in the provider block, or ARM_SUBSCRIPTION_ID")
            })?;
        let client_id =
            text_attribute(attributes, "client_id").or_else(|| from_environment(&["ARM_CLIENT_ID", "AZURE_CLIENT_ID"]));
        let needs_client = |what: &str| {
            ProviderError::new("MissingClientId", format!("{what} needs a client_id"))
                .with_help("set client_id in the provider block, or ARM_CLIENT_ID")
        };
        let use_oidc = flag(attributes, "use_oidc").unwrap_or(false);
        let authentication = if let Some(secret) = secrets.get("client_secret") {
            Authentication::ClientSecret {
                client_id: client_id.ok_or_else(|| needs_client("authentication by client_secret"))?,
                secret: secret.clone(),
            }
        } else if let Some(token) = secrets.get("oidc_token") {
            Authentication::FederatedToken {
                client_id: client_id.ok_or_else(|| needs_client("workload identity (oidc_token)"))?,
                token: token.clone(),
            }
        } else if use_oidc {
            Authentication::FederatedTokenFile {
                client_id: client_id.ok_or_else(|| needs_client("workload identity (use_oidc)"))?,
                path: text_attribute(attributes, "oidc_token_file_path").map(std::path::PathBuf::from),
            }
        } else if flag(attributes, "use_msi").unwrap_or(false) {
            Authentication::ManagedIdentity { client_id }
        } else if flag(attributes, "use_cli").unwrap_or(true) {
            Authentication::AzureCli
        } else {
            return Err(ProviderError::new(
                "NoAuthentication",
                "the azurerm provider has no way to authenticate: use_cli = false and no other method is set",
            )
            .with_help(
                "give client_secret (a value source), use_oidc = true or oidc_token (workload identity), use_msi = true, or leave use_cli on",
            ));
        };
        let block = |name: &str| attributes.get(name).and_then(serde_json::Value::as_object).cloned();
        let environment_block = block("environment").unwrap_or_default();
        let endpoint =
            |name: &str, default: &str| text_attribute(&environment_block, name).unwrap_or_else(|| default.to_string());
        let environment = Environment {
            authority_host: with_slash(endpoint("authority_host", PUBLIC_AUTHORITY_HOST)),
            resource_manager: with_slash(endpoint("resource_manager", PUBLIC_RESOURCE_MANAGER)),
            key_vault_suffix: endpoint("key_vault_suffix", PUBLIC_KEY_VAULT_SUFFIX)
                .trim_start_matches('.')
                .to_string(),
        };
        for (name, url) in [
            ("authority_host", &environment.authority_host),
            ("resource_manager", &environment.resource_manager),
        ] {
            if !url.starts_with("https://") {
                return Err(ProviderError::new(
                    "InsecureEndpoint",
                    format!("environment.{name} must be an https:// URL, got `{url}`"),
                )
                .with_help("Azure sends bearer tokens only over https"));
            }
        }
        let key_vault = block("features")
            .and_then(|features| {
                features
                    .get("key_vault")
                    .and_then(serde_json::Value::as_object)
                    .cloned()
            })
            .unwrap_or_default();
        let defaults = KeyVaultFeatures::default();
        let feature = |name: &str, default: bool| flag(&key_vault, name).unwrap_or(default);
        let features = KeyVaultFeatures {
            purge_soft_delete_on_destroy: feature(
                "purge_soft_delete_on_destroy",
                defaults.purge_soft_delete_on_destroy,
            ),
            purge_soft_deleted_keys_on_destroy: feature(
                "purge_soft_deleted_keys_on_destroy",
                defaults.purge_soft_deleted_keys_on_destroy,
            ),
            purge_soft_deleted_secrets_on_destroy: feature(
                "purge_soft_deleted_secrets_on_destroy",
                defaults.purge_soft_deleted_secrets_on_destroy,
            ),
            recover_soft_deleted_key_vaults: feature(
                "recover_soft_deleted_key_vaults",
                defaults.recover_soft_deleted_key_vaults,
            ),
            recover_soft_deleted_keys: feature("recover_soft_deleted_keys", defaults.recover_soft_deleted_keys),
            recover_soft_deleted_secrets: feature(
                "recover_soft_deleted_secrets",
                defaults.recover_soft_deleted_secrets,
            ),
        };
        Ok(Settings {
            tenant_id,
            subscription_id,
            authentication,
            environment,
            features,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Authentication, KeyVaultFeatures, Settings};
    use crate::secret::SensitiveString;
    use std::collections::BTreeMap;

    fn block(json: serde_json::Value) -> crate::provider::Attributes {
        let mut attributes = serde_json::json!({ "tenant_id": "t", "subscription_id": "s", "client_id": "c" });
        for (name, value) in json.as_object().cloned().unwrap_or_default() {
            attributes[name] = value;
        }
        attributes.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn purging_is_off_and_recovery_on_unless_asked() {
        let settings = Settings::from_block(&block(serde_json::json!({})), &BTreeMap::new()).expect("valid");
        assert_eq!(settings.features, KeyVaultFeatures::default());
        assert!(!settings.features.purge_soft_delete_on_destroy && settings.features.recover_soft_deleted_keys);
        assert_eq!(settings.environment.resource_manager, "https://management.azure.com/");
        assert!(matches!(settings.authentication, Authentication::AzureCli));

        let asked = block(serde_json::json!({
            "features": { "key_vault": { "purge_soft_deleted_secrets_on_destroy": true, "recover_soft_deleted_keys": false } },
            "environment": { "resource_manager": "https://management.keyform.test", "key_vault_suffix": ".vault.keyform.test" },
        }));
        let settings = Settings::from_block(&asked, &BTreeMap::new()).expect("valid");
        assert!(settings.features.purge_soft_deleted_secrets_on_destroy);
        assert!(!settings.features.recover_soft_deleted_keys);
        assert!(!settings.features.purge_soft_deleted_keys_on_destroy);
        assert_eq!(
            settings.environment.resource_manager,
            "https://management.keyform.test/"
        );
        assert_eq!(settings.environment.key_vault_suffix, "vault.keyform.test");
    }

    #[test]
    fn a_client_secret_comes_before_workload_identity_and_managed_identity() {
        let secrets = BTreeMap::from([
            ("client_secret".to_string(), SensitiveString::new("secret")),
            ("oidc_token".to_string(), SensitiveString::new("token")),
        ]);
        let settings = Settings::from_block(&block(serde_json::json!({ "use_msi": true })), &secrets).expect("valid");
        assert!(matches!(settings.authentication, Authentication::ClientSecret { .. }));
        let token_only = BTreeMap::from([("oidc_token".to_string(), SensitiveString::new("token"))]);
        let settings = Settings::from_block(&block(serde_json::json!({})), &token_only).expect("valid");
        assert!(matches!(settings.authentication, Authentication::FederatedToken { .. }));
        let settings =
            Settings::from_block(&block(serde_json::json!({ "use_msi": true })), &BTreeMap::new()).expect("valid");
        assert!(matches!(
            settings.authentication,
            Authentication::ManagedIdentity { client_id: Some(_) }
        ));
        let debug = format!(
            "{:?}",
            Settings::from_block(&block(serde_json::json!({})), &secrets).expect("valid")
        );
        assert!(!debug.contains("secret\"") && debug.contains("(sensitive)"), "{debug}");
    }
}
