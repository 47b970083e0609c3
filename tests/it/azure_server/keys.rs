//! Key Vault keys: create (RSA, RSA-HSM, EC, EC-HSM with real generated key pairs), get, list, list versions,
//! update, rotate, and the soft-delete routes under `/deletedkeys`. Responses carry only the public key (`n`/`e` or
//! `crv`/`x`/`y`): no private part is ever kept.

use serde_json::{Map, Value, json};

use super::data_plane::{Context, unknown_operation};
use super::http::{Reply, Request};
use super::key_material;
use super::objects::{self, Kind, StoredVersion, bad_parameter};
use super::rotation;
use super::state::{Attributes, KeyVersion, Vault, new_version};

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

impl StoredVersion for KeyVersion {
    const KIND: Kind = Kind {
        label: "Key",
        lower: "key",
        collection: "keys",
        deleted_collection: "deletedkeys",
        not_found_code: "KeyNotFound",
    };

    fn version(&self) -> &str {
        &self.version
    }

    fn attributes_mut(&mut self) -> &mut Attributes {
        &mut self.attributes
    }

    fn tags_mut(&mut self) -> &mut Option<Value> {
        &mut self.tags
    }

    fn bundle(&self, name: &str, context: &Context, _with_value: bool) -> Map<String, Value> {
        let mut key = Map::new();
        key.insert(
            "kid".to_string(),
            json!(objects::identifier(context, "keys", name, Some(&self.version))),
        );
        key.insert("kty".to_string(), json!(self.key_type));
        key.insert("key_ops".to_string(), json!(self.key_operations));
        key.extend(self.public_key.clone());
        let mut bundle = Map::new();
        bundle.insert("key".to_string(), Value::Object(key));
        self.common_fields(&mut bundle, context);
        bundle
    }

    fn item(&self, identifier: &str, context: &Context) -> Map<String, Value> {
        let mut item = Map::new();
        item.insert("kid".to_string(), json!(identifier));
        self.common_fields(&mut item, context);
        item
    }
}

impl KeyVersion {
    fn common_fields(&self, object: &mut Map<String, Value>, context: &Context) {
        let mut attributes = objects::attributes_json(&self.attributes, context);
        attributes.insert("exportable".to_string(), json!(false));
        object.insert("attributes".to_string(), Value::Object(attributes));
        if let Some(tags) = &self.tags {
            object.insert("tags".to_string(), tags.clone());
        }
    }
}

pub fn route(vault: &mut Vault, context: &Context, method: &str, segments: &[&str], request: &Request) -> Reply {
    let name = segments.get(1).copied().unwrap_or_default();
    if !name.is_empty()
        && let Err(reply) = objects::check_name(name)
    {
        return reply;
    }
    if let Some(reply) = objects::deleted_route(&mut vault.keys, context, method, segments) {
        if method == "DELETE" && reply.status == 204 {
            // purging a key also forgets its rotation policy, which a soft delete keeps for a recovery
            vault.rotation_policies.remove(&name.to_lowercase());
        }
        return reply;
    }
    match (method, segments) {
        ("POST", ["keys", name, "create"]) => create(vault, context, name, request),
        ("POST", ["keys", name, "rotate"]) => rotate(vault, context, name),
        ("GET", ["keys"]) => objects::list(&mut vault.keys, context),
        ("GET", ["keys", name, "versions"]) => objects::list_versions(&mut vault.keys, name, context),
        ("GET", ["keys", name]) => get_key(vault, context, name, None),
        ("GET", ["keys", name, version]) => get_key(vault, context, name, Some(version)),
        ("PATCH", ["keys", name]) => update(vault, context, name, None, request),
        ("PATCH", ["keys", name, version]) => update(vault, context, name, Some(version), request),
        ("DELETE", ["keys", name]) => delete(vault, context, name),
        _ => unknown_operation(method, &request.path),
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
) -> Result<KeyVersion, Reply> {
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
    Ok(KeyVersion {
        version: new_version(),
        key_type: key_type.to_string(),
        key_size,
        curve,
        key_operations,
        public_key,
        tags,
        attributes,
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
        let (attributes, tags) = objects::new_version_fields(&mut vault.keys, name, &body, context)?;
        let key_size = body.get("key_size").and_then(Value::as_u64);
        let curve = body.get("crv").and_then(Value::as_str);
        let key_operations = read_key_operations(body.get("key_ops"), key_type)?;
        generate(key_type, key_size, curve, key_operations, attributes, tags)
    })();
    match created {
        Ok(version) => objects::add_version(&mut vault.keys, name, version, context),
        Err(reply) => reply,
    }
}

/// Keys - Get Key: `GET {vaultBaseUrl}/keys/{key-name}/{key-version}?api-version=2025-07-01` (public key only).
/// Keys - Get Keys `GET /keys` and Get Key Versions `GET /keys/{key-name}/versions` list KeyItems, in [`objects`].
fn get_key(vault: &mut Vault, context: &Context, name: &str, version: Option<&str>) -> Reply {
    objects::get(&mut vault.keys, name, version, context)
}

/// Keys - Update Key: `PATCH {vaultBaseUrl}/keys/{key-name}/{key-version}?api-version=2025-07-01`
/// (body `key_ops`, `attributes`, `tags`).
fn update(vault: &mut Vault, context: &Context, name: &str, version: Option<&str>, request: &Request) -> Reply {
    objects::update(&mut vault.keys, name, version, request, context, |stored, body| {
        if body.get("key_ops").is_some_and(|value| !value.is_null()) {
            stored.key_operations = read_key_operations(body.get("key_ops"), &stored.key_type)?;
        }
        Ok(())
    })
}

/// Keys - Rotate Key: `POST {vaultBaseUrl}/keys/{key-name}/rotate?api-version=2025-07-01`: a new version of the
/// same type, size, curve and operations; its expiry follows the rotation policy's `attributes.expiryTime`.
fn rotate(vault: &mut Vault, context: &Context, name: &str) -> Reply {
    if let Err(reply) = objects::check_writable(&mut vault.keys, name) {
        return reply;
    }
    let expiry = vault
        .rotation_policies
        .get(&name.to_lowercase())
        .and_then(|policy| policy.pointer("/attributes/expiryTime"))
        .and_then(Value::as_str)
        .and_then(rotation::duration_seconds);
    let object = match objects::find_live(&mut vault.keys, name) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let Some(latest) = object.versions.last() else {
        return Reply::error(
            404,
            "KeyNotFound",
            &format!("A key with (name/id) {name} was not found in this key vault."),
        );
    };
    let attributes = Attributes {
        enabled: true,
        not_before: None,
        expires: expiry.map(|seconds| context.now + seconds),
        created: context.now,
        updated: context.now,
    };
    let version = match generate(
        &latest.key_type,
        latest.key_size,
        latest.curve.as_deref(),
        latest.key_operations.clone(),
        attributes,
        latest.tags.clone(),
    ) {
        Ok(version) => version,
        Err(reply) => return reply,
    };
    let bundle = version.bundle(&object.name, context, true);
    object.versions.push(version);
    Reply::json(200, Value::Object(bundle))
}

/// Keys - Delete Key: `DELETE {vaultBaseUrl}/keys/{key-name}?api-version=2025-07-01` (DeletedKeyBundle). The
/// deleted-key routes are Keys - Get Deleted Keys `GET /deletedkeys`, Get Deleted Key `GET /deletedkeys/{key-name}`,
/// Purge Deleted Key `DELETE /deletedkeys/{key-name}` (204) and Recover Deleted Key
/// `POST /deletedkeys/{key-name}/recover`, in [`objects`].
fn delete(vault: &mut Vault, context: &Context, name: &str) -> Reply {
    objects::delete(&mut vault.keys, name, context)
}
