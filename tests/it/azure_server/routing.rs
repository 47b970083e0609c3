//! Which host serves what: `login.keyform.test` is Entra ID, `management.keyform.test` is Azure Resource Manager,
//! `<vault>.vault.keyform.test` is the Key Vault data plane of that vault. Also decides which CONNECT targets the
//! proxy accepts (the analogue of DNS: a vault host resolves only while the vault exists).

use super::http::{Reply, Request};
use super::state::{Shared, lock};
use super::{arm, data_plane, identity};

pub const LOGIN_HOST: &str = "login.keyform.test";
pub const MANAGEMENT_HOST: &str = "management.keyform.test";
pub const VAULT_SUFFIX: &str = "vault.keyform.test";

/// The vault name a data plane host names, if it is one.
pub fn vault_name(host: &str) -> Option<&str> {
    host.strip_suffix(VAULT_SUFFIX)
        .and_then(|prefix| prefix.strip_suffix('.'))
        .filter(|name| !name.is_empty() && !name.contains('.'))
}

/// Whether the proxy opens a tunnel to `host` (port 443 only).
pub fn accepts(shared: &Shared, host: &str) -> bool {
    if host == LOGIN_HOST || host == MANAGEMENT_HOST {
        return true;
    }
    match vault_name(host) {
        Some(name) => lock(shared).vaults.contains_key(name),
        None => false,
    }
}

/// Hands a request to the service its host names.
pub fn route(shared: &Shared, request: &Request) -> Reply {
    if request.host == LOGIN_HOST {
        identity::route(shared, request)
    } else if request.host == MANAGEMENT_HOST {
        arm::route(shared, request)
    } else if let Some(name) = vault_name(&request.host) {
        data_plane::route(shared, name, request)
    } else {
        Reply::error(
            404,
            "NotFound",
            &format!("No service answers for host {}.", request.host),
        )
    }
}
