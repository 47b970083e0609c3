//! Key Vault secrets: set (a new version each time) and the secret bundle; get, list, update, delete and the
//! `/deletedsecrets` routes are in [`super::objects`]. Values appear only in SecretBundle responses of get and set.

use serde_json::{Map, Value, json};

use super::data_plane::{Context, bad_parameter};
use super::http::{Reply, Request};
use super::objects::{self, Kind, ObjectKind};
use super::state::{SecretData, Vault, Version, new_version};

const MAX_VALUE_BYTES: usize = 25 * 1024;

impl ObjectKind for SecretData {
    const KIND: Kind = Kind {
        label: "Secret",
        collection: "secrets",
        id_field: "id",
        deleted_collection: "deletedsecrets",
        not_found_code: "SecretNotFound",
    };

    fn update_specific(&mut self, body: &Map<String, Value>) -> Result<(), Reply> {
        if let Some(content_type) = body.get("contentType") {
            self.content_type = content_type.as_str().map(str::to_string);
        }
        Ok(())
    }

    fn bundle(version: &Version<Self>, name: &str, context: &Context, with_value: bool) -> Map<String, Value> {
        let identifier = objects::identifier(context, Self::KIND.collection, name, Some(&version.version));
        let mut bundle = Self::item(version, &identifier, context);
        if with_value {
            bundle.insert("value".to_string(), json!(version.data.value));
        }
        bundle
    }

    fn common_fields(version: &Version<Self>, object: &mut Map<String, Value>, context: &Context) {
        if let Some(content_type) = &version.data.content_type {
            object.insert("contentType".to_string(), json!(content_type));
        }
        if let Some(tags) = &version.tags {
            object.insert("tags".to_string(), tags.clone());
        }
        object.insert(
            "attributes".to_string(),
            Value::Object(objects::attributes_json(&version.attributes, context)),
        );
    }

    fn refuse_read(version: &Version<Self>) -> Option<Reply> {
        (!version.attributes.enabled).then(|| {
            Reply::error_with_inner(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
                "SecretDisabled",
            )
        })
    }
}

/// Serves a request under `/secrets` or `/deletedsecrets`: setting a value here, the rest in [`objects::route`].
pub fn route(vault: &mut Vault, context: &Context, method: &str, segments: &[&str], request: &Request) -> Reply {
    match (method, segments) {
        ("PUT", ["secrets", name]) => set(vault, context, name, request),
        _ => objects::route(&mut vault.secrets, context, method, segments, request),
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
        let (attributes, tags) = objects::new_version_fields(&vault.secrets, name, &body, context)?;
        let content_type = body.get("contentType").and_then(Value::as_str).map(str::to_string);
        let version = Version {
            version: new_version(),
            tags,
            attributes,
            data: SecretData {
                value: value.to_string(),
                content_type,
            },
        };
        Ok(objects::add_version(&mut vault.secrets, name, version, context))
    })();
    added.unwrap_or_else(|reply| reply)
}
