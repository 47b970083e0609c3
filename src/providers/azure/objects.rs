//! What keys and secrets share, written once: the object a configuration or
//! an apply names, reading it (a soft-deleted object is pending deletion
//! when recovery is on, gone when it is off), the object a create would
//! collide with, the object a create made (its token tag), listing every
//! vault's objects, recovery (through `409 ObjectIsBeingRecovered`) and
//! destroy (soft delete; a purge only when the feature flag asks and the
//! vault has no purge protection). [`Kind`] sends each step to the key or
//! secret client.

use super::connection::Connection;
use super::data_plane::{carries_token, recovery, rfc3339};
use super::errors::not_managed;
use super::ids::{ObjectId, parse_object_id, parse_vault_id};
use super::kind::Kind;
use super::soft_delete::{recovery_is_off, retry_through, wait_for};
use super::vault;
use crate::provider::{ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError, text_attribute};

/// The object a configuration names: its vault (from `key_vault_id`) and `name`.
fn configured_object(
    connection: &Connection,
    kind: Kind,
    attributes: &Attributes,
) -> Result<Option<ObjectId>, ProviderError> {
    let (Some(vault_id), Some(name)) = (
        text_attribute(attributes, "key_vault_id"),
        text_attribute(attributes, "name"),
    ) else {
        return Ok(None);
    };
    let vault_uri = connection.vault_uri_of(&vault_id)?;
    let collection = kind.collection();
    Ok(Some(parse_object_id(
        &format!("{vault_uri}{collection}/{name}"),
        collection,
    )?))
}

/// The object an apply is about: its id, or (for a create) what the configuration names.
pub fn target(connection: &Connection, kind: Kind, request: &ApplyRequest) -> Result<ObjectId, ProviderError> {
    match &request.id {
        Some(id) if !id.is_empty() => parse_object_id(id, kind.collection()),
        _ => configured_object(connection, kind, &request.attributes)?.ok_or_else(|| {
            ProviderError::new(
                "MissingAttribute",
                format!("a {} needs key_vault_id and name", kind.noun()),
            )
        }),
    }
}

/// The attributes every key and secret reports: ids, vault, name, and the recovery window.
pub async fn common_attributes(
    connection: &Connection,
    kind: Kind,
    object: &ObjectId,
    found: &serde_json::Value,
    prior: &Attributes,
) -> Result<Attributes, ProviderError> {
    let id = object.versionless(kind.collection());
    let vault_id = match text_attribute(prior, "key_vault_id") {
        Some(recorded) => recorded,
        None => vault::id_named(connection, &object.vault_name).await?.ok_or_else(|| {
            ProviderError::new(
                "VaultNotFound",
                format!(
                    "no vault named `{}` in subscription {}",
                    object.vault_name, connection.settings.subscription_id
                ),
            )
        })?,
    };
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), id.clone().into());
    attributes.insert("versionless_id".into(), id.into());
    attributes.insert(
        "resource_id".into(),
        format!("{vault_id}/{}/{}", kind.collection(), object.name).into(),
    );
    attributes.insert("key_vault_id".into(), vault_id.into());
    attributes.insert("name".into(), object.name.clone().into());
    let (days, purgeable) = recovery(found.get("attributes"));
    let purged = kind.purges(&connection.settings.features) && purgeable;
    attributes.insert("recovery_window_in_days".into(), (if purged { 0 } else { days }).into());
    Ok(attributes)
}

/// When the current version was made (RFC 3339).
pub fn created(found: &serde_json::Value) -> Option<String> {
    found
        .get("attributes")
        .and_then(|fields| fields.get("created"))
        .and_then(serde_json::Value::as_u64)
        .map(rfc3339)
}

fn deleted_object(kind: Kind, object: &ObjectId, deleted: &serde_json::Value, prior: &Attributes) -> LiveObject {
    let purge_date = deleted
        .get("scheduledPurgeDate")
        .and_then(serde_json::Value::as_u64)
        .map(rfc3339)
        .unwrap_or_default();
    let id = object.versionless(kind.collection());
    let mut attributes = prior.clone();
    attributes.insert("id".into(), id.clone().into());
    LiveObject {
        id,
        attributes,
        secret_versions: Default::default(),
        status: LiveStatus::PendingDeletion {
            deletion_date: purge_date,
        },
        last_rotated: None,
    }
}

/// Reads an object by its id. A soft-deleted one is pending deletion when recovery is on, gone when it is off.
pub async fn read(
    connection: &Connection,
    kind: Kind,
    id: &str,
    prior: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let object = parse_object_id(id, kind.collection())?;
    // In a vault deleted outside keyform (soft-deleted, its data plane silent) the object comes back with the
    // vault: it is pending deletion too, and recovered after the vault.
    if let Some(vault_id) = text_attribute(prior, "key_vault_id")
        && !connection.vault_is_active(&vault_id).await?
    {
        let vault_name = parse_vault_id(&vault_id)?.name;
        let vault_kept = vault::find_deleted(connection, &vault_name, None).await?.is_some();
        let recovers = vault_kept && kind.recovers(&connection.settings.features);
        return Ok(recovers.then(|| deleted_object(kind, &object, &serde_json::Value::Null, prior)));
    }
    if let Some(found) = kind.get(connection, &object).await? {
        return kind.live_object(connection, &object, &found, prior).await.map(Some);
    }
    if !kind.recovers(&connection.settings.features) {
        return Ok(None);
    }
    Ok(kind
        .get_deleted(connection, &object)
        .await?
        .map(|deleted| deleted_object(kind, &object, &deleted, prior)))
}

/// Reads an object again after a change, waiting until it answers.
pub async fn reread(
    connection: &Connection,
    kind: Kind,
    object: &ObjectId,
    attributes: &Attributes,
) -> Result<LiveObject, ProviderError> {
    let found = wait_for(|| kind.get(connection, object)).await?.ok_or_else(|| {
        ProviderError::new(
            "ObjectNotFound",
            format!(
                "{} `{}` was not found after it was changed",
                kind.noun(),
                object.versionless(kind.collection())
            ),
        )
    })?;
    kind.live_object(connection, object, &found, attributes).await
}

/// The error for a create that meets a soft-deleted object while recovery is off.
fn refused(kind: Kind, object: &ObjectId) -> ProviderError {
    recovery_is_off(
        kind.noun(),
        &object.name,
        kind.recover_flag(),
        &format!(
            "az keyvault {} purge --vault-name {} --name {}",
            kind.noun(),
            object.vault_name,
            object.name
        ),
    )
}

/// The object a create would collide with: active, or soft-deleted (an error when recovery is off).
pub async fn lookup_existing(
    connection: &Connection,
    kind: Kind,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(object) = configured_object(connection, kind, attributes)? else {
        return Ok(None);
    };
    // A vault that does not exist (yet, or any more: soft-deleted) holds nothing to collide with, and its
    // data plane does not answer.
    let vault_id = text_attribute(attributes, "key_vault_id").unwrap_or_default();
    if !connection.vault_is_active(&vault_id).await? {
        return Ok(None);
    }
    if let Some(found) = kind.get(connection, &object).await? {
        return kind
            .live_object(connection, &object, &found, attributes)
            .await
            .map(Some);
    }
    match kind.get_deleted(connection, &object).await? {
        Some(_) if !kind.recovers(&connection.settings.features) => Err(refused(kind, &object)),
        Some(deleted) => Ok(Some(deleted_object(kind, &object, &deleted, attributes))),
        None => Ok(None),
    }
}

/// The object a create with `token` made: an object of the configured name carrying the token tag.
pub async fn find_by_token(
    connection: &Connection,
    kind: Kind,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(object) = configured_object(connection, kind, attributes)? else {
        return Ok(None);
    };
    match kind.get(connection, &object).await? {
        Some(found) if carries_token(&found, token) => kind
            .live_object(connection, &object, &found, attributes)
            .await
            .map(Some),
        _ => Ok(None),
    }
}

/// The versionless ids of every active object in every vault of the subscription.
pub async fn list(connection: &Connection, kind: Kind) -> Result<Vec<String>, ProviderError> {
    let mut ids = Vec::new();
    for vault_id in vault::list(connection).await? {
        let vault_uri = connection.vault_uri_of(&vault_id)?;
        ids.extend(kind.ids_in(connection, &vault_uri).await?);
    }
    Ok(ids)
}

/// What a create finds under its name (another object of that name is an error).
pub enum Existing {
    Free,
    /// A create with the same token made it (a crash between the call and the journal).
    Ours,
    SoftDeleted,
}

/// Looks at the name a create is about to use.
pub async fn before_create(
    connection: &Connection,
    kind: Kind,
    object: &ObjectId,
    token: &str,
) -> Result<Existing, ProviderError> {
    if let Some(found) = kind.get(connection, object).await? {
        if carries_token(&found, token) {
            return Ok(Existing::Ours);
        }
        let id = object.versionless(kind.collection());
        return Err(not_managed(
            "ObjectAlreadyExists",
            format!(
                "a {} named `{}` already exists ({id}) and keyform does not manage it",
                kind.noun(),
                object.name
            ),
            &id,
        ));
    }
    if kind.get_deleted(connection, object).await?.is_some() {
        return Ok(Existing::SoftDeleted);
    }
    Ok(Existing::Free)
}

/// Recovers a soft-deleted object (retrying while Azure is busy with it) and waits until it answers;
/// refused when recovery is off.
pub async fn recover(connection: &Connection, kind: Kind, object: &ObjectId) -> Result<(), ProviderError> {
    if !kind.recovers(&connection.settings.features) {
        return Err(refused(kind, object));
    }
    // A 404 means nothing of that name is soft-deleted (a recovered vault brought it back).
    retry_through(|| kind.recover_deleted(connection, object)).await?;
    wait_for(|| kind.get(connection, object)).await?;
    Ok(())
}

/// Soft-deletes the object; purges it when the feature flag (or `purge`) asks and the vault allows it.
pub async fn destroy(connection: &Connection, kind: Kind, object: &ObjectId, purge: bool) -> Result<(), ProviderError> {
    // A 404 means it is soft-deleted or gone already.
    kind.soft_delete(connection, object).await?;
    if !(purge || kind.purges(&connection.settings.features)) {
        return Ok(());
    }
    let Some(deleted) = wait_for(|| kind.get_deleted(connection, object)).await? else {
        return Ok(());
    };
    let (days, purgeable) = recovery(deleted.get("attributes"));
    if !purgeable {
        tracing::warn!(
            "{} {} is in a vault with purge protection: it stays soft-deleted for {days} days",
            kind.noun(),
            object.versionless(kind.collection())
        );
        return Ok(());
    }
    retry_through(|| kind.purge(connection, object)).await
}
