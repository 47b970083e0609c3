//! Azure Resource Manager's soft-deleted Microsoft.KeyVault vaults: list, get, purge (refused while purge protection
//! holds the vault, until its scheduled purge date), and the name availability check that counts them.

use serde_json::{Value, json};

use super::arm::{bad_request, normalize_location, resource_not_found, vault_id};
use super::arm_vaults::check_vault_name;
use super::http::{Reply, Request};
use super::state::{DeletedVault, State, scheduled_purge_date};

fn rfc3339(unix_seconds: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn deleted_json(state: &State, deleted: &DeletedVault) -> Value {
    let vault = &deleted.vault;
    let subscription = &state.identity.subscription_id;
    json!({
        "id": format!(
            "/subscriptions/{subscription}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
            vault.location, vault.name
        ),
        "name": vault.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault_id(subscription, vault),
            "location": vault.location,
            "deletionDate": rfc3339(deleted.deletion_date),
            "scheduledPurgeDate": rfc3339(scheduled_purge_date(deleted.deletion_date, vault.retention_days())),
            "tags": vault.tags,
            "purgeProtectionEnabled": vault.purge_protection(),
        },
    })
}

/// Vaults - List Deleted: `GET /subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/deletedVaults`.
pub fn list_deleted(state: &State) -> Reply {
    let vaults: Vec<Value> = state
        .deleted_vaults
        .values()
        .map(|deleted| deleted_json(state, deleted))
        .collect();
    Reply::json(200, json!({"value": vaults}))
}

fn find_deleted<'a>(state: &'a State, location: &str, name: &str) -> Result<&'a DeletedVault, Reply> {
    state
        .deleted_vaults
        .get(&name.to_ascii_lowercase())
        .filter(|deleted| deleted.vault.location == normalize_location(location))
        .ok_or_else(|| {
            resource_not_found(&format!(
                "'Microsoft.KeyVault/locations/{location}/deletedVaults/{name}'"
            ))
        })
}

/// Vaults - Get Deleted: `GET /subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/
/// deletedVaults/{vaultName}`.
pub fn get_deleted(state: &State, location: &str, name: &str) -> Reply {
    match find_deleted(state, location, name) {
        Ok(deleted) => Reply::json(200, deleted_json(state, deleted)),
        Err(reply) => reply,
    }
}

/// Vaults - Purge Deleted: `POST /subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/
/// deletedVaults/{vaultName}/purge` (200 when done); refused while purge protection holds the vault.
pub fn purge_deleted(state: &mut State, location: &str, name: &str) -> Reply {
    // a deleted vault is kept only within its retention (purge_expired_now ends it), so purge protection holds it
    let protected = match find_deleted(state, location, name) {
        Ok(deleted) => deleted.vault.purge_protection(),
        Err(reply) => return reply,
    };
    if protected {
        return Reply::error(400, "InvalidOperation", "Operation 'DeletedVaultPurge' is not allowed.");
    }
    state.deleted_vaults.remove(&name.to_ascii_lowercase());
    Reply::empty(200)
}

/// Vaults - Check Name Availability: `POST /subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/
/// checkNameAvailability` (body `name`, `type: Microsoft.KeyVault/vaults`).
pub fn check_name_availability(state: &State, request: &Request) -> Reply {
    let Some(name) = request
        .json_object()
        .and_then(|body| body.get("name").and_then(Value::as_str).map(str::to_string))
    else {
        return bad_request("The request content has no name.");
    };
    if let Err(reply) = check_vault_name(&name) {
        return reply;
    }
    let key = name.to_ascii_lowercase();
    if state.vaults.contains_key(&key) || state.deleted_vaults.contains_key(&key) {
        return Reply::json(
            200,
            json!({
                "nameAvailable": false,
                "reason": "AlreadyExists",
                "message": format!("The vault name '{name}' is already in use."),
            }),
        );
    }
    Reply::json(200, json!({"nameAvailable": true}))
}
