//! `vault_pki_secret_backend_role`: roles of a PKI engine at
//! `BACKEND/roles/NAME`, id `BACKEND/roles/NAME` as in Terraform.
//!
//! A [`WholeRole`]: every write sends the whole role, and a create adopts a
//! role already at the name only when its settings are the ones it would
//! write. `allowed_domains` compares as a set; `key_bits` 0 reads as the key
//! type's default size (2048 for rsa, 256 for ec), as Vault stores it.

use super::client::VaultClient;
use super::engine_path::EngineObject;
use super::role_fields::{Field, Map, WholeRole};
use crate::provider::{
    ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, ProviderError, ResourceSchema,
};

/// The role's settings with Vault's defaults (`key_bits` 0 is the key type's default size).
const ROLE: WholeRole = WholeRole {
    label: OBJECT.label,
    name_field: "name",
    fields: &[
        Field::Set("allowed_domains"),
        Field::Bool("allow_subdomains", false),
        Field::Bool("allow_bare_domains", false),
        Field::Bool("allow_glob_domains", false),
        Field::Bool("allow_any_name", false),
        Field::Bool("allow_localhost", true),
        Field::Bool("allow_ip_sans", true),
        Field::Bool("enforce_hostnames", true),
        Field::Bool("server_flag", true),
        Field::Bool("client_flag", true),
        Field::Duration("ttl"),
        Field::Duration("max_ttl"),
        Field::Text("key_type", "rsa"),
        Field::Number("key_bits", 0),
        Field::Text("issuer_ref", "default"),
    ],
    adjust: Some(default_key_bits),
};

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

/// Where the roles are: `BACKEND/roles/NAME` in a `pki` engine.
const OBJECT: EngineObject = EngineObject {
    engine: "pki",
    segment: "roles",
    label: "PKI role",
};

/// The key size Vault stores for `key_bits` 0.
fn default_bits(key_type: &str) -> u64 {
    match key_type {
        "rsa" => 2048,
        "ec" => 256,
        _ => 0,
    }
}

/// `key_bits` 0 as the key type's default size, as Vault stores it.
fn default_key_bits(settings: &mut Map) {
    if settings.get("key_bits").and_then(serde_json::Value::as_u64) == Some(0) {
        let bits = default_bits(settings["key_type"].as_str().unwrap_or_default());
        settings.insert("key_bits".into(), bits.into());
    }
}

/// Reads the role with id `BACKEND/roles/NAME`.
pub async fn read(client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    ROLE.read_at(client, &OBJECT.address_of_id(id)?).await
}

/// The role a create of these attributes made: one at the name with exactly its settings.
pub async fn find_by_token(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    ROLE.find_at(client, &OBJECT.address(attributes)?, attributes).await
}

/// The role a create of these attributes would collide with.
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    ROLE.read_at(client, &OBJECT.address(attributes)?).await
}

/// Ids of every role of every PKI engine.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    OBJECT.list(client).await
}

/// Carries out one apply request for a `vault_pki_secret_backend_role`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    ROLE.apply_at(client, &OBJECT.address_of(request)?, request).await
}

#[cfg(test)]
mod tests {
    use super::ROLE;

    fn settings_of(source: &super::Map) -> super::Map {
        ROLE.settings_of(source)
    }

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
