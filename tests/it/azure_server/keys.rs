//! Key Vault keys: what keys have and secrets do not (create RSA, RSA-HSM, EC, EC-HSM with real generated key pairs,
//! rotate, the rotation policy routes, a purge that also forgets the policy), and the key bundle; get, list,
//! update, delete and the other `/deletedkeys` routes are in [`super::objects`]. Responses carry only the public key
//! (`n`/`e` or `crv`/`x`/`y`): no private part is ever kept.

use serde_json::{Map, Value, json};

use super::data_plane::{Context, bad_parameter};
use super::http::{Reply, Request};
use super::key_material;
use super::objects::{self, Kind, ObjectKind};
use super::rotation;
use super::state::{Attributes, KeyData, Vault, Version, new_version};

const KEY_OPERATIONS: [&str; 8] = [
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
    "import",
    "export",
];

impl ObjectKind for KeyData {
    const KIND: Kind = Kind {
        label: "Key",
        collection: "keys",
        id_field: "kid",
        deleted_collection: "deletedkeys",
        not_found_code: "KeyNotFound",
    };

    fn update_specific(&mut self, body: &Map<String, Value>) -> Result<(), Reply> {
        if body.get("key_ops").is_some_and(|value| !value.is_null()) {
            self.key_operations = read_key_operations(body.get("key_ops"), &self.key_type)?;
        }
        Ok(())
    }

    fn bundle(version: &Version<Self>, name: &str, context: &Context, _with_value: bool) -> Map<String, Value> {
        let identifier = objects::identifier(context, Self::KIND.collection, name, Some(&version.version));
        let mut key = Map::new();
        key.insert("kid".to_string(), json!(identifier));
        key.insert("kty".to_string(), json!(version.data.key_type));
        key.insert("key_ops".to_string(), json!(version.data.key_operations));
        key.extend(version.data.public_key.clone());
        let mut bundle = Map::new();
        bundle.insert("key".to_string(), Value::Object(key));
        Self::common_fields(version, &mut bundle, context);
        bundle
    }

    fn common_fields(version: &Version<Self>, object: &mut Map<String, Value>, context: &Context) {
        let mut attributes = objects::attributes_json(&version.attributes, context);
        attributes.insert("exportable".to_string(), json!(false));
        object.insert("attributes".to_string(), Value::Object(attributes));
        if let Some(tags) = &version.tags {
            object.insert("tags".to_string(), tags.clone());
        }
    }
}

/// Serves a request under `/keys` or `/deletedkeys`: what only keys have here, the rest in [`objects::route`].
pub fn route(vault: &mut Vault, context: &Context, method: &str, segments: &[&str], request: &Request) -> Reply {
    match (method, segments) {
        ("POST", ["keys", name, "create"]) => create(vault, context, name, request),
        ("POST", ["keys", name, "rotate"]) => rotate(vault, context, name),
        ("GET" | "PUT", ["keys", name, "rotationpolicy"]) => rotation::route(vault, context, method, name, request),
        ("DELETE", ["deletedkeys", name]) => purge(vault, context, name),
        _ => objects::route(&mut vault.keys, context, method, segments, request),
    }
}

/// The key operations a request names, or the defaults for the key type.
fn read_key_operations(value: Option<&Value>, key_type: &str) -> Result<Vec<String>, Reply> {
    let Some(value) = value.filter(|value| !value.is_null()) else {
        return Ok(if key_type.starts_with("EC") {
            vec!["sign".to_string(), "verify".to_string()]
        } else {
            ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
                .iter()
                .map(|operation| operation.to_string())
                .collect()
        });
    };
    let Some(operations) = value.as_array() else {
        return Err(bad_parameter("key_ops must be an array of key operations."));
    };
    operations
        .iter()
        .map(|operation| match operation.as_str() {
            Some(name) if KEY_OPERATIONS.contains(&name) => Ok(name.to_string()),
            _ => Err(bad_parameter(&format!("Invalid key operation: {operation}."))),
        })
        .collect()
}

/// A new version of the given shape with fresh key material.
fn generate(
    key_type: &str,
    key_size: Option<u64>,
    curve: Option<&str>,
    key_operations: Vec<String>,
    attributes: Attributes,
    tags: Option<Value>,
) -> Result<Version<KeyData>, Reply> {
    let (public_key, key_size, curve) = match key_type {
        "RSA" | "RSA-HSM" => {
            let bits = key_size.unwrap_or(2048);
            let public = key_material::rsa_public_key(bits).ok_or_else(|| {
                bad_parameter(&format!(
                    "Invalid key size {bits}: RSA keys are 2048, 3072 or 4096 bits."
                ))
            })?;
            (public, Some(bits), None)
        }
        "EC" | "EC-HSM" => {
            let curve = curve.unwrap_or("P-256");
            let public = key_material::ec_public_key(curve)
                .ok_or_else(|| bad_parameter(&format!("Invalid curve {curve}: use P-256, P-384, P-521 or P-256K.")))?;
            (public, None, Some(curve.to_string()))
        }
        other => {
            return Err(bad_parameter(&format!(
                "Invalid key type {other}: this vault creates RSA, RSA-HSM, EC and EC-HSM keys."
            )));
        }
    };
    Ok(Version {
        version: new_version(),
        tags,
        attributes,
        data: KeyData {
            key_type: key_type.to_string(),
            key_size,
            curve,
            key_operations,
            public_key,
        },
    })
}

/// Keys - Create Key: `POST {vaultBaseUrl}/keys/{key-name}/create?api-version=2025-07-01`
/// (body `kty`, `key_size`, `crv`, `key_ops`, `attributes`, `tags`; 200 with the KeyBundle of the new version).
fn create(vault: &mut Vault, context: &Context, name: &str, request: &Request) -> Reply {
    let created = (|| {
        let body = objects::json_body(request)?;
        let key_type = body
            .get("kty")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_parameter("The key type (property 'kty') is required."))?;
        let (attributes, tags) = objects::new_version_fields(&vault.keys, name, &body, context)?;
        let key_size = body.get("key_size").and_then(Value::as_u64);
        let curve = body.get("crv").and_then(Value::as_str);
        let key_operations = read_key_operations(body.get("key_ops"), key_type)?;
        let version = generate(key_type, key_size, curve, key_operations, attributes, tags)?;
        Ok(objects::add_version(&mut vault.keys, name, version, context))
    })();
    created.unwrap_or_else(|reply| reply)
}

/// Keys - Rotate Key: `POST {vaultBaseUrl}/keys/{key-name}/rotate?api-version=2025-07-01`: a new version of the
/// same type, size, curve and operations; its expiry follows the rotation policy's `attributes.expiryTime`.
fn rotate(vault: &mut Vault, context: &Context, name: &str) -> Reply {
    let expiry = vault
        .rotation_policies
        .get(&name.to_lowercase())
        .and_then(|policy| policy.pointer("/attributes/expiryTime"))
        .and_then(Value::as_str)
        .and_then(rotation::duration_seconds);
    let rotated = (|| {
        objects::check_writable(&vault.keys, name)?;
        let object = objects::find_live(&mut vault.keys, name)?;
        let latest = &object.versions[objects::version_index(object, None)?];
        let mut attributes = Attributes::created_at(context.now);
        attributes.expires = expiry.map(|seconds| context.now.saturating_add(seconds));
        let version = generate(
            &latest.data.key_type,
            latest.data.key_size,
            latest.data.curve.as_deref(),
            latest.data.key_operations.clone(),
            attributes,
            latest.tags.clone(),
        )?;
        let bundle = KeyData::bundle(&version, &object.name, context, true);
        object.versions.push(version);
        Ok(Reply::json(200, Value::Object(bundle)))
    })();
    rotated.unwrap_or_else(|reply| reply)
}

/// Keys - Purge Deleted Key: `DELETE {vaultBaseUrl}/deletedkeys/{key-name}?api-version=2025-07-01` (204, or 403
/// under purge protection, in [`objects::purge`]); a purged key's rotation policy goes with it.
fn purge(vault: &mut Vault, context: &Context, name: &str) -> Reply {
    let reply = objects::purge(&mut vault.keys, name, context);
    vault.forget_purged_rotation_policies();
    reply
}
