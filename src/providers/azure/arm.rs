//! A small client for Azure Resource Manager's REST API, which has no official
//! Rust crate: JSON requests with a bearer token from the provider's
//! credential (scope `{resource_manager}/.default`), over the provider's HTTP
//! client, with `api-version` on every call. A `202 Accepted` is followed
//! through its `Azure-AsyncOperation` / `Location` header until the
//! operation ends.

use super::credential::token;
use super::errors::AzureFailure;
use crate::provider::{ProviderError, error_chain};
use azure_core::credentials::TokenCredential;
use std::sync::Arc;
use std::time::Duration;

/// The Microsoft.KeyVault api-version of every ARM call.
const API_VERSION: &str = "2023-07-01";

/// How long a long-running operation is followed.
const POLL_ATTEMPTS: u32 = 120;

/// Azure Resource Manager for one provider block.
#[derive(Clone)]
pub struct Arm {
    http: reqwest::Client,
    credential: Arc<dyn TokenCredential>,
    /// `https://management.azure.com/`
    base: String,
    /// The token scope: `https://management.azure.com/.default`.
    scope: String,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Arm")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An answer: status and JSON body (Null when empty).
struct ArmResponse {
    status: u16,
    body: serde_json::Value,
}

impl ArmResponse {
    /// The answer, or the error Azure's body describes for a status of 400 and above.
    fn succeeded(self, operation: &str, path: &str, fallback: &str) -> Result<ArmResponse, ProviderError> {
        if self.status >= 400 {
            return Err(AzureFailure::from_body(Some(self.status), &self.body).into_error(operation, path, fallback));
        }
        Ok(self)
    }
}

/// The operation an error names: `Azure Resource Manager PUT`.
fn operation_of(method: &reqwest::Method) -> String {
    format!("Azure Resource Manager {method}")
}

impl Arm {
    pub fn new(http: reqwest::Client, credential: Arc<dyn TokenCredential>, base: String) -> Arm {
        let scope = format!("{base}.default");
        Arm {
            http,
            credential,
            base,
            scope,
        }
    }

    fn url(&self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!(
            "{}{}{separator}api-version={API_VERSION}",
            self.base.trim_end_matches('/'),
            path
        )
    }

    /// Sends one request and follows a `202 Accepted`; Err only when nothing could be sent or read.
    async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ArmResponse, ProviderError> {
        let operation = operation_of(&method);
        let (response, location) = self.call(method, &self.url(path), body, &operation, path).await?;
        match location {
            Some(location) if response.status == 202 => self.follow(&location, &operation, path).await,
            _ => Ok(response),
        }
    }

    /// Sends one request and answers with its JSON body (Null when empty); Err for a status of 400 and above.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ProviderError> {
        let operation = operation_of(&method);
        let response = self.exchange(method, path, body).await?;
        Ok(response.succeeded(&operation, path, "no error message")?.body)
    }

    /// One request to a full URL: the answer, and the URL of the long-running operation it started, if any.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        operation: &str,
        path: &str,
    ) -> Result<(ArmResponse, Option<String>), ProviderError> {
        let bearer = token(self.credential.as_ref(), &self.scope).await?;
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(bearer.expose())
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|error| {
            ProviderError {
                retryable: true,
                ..ProviderError::new(
                    "ConnectionFailed",
                    format!("{operation} on `{path}` could not be sent: {}", error_chain(&error)),
                )
            }
            .with_help("check the network, HTTPS_PROXY / NO_PROXY, and environment.resource_manager")
        })?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("azure-asyncoperation")
            .or_else(|| response.headers().get("location"))
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = read_body(response, operation, path).await?;
        Ok((ArmResponse { status, body }, location))
    }

    /// Polls a long-running operation until it succeeds or fails.
    async fn follow(&self, location: &str, operation: &str, path: &str) -> Result<ArmResponse, ProviderError> {
        for _ in 0..POLL_ATTEMPTS {
            let (response, _) = self.call(reqwest::Method::GET, location, None, operation, path).await?;
            let response = response.succeeded(operation, path, "the operation failed")?;
            let state = response.body.get("status").and_then(serde_json::Value::as_str);
            match (response.status, state) {
                (202, _) | (_, Some("InProgress" | "Running" | "Accepted")) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                (status, Some("Failed" | "Canceled")) => {
                    return Err(AzureFailure::from_body(Some(status), &response.body).into_error(
                        operation,
                        path,
                        "the operation failed",
                    ));
                }
                _ => return Ok(response),
            }
        }
        Err(ProviderError::new(
            "OperationTimedOut",
            format!("{operation} on `{path}` did not finish"),
        ))
    }

    /// GET; Ok(None) for 404.
    pub async fn get(&self, path: &str) -> Result<Option<serde_json::Value>, ProviderError> {
        let method = reqwest::Method::GET;
        let operation = operation_of(&method);
        let response = self.exchange(method, path, None).await?;
        if response.status == 404 {
            return Ok(None);
        }
        Ok(Some(response.succeeded(&operation, path, "no error message")?.body))
    }

    /// Every item of a list operation, following `nextLink`.
    pub async fn list(&self, path: &str) -> Result<Vec<serde_json::Value>, ProviderError> {
        let method = reqwest::Method::GET;
        let operation = operation_of(&method);
        let mut items = Vec::new();
        let mut url = self.url(path);
        loop {
            let (response, _) = self.call(method.clone(), &url, None, &operation, path).await?;
            let page = response.succeeded(&operation, path, "no error message")?.body;
            if let Some(values) = page.get("value").and_then(serde_json::Value::as_array) {
                items.extend(values.iter().cloned());
            }
            match page
                .get("nextLink")
                .and_then(serde_json::Value::as_str)
                .filter(|link| !link.is_empty())
            {
                Some(next) => url = next.to_string(),
                None => return Ok(items),
            }
        }
    }
}

async fn read_body(
    response: reqwest::Response,
    operation: &str,
    path: &str,
) -> Result<serde_json::Value, ProviderError> {
    let text = response.text().await.map_err(|error| {
        ProviderError::new(
            "ResponseUnreadable",
            format!(
                "{operation} on `{path}`: the answer could not be read: {}",
                error_chain(&error)
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(&text).map_err(|error| {
        ProviderError::new(
            "ResponseNotJson",
            format!("{operation} on `{path}`: the answer is not JSON: {error}"),
        )
    })
}
