//! Revoking the leases that depend on a database connection before it is
//! destroyed. Vault revokes a dynamic user (and drops it from the database)
//! through the connection that made it, so a lease still open when its
//! connection is deleted can never be revoked: the user is orphaned in the
//! database and disabling the mount fails. **Before a connection is
//! deleted, every open lease under `BACKEND/creds/ROLE` whose role uses the
//! connection, or no longer exists, is revoked** (`sys/leases/revoke-prefix`,
//! synchronously, so the users are gone when it answers).
//!
//! Listing leases needs `sudo` on `sys/leases/lookup/BACKEND/creds/`; a token
//! without it cannot see them, and the connection is deleted as before (the
//! docs say so). Revoking them needs `sudo` on `sys/leases/revoke-prefix/...`:
//! when it is refused the delete stops with help, and the connection stays,
//! so the leases can still be revoked.

use super::client::{Method, VaultClient, api_error, errors_of};
use super::database::Address;
use crate::provider::ProviderError;

/// The roles of `backend` with open leases: the keys of `LIST sys/leases/lookup/BACKEND/creds/`, without the
/// trailing `/`. None when the token may not list leases.
async fn roles_with_leases(client: &VaultClient, backend: &str) -> Result<Option<Vec<String>>, ProviderError> {
    let path = format!("sys/leases/lookup/{backend}/creds/");
    let answer = client.send(Method::List, &path, None).await?;
    match answer.status {
        403 => {
            tracing::warn!(path = %path, "the token may not list leases; open leases are not revoked before the connection is deleted");
            Ok(None)
        }
        404 => Ok(Some(Vec::new())),
        status if (200..300).contains(&status) => Ok(Some(
            answer.data()["keys"]
                .as_array()
                .map(|keys| {
                    keys.iter()
                        .filter_map(serde_json::Value::as_str)
                        .map(|key| key.trim_end_matches('/').to_string())
                        .filter(|role| !role.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        )),
        _ => Err(api_error(Method::List, &path, &answer)),
    }
}

/// The connection `BACKEND/roles/ROLE` uses; None when the role is gone.
async fn connection_of_role(client: &VaultClient, backend: &str, role: &str) -> Result<Option<String>, ProviderError> {
    Ok(client
        .read_data(&format!("{backend}/roles/{role}"))
        .await?
        .map(|data| data["db_name"].as_str().unwrap_or_default().to_string()))
}

/// Revokes every open lease that needs `connection` to be revoked.
pub async fn revoke_before_delete(client: &VaultClient, connection: &Address) -> Result<(), ProviderError> {
    let Some(roles) = roles_with_leases(client, &connection.backend).await? else {
        return Ok(());
    };
    for role in roles {
        let uses = connection_of_role(client, &connection.backend, &role).await?;
        if uses.as_deref().is_some_and(|name| name != connection.name) {
            continue;
        }
        let prefix = format!("{}/creds/{role}", connection.backend);
        let path = format!("sys/leases/revoke-prefix/{prefix}");
        let answer = client.send(Method::Put, &path, None).await?;
        if (200..300).contains(&answer.status) {
            tracing::info!(prefix = %prefix, "revoked the open leases before deleting their connection");
            continue;
        }
        let failed = api_error(Method::Put, &path, &answer);
        return Err(ProviderError {
            message: format!(
                "the connection `{}` was not deleted: the open leases of `{prefix}` need it to be revoked, and revoking them failed: {}",
                connection.id(),
                errors_of(&answer)
            ),
            help: Some(format!(
                "revoke them first (`vault lease revoke -prefix {prefix}`) and run keyform again, or give keyform's token the `sudo` capability on `sys/leases/revoke-prefix/{prefix}`"
            )),
            ..failed
        });
    }
    Ok(())
}
