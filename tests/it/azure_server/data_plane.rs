//! The Key Vault data plane of one vault (`https://<vault>.vault.keyform.test`): the bearer challenge, the
//! `api-version` check, the object name check, list paging, and the dispatch to keys and secrets.
//!
//! Authentication follows Key Vault's challenge protocol: a request without a valid token gets 401 with the header
//! `WWW-Authenticate: Bearer authorization="https://login.keyform.test/{tenant}",
//! resource="https://vault.keyform.test"` and an error body with the code `Unauthorized` and an `AKV100xx` message
//! (`AKV10000: Request is missing a Bearer or PoP token.` when there is no token).

use std::time::Duration;

use super::http::{Reply, Request};
use super::identity::{self, TokenProblem};
use super::routing::LOGIN_HOST;
use super::state::{Shared, Vault, lock, wall_clock};
use super::{keys, secrets};

/// The data plane api-versions the server accepts: those of the 1.x Rust crates and the Python SDKs.
const API_VERSIONS: [&str; 5] = ["7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"];
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
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|size| (1..=25).contains(size))
            .ok_or_else(|| bad_parameter("maxresults must be an integer from 1 to 25."))?,
    };
    let start = match request.query_value("$skiptoken") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| bad_parameter("The $skiptoken is not one this vault issued."))?,
    };
    Ok((start, size))
}

/// The 401 with Key Vault's bearer challenge, for a request whose token is missing or not accepted.
fn challenge(tenant: &str, problem: TokenProblem) -> Reply {
    let message = match problem {
        TokenProblem::Missing => "AKV10000: Request is missing a Bearer or PoP token.".to_string(),
        TokenProblem::Invalid => "AKV10013: The access token is invalid or has expired.".to_string(),
        TokenProblem::WrongAudience(found) => format!(
            "AKV10022: Invalid audience. Expected {}, found: {found}.",
            identity::key_vault_resource()
        ),
        TokenProblem::WrongTenant => "AKV10032: Invalid issuer. The token is from another tenant.".to_string(),
    };
    Reply::error(401, "Unauthorized", &message).with_header(
        "www-authenticate",
        &format!(
            "Bearer authorization=\"https://{LOGIN_HOST}/{tenant}\", resource=\"{}\"",
            identity::key_vault_resource()
        ),
    )
}

/// Key Vault's answer to an `api-version` it does not serve (missing, or not one of [`API_VERSIONS`]).
fn unsupported_api_version(version: Option<&str>) -> Reply {
    let problem = match version {
        Some(version) => format!("The specified version ({version}) is not recognized."),
        None => "The api-version query parameter is missing.".to_string(),
    };
    bad_parameter(&format!(
        "{problem} Consider using the latest supported version ({LATEST_API_VERSION})."
    ))
}

fn vault_not_found(vault_name: &str) -> Reply {
    Reply::error(404, "VaultNotFound", &format!("The vault {vault_name} does not exist."))
}

/// Serves one data plane request for `vault_name`: the vault must exist, the token and `api-version` be accepted,
/// the object name be valid; then keys or secrets answer.
pub fn route(shared: &Shared, vault_name: &str, request: &Request) -> Reply {
    let Some(tenant) = lock(shared).vaults.get(vault_name).map(Vault::tenant_id) else {
        return vault_not_found(vault_name);
    };
    if let Err(problem) = identity::check_bearer(shared, request, &identity::key_vault_resource(), &tenant) {
        return challenge(&tenant, problem);
    }
    let api_version = match request.api_version(&API_VERSIONS) {
        Ok(version) => version.to_string(),
        Err(version) => return unsupported_api_version(version),
    };
    let (page_start, page_size) = match paging(request) {
        Ok(paging) => paging,
        Err(reply) => return reply,
    };
    let segments = request.segments();
    if let Some(name) = segments.get(1)
        && let Err(reply) = check_name(name)
    {
        return reply;
    }
    let mut state = lock(shared);
    let default_recovery_window = state.recovery_window;
    let Some(vault) = state.vaults.get_mut(vault_name) else {
        return vault_not_found(vault_name);
    };
    let context = Context {
        base_url: format!("https://{}", request.host),
        recovery_level: vault.recovery_level(),
        retention_days: vault.retention_days(),
        purge_protection: vault.purge_protection(),
        now: wall_clock(),
        recovery_window: vault.recovery_window.unwrap_or(default_recovery_window),
        page_start,
        page_size,
        path: request.path.clone(),
        api_version,
    };
    let method = request.method.as_str();
    match segments.first().copied() {
        Some("secrets" | "deletedsecrets") => secrets::route(vault, &context, method, &segments, request),
        Some("keys" | "deletedkeys") => keys::route(vault, &context, method, &segments, request),
        _ => unknown_operation(method, &request.path),
    }
}

/// Key Vault's 400 for a request it cannot use.
pub fn bad_parameter(message: &str) -> Reply {
    Reply::error(400, "BadParameter", message)
}

/// The answer for a path or method no Key Vault operation has.
pub fn unknown_operation(method: &str, path: &str) -> Reply {
    bad_parameter(&format!(
        "The request {method} {path} does not match any Key Vault operation."
    ))
}

/// Key Vault object names: `^[0-9a-zA-Z-]+$`, 1 to 127 characters.
fn check_name(name: &str) -> Result<(), Reply> {
    if !name.is_empty() && name.len() <= 127 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(())
    } else {
        Err(bad_parameter(&format!(
            "The request URI contains an invalid name: {name}. Names may contain only 0-9, a-z, A-Z and -."
        )))
    }
}
