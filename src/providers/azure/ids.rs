//! The ids of Azure objects: a vault's ARM resource id
//! (`/subscriptions/S/resourceGroups/G/providers/Microsoft.KeyVault/vaults/N`)
//! and a key's or secret's data-plane id (`https://N.vault.azure.net/keys/NAME`,
//! versionless in keyform; a versioned id is accepted where a user types one).

use crate::provider::ProviderError;

/// The ARM id of a vault.
pub fn vault_id(subscription_id: &str, resource_group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.KeyVault/vaults/{name}"
    )
}

/// The parts of a vault's ARM id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultId {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

/// Reads a vault's ARM id (segment names compared case-insensitively, as ARM does).
pub fn parse_vault_id(id: &str) -> Result<VaultId, ProviderError> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    let named = |index: usize, expected: &str| parts.get(index).is_some_and(|part| part.eq_ignore_ascii_case(expected));
    if parts.len() == 8
        && named(0, "subscriptions")
        && named(2, "resourceGroups")
        && named(4, "providers")
        && named(5, "Microsoft.KeyVault")
        && named(6, "vaults")
    {
        return Ok(VaultId {
            subscription_id: parts[1].to_string(),
            resource_group: parts[3].to_string(),
            name: parts[7].to_string(),
        });
    }
    Err(ProviderError::new(
        "InvalidVaultId",
        format!("`{id}` is not a Key Vault's resource id"),
    )
    .with_help("a vault's id looks like /subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.KeyVault/vaults/NAME (azurerm_key_vault.x.id)"))
}

/// The data-plane URI of a vault: `https://NAME.SUFFIX/`.
pub fn vault_uri(name: &str, suffix: &str) -> String {
    format!("https://{name}.{suffix}/")
}

/// The parts of a key's or secret's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectId {
    /// `https://NAME.vault.azure.net/`
    pub vault_uri: String,
    pub vault_name: String,
    pub name: String,
}

impl ObjectId {
    /// The versionless id: `https://NAME.vault.azure.net/keys/KEY`.
    pub fn versionless(&self, collection: &str) -> String {
        format!("{}{collection}/{}", self.vault_uri, self.name)
    }
}

/// Reads `https://VAULT.SUFFIX/{collection}/NAME[/VERSION]`.
pub fn parse_object_id(id: &str, collection: &str) -> Result<ObjectId, ProviderError> {
    let invalid = || {
        ProviderError::new("InvalidId", format!("`{id}` is not a Key Vault {collection} id")).with_help(format!(
            "such an id looks like https://VAULT.vault.azure.net/{collection}/NAME"
        ))
    };
    let url = url::Url::parse(id).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?;
    let vault_name = host
        .split('.')
        .next()
        .filter(|name| !name.is_empty())
        .ok_or_else(invalid)?;
    let segments: Vec<&str> = url
        .path_segments()
        .map(|segments| segments.filter(|part| !part.is_empty()).collect())
        .unwrap_or_default();
    match segments.as_slice() {
        [kind, name] | [kind, name, _] if *kind == collection => Ok(ObjectId {
            vault_uri: format!("https://{host}/"),
            vault_name: vault_name.to_string(),
            name: (*name).to_string(),
        }),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_object_id, parse_vault_id, vault_id};

    #[test]
    fn a_vault_id_reads_back() {
        let id = vault_id("s-1", "group", "vault-a");
        let parsed = parse_vault_id(&id).expect("valid");
        assert_eq!(
            (
                parsed.subscription_id.as_str(),
                parsed.resource_group.as_str(),
                parsed.name.as_str()
            ),
            ("s-1", "group", "vault-a")
        );
        assert!(parse_vault_id("/subscriptions/s/resourceGroups/g").is_err());
        assert!(parse_vault_id(&id.to_lowercase()).is_ok());
    }

    #[test]
    fn an_object_id_drops_its_version() {
        let parsed = parse_object_id("https://vault-a.vault.azure.net/keys/signing/0123abc", "keys").expect("valid");
        assert_eq!(parsed.vault_name, "vault-a");
        assert_eq!(
            parsed.versionless("keys"),
            "https://vault-a.vault.azure.net/keys/signing"
        );
        assert!(parse_object_id("https://vault-a.vault.azure.net/secrets/x", "keys").is_err());
        assert!(parse_object_id("not a url", "keys").is_err());
    }
}
