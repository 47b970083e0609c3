//! The managed identity endpoint an App Service or Azure Functions host runs for its apps: plain http on loopback at
//! the URL in `IDENTITY_ENDPOINT`, guarded by the `IDENTITY_HEADER` value. It hands out Entra ID access tokens of the
//! host's system-assigned identity, or of a user-assigned identity chosen by `client_id`.

use serde_json::json;

use super::http::{Reply, Request};
use super::identity::{TOKEN_LIFETIME_SECONDS, issue, key_vault_resource, resource_manager_resource};
use super::state::{Shared, lock, wall_clock};

/// Where the endpoint listens on the server's port.
pub const PATH: &str = "/msi/token";

/// The only protocol version of the endpoint the `IDENTITY_ENDPOINT` variables announce.
const API_VERSION: &str = "2019-08-01";

/// The endpoint's error body.
fn refusal(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "statusCode": status,
            "message": message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

/// App Service, "How to use managed identities for App Service and Azure Functions", REST endpoint reference:
/// `GET {IDENTITY_ENDPOINT}?resource={resource}&api-version=2019-08-01[&client_id=...|&principal_id=...|
/// &mi_res_id=...]` with the header `X-IDENTITY-HEADER: {IDENTITY_HEADER}`; answers
/// `{"access_token", "expires_on" (epoch seconds, as a string), "resource", "token_type", "client_id"}`.
pub fn token(shared: &Shared, request: &Request) -> Reply {
    if request.method != hyper::Method::GET || request.path != PATH {
        return refusal(404, "The managed identity endpoint serves GET /msi/token only.");
    }
    let mut state = lock(shared);
    let identity = state.identity.clone();
    if request.header("x-identity-header") != Some(identity.identity_header.as_str()) {
        return refusal(
            401,
            "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.",
        );
    }
    if request.query_value("api-version") != Some(API_VERSION) {
        return refusal(
            400,
            &format!("The api-version query parameter is missing or unsupported; use {API_VERSION}."),
        );
    }
    let Some(resource) = request.query_value("resource") else {
        return refusal(400, "The resource query parameter is required.");
    };
    let audience = resource.trim_end_matches('/').to_string();
    if audience != key_vault_resource() && audience != resource_manager_resource() {
        return refusal(
            400,
            &format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant named {}.",
                identity.tenant_id
            ),
        );
    }
    let client_id = match request.query_value("client_id") {
        None if request.query_value("principal_id").is_some() || request.query_value("mi_res_id").is_some() => {
            return refusal(
                400,
                "No managed identity found for the specified principal_id or mi_res_id.",
            );
        }
        None => identity.system_assigned_client_id.clone(),
        Some(client_id) if client_id.eq_ignore_ascii_case(&identity.client_id) => identity.client_id.clone(),
        Some(_) => return refusal(400, "No managed identity found for the specified ClientId."),
    };
    let access_token = issue(&mut state, &audience, &client_id);
    Reply::json(
        200,
        json!({
            "access_token": access_token,
            "expires_on": (wall_clock() + TOKEN_LIFETIME_SECONDS).to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id,
        }),
    )
}
