//! `azurerm_key_vault_key`, the read side and the key client's calls: a key
//! as keyform sees it (the latest version's type, size or curve, operations,
//! dates and tags, and its rotation policy), and listing a vault's keys.
//!
//! A key's id is its versionless id (`https://VAULT/keys/NAME`), so a new
//! version made by a rotation keeps the id.

use super::connection::Connection;
use super::data_plane::{found, report_dates, versionless_ids, visible_tags};
use super::ids::ObjectId;
use super::kind::Kind;
use super::objects::{common_attributes, created};
use super::rotation_policy;
use crate::provider::{Attributes, LiveObject, LiveStatus, ProviderError};
use azure_security_keyvault_keys::KeyClient;
use base64::Engine as _;

const COLLECTION: &str = "keys";

/// The key's rotation policy as a `rotation_policy` object (empty when it has none).
async fn policy(
    client: &KeyClient,
    object: &ObjectId,
) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
    let answer = found(
        client.get_key_rotation_policy(&object.name, None).await,
        "keys:getrotationpolicy",
        &object.versionless(COLLECTION),
    )?;
    Ok(answer
        .map(|policy| rotation_policy::from_azure(&policy))
        .unwrap_or_default())
}

fn key_size(jwk: &serde_json::Value) -> Option<u64> {
    let modulus = jwk.get("n").and_then(serde_json::Value::as_str)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(modulus.trim_end_matches('='))
        .ok()?;
    let significant = bytes.iter().skip_while(|byte| **byte == 0).count();
    Some((significant as u64) * 8)
}

/// The key as keyform attributes.
pub async fn live_object(
    connection: &Connection,
    object: &ObjectId,
    key: &serde_json::Value,
    prior: &Attributes,
) -> Result<LiveObject, ProviderError> {
    let client = connection.key_client(&object.vault_uri)?;
    let jwk = key.get("key").unwrap_or(&serde_json::Value::Null);
    let mut attributes = common_attributes(connection, Kind::Key, object, key, prior).await?;
    let key_type = jwk
        .get("kty")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    if key_type.starts_with("RSA")
        && let Some(size) = key_size(jwk)
    {
        attributes.insert("key_size".into(), size.into());
    }
    if let Some(curve) = jwk.get("crv").and_then(serde_json::Value::as_str) {
        attributes.insert("curve".into(), curve.into());
    }
    attributes.insert("key_type".into(), key_type.into());
    if let Some(operations) = jwk.get("key_ops") {
        attributes.insert("key_opts".into(), operations.clone());
    }
    report_dates(key.get("attributes"), prior, &mut attributes);
    attributes.insert("tags".into(), visible_tags(key));
    let live_policy = policy(&client, object).await?;
    if prior.get("rotation_policy").is_some_and(|policy| !policy.is_null())
        || rotation_policy::is_configured(&live_policy)
    {
        attributes.insert("rotation_policy".into(), serde_json::Value::Object(live_policy));
    }
    Ok(LiveObject {
        id: object.versionless(COLLECTION),
        attributes,
        secret_versions: Default::default(),
        status: LiveStatus::Active,
        last_rotated: created(key),
    })
}

/// The versionless ids of a vault's active keys.
pub async fn ids_in(client: &KeyClient, vault_uri: &str) -> Result<Vec<String>, ProviderError> {
    let listing = client.list_key_properties(None);
    versionless_ids(listing, |key| key.kid.as_deref(), COLLECTION, vault_uri).await
}
