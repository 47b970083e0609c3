//! Key Vault secrets: set (a new version each time), get, list, list versions, update attributes, and the
//! soft-delete routes under `/deletedsecrets`. Values appear only in SecretBundle responses of get and set.

use serde_json::{Map, Value, json};

use super::data_plane::{Context, unknown_operation};
use super::http::{Reply, Request};
use super::objects::{self, Kind, StoredVersion, bad_parameter};
use super::state::{Attributes, SecretVersion, Vault, new_version};

const MAX_VALUE_BYTES: usize = 25 * 1024;

impl StoredVersion for SecretVersion {
    const KIND: Kind = Kind {
        label: "Secret",
        lower: "secret",
        collection: "secrets",
        deleted_collection: "deletedsecrets",
        not_found_code: "SecretNotFound",
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

    fn bundle(&self, name: &str, context: &Context, with_value: bool) -> Map<String, Value> {
        let mut bundle = Map::new();
        if with_value {
            bundle.insert("value".to_string(), json!(self.value));
        }
        bundle.insert(
            "id".to_string(),
            json!(objects::identifier(context, "secrets", name, Some(&self.version))),
        );
        self.common_fields(&mut bundle, context);
        bundle
    }

    fn item(&self, identifier: &str, context: &Context) -> Map<String, Value> {
        let mut item = Map::new();
        item.insert("id".to_string(), json!(identifier));
        self.common_fields(&mut item, context);
        item
    }

    fn refuse_read(&self) -> Option<Reply> {
        (!self.attributes.enabled).then(|| {
            Reply::error_with_inner(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
                "SecretDisabled",
            )
        })
    }
}

impl SecretVersion {
    fn common_fields(&self, object: &mut Map<String, Value>, context: &Context) {
        if let Some(content_type) = &self.content_type {
            object.insert("contentType".to_string(), json!(content_type));
        }
        if let Some(tags) = &self.tags {
            object.insert("tags".to_string(), tags.clone());
        }
        object.insert(
            "attributes".to_string(),
            Value::Object(objects::attributes_json(&self.attributes, context)),
        );
    }
}

pub fn route(vault: &mut Vault, context: &Context, method: &str, segments: &[&str], request: &Request) -> Reply {
    let name = segments.get(1).copied().unwrap_or_default();
    if !name.is_empty()
        && let Err(reply) = objects::check_name(name)
    {
        return reply;
    }
    if let Some(reply) = objects::deleted_route(&mut vault.secrets, context, method, segments) {
        return reply;
    }
    match (method, segments) {
        ("PUT", ["secrets", name]) => set(vault, context, name, request),
        ("GET", ["secrets"]) => get_secrets(vault, context),
        ("GET", ["secrets", name, "versions"]) => get_secret_versions(vault, context, name),
        ("GET", ["secrets", name]) => get_secret(vault, context, name, None),
        ("GET", ["secrets", name, version]) => get_secret(vault, context, name, Some(version)),
        ("PATCH", ["secrets", name]) => update(vault, context, name, None, request),
        ("PATCH", ["secrets", name, version]) => update(vault, context, name, Some(version), request),
        ("DELETE", ["secrets", name]) => delete(vault, context, name),
        _ => unknown_operation(method, &request.path),
    }
}

/// Secrets - Set Secret: `PUT {vaultBaseUrl}/secrets/{secret-name}?api-version=2025-07-01`
/// (body `value`, `contentType`, `tags`, `attributes`; 200 with the SecretBundle of the new version).
fn set(vault: &mut Vault, context: &Context, name: &str, request: &Request) -> Reply {
    let added = (|| {
        let body = objects::json_body(request)?;
        let value = body
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_parameter("The secret value (property 'value') is required and must be a string."))?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(bad_parameter("The secret value exceeds the maximum size of 25 KB."));
        }
        let (attributes, tags) = objects::new_version_fields(&mut vault.secrets, name, &body, context)?;
        let content_type = body.get("contentType").and_then(Value::as_str).map(str::to_string);
        Ok(SecretVersion {
            version: new_version(),
            value: value.to_string(),
            content_type,
            tags,
            attributes,
        })
    })();
    match added {
        Ok(version) => objects::add_version(&mut vault.secrets, name, version, context),
        Err(reply) => reply,
    }
}

/// Secrets - Get Secret: `GET {vaultBaseUrl}/secrets/{secret-name}/{secret-version}?api-version=2025-07-01`
/// (an empty version means the latest).
fn get_secret(vault: &mut Vault, context: &Context, name: &str, version: Option<&str>) -> Reply {
    objects::get(&mut vault.secrets, name, version, context)
}

/// Secrets - Get Secrets: `GET {vaultBaseUrl}/secrets?api-version=2025-07-01` (SecretListResult of SecretItems).
fn get_secrets(vault: &mut Vault, context: &Context) -> Reply {
    objects::list(&mut vault.secrets, context)
}

/// Secrets - Get Secret Versions: `GET {vaultBaseUrl}/secrets/{secret-name}/versions?api-version=2025-07-01`.
fn get_secret_versions(vault: &mut Vault, context: &Context, name: &str) -> Reply {
    objects::list_versions(&mut vault.secrets, name, context)
}

/// Secrets - Update Secret: `PATCH {vaultBaseUrl}/secrets/{secret-name}/{secret-version}?api-version=2025-07-01`
/// (body `contentType`, `attributes`, `tags`; the SecretBundle without its value).
fn update(vault: &mut Vault, context: &Context, name: &str, version: Option<&str>, request: &Request) -> Reply {
    objects::update(&mut vault.secrets, name, version, request, context, |stored, body| {
        if let Some(content_type) = body.get("contentType") {
            stored.content_type = content_type.as_str().map(str::to_string);
        }
        Ok(())
    })
}

/// Secrets - Delete Secret: `DELETE {vaultBaseUrl}/secrets/{secret-name}?api-version=2025-07-01`
/// (DeletedSecretBundle with `recoveryId`, `deletedDate`, `scheduledPurgeDate`). The deleted-secret routes are
/// Secrets - Get Deleted Secrets `GET /deletedsecrets`, Get Deleted Secret `GET /deletedsecrets/{secret-name}`,
/// Purge Deleted Secret `DELETE /deletedsecrets/{secret-name}` (204) and Recover Deleted Secret
/// `POST /deletedsecrets/{secret-name}/recover`, in [`objects`].
fn delete(vault: &mut Vault, context: &Context, name: &str) -> Reply {
    objects::delete(&mut vault.secrets, name, context)
}
