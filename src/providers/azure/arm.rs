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
pub const API_VERSION: &str = "2023-07-01";

/// How long a long-running operation is followed.
const POLL_ATTEMPTS: u32 = 120;

/// Azure Resource Manager for one provider block.
#[derive(Clone)]
pub struct Arm {
    http: reqwest::Client,
    credential: Arc<dyn TokenCredential>,
    /// `https://management.azure.com/`
    base: String,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Arm")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A successful answer: status and JSON body (Null when empty).
#[derive(Debug, Clone)]
pub struct ArmResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Arm {
    pub fn new(http: reqwest::Client, credential: Arc<dyn TokenCredential>, base: String) -> Arm {
        Arm { http, credential, base }
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
    pub async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ArmResponse, ProviderError> {
        let operation = format!("Azure Resource Manager {method}");
        let response = self.raw(method, &self.url(path), body, &operation, path).await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("azure-asyncoperation")
            .or_else(|| response.headers().get("location"))
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = read_body(response, &operation, path).await?;
        if status == 202
            && let Some(location) = location
        {
            return self.follow(&location, &operation, path).await;
        }
        Ok(ArmResponse { status, body })
    }

    /// Sends one request; Err for a status of 400 and above.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ArmResponse, ProviderError> {
        let operation = format!("Azure Resource Manager {method}");
        let response = self.exchange(method, path, body).await?;
        if response.status >= 400 {
            return Err(
                AzureFailure::from_body(Some(response.status), &response.body).into_error(
                    &operation,
                    path,
                    "no error message",
                ),
            );
        }
        Ok(response)
    }

    async fn raw(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        operation: &str,
        path: &str,
    ) -> Result<reqwest::Response, ProviderError> {
        let scope = format!("{}.default", self.base);
        let bearer = token(self.credential.as_ref(), &scope).await?;
        let mut request = self
            .http
            .request(method, url)
            .header("authorization", format!("Bearer {}", bearer.expose()))
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        request.send().await.map_err(|error| {
            ProviderError {
                retryable: true,
                ..ProviderError::new(
                    "ConnectionFailed",
                    format!("{operation} on `{path}` could not be sent: {}", error_chain(&error)),
                )
            }
            .with_help("check the network, HTTPS_PROXY / NO_PROXY, and environment.resource_manager")
        })
    }

    /// Polls a long-running operation until it succeeds or fails.
    async fn follow(&self, location: &str, operation: &str, path: &str) -> Result<ArmResponse, ProviderError> {
        for _ in 0..POLL_ATTEMPTS {
            let response = self.raw(reqwest::Method::GET, location, None, operation, path).await?;
            let status = response.status().as_u16();
            let body = read_body(response, operation, path).await?;
            if status >= 400 {
                return Err(AzureFailure::from_body(Some(status), &body).into_error(
                    operation,
                    path,
                    "the operation failed",
                ));
            }
            let state = body.get("status").and_then(serde_json::Value::as_str);
            match (status, state) {
                (202, _) | (_, Some("InProgress" | "Running" | "Accepted")) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                (_, Some("Failed" | "Canceled")) => {
                    return Err(AzureFailure::from_body(Some(status), &body).into_error(
                        operation,
                        path,
                        "the operation failed",
                    ));
                }
                _ => return Ok(ArmResponse { status, body }),
            }
        }
        Err(ProviderError::new(
            "OperationTimedOut",
            format!("{operation} on `{path}` did not finish"),
        ))
    }

    /// GET; Ok(None) for 404.
    pub async fn get(&self, path: &str) -> Result<Option<serde_json::Value>, ProviderError> {
        let response = self.exchange(reqwest::Method::GET, path, None).await?;
        match response.status {
            404 => Ok(None),
            status if status >= 400 => Err(AzureFailure::from_body(Some(status), &response.body).into_error(
                "Azure Resource Manager GET",
                path,
                "no error message",
            )),
            _ => Ok(Some(response.body)),
        }
    }

    /// Every item of a list operation, following `nextLink`.
    pub async fn list(&self, path: &str) -> Result<Vec<serde_json::Value>, ProviderError> {
        let mut items = Vec::new();
        let mut page = self.send(reqwest::Method::GET, path, None).await?.body;
        loop {
            if let Some(values) = page.get("value").and_then(serde_json::Value::as_array) {
                items.extend(values.iter().cloned());
            }
            let Some(next) = page
                .get("nextLink")
                .and_then(serde_json::Value::as_str)
                .filter(|link| !link.is_empty())
            else {
                return Ok(items);
            };
            let operation = "Azure Resource Manager GET";
            let response = self.raw(reqwest::Method::GET, next, None, operation, path).await?;
            let status = response.status().as_u16();
            page = read_body(response, operation, path).await?;
            if status >= 400 {
                return Err(AzureFailure::from_body(Some(status), &page).into_error(
                    operation,
                    path,
                    "no error message",
                ));
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
