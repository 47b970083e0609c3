//! Azure Resource Manager's Microsoft.KeyVault vault operations: create or update (and recovery through
//! `createMode: recover`), get, update (PATCH), delete (a soft delete, kept for `softDeleteRetentionInDays`), list
//! by resource group and by subscription. Create and delete finish before they answer (the documented 200/201 final
//! responses of the long-running operations).
//!
//! Rules enforced as the service documents them: vault names are 3-24 alphanumerics and hyphens, starting with a
//! letter, ending with a letter or digit, without consecutive hyphens, and globally unique (soft-deleted names
//! included); `softDeleteRetentionInDays` is 7 to 90 and cannot change after creation; `enablePurgeProtection`
//! cannot be set to false; soft delete is always on.

use std::collections::btree_map::Entry;

use serde_json::{Map, Value, json};

use super::arm::{bad_request, normalize_location, not_found, vault_json};
use super::http::{Reply, Request};
use super::routing::VAULT_SUFFIX;
use super::state::{DeletedVault, ObjectStore, State, Vault, wall_clock};

/// Vault names: 3-24 characters of letters, digits and hyphens; a letter first, a letter or digit last, no `--`.
pub fn check_vault_name(name: &str) -> Result<(), Reply> {
    let characters_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let last_ok = name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if (3..=24).contains(&name.len()) && characters_ok && first_ok && last_ok && !name.contains("--") {
        return Ok(());
    }
    Err(Reply::error(
        400,
        "VaultNameNotValid",
        &format!(
            "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The \
             name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."
        ),
    ))
}

/// Checks the writable properties of a request against the current ones (`None` for a new vault).
fn check_properties(properties: &Map<String, Value>, current: Option<&Map<String, Value>>) -> Result<(), Reply> {
    if properties.get("enablePurgeProtection") == Some(&Value::Bool(false)) {
        return Err(bad_request(
            "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault \
             is an irreversible action.",
        ));
    }
    if let Some(retention) = properties
        .get("softDeleteRetentionInDays")
        .filter(|value| !value.is_null())
    {
        let days = retention.as_i64().unwrap_or(0);
        let existing = current
            .and_then(|current| current.get("softDeleteRetentionInDays"))
            .and_then(Value::as_i64);
        if existing.is_some_and(|existing| existing != days) {
            return Err(bad_request(
                "The property \"softDeleteRetentionInDays\" has been set already and it can't be modified.",
            ));
        }
        if !(7..=90).contains(&days) {
            return Err(bad_request(
                "The property \"softDeleteRetentionInDays\" must be an integer between 7 and 90.",
            ));
        }
    }
    if let Some(sku) = properties.get("sku") {
        let name = sku.get("name").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let family = sku.get("family").and_then(Value::as_str);
        if !matches!(name.as_deref(), Some("standard" | "premium")) || family.is_some_and(|family| family != "A") {
            return Err(bad_request(
                "The sku must be {\"family\": \"A\", \"name\": \"standard\" or \"premium\"}.",
            ));
        }
    }
    if let Some(tenant) = properties.get("tenantId")
        && uuid::Uuid::parse_str(tenant.as_str().unwrap_or_default()).is_err()
    {
        return Err(bad_request("The property \"tenantId\" must be a GUID."));
    }
    for flag in [
        "enableRbacAuthorization",
        "enabledForDeployment",
        "enabledForDiskEncryption",
        "enabledForTemplateDeployment",
    ] {
        if properties
            .get(flag)
            .is_some_and(|value| !value.is_boolean() && !value.is_null())
        {
            return Err(bad_request(&format!("The property \"{flag}\" must be a boolean.")));
        }
    }
    Ok(())
}

/// The stored properties: what the request wrote plus the computed and defaulted fields.
fn complete_properties(name: &str, mut properties: Map<String, Value>) -> Map<String, Value> {
    properties.remove("createMode");
    if let Some(Value::Object(sku)) = properties.get_mut("sku") {
        let lowered = sku.get("name").and_then(Value::as_str).map(str::to_ascii_lowercase);
        if let Some(lowered) = lowered {
            sku.insert("name".to_string(), json!(lowered));
        }
        sku.insert("family".to_string(), json!("A"));
    }
    let defaults = [
        ("accessPolicies", json!([])),
        ("enabledForDeployment", json!(false)),
        ("enabledForDiskEncryption", json!(false)),
        ("enabledForTemplateDeployment", json!(false)),
        ("softDeleteRetentionInDays", json!(90)),
        ("enableRbacAuthorization", json!(false)),
        ("publicNetworkAccess", json!("Enabled")),
    ];
    for (field, value) in defaults {
        if properties.get(field).is_none_or(Value::is_null) {
            properties.insert(field.to_string(), value);
        }
    }
    if properties.get("enablePurgeProtection") != Some(&Value::Bool(true)) {
        properties.remove("enablePurgeProtection");
    }
    properties.insert("enableSoftDelete".to_string(), json!(true));
    properties.insert("vaultUri".to_string(), json!(format!("https://{name}.{VAULT_SUFFIX}/")));
    properties.insert("provisioningState".to_string(), json!("Succeeded"));
    properties
}

/// Vaults - Create Or Update: `PUT https://management.azure.com/subscriptions/{subscriptionId}/resourceGroups/
/// {resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}?api-version=2023-07-01`
/// (201 for a new vault, 200 for an update or a recovery by `properties.createMode: recover`).
pub fn create_or_update(state: &mut State, resource_group: &str, name: &str, request: &Request) -> Reply {
    if let Err(reply) = check_vault_name(name) {
        return reply;
    }
    let Some(body) = request.json_object() else {
        return bad_request("The request content is not a JSON object.");
    };
    let Some(location) = body.get("location").and_then(Value::as_str) else {
        return Reply::error(
            400,
            "LocationRequired",
            "The location property is required for this definition.",
        );
    };
    let Some(properties) = body.get("properties").and_then(Value::as_object).cloned() else {
        return bad_request("The request content has no properties object.");
    };
    let key = name.to_ascii_lowercase();
    let recover = properties.get("createMode").and_then(Value::as_str) == Some("recover");
    let tags = body.get("tags").cloned().unwrap_or_else(|| json!({}));

    if let Some(existing) = state.vaults.get_mut(&key) {
        if !existing.resource_group.eq_ignore_ascii_case(resource_group) {
            return name_in_use(name);
        }
        if let Err(reply) = check_properties(&properties, Some(&existing.properties)) {
            return reply;
        }
        existing.properties = rewritten_properties(existing, properties);
        existing.tags = tags;
        return Reply::json(200, vault_json(state, &state.vaults[&key]));
    }

    if let Entry::Occupied(deleted) = state.deleted_vaults.entry(key.clone()) {
        if !recover {
            return Reply::error(
                409,
                "ConflictError",
                "A vault with the same name already exists in deleted state. You need to either recover or purge \
                 existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more \
                 information on soft delete.",
            );
        }
        if let Err(reply) = check_properties(&properties, Some(&deleted.get().vault.properties)) {
            return reply;
        }
        let mut vault = deleted.remove().vault;
        vault.properties = rewritten_properties(&vault, properties);
        vault.tags = tags;
        vault.resource_group = resource_group.to_string();
        let reply = Reply::json(200, vault_json(state, &vault));
        state.vaults.insert(key, vault);
        return reply;
    }

    if recover {
        return Reply::error(
            404,
            "ResourceNotFound",
            &format!("There is no deleted vault named '{name}' to recover (createMode 'recover')."),
        );
    }
    if let Err(reply) = check_properties(&properties, None) {
        return reply;
    }
    if properties.get("tenantId").and_then(Value::as_str).is_none() {
        return bad_request("The property \"tenantId\" is required.");
    }
    if properties.get("sku").is_none() {
        return bad_request("The property \"sku\" is required.");
    }
    let vault = Vault {
        name: name.to_string(),
        resource_group: resource_group.to_string(),
        location: normalize_location(location),
        tags,
        properties: complete_properties(name, properties),
        secrets: ObjectStore::default(),
        keys: ObjectStore::default(),
        rotation_policies: Default::default(),
        recovery_window: None,
    };
    let reply = Reply::json(201, vault_json(state, &vault));
    state.vaults.insert(key, vault);
    reply
}

/// The properties a PUT writes over an existing or recovered vault: its retention and purge protection stay.
fn rewritten_properties(vault: &Vault, mut properties: Map<String, Value>) -> Map<String, Value> {
    properties.insert("softDeleteRetentionInDays".to_string(), json!(vault.retention_days()));
    if vault.purge_protection() {
        properties.insert("enablePurgeProtection".to_string(), json!(true));
    }
    complete_properties(&vault.name, properties)
}

fn name_in_use(name: &str) -> Reply {
    Reply::error(
        409,
        "VaultAlreadyExists",
        &format!(
            "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the \
             name is already taken. If you are sure that the vault name was not taken then it is possible that a \
             vault with the same name was recently deleted but not purged after being placed in a recoverable state."
        ),
    )
}

/// Vaults - Get: `GET .../resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}`.
pub fn get(state: &State, resource_group: &str, name: &str) -> Reply {
    match state.vaults.get(&name.to_ascii_lowercase()) {
        Some(vault) if vault.resource_group.eq_ignore_ascii_case(resource_group) => {
            Reply::json(200, vault_json(state, vault))
        }
        _ => not_found(resource_group, name),
    }
}

/// Vaults - Update: `PATCH .../resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}`
/// (body `tags` and a partial `properties`; 200 with the vault).
pub fn update(state: &mut State, resource_group: &str, name: &str, request: &Request) -> Reply {
    let Some(body) = request.json_object() else {
        return bad_request("The request content is not a JSON object.");
    };
    let key = name.to_ascii_lowercase();
    let Some(vault) = state
        .vaults
        .get_mut(&key)
        .filter(|vault| vault.resource_group.eq_ignore_ascii_case(resource_group))
    else {
        return not_found(resource_group, name);
    };
    let changes = body
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Err(reply) = check_properties(&changes, Some(&vault.properties)) {
        return reply;
    }
    let mut properties = vault.properties.clone();
    for (field, value) in changes {
        if !value.is_null() {
            properties.insert(field, value);
        }
    }
    vault.properties = complete_properties(&vault.name, properties);
    if let Some(tags) = body.get("tags") {
        vault.tags = tags.clone();
    }
    let vault = &state.vaults[&key];
    Reply::json(200, vault_json(state, vault))
}

/// Vaults - Delete: `DELETE .../resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}`:
/// 200 after a soft delete (kept for `softDeleteRetentionInDays`), 204 when there was no such vault.
pub fn delete(state: &mut State, resource_group: &str, name: &str) -> Reply {
    let key = name.to_ascii_lowercase();
    let belongs = state
        .vaults
        .get(&key)
        .is_some_and(|vault| vault.resource_group.eq_ignore_ascii_case(resource_group));
    if !belongs {
        return Reply::empty(204);
    }
    if let Some(vault) = state.vaults.remove(&key) {
        let deletion_date = wall_clock();
        state.deleted_vaults.insert(key, DeletedVault { vault, deletion_date });
    }
    Reply::empty(200)
}

/// Vaults - List By Resource Group: `GET .../resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults`.
pub fn list_by_resource_group(state: &State, resource_group: &str) -> Reply {
    let vaults: Vec<Value> = state
        .vaults
        .values()
        .filter(|vault| vault.resource_group.eq_ignore_ascii_case(resource_group))
        .map(|vault| vault_json(state, vault))
        .collect();
    Reply::json(200, json!({"value": vaults}))
}

/// Vaults - List By Subscription: `GET /subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/vaults`.
pub fn list_by_subscription(state: &State) -> Reply {
    let vaults: Vec<Value> = state.vaults.values().map(|vault| vault_json(state, vault)).collect();
    Reply::json(200, json!({"value": vaults}))
}
