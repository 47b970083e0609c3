//! `vault_auth_backend`: auth methods enabled at `sys/auth/PATH`.
//!
//! `path` defaults to `type`, as in Terraform. A create enables the method
//! with the journal's token in the option [`TOKEN_OPTION`] (hidden from
//! reads), as `vault_mount` does: a create repeated after a crash adopts the
//! method it enabled, and a create at a path someone else enabled fails
//! instead of taking it over. An update changes the description through
//! `sys/auth/PATH/tune`, and so does the `tune` block (`default_lease_ttl`,
//! `max_lease_ttl`, `listing_visibility`, `token_type`). A read reports the
//! keys of `tune` that state (or the configuration) holds, so a setting
//! changed outside keyform shows as drift and one never configured is no
//! diff. Destroying a method disables it at once, which deletes its roles and
//! revokes every token it issued: not recoverable. The functions that enable,
//! tune and disable a method serve `vault_jwt_auth_backend` too, and listing
//! leaves the JWT/OIDC methods to that type, so each method is listed once.

use super::client::{Method, VaultClient, api_error, clean_path};
use super::engine_path::address_of_request;
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, BlockSchema, LiveObject, LiveStatus,
    ProviderError, ResourceSchema,
};
use std::collections::BTreeMap;

/// The option that carries a create's token.
pub const TOKEN_OPTION: &str = "keyform-create-token";

/// Auth methods Vault enables itself: never reported as unmanaged.
const SYSTEM_TYPES: &[&str] = &["token", "ns_token"];

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::AUTH_BACKEND,
        description: "an auth method enabled at a path; destroying it deletes its roles and revokes its tokens",
        attributes: vec![
            AttributeSchema::new(
                "type",
                AttributeType::String,
                "the auth method (`approle`, `jwt`, `kubernetes`, ...)",
            )
            .required()
            .force_new(),
            AttributeSchema::new(
                "path",
                AttributeType::String,
                "where the method is enabled (default: the type)",
            )
            .force_new(),
            AttributeSchema::new("description", AttributeType::String, "what the method is for"),
            AttributeSchema::new("id", AttributeType::String, "the method's path").computed(),
            AttributeSchema::new("accessor", AttributeType::String, "the method's accessor").computed(),
        ],
        blocks: vec![tune_block()],
        recoverable_deletion: false,
    }
}

/// The `tune` block, shared by every type that enables an auth method.
pub fn tune_block() -> BlockSchema {
    BlockSchema {
        name: "tune",
        attributes: vec![
            AttributeSchema::new(
                "default_lease_ttl",
                AttributeType::Duration,
                "the default TTL of the tokens the method issues (3600 or \"1h\"; 0: the system default)",
            ),
            AttributeSchema::new(
                "max_lease_ttl",
                AttributeType::Duration,
                "the longest TTL of the tokens the method issues (0: the system default)",
            ),
            AttributeSchema::new(
                "listing_visibility",
                AttributeType::String,
                "`unauth` to list the method on the login page, `hidden` (or empty) not to",
            ),
            AttributeSchema::new(
                "token_type",
                AttributeType::String,
                "the tokens the method issues: `default-service`, `default-batch`, `service` or `batch`",
            ),
        ],
        description: "the method's settings (`sys/auth/PATH/tune`)",
    }
}

/// A string attribute that is set and not blank.
pub fn text<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes
        .get(name)
        .and_then(serde_json::Value::as_str)
        .filter(|value| !value.trim().is_empty())
}

/// The path the attributes address: `path`, or `type` when it is not set.
pub fn path_of(attributes: &Attributes) -> Result<String, ProviderError> {
    let written = text(attributes, "path")
        .or_else(|| text(attributes, "type"))
        .unwrap_or("");
    clean_path("path", written)
}

/// One enabled method as `sys/auth` lists it.
struct Entry {
    engine: String,
    description: String,
    accessor: String,
    token: Option<String>,
    /// The tune settings, in the block's terms.
    tune: serde_json::Map<String, serde_json::Value>,
}

/// The `tune` settings Vault reports for a method.
fn tune_of(config: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut tune = serde_json::Map::new();
    for name in ["default_lease_ttl", "max_lease_ttl"] {
        tune.insert(name.into(), config[name].as_u64().unwrap_or(0).into());
    }
    for name in ["listing_visibility", "token_type"] {
        tune.insert(name.into(), config[name].as_str().unwrap_or_default().into());
    }
    tune
}

/// Every enabled method, by path without the trailing slash.
async fn entries(client: &VaultClient) -> Result<BTreeMap<String, Entry>, ProviderError> {
    let answer = client.call(Method::Get, "sys/auth", None).await?;
    let listed = answer.data().as_object().cloned().unwrap_or_default();
    Ok(listed
        .into_iter()
        .map(|(path, entry)| {
            (
                path.trim_end_matches('/').to_string(),
                Entry {
                    engine: entry["type"].as_str().unwrap_or_default().to_string(),
                    description: entry["description"].as_str().unwrap_or_default().to_string(),
                    accessor: entry["accessor"].as_str().unwrap_or_default().to_string(),
                    token: entry["options"][TOKEN_OPTION].as_str().map(str::to_string),
                    tune: tune_of(&entry["config"]),
                },
            )
        })
        .collect())
}

/// The method as keyform reports it; `known` (state or the configuration) says which `tune` keys to report.
fn live(path: &str, entry: &Entry, known: &Attributes) -> LiveObject {
    let mut attributes = Attributes::new();
    if let Some(configured) = known.get("tune").and_then(serde_json::Value::as_object) {
        let tune: serde_json::Map<String, serde_json::Value> = entry
            .tune
            .iter()
            .filter(|(name, _)| configured.contains_key(name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        attributes.insert("tune".into(), serde_json::Value::Object(tune));
    }
    attributes.insert("id".into(), path.into());
    attributes.insert("path".into(), path.into());
    attributes.insert("type".into(), entry.engine.clone().into());
    attributes.insert("description".into(), entry.description.clone().into());
    attributes.insert("accessor".into(), entry.accessor.clone().into());
    LiveObject {
        id: path.to_string(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// Reads the method enabled at `path`; `known` holds what state or the configuration says of it.
pub async fn read(client: &VaultClient, path: &str, known: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let path = clean_path("auth path", path)?;
    Ok(entries(client).await?.get(&path).map(|entry| live(&path, entry, known)))
}

/// The method a create with `token` enabled.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let path = path_of(attributes)?;
    Ok(entries(client)
        .await?
        .get(&path)
        .filter(|entry| entry.token.as_deref() == Some(token))
        .map(|entry| live(&path, entry, attributes)))
}

/// Paths of every enabled method but Vault's own token method and the JWT/OIDC methods, which
/// `vault_jwt_auth_backend` lists (each method is listed under one type).
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    Ok(entries(client)
        .await?
        .into_iter()
        .filter(|(_, entry)| {
            let engine = entry.engine.as_str();
            !SYSTEM_TYPES.contains(&engine) && !super::jwt_backend::TYPES.contains(&engine)
        })
        .map(|(path, _)| path)
        .collect())
}

/// Enables the method `attributes` describe at `path` with the create's token (adopting the one
/// that token already enabled), then applies its `tune` block.
pub async fn create(
    client: &VaultClient,
    path: &str,
    token: &str,
    attributes: &Attributes,
) -> Result<(), ProviderError> {
    match entries(client).await?.get(path) {
        Some(entry) if entry.token.as_deref() == Some(token) => return tune(client, path, attributes).await,
        Some(_) => {
            return Err(ProviderError::new(
                "AlreadyExists",
                format!("an auth method is already enabled at `{path}` and keyform did not enable it"),
            )
            .with_help(format!(
                "import it (`keyform import ADDRESS {path}`) or choose another path"
            )));
        }
        None => {}
    }
    let mut body = serde_json::json!({
        "type": text(attributes, "type").unwrap_or_default(),
        "options": { TOKEN_OPTION: token },
    });
    if let Some(description) = text(attributes, "description") {
        body["description"] = description.into();
    }
    client
        .call(Method::Post, &format!("sys/auth/{path}"), Some(body))
        .await?;
    if attributes.get("tune").is_some_and(serde_json::Value::is_object) {
        tune(client, path, attributes).await?;
    }
    Ok(())
}

/// Sets the description and the `tune` block of the method at `path`.
pub async fn tune(client: &VaultClient, path: &str, attributes: &Attributes) -> Result<(), ProviderError> {
    let description = attributes
        .get("description")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let mut body = serde_json::json!({ "description": description });
    if let Some(configured) = attributes.get("tune").and_then(serde_json::Value::as_object) {
        for name in ["default_lease_ttl", "max_lease_ttl"] {
            if let Some(seconds) = configured.get(name).and_then(serde_json::Value::as_u64) {
                body[name] = format!("{seconds}s").into();
            }
        }
        for name in ["listing_visibility", "token_type"] {
            if let Some(value) = configured.get(name).and_then(serde_json::Value::as_str) {
                body[name] = value.into();
            }
        }
    }
    client
        .call(Method::Post, &format!("sys/auth/{path}/tune"), Some(body))
        .await?;
    Ok(())
}

/// The error of a method that an enable or a tune did not leave behind.
pub fn missing_after_change(path: &str) -> ProviderError {
    ProviderError::new(
        "NotFound",
        format!("no auth method is enabled at `{path}` after the change"),
    )
}

/// Disables the method at `path`; a method already gone is no error.
pub async fn disable(client: &VaultClient, path: &str) -> Result<(), ProviderError> {
    let api_path = format!("sys/auth/{path}");
    let answer = client.send(Method::Delete, &api_path, None).await?;
    if !(200..300).contains(&answer.status) && read(client, path, &Attributes::new()).await?.is_some() {
        return Err(api_error(Method::Delete, &api_path, &answer));
    }
    Ok(())
}

/// Paths of every enabled method whose type is one of `types`.
pub async fn paths_of_type(client: &VaultClient, types: &[&str]) -> Result<Vec<String>, ProviderError> {
    Ok(entries(client)
        .await?
        .into_iter()
        .filter(|(_, entry)| types.contains(&entry.engine.as_str()))
        .map(|(path, _)| path)
        .collect())
}

/// Carries out one apply request for a `vault_auth_backend`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let path = address_of_request(request, path_of, |id| clean_path("auth path", id))?;
    match &request.action {
        ApplyAction::Delete { .. } => {
            disable(client, &path).await?;
            return Ok(None);
        }
        ApplyAction::Create { token } => create(client, &path, token, &request.attributes).await?,
        _ => tune(client, &path, &request.attributes).await?,
    }
    read(client, &path, &request.attributes)
        .await?
        .ok_or_else(|| missing_after_change(&path))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_path_defaults_to_the_type() {
        let attributes = |json: serde_json::Value| json.as_object().cloned().unwrap_or_default();
        assert_eq!(
            path_of(&attributes(serde_json::json!({ "type": "approle" }))).expect("path"),
            "approle"
        );
        assert_eq!(
            path_of(&attributes(serde_json::json!({ "type": "approle", "path": "/ci/" }))).expect("path"),
            "ci"
        );
        assert!(path_of(&attributes(serde_json::json!({}))).is_err());
    }
}
