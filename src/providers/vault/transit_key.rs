//! `vault_transit_secret_backend_key`: named keys of a transit engine at
//! `BACKEND/keys/NAME`, id `BACKEND/keys/NAME` as in Terraform.
//!
//! A create writes the key (`type`, and `exportable` / `allow_plaintext_backup` /
//! `auto_rotate_period` when set), then its whole configuration
//! (`BACKEND/keys/NAME/config`): a setting the configuration leaves out is sent
//! with Vault's default, so removing a line resets it. `exportable` and
//! `allow_plaintext_backup` are sent only when configured: Vault refuses to
//! turn them off once on, and says so.
//!
//! Vault answers a create over an existing key with that key, so a create
//! first looks: a key at the name is the create's own (a create repeated
//! after a crash) only when its type and settings are the ones the create
//! writes and it has one version; any other key there fails the create.
//!
//! Destroying is irreversible (every ciphertext under the key is lost), and
//! Vault refuses it unless `deletion_allowed = true` was applied first: a
//! destroy of a key that does not allow it fails with help saying so.

use super::client::{Method, VaultClient, api_error, errors_of};
use super::engine_path::{EngineObject, EnginePath};
use super::role_fields::{Field, settings_of};
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError,
    ResourceSchema,
};
use std::collections::BTreeMap;

/// The settings a read reports and a create is compared on, with Vault's defaults.
const FIELDS: &[Field] = &[
    Field::Text("type", "aes256-gcm96"),
    Field::Bool("deletion_allowed", false),
    Field::Bool("exportable", false),
    Field::Bool("allow_plaintext_backup", false),
    Field::Number("min_decryption_version", 1),
    Field::Number("min_encryption_version", 0),
    Field::Duration("auto_rotate_period"),
];

/// Settings Vault never turns off once on: sent only when configured.
const ONE_WAY: &[&str] = &["exportable", "allow_plaintext_backup"];

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::TRANSIT_KEY,
        description: "a named key of a transit engine (a key-encryption key); destroying it loses every ciphertext made with it, and Vault refuses unless deletion_allowed = true was applied first",
        attributes: vec![
            AttributeSchema::new("backend", AttributeType::String, "the path of the transit engine")
                .required()
                .force_new(),
            AttributeSchema::new("name", AttributeType::String, "the key's name")
                .required()
                .force_new(),
            AttributeSchema::new(
                "type",
                AttributeType::String,
                "the key type: aes256-gcm96 (default), aes128-gcm96, chacha20-poly1305, rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519, hmac",
            )
            .force_new(),
            AttributeSchema::new(
                "deletion_allowed",
                AttributeType::Bool,
                "whether Vault lets the key be deleted (default: false); apply true before destroying the key",
            ),
            AttributeSchema::new(
                "auto_rotate_period",
                AttributeType::Duration,
                "how often Vault rotates the key (\"720h\", at least 1h; 0: never)",
            ),
            AttributeSchema::new(
                "exportable",
                AttributeType::Bool,
                "whether the key may be exported; once true, Vault never turns it off",
            ),
            AttributeSchema::new(
                "allow_plaintext_backup",
                AttributeType::Bool,
                "whether the key may be backed up in plaintext; once true, Vault never turns it off",
            ),
            AttributeSchema::new(
                "min_decryption_version",
                AttributeType::Number,
                "the oldest key version that may decrypt (default: 1)",
            ),
            AttributeSchema::new(
                "min_encryption_version",
                AttributeType::Number,
                "the version that encrypts (0: the latest)",
            ),
            AttributeSchema::new("latest_version", AttributeType::Number, "the key's newest version").computed(),
            AttributeSchema::new("id", AttributeType::String, "`BACKEND/keys/NAME`").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

/// Where the keys are: `BACKEND/keys/NAME` in a `transit` engine.
const OBJECT: EngineObject = EngineObject {
    engine: "transit",
    segment: "keys",
    label: "transit key",
};

/// The key as Vault stores it, or None when there is no key (or no engine) at the address.
async fn fetch(client: &VaultClient, address: &EnginePath) -> Result<Option<Attributes>, ProviderError> {
    Ok(client
        .read_data(&address.id())
        .await?
        .map(|data| data.as_object().cloned().unwrap_or_default()))
}

fn live_object(address: &EnginePath, stored: &Attributes) -> LiveObject {
    let mut attributes = settings_of(FIELDS, stored);
    attributes.insert("backend".into(), address.backend.clone().into());
    attributes.insert("name".into(), address.name.clone().into());
    attributes.insert(
        "latest_version".into(),
        stored
            .get("latest_version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
            .into(),
    );
    attributes.insert("id".into(), address.id().into());
    LiveObject {
        id: address.id(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// Reads the key with id `BACKEND/keys/NAME`.
pub async fn read(client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    let address = OBJECT.address_of_id(id)?;
    Ok(fetch(client, &address)
        .await?
        .map(|stored| live_object(&address, &stored)))
}

/// Whether a stored key is what a create of `attributes` makes: its first version, the same settings.
fn is_made_by(stored: &Attributes, attributes: &Attributes) -> bool {
    let mut wanted = settings_of(FIELDS, attributes);
    let mut found = settings_of(FIELDS, stored);
    for name in ONE_WAY {
        if !attributes.contains_key(*name) {
            wanted.remove(*name);
            found.remove(*name);
        }
    }
    stored.get("latest_version").and_then(serde_json::Value::as_u64) == Some(1) && wanted == found
}

/// The key a create of these attributes made: one at the name with exactly its settings.
pub async fn find_by_token(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let address = OBJECT.address(attributes)?;
    Ok(fetch(client, &address)
        .await?
        .filter(|stored| is_made_by(stored, attributes))
        .map(|stored| live_object(&address, &stored)))
}

/// The key a create of these attributes would collide with.
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let address = OBJECT.address(attributes)?;
    Ok(fetch(client, &address)
        .await?
        .map(|stored| live_object(&address, &stored)))
}

/// Ids of every key of every transit engine.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    OBJECT.list(client).await
}

/// Writes the key's whole configuration.
async fn configure(client: &VaultClient, address: &EnginePath, attributes: &Attributes) -> Result<(), ProviderError> {
    let settings = settings_of(FIELDS, attributes);
    let mut body = serde_json::Map::new();
    for name in ["deletion_allowed", "min_decryption_version", "min_encryption_version"] {
        body.insert(name.into(), settings[name].clone());
    }
    let seconds = settings["auto_rotate_period"].as_u64().unwrap_or(0);
    body.insert("auto_rotate_period".into(), format!("{seconds}s").into());
    for name in ONE_WAY {
        if let Some(flag) = attributes.get(*name).and_then(serde_json::Value::as_bool) {
            body.insert((*name).into(), flag.into());
        }
    }
    client
        .call(
            Method::Post,
            &format!("{}/config", address.id()),
            Some(serde_json::Value::Object(body)),
        )
        .await?;
    Ok(())
}

async fn create(client: &VaultClient, address: &EnginePath, attributes: &Attributes) -> Result<(), ProviderError> {
    match fetch(client, address).await? {
        Some(stored) if is_made_by(&stored, attributes) => {}
        Some(_) => return Err(OBJECT.already_exists(address)),
        None => {
            let settings = settings_of(FIELDS, attributes);
            let mut body = serde_json::json!({ "type": settings["type"] });
            for name in ONE_WAY {
                if let Some(flag) = attributes.get(*name).and_then(serde_json::Value::as_bool) {
                    body[*name] = flag.into();
                }
            }
            client.call(Method::Post, &address.id(), Some(body)).await?;
        }
    }
    configure(client, address, attributes).await
}

/// Deletes the key; refused with help when Vault does not allow its deletion.
async fn delete(client: &VaultClient, address: &EnginePath) -> Result<(), ProviderError> {
    let Some(stored) = fetch(client, address).await? else {
        return Ok(());
    };
    let path = address.id();
    if stored.get("deletion_allowed").and_then(serde_json::Value::as_bool) != Some(true) {
        return Err(ProviderError::new(
            "DeletionNotAllowed",
            format!("Vault refuses to delete transit key `{path}`: its deletion_allowed is false"),
        )
        .with_help(
            "set deletion_allowed = true on the key and apply, then destroy it; deleting the key loses every ciphertext made with it, irreversibly",
        ));
    }
    let answer = client.send(Method::Delete, &path, None).await?;
    if (200..300).contains(&answer.status) || errors_of(&answer).contains("not found") {
        return Ok(());
    }
    Err(api_error(Method::Delete, &path, &answer))
}

/// Carries out one apply request for a `vault_transit_secret_backend_key`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let address = OBJECT.address_of(request)?;
    match &request.action {
        ApplyAction::Delete { .. } => {
            delete(client, &address).await?;
            return Ok(None);
        }
        ApplyAction::Create { .. } => create(client, &address, &request.attributes).await?,
        _ => configure(client, &address, &request.attributes).await?,
    }
    fetch(client, &address)
        .await?
        .map(|stored| live_object(&address, &stored))
        .ok_or_else(|| OBJECT.missing_after_write(&address))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::{FIELDS, is_made_by};
    use crate::provider::attributes_from_json as attributes;

    fn settings_of(source: &crate::provider::Attributes) -> crate::provider::Attributes {
        super::settings_of(FIELDS, source)
    }

    #[test]
    fn settings_default_as_vault_does() {
        let settings = settings_of(&attributes(serde_json::json!({ "auto_rotate_period": 86400 })));
        assert_eq!(settings["type"], "aes256-gcm96");
        assert_eq!(settings["deletion_allowed"], false);
        assert_eq!(settings["min_decryption_version"], 1);
        assert_eq!(settings["auto_rotate_period"], 86400);
    }

    #[test]
    fn only_a_first_version_with_the_same_settings_is_a_creates_own() {
        let wanted = attributes(serde_json::json!({ "type": "rsa-2048", "deletion_allowed": true }));
        let stored = attributes(serde_json::json!({
            "type": "rsa-2048", "deletion_allowed": true, "latest_version": 1,
            "min_decryption_version": 1, "min_encryption_version": 0, "auto_rotate_period": 0, "exportable": true
        }));
        assert!(is_made_by(&stored, &wanted));
        let mut rotated = stored.clone();
        rotated.insert("latest_version".into(), 2.into());
        assert!(!is_made_by(&rotated, &wanted));
        let other = attributes(serde_json::json!({ "type": "ecdsa-p256", "deletion_allowed": true }));
        assert!(!is_made_by(&stored, &other));
    }
}
