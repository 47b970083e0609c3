//! `vault_pki_secret_backend_role`: roles of a PKI engine at
//! `BACKEND/roles/NAME`, id `BACKEND/roles/NAME` as in Terraform.
//!
//! Every write sends the whole role: a setting the configuration leaves out
//! is sent with Vault's default, never left as it was, so removing a line
//! resets the setting. `allowed_domains` compares as a set; `key_bits` 0
//! reads as the key type's default size (2048 for rsa, 256 for ec), as Vault
//! stores it.
//!
//! A role has nowhere to carry a create token, so a create adopts a role
//! already at the name only when its settings are the ones the create would
//! write (a create repeated after a crash); any other role there fails the
//! create instead of being overwritten.

use super::client::{Method, VaultClient, api_error};
use super::engine_path::{EnginePath, already_exists, delete_path, list_ids};
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError,
    ResourceSchema,
};
use std::collections::BTreeMap;

/// Boolean settings with Vault's defaults.
const BOOLS: &[(&str, bool)] = &[
    ("allow_subdomains", false),
    ("allow_bare_domains", false),
    ("allow_glob_domains", false),
    ("allow_any_name", false),
    ("allow_localhost", true),
    ("allow_ip_sans", true),
    ("enforce_hostnames", true),
    ("server_flag", true),
    ("client_flag", true),
];

/// Duration settings (seconds; 0: the mount's default).
const DURATIONS: &[&str] = &["ttl", "max_ttl"];

pub fn schema() -> ResourceSchema {
    let flag =
        |name: &'static str, description: &'static str| AttributeSchema::new(name, AttributeType::Bool, description);
    ResourceSchema {
        type_name: super::schema::PKI_ROLE,
        description: "a role of a PKI engine: which names certificates it issues may carry, their key and TTL",
        attributes: vec![
            AttributeSchema::new("backend", AttributeType::String, "the path of the PKI engine")
                .required()
                .force_new(),
            AttributeSchema::new("name", AttributeType::String, "the role's name")
                .required()
                .force_new(),
            AttributeSchema::new(
                "allowed_domains",
                AttributeType::ListOfStrings,
                "the domains certificates may be issued for",
            )
            .unordered(),
            flag(
                "allow_subdomains",
                "whether subdomains of allowed_domains are allowed (default: false)",
            ),
            flag(
                "allow_bare_domains",
                "whether allowed_domains themselves are allowed (default: false)",
            ),
            flag(
                "allow_glob_domains",
                "whether allowed_domains may hold globs (default: false)",
            ),
            flag("allow_any_name", "whether any common name is allowed (default: false)"),
            flag("allow_localhost", "whether localhost is allowed (default: true)"),
            flag(
                "allow_ip_sans",
                "whether IP subject alternative names are allowed (default: true)",
            ),
            flag(
                "enforce_hostnames",
                "whether names must be valid host names (default: true)",
            ),
            flag("server_flag", "whether certificates are for servers (default: true)"),
            flag("client_flag", "whether certificates are for clients (default: true)"),
            AttributeSchema::new(
                "ttl",
                AttributeType::Duration,
                "the TTL of issued certificates (3600 or \"1h\"; 0: the mount's default)",
            ),
            AttributeSchema::new(
                "max_ttl",
                AttributeType::Duration,
                "the longest TTL a certificate may ask for (0: the mount's maximum)",
            ),
            AttributeSchema::new(
                "key_type",
                AttributeType::String,
                "the key type of issued certificates: rsa (default), ec, ed25519 or any",
            ),
            AttributeSchema::new(
                "key_bits",
                AttributeType::Number,
                "the key size (0: 2048 for rsa, 256 for ec)",
            ),
            AttributeSchema::new(
                "issuer_ref",
                AttributeType::String,
                "the issuer that signs (name or id; default: the mount's default issuer)",
            ),
            AttributeSchema::new("id", AttributeType::String, "`BACKEND/roles/NAME`").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

/// The path segment of a role's id.
const KIND: &str = "roles";

fn address_of(attributes: &Attributes) -> Result<EnginePath, ProviderError> {
    EnginePath::from_attributes(attributes, KIND, "name")
}

fn address_from_id(id: &str) -> Result<EnginePath, ProviderError> {
    EnginePath::from_id(id, KIND, "PKI role")
}

/// The key size Vault stores for `key_bits` 0.
fn default_bits(key_type: &str) -> u64 {
    match key_type {
        "rsa" => 2048,
        "ec" => 256,
        _ => 0,
    }
}

/// The whole role, every setting present (Vault's default where `source` has none), domains sorted.
fn settings_of(source: &Attributes) -> Attributes {
    let mut body = Attributes::new();
    let mut domains = super::auth_role::strings(source.get("allowed_domains"));
    domains.sort();
    domains.dedup();
    body.insert("allowed_domains".into(), domains.into());
    for (name, default) in BOOLS {
        body.insert(
            (*name).into(),
            source
                .get(*name)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(*default)
                .into(),
        );
    }
    for name in DURATIONS {
        body.insert(
            (*name).into(),
            source
                .get(*name)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
                .into(),
        );
    }
    let key_type = source
        .get("key_type")
        .and_then(serde_json::Value::as_str)
        .filter(|text| !text.is_empty())
        .unwrap_or("rsa")
        .to_string();
    let bits = source
        .get("key_bits")
        .and_then(serde_json::Value::as_u64)
        .filter(|bits| *bits != 0)
        .unwrap_or_else(|| default_bits(&key_type));
    body.insert("key_type".into(), key_type.into());
    body.insert("key_bits".into(), bits.into());
    body.insert(
        "issuer_ref".into(),
        source
            .get("issuer_ref")
            .and_then(serde_json::Value::as_str)
            .filter(|text| !text.is_empty())
            .unwrap_or("default")
            .into(),
    );
    body
}

/// The role's settings as Vault stores them, or None when there is no role.
async fn fetch(client: &VaultClient, address: &EnginePath) -> Result<Option<Attributes>, ProviderError> {
    let path = address.id();
    let answer = client.send(Method::Get, &path, None).await?;
    if answer.status == 404 {
        return Ok(None);
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::Get, &path, &answer));
    }
    Ok(Some(settings_of(
        &answer.data().as_object().cloned().unwrap_or_default(),
    )))
}

fn live_object(address: &EnginePath, settings: Attributes) -> LiveObject {
    let mut attributes = settings;
    attributes.insert("backend".into(), address.backend.clone().into());
    attributes.insert("name".into(), address.name.clone().into());
    attributes.insert("id".into(), address.id().into());
    LiveObject {
        id: address.id(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// Reads the role with id `BACKEND/roles/NAME`.
pub async fn read(client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    let address = address_from_id(id)?;
    Ok(fetch(client, &address)
        .await?
        .map(|settings| live_object(&address, settings)))
}

/// The role a create of these attributes made: one at the name with exactly its settings.
pub async fn find_by_token(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let address = address_of(attributes)?;
    Ok(fetch(client, &address)
        .await?
        .filter(|settings| *settings == settings_of(attributes))
        .map(|settings| live_object(&address, settings)))
}

/// The role a create of these attributes would collide with.
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let address = address_of(attributes)?;
    Ok(fetch(client, &address)
        .await?
        .map(|settings| live_object(&address, settings)))
}

/// Ids of every role of every PKI engine.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    list_ids(client, "pki", KIND, KIND).await
}

/// Writes the whole role.
async fn write(client: &VaultClient, address: &EnginePath, attributes: &Attributes) -> Result<(), ProviderError> {
    let mut body = settings_of(attributes);
    for name in DURATIONS {
        let seconds = body.get(*name).and_then(serde_json::Value::as_u64).unwrap_or(0);
        body.insert((*name).into(), format!("{seconds}s").into());
    }
    client
        .call(Method::Post, &address.id(), Some(serde_json::Value::Object(body)))
        .await?;
    Ok(())
}

/// Carries out one apply request for a `vault_pki_secret_backend_role`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let address = match (&request.action, &request.id) {
        (ApplyAction::Create { .. }, _) | (_, None) => address_of(&request.attributes)?,
        (_, Some(id)) => address_from_id(id)?,
    };
    match &request.action {
        ApplyAction::Delete { .. } => {
            delete_path(client, &address.id()).await?;
            return Ok(None);
        }
        ApplyAction::Create { .. } => match fetch(client, &address).await? {
            Some(settings) if settings == settings_of(&request.attributes) => {}
            Some(_) => return Err(already_exists("PKI role", &address.id(), "name")),
            None => write(client, &address, &request.attributes).await?,
        },
        _ => write(client, &address, &request.attributes).await?,
    }
    fetch(client, &address)
        .await?
        .map(|settings| live_object(&address, settings))
        .ok_or_else(|| {
            ProviderError::new(
                "NotFound",
                format!("PKI role `{}` was not found after it was written", address.id()),
            )
        })
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::settings_of;

    #[test]
    fn the_whole_role_is_sent_with_defaults() {
        let attributes = serde_json::json!({ "allowed_domains": ["b.com", "a.com"], "key_type": "ec", "ttl": 3600 });
        let body = settings_of(attributes.as_object().expect("object"));
        assert_eq!(body["allowed_domains"], serde_json::json!(["a.com", "b.com"]));
        assert_eq!(body["key_bits"], 256);
        assert_eq!(body["ttl"], 3600);
        assert_eq!(body["max_ttl"], 0);
        assert_eq!(body["allow_localhost"], true);
        assert_eq!(body["allow_subdomains"], false);
        assert_eq!(body["issuer_ref"], "default");
        let rsa = settings_of(serde_json::json!({}).as_object().expect("object"));
        assert_eq!(rsa["key_type"], "rsa");
        assert_eq!(rsa["key_bits"], 2048);
    }
}
