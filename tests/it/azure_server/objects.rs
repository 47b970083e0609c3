//! What keys and secrets share on the Key Vault data plane: names, identifiers, attributes, versions, listing, and
//! the soft-delete life cycle (delete → deleted bundle with `recoveryId`, `deletedDate`, `scheduledPurgeDate`;
//! recover; purge, refused with 403 under purge protection), with the 409 conflicts Key Vault returns for a name
//! that is soft-deleted (`ObjectIsDeletedButRecoverable`) or still being recovered (`ObjectIsBeingRecovered`).

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::data_plane::Context;
use super::http::{Reply, Request};
use super::state::{Attributes, DeletedObject, ObjectStore, Versioned};

/// How Key Vault names one kind of object in paths and messages.
pub struct Kind {
    pub label: &'static str,
    pub lower: &'static str,
    pub collection: &'static str,
    pub deleted_collection: &'static str,
    pub not_found_code: &'static str,
}

/// A stored version of a key or secret.
pub trait StoredVersion {
    const KIND: Kind;
    fn version(&self) -> &str;
    fn attributes_mut(&mut self) -> &mut Attributes;
    fn tags_mut(&mut self) -> &mut Option<Value>;
    /// The bundle (SecretBundle, KeyBundle) of this version; `with_value` says whether a secret's value is included.
    fn bundle(&self, name: &str, context: &Context, with_value: bool) -> Map<String, Value>;
    /// The list item (SecretItem, KeyItem) naming it by `identifier`.
    fn item(&self, identifier: &str, context: &Context) -> Map<String, Value>;
    /// The error for reading this version, if Key Vault refuses it (a disabled secret's value).
    fn refuse_read(&self) -> Option<Reply> {
        None
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
pub fn read_attributes(value: Option<&Value>, attributes: &mut Attributes) -> Result<(), Reply> {
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
pub fn read_tags(value: Option<&Value>) -> Result<Option<Value>, Reply> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(tags)) if tags.len() <= 15 && tags.values().all(Value::is_string) => {
            Ok(Some(Value::Object(tags.clone())))
        }
        Some(_) => Err(bad_parameter("Tags must be an object of at most 15 string values.")),
    }
}

pub fn bad_parameter(message: &str) -> Reply {
    Reply::error(400, "BadParameter", message)
}

/// Key Vault object names: `^[0-9a-zA-Z-]+$`, 1 to 127 characters.
pub fn check_name(name: &str) -> Result<(), Reply> {
    if !name.is_empty() && name.len() <= 127 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(())
    } else {
        Err(bad_parameter(&format!(
            "The request URI contains an invalid name: {name}. Names may contain only 0-9, a-z, A-Z and -."
        )))
    }
}

fn not_found<V: StoredVersion>(name: &str) -> Reply {
    let kind = V::KIND;
    Reply::error(
        404,
        kind.not_found_code,
        &format!(
            "A {} with (name/id) {name} was not found in this key vault. If you recently deleted this {} you may be \
             able to recover it using the correct recovery command. For help resolving this issue, please see \
             https://go.microsoft.com/fwlink/?linkid=2125182",
            kind.lower, kind.lower
        ),
    )
}

fn deleted_not_found<V: StoredVersion>() -> Reply {
    let kind = V::KIND;
    Reply::error(404, kind.not_found_code, &format!("Deleted {} not found", kind.label))
}

/// Refuses to create or change a name that is soft-deleted or still being recovered (409 Conflict).
pub fn check_writable<V: StoredVersion>(store: &mut ObjectStore<V>, name: &str) -> Result<(), Reply> {
    let kind = V::KIND;
    let key = name.to_lowercase();
    if store.deleted.contains_key(&key) {
        return Err(Reply::error_with_inner(
            409,
            "Conflict",
            &format!(
                "{} {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this \
                 state, the {} can only be recovered or purged.",
                kind.label, kind.lower
            ),
            "ObjectIsDeletedButRecoverable",
        ));
    }
    if store.is_being_recovered(&key) {
        return Err(Reply::error_with_inner(
            409,
            "Conflict",
            &format!(
                "{} {name} is currently being recovered and cannot be re-created; retry later.",
                kind.label
            ),
            "ObjectIsBeingRecovered",
        ));
    }
    Ok(())
}

/// The live object of that name; not found while it is being recovered.
pub fn find_live<'a, V: StoredVersion>(
    store: &'a mut ObjectStore<V>,
    name: &str,
) -> Result<&'a mut Versioned<V>, Reply> {
    let key = name.to_lowercase();
    if store.is_being_recovered(&key) {
        return Err(not_found::<V>(name));
    }
    store.live.get_mut(&key).ok_or_else(|| not_found::<V>(name))
}

/// The index of a version (`None` or empty: the latest).
pub fn version_index<V: StoredVersion>(object: &Versioned<V>, version: Option<&str>) -> Result<usize, Reply> {
    match version.filter(|version| !version.is_empty()) {
        None => object
            .versions
            .len()
            .checked_sub(1)
            .ok_or_else(|| not_found::<V>(&object.name)),
        Some(wanted) => object
            .versions
            .iter()
            .position(|stored| stored.version().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| not_found::<V>(&format!("{}/{wanted}", object.name))),
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
pub fn new_version_fields<V: StoredVersion>(
    store: &mut ObjectStore<V>,
    name: &str,
    body: &Map<String, Value>,
    context: &Context,
) -> Result<(Attributes, Option<Value>), Reply> {
    check_writable(store, name)?;
    let mut attributes = Attributes {
        enabled: true,
        not_before: None,
        expires: None,
        created: context.now,
        updated: context.now,
    };
    read_attributes(body.get("attributes"), &mut attributes)?;
    Ok((attributes, read_tags(body.get("tags"))?))
}

/// Adds a version (creating the object when new) and answers its bundle, value included.
pub fn add_version<V: StoredVersion>(store: &mut ObjectStore<V>, name: &str, version: V, context: &Context) -> Reply {
    let bundle = version.bundle(name, context, true);
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

/// Update: changes the attributes and tags of one version (or the latest) from a PATCH body, plus what
/// `change_specific` reads for the kind; answers the bundle without a secret's value.
pub fn update<V: StoredVersion>(
    store: &mut ObjectStore<V>,
    name: &str,
    version: Option<&str>,
    request: &Request,
    context: &Context,
    change_specific: impl FnOnce(&mut V, &Map<String, Value>) -> Result<(), Reply>,
) -> Reply {
    let changed = (|| {
        let body = json_body(request)?;
        check_writable(store, name)?;
        let object = find_live(store, name)?;
        let index = version_index(object, version)?;
        let tags = read_tags(body.get("tags"))?;
        let stored = &mut object.versions[index];
        let mut attributes = stored.attributes_mut().clone();
        read_attributes(body.get("attributes"), &mut attributes)?;
        change_specific(stored, &body)?;
        attributes.updated = context.now;
        *stored.attributes_mut() = attributes;
        if body.contains_key("tags") {
            *stored.tags_mut() = tags;
        }
        Ok(stored.bundle(&object.name, context, false))
    })();
    match changed {
        Ok(bundle) => Reply::json(200, Value::Object(bundle)),
        Err(reply) => reply,
    }
}

/// The routes under `/deletedsecrets` or `/deletedkeys` (list, get, purge, recover), when the request is one of them.
pub fn deleted_route<V: StoredVersion>(
    store: &mut ObjectStore<V>,
    context: &Context,
    method: &str,
    segments: &[&str],
) -> Option<Reply> {
    let (collection, rest) = segments.split_first()?;
    if *collection != V::KIND.deleted_collection {
        return None;
    }
    match (method, rest) {
        ("GET", []) => Some(list_deleted(store, context)),
        ("GET", [name]) => Some(get_deleted(store, name, context)),
        ("DELETE", [name]) => Some(purge(store, name, context)),
        ("POST", [name, "recover"]) => Some(recover(store, name, context)),
        _ => None,
    }
}

/// Get: the bundle of one version, or of the latest.
pub fn get<V: StoredVersion>(
    store: &mut ObjectStore<V>,
    name: &str,
    version: Option<&str>,
    context: &Context,
) -> Reply {
    let object = match find_live(store, name) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let index = match version_index(object, version) {
        Ok(index) => index,
        Err(reply) => return reply,
    };
    let stored = &object.versions[index];
    if let Some(refusal) = stored.refuse_read() {
        return refusal;
    }
    Reply::json(200, Value::Object(stored.bundle(&object.name, context, true)))
}

/// One page of a list, with the `nextLink` to the next page (null on the last).
fn page(items: Vec<Value>, context: &Context) -> Reply {
    let end = (context.page_start + context.page_size).min(items.len());
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

/// List: one item per live object (its latest version), named without a version.
pub fn list<V: StoredVersion>(store: &mut ObjectStore<V>, context: &Context) -> Reply {
    let recovering: Vec<String> = store
        .live
        .keys()
        .filter(|key| store.recovering_until.contains_key(*key))
        .cloned()
        .collect();
    let hidden: Vec<String> = recovering
        .into_iter()
        .filter(|key| store.is_being_recovered(key))
        .collect();
    let items = store
        .live
        .iter()
        .filter(|(key, _)| !hidden.contains(key))
        .filter_map(|(_, object)| {
            let latest = object.versions.last()?;
            let identifier = identifier(context, V::KIND.collection, &object.name, None);
            Some(Value::Object(latest.item(&identifier, context)))
        })
        .collect();
    page(items, context)
}

/// List versions: one item per version, named with its version.
pub fn list_versions<V: StoredVersion>(store: &mut ObjectStore<V>, name: &str, context: &Context) -> Reply {
    let object = match find_live(store, name) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let items = object
        .versions
        .iter()
        .map(|stored| {
            let identifier = identifier(context, V::KIND.collection, &object.name, Some(stored.version()));
            Value::Object(stored.item(&identifier, context))
        })
        .collect();
    page(items, context)
}

fn deleted_fields(
    object: &mut Map<String, Value>,
    name: &str,
    deleted: &DeletedObject<impl StoredVersion>,
    kind: &Kind,
    context: &Context,
) {
    object.insert(
        "recoveryId".to_string(),
        json!(identifier(context, kind.deleted_collection, name, None)),
    );
    object.insert("deletedDate".to_string(), json!(deleted.deleted_date));
    object.insert("scheduledPurgeDate".to_string(), json!(deleted.scheduled_purge_date));
}

fn deleted_bundle<V: StoredVersion>(deleted: &DeletedObject<V>, context: &Context) -> Option<Value> {
    let latest = deleted.object.versions.last()?;
    let mut bundle = latest.bundle(&deleted.object.name, context, false);
    deleted_fields(&mut bundle, &deleted.object.name, deleted, &V::KIND, context);
    Some(Value::Object(bundle))
}

/// Delete: soft-deletes every version; answers the deleted bundle.
pub fn delete<V: StoredVersion>(store: &mut ObjectStore<V>, name: &str, context: &Context) -> Reply {
    if let Err(reply) = find_live(store, name) {
        return reply;
    }
    let key = name.to_lowercase();
    let Some(object) = store.live.remove(&key) else {
        return not_found::<V>(name);
    };
    let deleted = DeletedObject {
        object,
        deleted_date: context.now,
        scheduled_purge_date: context.now + context.retention_days * 24 * 3600,
    };
    let reply = match deleted_bundle(&deleted, context) {
        Some(bundle) => Reply::json(200, bundle),
        None => not_found::<V>(name),
    };
    store.deleted.insert(key, deleted);
    reply
}

/// Secrets - Get Deleted Secret `GET {vaultBaseUrl}/deletedsecrets/{secret-name}` and Keys - Get Deleted Key
/// `GET {vaultBaseUrl}/deletedkeys/{key-name}`: the deleted bundle of a soft-deleted object.
pub fn get_deleted<V: StoredVersion>(store: &ObjectStore<V>, name: &str, context: &Context) -> Reply {
    store
        .deleted
        .get(&name.to_lowercase())
        .and_then(|deleted| deleted_bundle(deleted, context))
        .map(|bundle| Reply::json(200, bundle))
        .unwrap_or_else(deleted_not_found::<V>)
}

/// Secrets - Get Deleted Secrets `GET {vaultBaseUrl}/deletedsecrets` and Keys - Get Deleted Keys
/// `GET {vaultBaseUrl}/deletedkeys`: one deleted item per soft-deleted object.
pub fn list_deleted<V: StoredVersion>(store: &ObjectStore<V>, context: &Context) -> Reply {
    let items = store
        .deleted
        .values()
        .filter_map(|deleted| {
            let latest = deleted.object.versions.last()?;
            let name = &deleted.object.name;
            let mut item = latest.item(&identifier(context, V::KIND.collection, name, None), context);
            deleted_fields(&mut item, name, deleted, &V::KIND, context);
            Some(Value::Object(item))
        })
        .collect();
    page(items, context)
}

/// Secrets - Recover Deleted Secret `POST {vaultBaseUrl}/deletedsecrets/{secret-name}/recover` and Keys - Recover
/// Deleted Key `POST {vaultBaseUrl}/deletedkeys/{key-name}/recover`: brings the object back with all its versions; it reads as not found, and refuses writes with
/// `ObjectIsBeingRecovered`, for the server's recovery window.
pub fn recover<V: StoredVersion>(store: &mut ObjectStore<V>, name: &str, context: &Context) -> Reply {
    let key = name.to_lowercase();
    let Some(deleted) = store.deleted.remove(&key) else {
        return deleted_not_found::<V>();
    };
    let reply = match deleted.object.versions.last() {
        Some(latest) => Reply::json(200, Value::Object(latest.bundle(&deleted.object.name, context, false))),
        None => deleted_not_found::<V>(),
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
pub fn purge<V: StoredVersion>(store: &mut ObjectStore<V>, name: &str, context: &Context) -> Reply {
    let key = name.to_lowercase();
    if !store.deleted.contains_key(&key) {
        return deleted_not_found::<V>();
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
