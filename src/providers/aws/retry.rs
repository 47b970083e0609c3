//! Retrying a call whose policy names a principal AWS cannot see yet.
//!
//! IAM is eventually consistent: a role or user created a moment ago (by
//! Terraform, by another keyform provider, by hand) can take seconds to be
//! visible to KMS, and until then CreateKey and PutKeyPolicy fail with
//! `MalformedPolicyDocumentException: Policy contains a statement with one or
//! more invalid principals.` [`retry_while_principal_not_visible`] retries
//! such a call with exponential backoff (1 s, 2 s, 4 s, 8 s, then what is
//! left of [`PRINCIPAL_RETRY_LIMIT`]), waiting on tokio's clock, and gives the
//! last error back after that, with help saying the principal may not exist.
//! Any other error comes back at once.

use super::client::provider_error;
use crate::provider::ProviderError;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::time::Duration;

/// How long, in all, keyform waits for a principal to become visible.
pub const PRINCIPAL_RETRY_LIMIT: Duration = Duration::from_secs(30);

/// The first wait; each next one doubles.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Whether an SDK error is AWS refusing a policy because a principal it names is unknown.
pub fn is_principal_not_visible<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(error, SdkError::ServiceError(_))
        && error.code() == Some("MalformedPolicyDocumentException")
        && error
            .message()
            .is_some_and(|message| message.to_lowercase().contains("invalid principal"))
}

/// Runs `operation` (one SDK call: `|| call.clone().send()`) until it does not fail with an
/// unknown principal, or [`PRINCIPAL_RETRY_LIMIT`] has passed. Errors become a
/// [`ProviderError`] naming `action` (`kms:CreateKey`) and `resource`.
pub async fn retry_while_principal_not_visible<T, E, R, Operation, Attempt>(
    action: &str,
    resource: &str,
    mut operation: Operation,
) -> Result<T, ProviderError>
where
    Operation: FnMut() -> Attempt,
    Attempt: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut waited = Duration::ZERO;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let error = match operation().await {
            Ok(output) => return Ok(output),
            Err(error) => error,
        };
        if !is_principal_not_visible(&error) {
            return Err(provider_error(error, action, resource));
        }
        let left = PRINCIPAL_RETRY_LIMIT.saturating_sub(waited);
        if left.is_zero() {
            let seconds = PRINCIPAL_RETRY_LIMIT.as_secs();
            return Err(provider_error(error, action, resource).with_help(format!(
                "a principal the policy names may not exist: AWS still did not know it after keyform retried for {seconds} s. \
                 Check every ARN in the policy's Principal elements (account id, role or user name, path); \
                 a role or user created a moment ago takes a few seconds to be visible to KMS"
            )));
        }
        let wait = backoff.min(left);
        tracing::debug!(
            action,
            resource,
            wait_seconds = wait.as_secs_f64(),
            "a principal in the policy is not visible yet; retrying"
        );
        tokio::time::sleep(wait).await;
        waited += wait;
        backoff *= 2;
    }
}

#[cfg(test)]
mod tests;
