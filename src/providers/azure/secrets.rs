//! `azurerm_key_vault_secret`, the read side and the secret client's calls:
//! a secret as keyform sees it (content type, dates, tags, and the id of its
//! current version, which stands for the value), listing a vault's secrets,
//! and reading the value on a user's explicit request.
//!
//! **Key Vault answers a GET of a secret with its value: the driver drops the
//! value at once and keeps only the version id.** Drift in the value is a new
//! current version written outside keyform.

use super::connection::Connection;
use super::data_plane::{report_dates, versionless_ids, visible_tags};
use super::errors::sdk_error;
use super::ids::{ObjectId, parse_object_id};
use super::kind::Kind;
use super::objects::{common_attributes, created};
use crate::provider::{Attributes, LiveObject, LiveStatus, ProviderError};
use crate::secret::SensitiveString;
use azure_security_keyvault_secrets::SecretClient;
use std::collections::BTreeMap;

const COLLECTION: &str = "secrets";

/// An answer without its `value`.
pub fn without_value(mut answer: Option<serde_json::Value>) -> Option<serde_json::Value> {
    if let Some(fields) = answer.as_mut().and_then(serde_json::Value::as_object_mut) {
        fields.remove("value");
    }
    answer
}

/// The version of a secret's id (`https://V/secrets/NAME/VERSION`).
pub fn version_of(secret: &serde_json::Value) -> Option<String> {
    let id = secret.get("id").and_then(serde_json::Value::as_str)?;
    let url = url::Url::parse(id).ok()?;
    let segments: Vec<&str> = url.path_segments()?.filter(|part| !part.is_empty()).collect();
    match segments.as_slice() {
        [_, _, version] => Some((*version).to_string()),
        _ => None,
    }
}

/// The secret as keyform attributes, its current version standing for the value.
pub async fn live_object(
    connection: &Connection,
    object: &ObjectId,
    secret: &serde_json::Value,
    prior: &Attributes,
) -> Result<LiveObject, ProviderError> {
    let mut attributes = common_attributes(connection, Kind::Secret, object, secret, prior).await?;
    if let Some(content_type) = secret.get("contentType").and_then(serde_json::Value::as_str) {
        attributes.insert("content_type".into(), content_type.into());
    }
    report_dates(secret.get("attributes"), prior, &mut attributes);
    attributes.insert("tags".into(), visible_tags(secret));
    let mut secret_versions = BTreeMap::new();
    if let Some(version) = version_of(secret) {
        secret_versions.insert("value".to_string(), version);
    }
    Ok(LiveObject {
        id: object.versionless(COLLECTION),
        attributes,
        secret_versions,
        status: LiveStatus::Active,
        last_rotated: created(secret),
    })
}

/// The versionless ids of a vault's active secrets.
pub async fn ids_in(client: &SecretClient, vault_uri: &str) -> Result<Vec<String>, ProviderError> {
    let listing = client.list_secret_properties(None);
    versionless_ids(listing, |secret| secret.id.as_deref(), COLLECTION, vault_uri).await
}

/// The current value, only for `keyform secret get` and for resources that read it.
pub async fn read_value(connection: &Connection, id: &str) -> Result<SensitiveString, ProviderError> {
    let object = parse_object_id(id, COLLECTION)?;
    let client = connection.secret_client(&object.vault_uri)?;
    let secret = client
        .get_secret(&object.name, None)
        .await
        .map_err(|error| sdk_error(error, "secrets:get", id))?
        .into_model()
        .map_err(|error| sdk_error(error, "secrets:get", id))?;
    secret
        .value
        .map(SensitiveString::new)
        .ok_or_else(|| ProviderError::new("NoValue", format!("secret `{id}` has no value")))
}
