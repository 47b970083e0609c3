//! `vault_jwt_auth_backend`: a JWT or OIDC auth method enabled at a path
//! (default `jwt`, the id) together with its configuration at
//! `auth/PATH/config`: the keys that verify tokens (`jwt_validation_pubkeys`,
//! or `oidc_discovery_url`), `bound_issuer`, `default_role` and
//! `jwt_supported_algs`.
//!
//! Enabling, tuning (`description`, the `tune` block), the create token and
//! disabling are [`auth_backend`]'s, as for `vault_auth_backend`: a create
//! repeated after a crash adopts the method its token enabled, and a path
//! someone else enabled fails the create. Every write of the configuration
//! sends all of it. Vault trims the white space around a PEM key, so keys
//! compare trimmed and a read reports them as state wrote them. Destroying
//! the resource disables the method, which deletes its roles and revokes
//! its tokens.

use super::auth_backend::{self, text};
use super::client::{Method, VaultClient, clean_path};
use super::engine_path::address_of_request;
use super::role_fields::strings;
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, ProviderError, ResourceSchema,
};

/// The path when `path` is not set, and the type when `type` is not.
const DEFAULT: &str = "jwt";
/// The method types this resource manages.
pub const TYPES: &[&str] = &["jwt", "oidc"];
/// Text settings of `auth/PATH/config`.
const TEXTS: &[&str] = &["oidc_discovery_url", "bound_issuer", "default_role"];

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::JWT_BACKEND,
        description: "a JWT/OIDC auth method and the keys it trusts; destroying it deletes its roles and revokes its tokens",
        attributes: vec![
            AttributeSchema::new(
                "path",
                AttributeType::String,
                "where the method is enabled (default: jwt)",
            )
            .force_new(),
            AttributeSchema::new("type", AttributeType::String, "`jwt` (the default) or `oidc`").force_new(),
            AttributeSchema::new("description", AttributeType::String, "what the method is for"),
            AttributeSchema::new(
                "jwt_validation_pubkeys",
                AttributeType::ListOfStrings,
                "PEM public keys that verify the tokens' signatures (or give `oidc_discovery_url`)",
            ),
            AttributeSchema::new(
                "oidc_discovery_url",
                AttributeType::String,
                "the issuer whose discovery document gives the keys, such as https://token.actions.githubusercontent.com",
            ),
            AttributeSchema::new(
                "bound_issuer",
                AttributeType::String,
                "the `iss` every token must have (empty: any)",
            ),
            AttributeSchema::new(
                "default_role",
                AttributeType::String,
                "the role a login that names none uses",
            ),
            AttributeSchema::new(
                "jwt_supported_algs",
                AttributeType::ListOfStrings,
                "the signing algorithms accepted (empty: RS256)",
            )
            .unordered(),
            AttributeSchema::new("id", AttributeType::String, "the method's path").computed(),
            AttributeSchema::new("accessor", AttributeType::String, "the method's accessor").computed(),
        ],
        blocks: vec![auth_backend::tune_block()],
        recoverable_deletion: false,
    }
}

/// The path the attributes address: `path`, or `jwt`.
pub fn path_of(attributes: &Attributes) -> Result<String, ProviderError> {
    clean_path("path", text(attributes, "path").unwrap_or(DEFAULT))
}

/// The attributes as `vault_auth_backend` takes them: `type` and `path` filled in.
fn as_method(attributes: &Attributes, path: &str) -> Attributes {
    let mut method = attributes.clone();
    method.insert("type".into(), text(attributes, "type").unwrap_or(DEFAULT).into());
    method.insert("path".into(), path.into());
    method
}

/// The configuration keyform reports: every setting, the keys as `known` wrote them when they
/// are the same keys once trimmed.
fn config_of(stored: &serde_json::Value, known: &Attributes) -> Attributes {
    let mut config = Attributes::new();
    let trimmed = |keys: &[String]| keys.iter().map(|key| key.trim().to_string()).collect::<Vec<_>>();
    let stored_keys = strings(stored.get("jwt_validation_pubkeys"));
    let known_keys = strings(known.get("jwt_validation_pubkeys"));
    let keys = if trimmed(&known_keys) == trimmed(&stored_keys) {
        known_keys
    } else {
        stored_keys
    };
    config.insert("jwt_validation_pubkeys".into(), keys.into());
    for name in TEXTS {
        config.insert((*name).into(), stored[*name].as_str().unwrap_or_default().into());
    }
    let mut algorithms = strings(stored.get("jwt_supported_algs"));
    algorithms.sort();
    config.insert("jwt_supported_algs".into(), algorithms.into());
    config
}

/// Adds the method's configuration to what `auth_backend` read of it.
async fn with_config(
    client: &VaultClient,
    method: Option<LiveObject>,
    known: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(mut live) = method else { return Ok(None) };
    if let Some(stored) = client.read_data(&format!("auth/{}/config", live.id)).await? {
        live.attributes.extend(config_of(&stored, known));
    }
    Ok(Some(live))
}

/// Reads the method at `path` and its configuration; `known` is what state or the configuration says.
pub async fn read(client: &VaultClient, path: &str, known: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let method = auth_backend::read(client, path, known).await?;
    with_config(client, method, known).await
}

/// The method a create with `token` enabled.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let path = path_of(attributes)?;
    let method = auth_backend::find_by_token(client, token, &as_method(attributes, &path)).await?;
    with_config(client, method, attributes).await
}

/// Paths of every JWT and OIDC method.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    auth_backend::paths_of_type(client, TYPES).await
}

/// Writes the whole configuration.
async fn configure(client: &VaultClient, path: &str, attributes: &Attributes) -> Result<(), ProviderError> {
    let mut body = serde_json::json!({
        "jwt_validation_pubkeys": strings(attributes.get("jwt_validation_pubkeys")),
        "jwt_supported_algs": strings(attributes.get("jwt_supported_algs")),
    });
    for name in TEXTS {
        body[*name] = attributes
            .get(*name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .into();
    }
    client
        .call(Method::Post, &format!("auth/{path}/config"), Some(body))
        .await?;
    Ok(())
}

/// Carries out one apply request for a `vault_jwt_auth_backend`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let path = address_of_request(request, path_of, |id| clean_path("auth path", id))?;
    let method = as_method(&request.attributes, &path);
    match &request.action {
        ApplyAction::Delete { .. } => {
            auth_backend::disable(client, &path).await?;
            return Ok(None);
        }
        ApplyAction::Create { token } => auth_backend::create(client, &path, token, &method).await?,
        _ => auth_backend::tune(client, &path, &method).await?,
    }
    configure(client, &path, &request.attributes).await?;
    read(client, &path, &request.attributes)
        .await?
        .ok_or_else(|| auth_backend::missing_after_change(&path))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::{config_of, path_of};
    use crate::provider::attributes_from_json as attributes;

    #[test]
    fn the_path_defaults_to_jwt_whatever_the_type() {
        assert_eq!(
            path_of(&attributes(serde_json::json!({ "type": "oidc" }))).expect("path"),
            "jwt"
        );
        assert_eq!(
            path_of(&attributes(serde_json::json!({ "path": "/ci/" }))).expect("path"),
            "ci"
        );
    }

    #[test]
    fn keys_compare_trimmed_and_read_as_written() {
        let written = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        let stored =
            serde_json::json!({ "jwt_validation_pubkeys": [written.trim()], "jwt_supported_algs": ["RS256", "ES256"] });
        let config = config_of(
            &stored,
            &attributes(serde_json::json!({ "jwt_validation_pubkeys": [written] })),
        );
        assert_eq!(config["jwt_validation_pubkeys"], serde_json::json!([written]));
        assert_eq!(config["jwt_supported_algs"], serde_json::json!(["ES256", "RS256"]));
        assert_eq!(config["bound_issuer"], "");
        let other = config_of(
            &stored,
            &attributes(serde_json::json!({ "jwt_validation_pubkeys": ["other"] })),
        );
        assert_eq!(other["jwt_validation_pubkeys"], serde_json::json!([written.trim()]));
    }
}
