//! `vault_mount`: secrets engines at `sys/mounts/PATH`.
//!
//! Vault reports a `kv-v2` mount as type `kv` with the option
//! `version = "2"`. A read reports it in the form state (or the
//! configuration) used, so `type = "kv-v2"` and `type = "kv"` with
//! `options = { version = "2" }` both compare equal to what Vault says.
//! Without either (an import) it reads as `kv-v2`.
//!
//! A create records the journal's token in the mount option
//! [`TOKEN_OPTION`], which a read hides: a create repeated after a crash
//! finds its own mount, and a create at a path someone else mounted fails.
//! Destroying a mount disables it, which deletes everything stored under it.

use super::client::{Method, VaultClient, api_error, clean_path};
use super::engine_path::address_of_request;
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError};
use std::collections::BTreeMap;

/// The mount option that carries a create's token.
pub const TOKEN_OPTION: &str = "keyform-create-token";

/// Mounts Vault makes itself: never reported as unmanaged.
const SYSTEM_TYPES: &[&str] = &[
    "system",
    "identity",
    "cubbyhole",
    "ns_system",
    "ns_identity",
    "ns_cubbyhole",
];

fn text<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes.get(name).and_then(serde_json::Value::as_str)
}

fn path_of(attributes: &Attributes) -> Result<String, ProviderError> {
    clean_path("path", text(attributes, "path").unwrap_or(""))
}

/// Whether Vault's (type, options) is a KV version 2 engine.
fn is_kv_v2(engine: &str, options: &serde_json::Map<String, serde_json::Value>) -> bool {
    engine == "kv-v2" || (engine == "kv" && options.get("version").and_then(serde_json::Value::as_str) == Some("2"))
}

/// The type and options to report, in the form `known` (state or configuration) uses.
fn reported_form(
    engine: &str,
    live_options: &serde_json::Map<String, serde_json::Value>,
    known: &Attributes,
) -> (String, serde_json::Map<String, serde_json::Value>) {
    let mut options = live_options.clone();
    options.remove(TOKEN_OPTION);
    if !is_kv_v2(engine, live_options) {
        return (engine.to_string(), options);
    }
    let known_options_have_version = known
        .get("options")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|known_options| known_options.contains_key("version"));
    if text(known, "type") == Some("kv") {
        ("kv".to_string(), options)
    } else {
        if !known_options_have_version {
            options.remove("version");
        }
        ("kv-v2".to_string(), options)
    }
}

/// Reads the mount at `path`; `known` holds what state or the configuration says of it.
pub async fn read(client: &VaultClient, path: &str, known: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let path = clean_path("mount path", path)?;
    let api_path = format!("sys/mounts/{path}");
    let answer = client.send(Method::Get, &api_path, None).await?;
    let missing = answer.status == 404
        || (answer.status == 400 && super::client::errors_of(&answer).contains("No secret engine mount"));
    if missing {
        return Ok(None);
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::Get, &api_path, &answer));
    }
    let data = answer.data();
    let engine = data["type"].as_str().unwrap_or_default();
    let live_options = data["options"].as_object().cloned().unwrap_or_default();
    let (reported_type, options) = reported_form(engine, &live_options, known);
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), path.clone().into());
    attributes.insert("path".into(), path.clone().into());
    attributes.insert("type".into(), reported_type.into());
    attributes.insert(
        "description".into(),
        data["description"].as_str().unwrap_or_default().into(),
    );
    for (name, field) in [
        ("default_lease_ttl_seconds", "default_lease_ttl"),
        ("max_lease_ttl_seconds", "max_lease_ttl"),
    ] {
        attributes.insert(name.into(), data["config"][field].as_u64().unwrap_or(0).into());
    }
    attributes.insert("options".into(), serde_json::Value::Object(options));
    attributes.insert("accessor".into(), data["accessor"].as_str().unwrap_or_default().into());
    Ok(Some(LiveObject {
        id: path,
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }))
}

/// The token the mount at `path` was created with, if any.
async fn token_of(client: &VaultClient, path: &str) -> Result<Option<Option<String>>, ProviderError> {
    let api_path = format!("sys/mounts/{path}");
    let answer = client.send(Method::Get, &api_path, None).await?;
    if answer.status == 404 || answer.status == 400 {
        return Ok(None);
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::Get, &api_path, &answer));
    }
    Ok(Some(
        answer.data()["options"][TOKEN_OPTION].as_str().map(str::to_string),
    ))
}

/// The mount a create with `token` made.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let path = path_of(attributes)?;
    match token_of(client, &path).await? {
        Some(Some(found)) if found == token => read(client, &path, attributes).await,
        _ => Ok(None),
    }
}

/// Paths of every mount but Vault's own.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    Ok(mounts(client)
        .await?
        .into_iter()
        .filter(|(_, engine, _)| !SYSTEM_TYPES.contains(&engine.as_str()))
        .map(|(path, _, _)| path)
        .collect())
}

/// Every mount: (path without the trailing slash, type, options).
pub async fn mounts(
    client: &VaultClient,
) -> Result<Vec<(String, String, serde_json::Map<String, serde_json::Value>)>, ProviderError> {
    let answer = client.call(Method::Get, "sys/mounts", None).await?;
    let entries = answer.data().as_object().cloned().unwrap_or_default();
    Ok(entries
        .into_iter()
        .map(|(path, entry)| {
            (
                path.trim_end_matches('/').to_string(),
                entry["type"].as_str().unwrap_or_default().to_string(),
                entry["options"].as_object().cloned().unwrap_or_default(),
            )
        })
        .collect())
}

fn string_options(attributes: &Attributes) -> serde_json::Map<String, serde_json::Value> {
    attributes
        .get("options")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The `config` object of a mount or tune call: the TTLs the configuration sets.
fn ttl_config(attributes: &Attributes) -> serde_json::Map<String, serde_json::Value> {
    let mut config = serde_json::Map::new();
    for (name, field) in [
        ("default_lease_ttl_seconds", "default_lease_ttl"),
        ("max_lease_ttl_seconds", "max_lease_ttl"),
    ] {
        if let Some(seconds) = attributes.get(name).and_then(serde_json::Value::as_u64) {
            config.insert(field.into(), format!("{seconds}s").into());
        }
    }
    config
}

async fn create(client: &VaultClient, path: &str, token: &str, attributes: &Attributes) -> Result<(), ProviderError> {
    match token_of(client, path).await? {
        Some(Some(found)) if found == token => return tune(client, path, attributes).await,
        Some(_) => {
            return Err(ProviderError::new(
                "AlreadyExists",
                format!("a secrets engine is already mounted at `{path}` and keyform did not mount it"),
            )
            .with_help(format!(
                "import it (`keyform import ADDRESS {path}`) or choose another path"
            )));
        }
        None => {}
    }
    let engine = text(attributes, "type").unwrap_or_default();
    let mut options = string_options(attributes);
    options.insert(TOKEN_OPTION.into(), token.into());
    let mut body = serde_json::json!({
        "type": engine,
        "options": options,
        "config": ttl_config(attributes),
    });
    if let Some(description) = text(attributes, "description") {
        body["description"] = description.into();
    }
    client
        .call(Method::Post, &format!("sys/mounts/{path}"), Some(body))
        .await?;
    Ok(())
}

/// Sets what the configuration gives: description, TTLs, options.
async fn tune(client: &VaultClient, path: &str, attributes: &Attributes) -> Result<(), ProviderError> {
    let mut body = serde_json::Value::Object(ttl_config(attributes));
    if let Some(description) = text(attributes, "description") {
        body["description"] = description.into();
    }
    if attributes.get("options").is_some_and(serde_json::Value::is_object) {
        let mut options = string_options(attributes);
        // Never downgrade a KV v2 engine by leaving its version out.
        if text(attributes, "type") == Some("kv-v2") {
            options.insert("version".into(), "2".into());
        }
        body["options"] = serde_json::Value::Object(options);
    }
    client
        .call(Method::Post, &format!("sys/mounts/{path}/tune"), Some(body))
        .await?;
    Ok(())
}

/// Carries out one apply request for a `vault_mount`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let path = address_of_request(request, path_of, |id| clean_path("mount path", id))?;
    match &request.action {
        ApplyAction::Delete { .. } => {
            let api_path = format!("sys/mounts/{path}");
            let answer = client.send(Method::Delete, &api_path, None).await?;
            if !(200..300).contains(&answer.status) && read(client, &path, &Attributes::new()).await?.is_some() {
                return Err(api_error(Method::Delete, &api_path, &answer));
            }
            return Ok(None);
        }
        ApplyAction::Create { token } => create(client, &path, token, &request.attributes).await?,
        _ => tune(client, &path, &request.attributes).await?,
    }
    read(client, &path, &request.attributes)
        .await?
        .ok_or_else(|| {
            ProviderError::new(
                "NotFound",
                format!("no secrets engine is mounted at `{path}` after the change"),
            )
        })
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::{TOKEN_OPTION, reported_form};

    fn map(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        json.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn kv_v2_and_kv_version_2_compare_equal() {
        let live = map(serde_json::json!({ "version": "2", TOKEN_OPTION: "t" }));
        let (engine, options) = reported_form("kv", &live, &map(serde_json::json!({ "type": "kv-v2" })));
        assert_eq!(engine, "kv-v2");
        assert!(options.is_empty());
        let known = map(serde_json::json!({ "type": "kv", "options": { "version": "2" } }));
        let (engine, options) = reported_form("kv", &live, &known);
        assert_eq!(engine, "kv");
        assert_eq!(options, map(serde_json::json!({ "version": "2" })));
        let (engine, _) = reported_form("kv", &live, &map(serde_json::json!({})));
        assert_eq!(engine, "kv-v2");
        let (engine, options) = reported_form("kv", &map(serde_json::json!({ "version": "1" })), &known);
        assert_eq!(engine, "kv");
        assert_eq!(options, map(serde_json::json!({ "version": "1" })));
        let (engine, _) = reported_form("transit", &map(serde_json::json!({})), &known);
        assert_eq!(engine, "transit");
    }
}
