//! Soft delete, shared by vaults, keys and secrets: waiting through the
//! windows in which Azure is still recovering or deleting an object (`409
//! ObjectIsBeingRecovered` / `ObjectIsBeingDeleted`, or a 404 just after a
//! recover), and the diagnostic for a create that meets a soft-deleted name
//! while recovery is off, which names both ways out.

use crate::provider::ProviderError;
use std::future::Future;
use std::time::Duration;

/// How long a call is retried while Azure finishes a recovery or a deletion.
const ATTEMPTS: u32 = 90;
const PAUSE: Duration = Duration::from_millis(500);

/// Whether an error means "Azure is still recovering or deleting this object: try again".
fn is_transient(error: &ProviderError) -> bool {
    matches!(error.code.as_str(), "ObjectIsBeingRecovered" | "ObjectIsBeingDeleted")
}

/// Runs `call` until it succeeds, retrying while Azure is still recovering or deleting the object.
pub async fn retry_through<T, F, Fut>(mut call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(error) if is_transient(&error) && attempt < ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(PAUSE).await;
            }
            other => return other,
        }
    }
}

/// Runs `call` until it finds the object (Some), for reads just after a recover or a delete.
pub async fn wait_for<T, F, Fut>(mut call: F) -> Result<Option<T>, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    for _ in 0..ATTEMPTS {
        match retry_through(&mut call).await? {
            Some(found) => return Ok(Some(found)),
            None => tokio::time::sleep(PAUSE).await,
        }
    }
    Ok(None)
}

/// The error for a create that meets a soft-deleted object while recovery is off.
pub fn recovery_is_off(kind: &str, name: &str, flag: &str, purge_command: &str) -> ProviderError {
    ProviderError::new(
        "ObjectIsDeletedButRecoverable",
        format!("a soft-deleted {kind} named `{name}` exists, and features.key_vault.{flag} is false, so keyform will not recover it"),
    )
    .with_help(format!(
        "either recover it: set `{flag} = true` in the provider's features {{ key_vault {{ ... }} }} block (keyform then recovers the {kind} and updates it to the configuration); or purge it first with `{purge_command}` (refused under purge protection, which keeps it until its retention ends) and create a new one; or choose another name"
    ))
}
