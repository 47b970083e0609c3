//! What keys and secrets share on the Key Vault data plane: names, identifiers, attributes, versions, listing, and
//! the soft-delete life cycle (delete → deleted bundle with `recoveryId`, `deletedDate`, `scheduledPurgeDate`;
//! recover; purge, refused with 403 under purge protection), with the 409 conflicts Key Vault returns for a name
//! that is soft-deleted (`ObjectIsDeletedButRecoverable`) or still being recovered (`ObjectIsBeingRecovered`).

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::data_plane::{Context, bad_parameter, unknown_operation};
use super::http::{Reply, Request};
use super::state::{Attributes, DeletedObject, ObjectStore, Version, Versioned, scheduled_purge_date};

/// How Key Vault names one kind of object in paths and messages.
pub struct Kind {
    /// Capitalised, as messages start with it: `Key`, `Secret`.
    pub label: &'static str,
    pub collection: &'static str,
    /// The field naming a version in bundles and items: `kid` for keys, `id` for secrets.
    pub id_field: &'static str,
    pub deleted_collection: &'static str,
    pub not_found_code: &'static str,
}

/// What a kind of object (keys: `KeyData`, secrets: `SecretData`) adds to the operations they share.
pub trait ObjectKind: Sized {
    const KIND: Kind;
    /// Reads what an update body may change besides attributes and tags (a key's `key_ops`, a secret's
    /// `contentType`).
    fn update_specific(&mut self, body: &Map<String, Value>) -> Result<(), Reply>;
    /// The bundle (SecretBundle, KeyBundle) of a version; `with_value` says whether a secret's value is included.
    fn bundle(version: &Version<Self>, name: &str, context: &Context, with_value: bool) -> Map<String, Value>;
    /// Adds the fields bundles and items share: `attributes`, `tags`, a secret's `contentType`.
    fn common_fields(version: &Version<Self>, object: &mut Map<String, Value>, context: &Context);
    /// The list item (SecretItem, KeyItem) naming a version by `identifier`.
    fn item(version: &Version<Self>, identifier: &str, context: &Context) -> Map<String, Value> {
        let mut item = Map::new();
        item.insert(Self::KIND.id_field.to_string(), json!(identifier));
        Self::common_fields(version, &mut item, context);
        item
    }
    /// The error for reading a version, if Key Vault refuses it (a disabled secret's value).
    fn refuse_read(_version: &Version<Self>) -> Option<Reply> {
        None
    }
}

/// The routes keys and secrets share, under `/{collection}` and `/{deleted_collection}` (`segments` start with one of
/// them); each operation cites its Key Vault REST operations.
pub fn route<K: ObjectKind>(
    store: &mut ObjectStore<K>,
    context: &Context,
    method: &str,
    segments: &[&str],
    request: &Request,
) -> Reply {
    let Some((collection, rest)) = segments.split_first() else {
        return unknown_operation(method, &request.path);
    };
    match (*collection == K::KIND.deleted_collection, method, rest) {
        (false, "GET", []) => list(store, context),
        (false, "GET", [name, "versions"]) => list_versions(store, name, context),
        (false, "GET", [name]) => get(store, name, None, context),
        (false, "GET", [name, version]) => get(store, name, Some(version), context),
        (false, "PATCH", [name]) => update(store, name, None, request, context),
        (false, "PATCH", [name, version]) => update(store, name, Some(version), request, context),
        (false, "DELETE", [name]) => delete(store, name, context),
        (true, "GET", []) => list_deleted(store, context),
        (true, "GET", [name]) => get_deleted(store, name, context),
        (true, "DELETE", [name]) => purge(store, name, context),
        (true, "POST", [name, "recover"]) => recover(store, name, context),
        _ => unknown_operation(method, &request.path),
    }
}

/// `{vault}/{collection}/{name}` or, with a version, `{vault}/{collection}/{name}/{version}`.
pub fn identifier(context: &Context, collection: &str, name: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("{}/{collection}/{name}/{version}", context.base_url),
        None => format!("{}/{collection}/{name}", context.base_url),
    }
}

/// The attributes object of a bundle or item.
pub fn attributes_json(attributes: &Attributes, context: &Context) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("enabled".to_string(), json!(attributes.enabled));
    if let Some(not_before) = attributes.not_before {
        object.insert("nbf".to_string(), json!(not_before));
    }
    if let Some(expires) = attributes.expires {
        object.insert("exp".to_string(), json!(expires));
    }
    object.insert("created".to_string(), json!(attributes.created));
    object.insert("updated".to_string(), json!(attributes.updated));
    object.insert("recoveryLevel".to_string(), json!(context.recovery_level));
    object.insert("recoverableDays".to_string(), json!(context.retention_days));
    object
}

/// Reads `enabled`, `nbf` and `exp` (Unix seconds) from a request's `attributes` object into `attributes`.
fn read_attributes(value: Option<&Value>, attributes: &mut Attributes) -> Result<(), Reply> {
    let Some(value) = value else {
        return Ok(());
    };
    let Some(object) = value.as_object() else {
        return Err(bad_parameter("The attributes property must be an object."));
    };
    if let Some(enabled) = object.get("enabled").filter(|value| !value.is_null()) {
        attributes.enabled = enabled
            .as_bool()
            .ok_or_else(|| bad_parameter("attributes.enabled must be a boolean."))?;
    }
    for (field, slot) in [("nbf", &mut attributes.not_before), ("exp", &mut attributes.expires)] {
        match object.get(field) {
            None => {}
            Some(Value::Null) => *slot = None,
            Some(value) => {
                *slot =
                    Some(value.as_i64().ok_or_else(|| {
                        bad_parameter(&format!("attributes.{field} must be a Unix time in seconds."))
                    })?);
            }
        }
    }
    Ok(())
}

/// Reads `tags`: an object of string values, at most 15.
fn read_tags(value: Option<&Value>) -> Result<Option<Value>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(tags)) if tags.len() <= 15 && tags.values().all(Value::is_string) => {
            Ok(Some(Value::Object(tags.clone())))
        }
        Some(_) => Err(bad_parameter("Tags must be an object of at most 15 string values.")),
    }
}

fn not_found<K: ObjectKind>(name: &str) -> Reply {
    let kind = K::KIND.label.to_lowercase();
    Reply::error(
        404,
        K::KIND.not_found_code,
        &format!(
            "A {kind} with (name/id) {name} was not found in this key vault. If you recently deleted this {kind} you \
             may be able to recover it using the correct recovery command. For help resolving this issue, please see \
             https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

fn deleted_not_found<K: ObjectKind>() -> Reply {
    let kind = K::KIND;
    Reply::error(404, kind.not_found_code, &format!("Deleted {} not found", kind.label))
}

/// Refuses to create or change a name that is soft-deleted or still being recovered (409 Conflict).
pub fn check_writable<K: ObjectKind>(store: &ObjectStore<K>, name: &str) -> Result<(), Reply> {
    let label = K::KIND.label;
    let key = name.to_lowercase();
    let (message, inner_code) = if store.deleted.contains_key(&key) {
        let message = format!(
            "{label} {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this \
             state, the {} can only be recovered or purged.",
            label.to_lowercase()
        );
        (message, "ObjectIsDeletedButRecoverable")
    } else if store.is_being_recovered(&key) {
        let message = format!("{label} {name} is currently being recovered and cannot be re-created; retry later.");
        (message, "ObjectIsBeingRecovered")
    } else {
        return Ok(());
    };
    Err(Reply::error_with_inner(409, "Conflict", &message, inner_code))
}

/// The live object of that name; not found while it is being recovered.
pub fn find_live<'a, K: ObjectKind>(store: &'a mut ObjectStore<K>, name: &str) -> Result<&'a mut Versioned<K>, Reply> {
    let key = name.to_lowercase();
    if store.is_being_recovered(&key) {
        return Err(not_found::<K>(name));
    }
    store.live.get_mut(&key).ok_or_else(|| not_found::<K>(name))
}

/// The index of a version (`None` or empty: the latest).
pub fn version_index<K: ObjectKind>(object: &Versioned<K>, version: Option<&str>) -> Result<usize, Reply> {
    match version.filter(|version| !version.is_empty()) {
        None => object
            .versions
            .len()
            .checked_sub(1)
            .ok_or_else(|| not_found::<K>(&object.name)),
        Some(wanted) => object
            .versions
            .iter()
            .position(|stored| stored.version.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| not_found::<K>(&format!("{}/{wanted}", object.name))),
    }
}

/// The request body as a JSON object, or the 400 Key Vault answers.
pub fn json_body(request: &Request) -> Result<Map<String, Value>, Reply> {
    request
        .json_object()
        .ok_or_else(|| bad_parameter("The request body must be a JSON object."))
}

/// The attributes and tags of a new version, from a create or set body; refuses a name that is soft-deleted or
/// being recovered.
pub fn new_version_fields<K: ObjectKind>(
    store: &ObjectStore<K>,
    name: &str,
    body: &Map<String, Value>,
    context: &Context,
) -> Result<(Attributes, Option<Value>), Reply> {
    check_writable(store, name)?;
    let mut attributes = Attributes::created_at(context.now);
    read_attributes(body.get("attributes"), &mut attributes)?;
    Ok((attributes, read_tags(body.get("tags"))?))
}

/// Adds a version (creating the object when new) and answers its bundle, value included.
pub fn add_version<K: ObjectKind>(
    store: &mut ObjectStore<K>,
    name: &str,
    version: Version<K>,
    context: &Context,
) -> Reply {
    let bundle = K::bundle(&version, name, context, true);
    store
        .live
        .entry(name.to_lowercase())
        .or_insert_with(|| Versioned {
            name: name.to_string(),
            versions: Vec::new(),
        })
        .versions
        .push(version);
    Reply::json(200, Value::Object(bundle))
}

/// Secrets - Update Secret `PATCH {vaultBaseUrl}/secrets/{secret-name}/{secret-version}` (body `contentType`,
/// `attributes`, `tags`) and Keys - Update Key `PATCH {vaultBaseUrl}/keys/{key-name}/{key-version}` (body `key_ops`,
/// `attributes`, `tags`): changes one version (an empty version: the latest); answers the bundle without a secret's
/// value.
fn update<K: ObjectKind>(
    store: &mut ObjectStore<K>,
    name: &str,
    version: Option<&str>,
    request: &Request,
    context: &Context,
) -> Reply {
    let changed = (|| {
        let body = json_body(request)?;
        check_writable(store, name)?;
        let object = find_live(store, name)?;
        let index = version_index(object, version)?;
        let tags = read_tags(body.get("tags"))?;
        let stored = &mut object.versions[index];
        let mut attributes = stored.attributes.clone();
        read_attributes(body.get("attributes"), &mut attributes)?;
        stored.data.update_specific(&body)?;
        attributes.updated = context.now;
        stored.attributes = attributes;
        if body.contains_key("tags") {
            stored.tags = tags;
        }
        Ok(Reply::json(
            200,
            Value::Object(K::bundle(stored, &object.name, context, false)),
        ))
    })();
    changed.unwrap_or_else(|reply| reply)
}

/// Secrets - Get Secret `GET {vaultBaseUrl}/secrets/{secret-name}/{secret-version}` and Keys - Get Key
/// `GET {vaultBaseUrl}/keys/{key-name}/{key-version}`: the bundle of one version (an empty version: the latest); a
/// key's bundle has only its public part.
fn get<K: ObjectKind>(store: &mut ObjectStore<K>, name: &str, version: Option<&str>, context: &Context) -> Reply {
    let found = (|| {
        let object = find_live(store, name)?;
        let stored = &object.versions[version_index(object, version)?];
        match K::refuse_read(stored) {
            Some(refusal) => Err(refusal),
            None => Ok(Reply::json(
                200,
                Value::Object(K::bundle(stored, &object.name, context, true)),
            )),
        }
    })();
    found.unwrap_or_else(|reply| reply)
}

/// One page of a list, with the `nextLink` to the next page (null on the last).
fn page(items: Vec<Value>, context: &Context) -> Reply {
    let end = context.page_start.saturating_add(context.page_size).min(items.len());
    let start = context.page_start.min(end);
    let next_link = if end < items.len() {
        json!(format!(
            "{}{}?api-version={}&$skiptoken={end}&maxresults={}",
            context.base_url, context.path, context.api_version, context.page_size
        ))
    } else {
        Value::Null
    };
    Reply::json(200, json!({"value": items[start..end], "nextLink": next_link}))
}

/// Secrets - Get Secrets `GET {vaultBaseUrl}/secrets` and Keys - Get Keys `GET {vaultBaseUrl}/keys`: one item per
/// live object (its latest version), named without a version; objects being recovered are left out.
fn list<K: ObjectKind>(store: &ObjectStore<K>, context: &Context) -> Reply {
    let items = store
        .live
        .iter()
        .filter(|(key, _)| !store.is_being_recovered(key))
        .filter_map(|(_, object)| {
            let latest = object.versions.last()?;
            let identifier = identifier(context, K::KIND.collection, &object.name, None);
            Some(Value::Object(K::item(latest, &identifier, context)))
        })
        .collect();
    page(items, context)
}

/// Secrets - Get Secret Versions `GET {vaultBaseUrl}/secrets/{secret-name}/versions` and Keys - Get Key Versions
/// `GET {vaultBaseUrl}/keys/{key-name}/versions`: one item per version, named with its version.
fn list_versions<K: ObjectKind>(store: &mut ObjectStore<K>, name: &str, context: &Context) -> Reply {
    let object = match find_live(store, name) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let items = object
        .versions
        .iter()
        .map(|stored| {
            let identifier = identifier(context, K::KIND.collection, &object.name, Some(&stored.version));
            Value::Object(K::item(stored, &identifier, context))
        })
        .collect();
    page(items, context)
}

/// Adds what a deleted bundle or item has besides the live one's fields.
fn deleted_fields<K: ObjectKind>(object: &mut Map<String, Value>, deleted: &DeletedObject<K>, context: &Context) {
    let recovery_id = identifier(context, K::KIND.deleted_collection, &deleted.object.name, None);
    object.insert("recoveryId".to_string(), json!(recovery_id));
    object.insert("deletedDate".to_string(), json!(deleted.deleted_date));
    let purge_date = scheduled_purge_date(deleted.deleted_date, context.retention_days);
    object.insert("scheduledPurgeDate".to_string(), json!(purge_date));
}

fn deleted_bundle<K: ObjectKind>(deleted: &DeletedObject<K>, context: &Context) -> Option<Value> {
    let latest = deleted.object.versions.last()?;
    let mut bundle = K::bundle(latest, &deleted.object.name, context, false);
    deleted_fields(&mut bundle, deleted, context);
    Some(Value::Object(bundle))
}

/// Secrets - Delete Secret `DELETE {vaultBaseUrl}/secrets/{secret-name}` and Keys - Delete Key
/// `DELETE {vaultBaseUrl}/keys/{key-name}`: soft-deletes every version; answers the deleted bundle
/// (DeletedSecretBundle, DeletedKeyBundle) with `recoveryId`, `deletedDate` and `scheduledPurgeDate`.
fn delete<K: ObjectKind>(store: &mut ObjectStore<K>, name: &str, context: &Context) -> Reply {
    if let Err(reply) = find_live(store, name) {
        return reply;
    }
    let key = name.to_lowercase();
    let Some(object) = store.live.remove(&key) else {
        return not_found::<K>(name);
    };
    let deleted = DeletedObject {
        object,
        deleted_date: context.now,
    };
    let reply = match deleted_bundle(&deleted, context) {
        Some(bundle) => Reply::json(200, bundle),
        None => not_found::<K>(name),
    };
    store.deleted.insert(key, deleted);
    reply
}

/// Secrets - Get Deleted Secret `GET {vaultBaseUrl}/deletedsecrets/{secret-name}` and Keys - Get Deleted Key
/// `GET {vaultBaseUrl}/deletedkeys/{key-name}`: the deleted bundle of a soft-deleted object.
fn get_deleted<K: ObjectKind>(store: &ObjectStore<K>, name: &str, context: &Context) -> Reply {
    store
        .deleted
        .get(&name.to_lowercase())
        .and_then(|deleted| deleted_bundle(deleted, context))
        .map(|bundle| Reply::json(200, bundle))
        .unwrap_or_else(deleted_not_found::<K>)
}

/// Secrets - Get Deleted Secrets `GET {vaultBaseUrl}/deletedsecrets` and Keys - Get Deleted Keys
/// `GET {vaultBaseUrl}/deletedkeys`: one deleted item per soft-deleted object.
fn list_deleted<K: ObjectKind>(store: &ObjectStore<K>, context: &Context) -> Reply {
    let items = store
        .deleted
        .values()
        .filter_map(|deleted| {
            let latest = deleted.object.versions.last()?;
            let name = &deleted.object.name;
            let mut item = K::item(latest, &identifier(context, K::KIND.collection, name, None), context);
            deleted_fields(&mut item, deleted, context);
            Some(Value::Object(item))
        })
        .collect();
    page(items, context)
}

/// Secrets - Recover Deleted Secret `POST {vaultBaseUrl}/deletedsecrets/{secret-name}/recover` and Keys - Recover
/// Deleted Key `POST {vaultBaseUrl}/deletedkeys/{key-name}/recover`: brings the object back with all its versions;
/// it reads as not found, and refuses writes with `ObjectIsBeingRecovered`, for the server's recovery window.
fn recover<K: ObjectKind>(store: &mut ObjectStore<K>, name: &str, context: &Context) -> Reply {
    let key = name.to_lowercase();
    let Some(deleted) = store.deleted.remove(&key) else {
        return deleted_not_found::<K>();
    };
    let reply = match deleted.object.versions.last() {
        Some(latest) => Reply::json(
            200,
            Value::Object(K::bundle(latest, &deleted.object.name, context, false)),
        ),
        None => deleted_not_found::<K>(),
    };
    store.live.insert(key.clone(), deleted.object);
    store
        .recovering_until
        .insert(key, Instant::now() + context.recovery_window);
    reply
}

/// Secrets - Purge Deleted Secret `DELETE {vaultBaseUrl}/deletedsecrets/{secret-name}` and Keys - Purge Deleted Key
/// `DELETE {vaultBaseUrl}/deletedkeys/{key-name}`: permanently deletes a soft-deleted object (204), unless the vault
/// has purge protection (403).
pub fn purge<K: ObjectKind>(store: &mut ObjectStore<K>, name: &str, context: &Context) -> Reply {
    let key = name.to_lowercase();
    if !store.deleted.contains_key(&key) {
        return deleted_not_found::<K>();
    }
    if context.purge_protection {
        return Reply::error(
            403,
            "Forbidden",
            "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault \
             service will automatically purge it after the retention period has passed.",
        );
    }
    store.deleted.remove(&key);
    Reply::empty(204)
}
