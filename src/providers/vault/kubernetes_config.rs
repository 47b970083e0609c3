//! `vault_kubernetes_auth_backend_config`: the configuration of a Kubernetes
//! auth method at `auth/BACKEND/config` (the id, as in Terraform): the API
//! server Vault sends TokenReviews to (`kubernetes_host`, its CA
//! certificate), the token Vault reviews with (`token_reviewer_jwt`, a
//! secret value source), `issuer` and `disable_local_ca_jwt`.
//!
//! Vault replaces the whole configuration on every write, and never returns
//! the reviewer token (only whether one is set). So every plain attribute
//! forces replacement: a changed setting is written again together with the
//! reviewer token, which keyform holds only when it writes. The reviewer
//! token is sent on create and when its source changes, never stored; its
//! version id is `set` while Vault holds one, so a token removed outside
//! keyform shows as drift (a token replaced outside keyform cannot be seen).
//!
//! Vault cannot delete a configuration (only disabling the method removes
//! it). Deleting one here makes it inert instead: it is written again with
//! `kubernetes_host` = [`INERT_HOST`] (the `.invalid` domain never
//! resolves) and no reviewer token, so every login fails, and a read reports
//! such a configuration as absent. A configuration has nowhere to carry a
//! create token: a create adopts one only when its settings are the ones the
//! create writes; any other fails the create.

use super::client::{Method, VaultClient, clean_path};
use super::engine_path::address_of_request;
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError,
    ResourceSchema,
};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;

/// The Kubernetes mount a configuration belongs to when `backend` is not set.
pub const DEFAULT_BACKEND: &str = "kubernetes";
/// The API server of a configuration keyform deleted.
pub const INERT_HOST: &str = "https://keyform-deleted.invalid";
/// The secret attribute.
pub const TOKEN_REVIEWER_JWT: &str = "token_reviewer_jwt";
/// The version id of a reviewer token Vault holds.
const SET_VERSION: &str = "set";
/// Text settings.
const TEXTS: &[&str] = &["kubernetes_host", "kubernetes_ca_cert", "issuer"];

type Map = serde_json::Map<String, serde_json::Value>;

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::KUBERNETES_CONFIG,
        description: "how a Kubernetes auth method reviews service-account tokens; a changed setting rewrites the whole configuration",
        attributes: vec![
            super::auth_role::backend_attribute("the path of the Kubernetes auth method (default: kubernetes)"),
            AttributeSchema::new(
                "kubernetes_host",
                AttributeType::String,
                "the Kubernetes API server's URL, such as https://kubernetes.default.svc",
            )
            .required()
            .force_new(),
            AttributeSchema::new(
                "kubernetes_ca_cert",
                AttributeType::String,
                "the PEM CA certificate of the API server",
            )
            .force_new(),
            AttributeSchema::new(
                TOKEN_REVIEWER_JWT,
                AttributeType::Secret,
                "the token Vault sends TokenReviews with: a value source such as file(\"reviewer.jwt\") (none: the logging-in token reviews itself)",
            ),
            AttributeSchema::new(
                "issuer",
                AttributeType::String,
                "the `iss` of the service-account tokens (empty: not checked)",
            )
            .force_new(),
            AttributeSchema::new(
                "disable_local_ca_jwt",
                AttributeType::Bool,
                "do not use the CA certificate and token of the pod Vault runs in (true when Vault runs outside the cluster)",
            )
            .force_new(),
            AttributeSchema::new("id", AttributeType::String, "`auth/BACKEND/config`").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

fn id_of(backend: &str) -> String {
    format!("auth/{backend}/config")
}

/// The backend of `attributes` (`backend`, or `kubernetes`).
fn backend_of(attributes: &Attributes) -> Result<String, ProviderError> {
    clean_path(
        "backend",
        super::auth_backend::text(attributes, "backend").unwrap_or(DEFAULT_BACKEND),
    )
}

/// The backend of `auth/BACKEND/config`.
fn backend_of_id(id: &str) -> Result<String, ProviderError> {
    id.trim()
        .trim_matches('/')
        .strip_prefix("auth/")
        .and_then(|rest| rest.strip_suffix("/config"))
        .ok_or_else(|| {
            ProviderError::new(
                "InvalidId",
                format!("`{id}` is not a Kubernetes auth configuration id: write it as auth/BACKEND/config"),
            )
        })
        .and_then(|backend| clean_path("backend", backend))
}

/// The plain settings, every one present with its default.
fn settings_of(source: &Map) -> Map {
    let mut settings = Map::new();
    for name in TEXTS {
        let text = source
            .get(*name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        settings.insert((*name).into(), text.into());
    }
    let disabled = source
        .get("disable_local_ca_jwt")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    settings.insert("disable_local_ca_jwt".into(), disabled.into());
    settings
}

/// The configuration as Vault stores it, inert ones included; None when there is none.
async fn fetch_raw(client: &VaultClient, backend: &str) -> Result<Option<Map>, ProviderError> {
    Ok(client
        .read_data(&id_of(backend))
        .await?
        .map(|data| data.as_object().cloned().unwrap_or_default()))
}

/// The configuration, or None when there is none or keyform deleted it.
async fn fetch(client: &VaultClient, backend: &str) -> Result<Option<Map>, ProviderError> {
    Ok(fetch_raw(client, backend)
        .await?
        .filter(|stored| stored.get("kubernetes_host").and_then(serde_json::Value::as_str) != Some(INERT_HOST)))
}

fn live(backend: &str, stored: &Map) -> LiveObject {
    let mut attributes = settings_of(stored);
    attributes.insert("backend".into(), backend.into());
    attributes.insert("id".into(), id_of(backend).into());
    let mut secret_versions = BTreeMap::new();
    if stored
        .get("token_reviewer_jwt_set")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        secret_versions.insert(TOKEN_REVIEWER_JWT.to_string(), SET_VERSION.to_string());
    }
    LiveObject {
        id: id_of(backend),
        attributes,
        secret_versions,
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// Reads the configuration with id `auth/BACKEND/config`.
pub async fn read(client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    let backend = backend_of_id(id)?;
    Ok(fetch(client, &backend).await?.map(|stored| live(&backend, &stored)))
}

/// The configuration a create of these attributes wrote: one with exactly its settings.
pub async fn find_by_token(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let backend = backend_of(attributes)?;
    Ok(fetch(client, &backend)
        .await?
        .filter(|stored| settings_of(stored) == settings_of(attributes))
        .map(|stored| live(&backend, &stored)))
}

/// The configuration a create would collide with; nothing when no Kubernetes method is
/// enabled at the backend path (it may be enabled in the same apply).
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let backend = backend_of(attributes)?;
    if !kubernetes_backends(client).await?.contains(&backend) {
        return Ok(None);
    }
    Ok(fetch(client, &backend).await?.map(|stored| live(&backend, &stored)))
}

async fn kubernetes_backends(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    super::auth_backend::paths_of_type(client, &["kubernetes"]).await
}

/// Ids of the configurations of every Kubernetes method that has one.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    let mut ids = Vec::new();
    for backend in kubernetes_backends(client).await? {
        if fetch(client, &backend).await?.is_some() {
            ids.push(id_of(&backend));
        }
    }
    Ok(ids)
}

/// Writes the whole configuration, with the reviewer token when the request carries it.
async fn write(
    client: &VaultClient,
    backend: &str,
    settings: Map,
    reviewer: Option<&SensitiveString>,
) -> Result<(), ProviderError> {
    let mut body = settings;
    if let Some(reviewer) = reviewer {
        body.insert(TOKEN_REVIEWER_JWT.into(), reviewer.expose().into());
    }
    client
        .call(Method::Post, &id_of(backend), Some(serde_json::Value::Object(body)))
        .await?;
    Ok(())
}

/// Makes the configuration inert: no reviewer token, an API server that never resolves.
async fn make_inert(client: &VaultClient, backend: &str) -> Result<(), ProviderError> {
    let Some(stored) = fetch(client, backend).await? else {
        return Ok(());
    };
    let mut settings = settings_of(&stored);
    settings.insert("kubernetes_host".into(), INERT_HOST.into());
    settings.insert("issuer".into(), "".into());
    write(client, backend, settings, None).await
}

/// Carries out one apply request for a `vault_kubernetes_auth_backend_config`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let backend = address_of_request(request, backend_of, backend_of_id)?;
    let reviewer = request.secrets.get(TOKEN_REVIEWER_JWT);
    let settings = settings_of(&request.attributes);
    match &request.action {
        ApplyAction::Delete { .. } => {
            // A method already disabled took its configuration with it.
            if kubernetes_backends(client).await?.contains(&backend) {
                make_inert(client, &backend).await?;
            }
            return Ok(None);
        }
        ApplyAction::Create { .. } => match fetch(client, &backend).await? {
            Some(stored) if settings_of(&stored) != settings => {
                return Err(ProviderError::new(
                    "AlreadyExists",
                    format!(
                        "the Kubernetes auth method at `{backend}` is already configured and keyform did not configure it"
                    ),
                )
                .with_help(format!("import it (`keyform import ADDRESS {}`)", id_of(&backend))));
            }
            _ => write(client, &backend, settings, reviewer).await?,
        },
        _ => write(client, &backend, settings, reviewer).await?,
    }
    fetch(client, &backend)
        .await?
        .map(|stored| Some(live(&backend, &stored)))
        .ok_or_else(|| {
            ProviderError::new(
                "NotFound",
                format!("`{}` was not found after it was written", id_of(&backend)),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::{backend_of, backend_of_id, live, settings_of};
    use crate::provider::attributes_from_json as attributes;

    #[test]
    fn ids_and_backends() {
        assert_eq!(backend_of_id("auth/k8s/prod/config").expect("id"), "k8s/prod");
        assert!(backend_of_id("auth/k8s").is_err());
        assert!(backend_of_id("k8s/config").is_err());
        assert_eq!(
            backend_of(&attributes(serde_json::json!({}))).expect("backend"),
            "kubernetes"
        );
    }

    #[test]
    fn a_set_reviewer_token_has_a_version_and_no_value() {
        let stored = attributes(serde_json::json!({
            "kubernetes_host": "https://k8s:6443",
            "token_reviewer_jwt_set": true,
            "pem_keys": [],
        }));
        let object = live("kubernetes", &stored);
        assert_eq!(object.secret_versions["token_reviewer_jwt"], "set");
        assert_eq!(object.attributes["disable_local_ca_jwt"], false);
        assert_eq!(object.attributes["kubernetes_ca_cert"], "");
        assert!(!object.attributes.contains_key("token_reviewer_jwt"));
        assert_eq!(object.id, "auth/kubernetes/config");
        let unset = attributes(serde_json::json!({ "kubernetes_host": "h", "token_reviewer_jwt_set": false }));
        assert!(live("kubernetes", &unset).secret_versions.is_empty());
        assert_eq!(settings_of(&stored).len(), 4);
    }
}
