//! The Key Vault data plane of one vault (`https://<vault>.vault.keyform.test`): the bearer challenge, the
//! `api-version` check, and the dispatch of key, secret, rotation policy and deleted-object routes.
//!
//! Authentication follows Key Vault's challenge protocol: a request without a valid token gets 401 with
//! `WWW-Authenticate: Bearer authorization="https://login.keyform.test/{tenant}", resource="https://vault.keyform.test"`
//! and the body `{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}`.

use std::time::Duration;

use super::http::{Reply, Request};
use super::identity::{self, TokenProblem};
use super::routing::LOGIN_HOST;
use super::state::{Shared, Vault, lock};
use super::{keys, rotation, secrets};

/// The data plane api-versions the server accepts: those of the 1.x Rust crates and the Python SDKs.
pub const API_VERSIONS: [&str; 5] = ["7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"];
const LATEST_API_VERSION: &str = "2026-04-01";

/// What a handler knows about the vault and the moment besides the objects themselves.
pub struct Context {
    /// `https://<vault>.vault.keyform.test`, without a trailing slash, as identifiers use it.
    pub base_url: String,
    pub recovery_level: &'static str,
    pub retention_days: i64,
    pub purge_protection: bool,
    pub now: i64,
    pub recovery_window: Duration,
    /// The list page asked for: where it starts and how many items it holds (`maxresults`, 25 by default).
    pub page_start: usize,
    pub page_size: usize,
    /// The path and api-version a `nextLink` repeats.
    pub path: String,
    pub api_version: String,
}

/// Key Vault's list paging: `maxresults` (1 to 25) and the `$skiptoken` this server puts in `nextLink`.
fn paging(request: &Request) -> Result<(usize, usize), Reply> {
    let size = match request.query_value("maxresults") {
        None => 25,
        Some(text) => match text.parse::<usize>() {
            Ok(size) if (1..=25).contains(&size) => size,
            _ => {
                return Err(Reply::error(
                    400,
                    "BadParameter",
                    "maxresults must be an integer from 1 to 25.",
                ));
            }
        },
    };
    let start = match request.query_value("$skiptoken") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| Reply::error(400, "BadParameter", "The $skiptoken is not one this vault issued."))?,
    };
    Ok((start, size))
}

fn challenge(tenant: &str, code: &str, message: &str) -> Reply {
    Reply::error(401, code, message).with_header(
        "www-authenticate",
        &format!(
            "Bearer authorization=\"https://{LOGIN_HOST}/{tenant}\", resource=\"{}\"",
            identity::key_vault_resource()
        ),
    )
}

pub fn route(shared: &Shared, vault_name: &str, request: &Request) -> Reply {
    let Some(tenant) = lock(shared).vaults.get(vault_name).map(Vault::tenant_id) else {
        return Reply::error(404, "VaultNotFound", &format!("The vault {vault_name} does not exist."));
    };
    match identity::check_bearer(shared, request, &identity::key_vault_resource(), &tenant) {
        Ok(()) => {}
        Err(TokenProblem::Missing) => {
            return challenge(
                &tenant,
                "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.",
            );
        }
        Err(TokenProblem::Invalid) => {
            return challenge(
                &tenant,
                "Unauthorized",
                "AKV10013: The access token is invalid or has expired.",
            );
        }
        Err(TokenProblem::WrongAudience(found)) => {
            let message = format!(
                "AKV10022: Invalid audience. Expected {}, found: {found}.",
                identity::key_vault_resource()
            );
            return challenge(&tenant, "Unauthorized", &message);
        }
        Err(TokenProblem::WrongTenant) => {
            return challenge(
                &tenant,
                "Unauthorized",
                "AKV10032: Invalid issuer. The token is from another tenant.",
            );
        }
    }
    match request.query_value("api-version") {
        Some(version) if API_VERSIONS.contains(&version) => {}
        Some(version) => {
            let message = format!(
                "The specified version ({version}) is not recognized. Consider using the latest supported version \
                 ({LATEST_API_VERSION})."
            );
            return Reply::error(400, "BadParameter", &message);
        }
        None => {
            let message = format!(
                "The api-version query parameter is missing. Consider using the latest supported version \
                 ({LATEST_API_VERSION})."
            );
            return Reply::error(400, "BadParameter", &message);
        }
    }

    let (page_start, page_size) = match paging(request) {
        Ok(paging) => paging,
        Err(reply) => return reply,
    };
    let mut state = lock(shared);
    let now = state.now();
    let default_recovery_window = state.recovery_window;
    let Some(vault) = state.vaults.get_mut(vault_name) else {
        return Reply::error(404, "VaultNotFound", &format!("The vault {vault_name} does not exist."));
    };
    let context = Context {
        base_url: format!("https://{}", request.host),
        recovery_level: vault.recovery_level(),
        retention_days: vault.retention_days(),
        purge_protection: vault.purge_protection(),
        now,
        recovery_window: vault.recovery_window.unwrap_or(default_recovery_window),
        page_start,
        page_size,
        path: request.path.clone(),
        api_version: request.query_value("api-version").unwrap_or_default().to_string(),
    };
    let segments = request.segments();
    let method = request.method.as_str();
    match segments.first().copied() {
        Some("secrets") | Some("deletedsecrets") => secrets::route(vault, &context, method, &segments, request),
        Some("keys") | Some("deletedkeys") => match (method, segments.as_slice()) {
            ("GET" | "PUT", ["keys", name, "rotationpolicy"]) => {
                rotation::route(vault, &context, method, name, request)
            }
            _ => keys::route(vault, &context, method, &segments, request),
        },
        _ => unknown_operation(method, &request.path),
    }
}

/// The answer for a path or method no Key Vault operation has.
pub fn unknown_operation(method: &str, path: &str) -> Reply {
    Reply::error(
        400,
        "BadParameter",
        &format!("The request {method} {path} does not match any Key Vault operation."),
    )
}
