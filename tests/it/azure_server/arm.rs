//! Azure Resource Manager (`management.keyform.test`) for Microsoft.KeyVault vaults: create or update, get, update
//! (PATCH), delete (a soft delete, kept for `softDeleteRetentionInDays`), list by resource group and by
//! subscription, deleted vaults get/list/purge (refused under purge protection until the retention ends), recovery
//! through `createMode: recover`, and name availability. Create, delete and purge finish before they answer (the
//! documented 200/201 final responses of the long-running operations).
//!
//! This module checks the bearer token, the `api-version` and the subscription, dispatches to the vault operations
//! ([`super::arm_vaults`]) and the deleted-vault operations ([`super::arm_deleted`]), and holds the shapes they share.

use serde_json::{Value, json};

use super::http::{Reply, Request};
use super::identity::{self, TokenProblem};
use super::routing::LOGIN_HOST;
use super::state::{Shared, State, Vault, lock};
use super::{arm_deleted, arm_vaults};

/// The Microsoft.KeyVault api-versions the server accepts.
const API_VERSIONS: [&str; 6] = [
    "2021-10-01",
    "2022-07-01",
    "2023-02-01",
    "2023-07-01",
    "2024-11-01",
    "2025-05-01",
];

/// Serves one Resource Manager request: token, `api-version` and subscription first, then the operation.
pub fn route(shared: &Shared, request: &Request) -> Reply {
    let tenant = lock(shared).identity.tenant_id.clone();
    if let Err(problem) = identity::check_bearer(shared, request, &identity::resource_manager_resource(), &tenant) {
        return unauthenticated(&tenant, problem);
    }
    if let Err(version) = request.api_version(&API_VERSIONS) {
        return unsupported_api_version(version);
    }
    let segments = request.segments();
    let lowered: Vec<String> = segments.iter().map(|segment| segment.to_ascii_lowercase()).collect();
    let shape: Vec<&str> = lowered.iter().map(String::as_str).collect();
    let mut state = lock(shared);
    let subscription = segments.get(1).copied().unwrap_or_default();
    if shape.first() != Some(&"subscriptions") || subscription != state.identity.subscription_id {
        return Reply::error(
            404,
            "SubscriptionNotFound",
            &format!("The subscription '{subscription}' could not be found."),
        );
    }
    let method = request.method.as_str();
    // below /subscriptions/{subscriptionId}; names are read from `segments`, which keep their case
    match (method, &shape[2..]) {
        (_, ["resourcegroups", _, "providers", "microsoft.keyvault", "vaults", _]) => {
            let (resource_group, name) = (segments[3], segments[7]);
            match method {
                "PUT" => arm_vaults::create_or_update(&mut state, resource_group, name, request),
                "GET" => arm_vaults::get(&state, resource_group, name),
                "PATCH" => arm_vaults::update(&mut state, resource_group, name, request),
                "DELETE" => arm_vaults::delete(&mut state, resource_group, name),
                _ => unknown_operation(method, &request.path),
            }
        }
        ("GET", ["resourcegroups", _, "providers", "microsoft.keyvault", "vaults"]) => {
            arm_vaults::list_by_resource_group(&state, segments[3])
        }
        ("GET", ["providers", "microsoft.keyvault", "vaults"]) => arm_vaults::list_by_subscription(&state),
        ("GET", ["providers", "microsoft.keyvault", "deletedvaults"]) => arm_deleted::list_deleted(&state),
        ("GET", ["providers", "microsoft.keyvault", "locations", _, "deletedvaults", _]) => {
            arm_deleted::get_deleted(&state, segments[5], segments[7])
        }
        (
            "POST",
            [
                "providers",
                "microsoft.keyvault",
                "locations",
                _,
                "deletedvaults",
                _,
                "purge",
            ],
        ) => arm_deleted::purge_deleted(&mut state, segments[5], segments[7]),
        ("POST", ["providers", "microsoft.keyvault", "checknameavailability"]) => {
            arm_deleted::check_name_availability(&state, request)
        }
        _ => unknown_operation(method, &request.path),
    }
}

/// ARM's answer to an `api-version` it does not serve (missing, or not one of [`API_VERSIONS`]).
fn unsupported_api_version(version: Option<&str>) -> Reply {
    match version {
        None => Reply::error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ),
        Some(version) => {
            let supported: Vec<&str> = API_VERSIONS.iter().rev().copied().collect();
            Reply::error(
                400,
                "InvalidApiVersionParameter",
                &format!(
                    "The api-version '{version}' is invalid. The supported versions are '{}'.",
                    supported.join(",")
                ),
            )
        }
    }
}

/// ARM's answer for a path or method no Microsoft.KeyVault operation has.
fn unknown_operation(method: &str, path: &str) -> Reply {
    Reply::error(
        404,
        "InvalidResourceType",
        &format!("The resource type of {method} {path} could not be found in the namespace 'Microsoft.KeyVault'."),
    )
}

fn unauthenticated(tenant: &str, problem: TokenProblem) -> Reply {
    let (code, message) = match problem {
        TokenProblem::Missing => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
        ),
        TokenProblem::Invalid => ("InvalidAuthenticationToken", "The access token is invalid.".to_string()),
        TokenProblem::WrongAudience(found) => (
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{found}'. It should exactly match \
                 with one of the allowed audiences '{}/'.",
                identity::resource_manager_resource()
            ),
        ),
        TokenProblem::WrongTenant => (
            "InvalidAuthenticationTokenTenant",
            "The access token is from the wrong issuer. It must match the tenant associated with this subscription."
                .to_string(),
        ),
    };
    Reply::error(401, code, &message).with_header(
        "www-authenticate",
        &format!("Bearer authorization_uri=\"https://{LOGIN_HOST}/{tenant}\", error=\"invalid_token\""),
    )
}

pub fn bad_request(message: &str) -> Reply {
    Reply::error(400, "BadRequest", message)
}

pub fn vault_id(subscription: &str, vault: &Vault) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
        vault.resource_group, vault.name
    )
}

pub fn vault_json(state: &State, vault: &Vault) -> Value {
    json!({
        "id": vault_id(&state.identity.subscription_id, vault),
        "name": vault.name,
        "type": "Microsoft.KeyVault/vaults",
        "location": vault.location,
        "tags": vault.tags,
        "properties": vault.properties,
    })
}

/// ARM's 404 for a resource that does not exist, `resource` naming it in quotes (`'Microsoft.KeyVault/vaults/{name}'
/// under resource group '{group}'`).
pub fn resource_not_found(resource: &str) -> Reply {
    Reply::error(
        404,
        "ResourceNotFound",
        &format!(
            "The Resource {resource} was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// The 404 for a vault that is not in that resource group.
pub fn not_found(resource_group: &str, name: &str) -> Reply {
    resource_not_found(&format!(
        "'Microsoft.KeyVault/vaults/{name}' under resource group '{resource_group}'"
    ))
}

/// ARM location names as stored: lowercase without spaces (`West Europe` → `westeurope`).
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}
