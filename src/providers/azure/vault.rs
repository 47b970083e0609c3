//! `azurerm_key_vault`: a vault, through Azure Resource Manager's
//! Microsoft.KeyVault REST API (vaults PUT/GET/PATCH/DELETE, deletedVaults
//! GET/purge, and recovery by `createMode = "recover"`).
//!
//! A create tags the vault with the journal's token, so a create repeated
//! after a crash finds the first vault. Destroying a vault soft-deletes it;
//! it is purged only when `features.key_vault.purge_soft_delete_on_destroy`
//! asks and purge protection is off. A create that meets a soft-deleted vault
//! of its name recovers it when `recover_soft_deleted_key_vaults` is on (the
//! default), then updates it. **`soft_delete_retention_days` is set at
//! creation only, and purge protection once on cannot be turned off: an
//! update that tries either is refused with a diagnostic, never turned into a
//! replacement.**

use super::connection::Connection;
use super::data_plane::{carries_token, configured_tags, visible_tags};
use super::errors::not_managed;
use super::ids::parse_vault_id;
use super::soft_delete::{recovery_is_off, retry_through, wait_for};
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError, text_attribute};
use reqwest::Method;

/// Azure's default soft-delete retention.
const DEFAULT_RETENTION_DAYS: u64 = 90;

fn required(attributes: &Attributes, name: &str) -> Result<String, ProviderError> {
    text_attribute(attributes, name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ProviderError::new("MissingAttribute", format!("an azurerm_key_vault needs `{name}`")))
}

fn deleted_path(connection: &Connection, location: &str, name: &str) -> String {
    connection.key_vault_path(&format!(
        "locations/{}/deletedVaults/{name}",
        location.to_lowercase().replace(' ', "")
    ))
}

/// Whether an ARM answer (a vault or a deleted vault) has this name; ARM compares names case-insensitively.
fn is_named(item: &serde_json::Value, name: &str) -> bool {
    item.get("name")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|found| found.eq_ignore_ascii_case(name))
}

fn id_of(vault: &serde_json::Value) -> Option<String> {
    vault.get("id").and_then(serde_json::Value::as_str).map(str::to_string)
}

fn properties(vault: &serde_json::Value) -> &serde_json::Value {
    vault.get("properties").unwrap_or(&serde_json::Value::Null)
}

fn retention_of(vault_properties: &serde_json::Value) -> u64 {
    vault_properties
        .get("softDeleteRetentionInDays")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(DEFAULT_RETENTION_DAYS)
}

fn purge_protected(vault_properties: &serde_json::Value) -> bool {
    vault_properties
        .get("enablePurgeProtection")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// The vault as keyform attributes.
fn live_object(connection: &Connection, vault: &serde_json::Value) -> Result<LiveObject, ProviderError> {
    let id =
        id_of(vault).ok_or_else(|| ProviderError::new("InvalidResponse", "Azure answered a vault without an id"))?;
    let parsed = parse_vault_id(&id)?;
    let vault_properties = properties(vault);
    let text = |value: Option<&serde_json::Value>| {
        value
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let retention = retention_of(vault_properties);
    let protected = purge_protected(vault_properties);
    let purges = connection.settings.features.purge_soft_delete_on_destroy && !protected;
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), id.clone().into());
    attributes.insert("name".into(), parsed.name.clone().into());
    attributes.insert("resource_group_name".into(), parsed.resource_group.into());
    attributes.insert("location".into(), text(vault.get("location")).into());
    attributes.insert("tenant_id".into(), text(vault_properties.get("tenantId")).into());
    attributes.insert(
        "sku_name".into(),
        text(vault_properties.get("sku").and_then(|sku| sku.get("name")))
            .to_lowercase()
            .into(),
    );
    attributes.insert("soft_delete_retention_days".into(), retention.into());
    attributes.insert("purge_protection_enabled".into(), protected.into());
    attributes.insert(
        "rbac_authorization_enabled".into(),
        vault_properties
            .get("enableRbacAuthorization")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
            .into(),
    );
    attributes.insert("tags".into(), visible_tags(vault));
    attributes.insert("vault_uri".into(), text(vault_properties.get("vaultUri")).into());
    attributes.insert(
        "recovery_window_in_days".into(),
        (if purges { 0 } else { retention }).into(),
    );
    Ok(LiveObject {
        id,
        attributes,
        secret_versions: Default::default(),
        status: LiveStatus::Active,
        last_rotated: None,
    })
}

/// A soft-deleted vault as a live object pending deletion, with what the prior attributes said of it.
fn deleted_object(deleted: &serde_json::Value, prior: &Attributes, id: &str) -> LiveObject {
    let deleted_properties = properties(deleted);
    let purge_date = deleted_properties
        .get("scheduledPurgeDate")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut attributes = prior.clone();
    attributes.insert("id".into(), id.into());
    if let Ok(parsed) = parse_vault_id(id) {
        attributes.insert("name".into(), parsed.name.into());
        attributes.insert("resource_group_name".into(), parsed.resource_group.into());
    }
    if let Some(location) = deleted_properties.get("location").and_then(serde_json::Value::as_str) {
        attributes.insert("location".into(), location.into());
    }
    if let Some(protected) = deleted_properties
        .get("purgeProtectionEnabled")
        .and_then(serde_json::Value::as_bool)
    {
        attributes.insert("purge_protection_enabled".into(), protected.into());
    }
    LiveObject {
        id: id.to_string(),
        attributes,
        secret_versions: Default::default(),
        status: LiveStatus::PendingDeletion {
            deletion_date: purge_date,
        },
        last_rotated: None,
    }
}

/// The soft-deleted vault of `name`: at `location` when known, else found among the subscription's deleted vaults.
pub async fn find_deleted(
    connection: &Connection,
    name: &str,
    location: Option<&str>,
) -> Result<Option<serde_json::Value>, ProviderError> {
    if let Some(location) = location {
        return connection.arm.get(&deleted_path(connection, location, name)).await;
    }
    let deleted = connection.arm.list(&connection.key_vault_path("deletedVaults")).await?;
    Ok(deleted.into_iter().find(|deleted| is_named(deleted, name)))
}

/// Reads a vault by its ARM id; a soft-deleted vault is pending deletion when recovery is on, and gone
/// when it is off (a create then explains the choice).
pub async fn read(connection: &Connection, id: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    if let Some(vault) = connection.arm.get(id).await? {
        return live_object(connection, &vault).map(Some);
    }
    let parsed = parse_vault_id(id)?;
    if !connection.settings.features.recover_soft_deleted_key_vaults {
        return Ok(None);
    }
    let location = text_attribute(prior, "location");
    let deleted = find_deleted(connection, &parsed.name, location.as_deref()).await?;
    Ok(deleted.map(|deleted| deleted_object(&deleted, prior, id)))
}

/// The name and ARM id of the vault a configuration declares.
fn configured_vault(connection: &Connection, attributes: &Attributes) -> Option<(String, String)> {
    let name = text_attribute(attributes, "name")?;
    let group = text_attribute(attributes, "resource_group_name")?;
    let id = connection.vault_id(&group, &name);
    Some((name, id))
}

/// The vault a create would collide with: an active one of that name in the resource group, or a
/// soft-deleted one (an error when recovery is off).
pub async fn lookup_existing(
    connection: &Connection,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some((name, id)) = configured_vault(connection, attributes) else {
        return Ok(None);
    };
    if let Some(vault) = connection.arm.get(&id).await? {
        return live_object(connection, &vault).map(Some);
    }
    let Some(location) = text_attribute(attributes, "location") else {
        return Ok(None);
    };
    let Some(deleted) = connection.arm.get(&deleted_path(connection, &location, &name)).await? else {
        return Ok(None);
    };
    if !connection.settings.features.recover_soft_deleted_key_vaults {
        return Err(refused(&name, &location));
    }
    Ok(Some(deleted_object(&deleted, attributes, &id)))
}

fn refused(name: &str, location: &str) -> ProviderError {
    recovery_is_off(
        "key vault",
        name,
        "recover_soft_deleted_key_vaults",
        &format!("az keyvault purge --name {name} --location {location}"),
    )
}

/// The vault a create with `token` made.
pub async fn find_by_token(
    connection: &Connection,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some((_, id)) = configured_vault(connection, attributes) else {
        return Ok(None);
    };
    match connection.arm.get(&id).await? {
        Some(vault) if carries_token(&vault, token) => live_object(connection, &vault).map(Some),
        _ => Ok(None),
    }
}

/// Ids of the vaults of the subscription.
pub async fn list(connection: &Connection) -> Result<Vec<String>, ProviderError> {
    let vaults = connection.arm.list(&connection.key_vault_path("vaults")).await?;
    Ok(vaults.iter().filter_map(id_of).collect())
}

/// The ARM id of the vault of this name in the subscription.
pub async fn id_named(connection: &Connection, name: &str) -> Result<Option<String>, ProviderError> {
    let vaults = connection.arm.list(&connection.key_vault_path("vaults")).await?;
    Ok(vaults.iter().find(|vault| is_named(vault, name)).and_then(id_of))
}

/// The desired vault as the `properties` and `tags` of a PUT or PATCH.
pub fn desired_body(
    attributes: &Attributes,
    token: Option<&str>,
    creating: bool,
) -> Result<serde_json::Value, ProviderError> {
    let mut vault_properties = serde_json::Map::new();
    if let Some(tenant) = text_attribute(attributes, "tenant_id") {
        vault_properties.insert("tenantId".into(), tenant.into());
    }
    if let Some(sku) = text_attribute(attributes, "sku_name") {
        let sku = sku.to_lowercase();
        if sku != "standard" && sku != "premium" {
            return Err(ProviderError::new(
                "InvalidSku",
                format!("sku_name must be standard or premium, not `{sku}`"),
            ));
        }
        vault_properties.insert("sku".into(), serde_json::json!({ "family": "A", "name": sku }));
    }
    if let Some(rbac) = attributes
        .get("rbac_authorization_enabled")
        .and_then(serde_json::Value::as_bool)
    {
        vault_properties.insert("enableRbacAuthorization".into(), rbac.into());
    }
    // Azure accepts only `true` here: purge protection cannot be turned off.
    if attributes
        .get("purge_protection_enabled")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        vault_properties.insert("enablePurgeProtection".into(), true.into());
    }
    if creating {
        let retention = attributes
            .get("soft_delete_retention_days")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(DEFAULT_RETENTION_DAYS);
        if !(7..=90).contains(&retention) {
            return Err(ProviderError::new(
                "InvalidRetention",
                format!("soft_delete_retention_days must be 7 to 90, not {retention}"),
            ));
        }
        vault_properties.insert("softDeleteRetentionInDays".into(), retention.into());
        vault_properties.insert("enableSoftDelete".into(), true.into());
        vault_properties.insert("accessPolicies".into(), serde_json::json!([]));
    }
    let tags = configured_tags(attributes, token)?;
    let mut body = serde_json::json!({ "properties": vault_properties, "tags": tags });
    if creating && let Some(location) = text_attribute(attributes, "location") {
        body["location"] = location.into();
    }
    Ok(body)
}

/// Carries out one apply request for an `azurerm_key_vault`.
pub async fn apply(connection: &Connection, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    match &request.action {
        ApplyAction::Create { token } => create(connection, token, &request.attributes).await.map(Some),
        ApplyAction::Update => {
            let id = existing_id(request)?;
            update(connection, id, &request.attributes).await.map(Some)
        }
        ApplyAction::Recover => {
            let id = existing_id(request)?;
            let name = required(&request.attributes, "name")?;
            let location = required(&request.attributes, "location")?;
            if !connection.settings.features.recover_soft_deleted_key_vaults {
                return Err(refused(&name, &location));
            }
            recover(connection, id, &request.attributes).await?;
            update(connection, id, &request.attributes).await.map(Some)
        }
        ApplyAction::Rotate => Err(ProviderError::new(
            "NotSupported",
            "a key vault has no material to rotate: rotate its keys and secrets",
        )),
        ApplyAction::Delete { purge } => {
            let id = existing_id(request)?;
            delete(connection, id, &request.attributes, *purge).await?;
            Ok(None)
        }
    }
}

fn existing_id(request: &ApplyRequest) -> Result<&str, ProviderError> {
    request
        .id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::new("MissingId", "an azurerm_key_vault change needs the vault's id"))
}

async fn read_active(connection: &Connection, id: &str) -> Result<LiveObject, ProviderError> {
    let vault = wait_for(|| async { connection.arm.get(id).await }).await?;
    let vault = vault.ok_or_else(|| {
        ProviderError::new(
            "VaultNotFound",
            format!("vault `{id}` was not found after it was changed"),
        )
    })?;
    live_object(connection, &vault)
}

async fn create(connection: &Connection, token: &str, attributes: &Attributes) -> Result<LiveObject, ProviderError> {
    let name = required(attributes, "name")?;
    let group = required(attributes, "resource_group_name")?;
    let location = required(attributes, "location")?;
    let id = connection.vault_id(&group, &name);
    if let Some(existing) = connection.arm.get(&id).await? {
        if carries_token(&existing, token) {
            // A create repeated after a crash: the first call made it.
            return patch(connection, &id, &existing, attributes).await;
        }
        return Err(not_managed(
            "VaultAlreadyExists",
            format!("a vault named `{name}` already exists in resource group `{group}` and keyform does not manage it"),
            &id,
        ));
    }
    if connection
        .arm
        .get(&deleted_path(connection, &location, &name))
        .await?
        .is_some()
    {
        if !connection.settings.features.recover_soft_deleted_key_vaults {
            return Err(refused(&name, &location));
        }
        recover(connection, &id, attributes).await?;
        return update(connection, &id, attributes).await;
    }
    let body = desired_body(attributes, Some(token), true)?;
    connection.arm.send(Method::PUT, &id, Some(&body)).await?;
    read_active(connection, &id).await
}

/// Recovers a soft-deleted vault (a PUT with createMode = recover), retrying while Azure is busy with it.
async fn recover(connection: &Connection, id: &str, attributes: &Attributes) -> Result<(), ProviderError> {
    let location = required(attributes, "location")?;
    let mut body = serde_json::json!({
        "location": location,
        "properties": { "createMode": "recover" },
    });
    if let Some(tenant) = text_attribute(attributes, "tenant_id") {
        body["properties"]["tenantId"] = tenant.into();
    }
    if let Some(sku) = text_attribute(attributes, "sku_name") {
        body["properties"]["sku"] = serde_json::json!({ "family": "A", "name": sku.to_lowercase() });
    }
    retry_through(|| async { connection.arm.send(Method::PUT, id, Some(&body)).await }).await?;
    Ok(())
}

async fn update(connection: &Connection, id: &str, attributes: &Attributes) -> Result<LiveObject, ProviderError> {
    let live = connection
        .arm
        .get(id)
        .await?
        .ok_or_else(|| ProviderError::new("VaultNotFound", format!("vault `{id}` does not exist")))?;
    patch(connection, id, &live, attributes).await
}

/// Makes the `live` vault what the configuration says, and reports the vault Azure answers with.
async fn patch(
    connection: &Connection,
    id: &str,
    live: &serde_json::Value,
    attributes: &Attributes,
) -> Result<LiveObject, ProviderError> {
    let live_properties = properties(live);
    check_fixed_settings(
        id,
        retention_of(live_properties),
        purge_protected(live_properties),
        attributes,
    )?;
    let mut body = desired_body(attributes, None, false)?;
    // Keep the create token and any tag a user cannot see only when tags are not managed.
    if attributes.get("tags").is_none()
        && let Some(tags) = live.get("tags")
    {
        body["tags"] = tags.clone();
    }
    let updated = connection.arm.send(Method::PATCH, id, Some(&body)).await?;
    live_object(connection, &updated)
}

/// Refuses the changes Azure never makes: a new soft-delete retention (set at creation only) and turning purge
/// protection off. Checked at plan time ([`check_change`]) and again before the update.
fn check_fixed_settings(
    id: &str,
    current_retention: u64,
    currently_protected: bool,
    desired: &Attributes,
) -> Result<(), ProviderError> {
    if let Some(wanted) = desired
        .get("soft_delete_retention_days")
        .and_then(serde_json::Value::as_u64)
        && wanted != current_retention
    {
        return Err(ProviderError::new(
            "RetentionIsFixed",
            format!("soft_delete_retention_days is {current_retention} and cannot change to {wanted}: Azure sets a vault's soft-delete retention when the vault is created"),
        )
        .with_help(format!(
            "put soft_delete_retention_days back to {current_retention}; to change it, create a new vault (destroying this one soft-deletes it, with its keys and secrets, for {current_retention} days)"
        )));
    }
    if currently_protected
        && desired
            .get("purge_protection_enabled")
            .and_then(serde_json::Value::as_bool)
            == Some(false)
    {
        return Err(ProviderError::new(
            "PurgeProtectionIsPermanent",
            format!("vault `{id}` has purge protection, which cannot be turned off"),
        )
        .with_help(
            "set purge_protection_enabled = true (or remove it): once on, Azure never turns purge protection off",
        ));
    }
    Ok(())
}

/// The plan-time check of a change to a vault, from what the refresh read (`current`, keyform's attributes).
pub fn check_change(id: &str, current: &Attributes, desired: &Attributes) -> Result<(), ProviderError> {
    let retention = current
        .get("soft_delete_retention_days")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    let protected = current
        .get("purge_protection_enabled")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    check_fixed_settings(id, retention, protected, desired)
}

/// Soft-deletes the vault; purges it when the feature flag (or `purge`) asks and purge protection is off.
async fn delete(connection: &Connection, id: &str, prior: &Attributes, purge: bool) -> Result<(), ProviderError> {
    let live = connection.arm.get(id).await?;
    let (protected, location) = match &live {
        Some(vault) => (
            purge_protected(properties(vault)),
            vault
                .get("location")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
        ),
        None => (
            prior
                .get("purge_protection_enabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            text_attribute(prior, "location"),
        ),
    };
    if live.is_some() {
        connection.arm.send(Method::DELETE, id, None).await?;
    }
    let wants_purge = purge || connection.settings.features.purge_soft_delete_on_destroy;
    if !wants_purge {
        return Ok(());
    }
    if protected {
        tracing::warn!("vault {id} has purge protection: it stays soft-deleted until its retention ends");
        return Ok(());
    }
    let (Some(location), Ok(parsed)) = (location, parse_vault_id(id)) else {
        return Ok(());
    };
    let deleted = deleted_path(connection, &location, &parsed.name);
    if wait_for(|| async { connection.arm.get(&deleted).await })
        .await?
        .is_some()
    {
        let purge_path = format!("{deleted}/purge");
        retry_through(|| async { connection.arm.send(Method::POST, &purge_path, None).await }).await?;
    }
    Ok(())
}
