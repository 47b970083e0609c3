//! Azure errors as [`ProviderError`]s: the operation (`keys:create`,
//! `vaults:PUT`), the object, the HTTP status and Azure's error code, and the
//! inner code Key Vault puts under `innererror` (`ObjectIsDeletedButRecoverable`,
//! `ObjectIsBeingRecovered`), which decides what soft delete does next.
//! Help is given for the errors a user can fix.

use crate::provider::{ProviderError, error_chain};
use azure_core::error::ErrorKind;

/// What an Azure error said, beside its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AzureFailure {
    pub status: Option<u16>,
    /// The outer code (`Conflict`, `KeyNotFound`, `VaultAlreadyExists`).
    pub code: Option<String>,
    /// The innermost code, when Azure nests one (`ObjectIsDeletedButRecoverable`).
    pub inner_code: Option<String>,
    pub message: Option<String>,
}

impl AzureFailure {
    /// Reads an error body `{"error": {"code", "message", "innererror": {"code"}}}`.
    pub fn from_body(status: Option<u16>, body: &serde_json::Value) -> AzureFailure {
        let error = body.get("error").unwrap_or(body);
        let text = |value: &serde_json::Value, name: &str| {
            value.get(name).and_then(|inner| inner.as_str()).map(str::to_string)
        };
        let mut inner_code = None;
        let mut current = error.get("innererror").or_else(|| error.get("innerError"));
        while let Some(inner) = current {
            inner_code = text(inner, "code").or(inner_code);
            current = inner.get("innererror").or_else(|| inner.get("innerError"));
        }
        AzureFailure {
            status,
            code: text(error, "code"),
            inner_code,
            message: text(error, "message"),
        }
    }

    /// Reads an SDK error.
    pub fn from_sdk(error: &azure_core::Error) -> AzureFailure {
        match error.kind() {
            ErrorKind::HttpResponse {
                status,
                error_code,
                raw_response,
            } => {
                let status = Some(u16::from(*status));
                let body = raw_response
                    .as_ref()
                    .and_then(|response| response.body().json::<serde_json::Value>().ok());
                let mut failure = body
                    .map(|body| AzureFailure::from_body(status, &body))
                    .unwrap_or(AzureFailure {
                        status,
                        ..AzureFailure::default()
                    });
                if failure.code.is_none() {
                    failure.code = error_code.clone();
                }
                failure
            }
            _ => AzureFailure::default(),
        }
    }

    /// Whether the outer or the inner code is `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code) || self.inner_code.as_deref() == Some(code)
    }

    pub fn not_found(&self) -> bool {
        self.status == Some(404)
    }

    /// The code to report: the inner one when there is one.
    fn reported_code(&self) -> String {
        self.inner_code
            .clone()
            .or_else(|| self.code.clone())
            .or_else(|| self.status.map(|status| format!("HTTP{status}")))
            .unwrap_or_else(|| "AzureError".to_string())
    }

    /// The [`ProviderError`] for this failure of `operation` on `object`.
    pub fn into_error(self, operation: &str, object: &str, fallback: &str) -> ProviderError {
        let code = self.reported_code();
        let status = self
            .status
            .map(|status| format!(" (HTTP {status})"))
            .unwrap_or_default();
        let message = self.message.clone().unwrap_or_else(|| fallback.to_string());
        let mut error = ProviderError::new(
            code.clone(),
            format!("{operation} on `{object}` failed{status}: {message}"),
        );
        error.retryable = matches!(self.status, Some(429 | 500 | 502 | 503 | 504));
        if let Some(help) = help(&code, self.status, operation, object) {
            error.help = Some(help);
        }
        error
    }
}

fn help(code: &str, status: Option<u16>, operation: &str, object: &str) -> Option<String> {
    let text = match (code, status) {
        ("Forbidden" | "AuthorizationFailed" | "ForbiddenByRbac" | "ForbiddenByPolicy", _) | (_, Some(403)) => format!(
            "the caller may not `{operation}` on `{object}`: with rbac_authorization_enabled, give it a Key Vault role (Key Vault Administrator, Crypto Officer or Secrets Officer) on the vault; with access policies, add the permission to the vault's access policy; for ARM calls, a Key Vault Contributor role on the resource group"
        ),
        ("Unauthorized" | "InvalidAuthenticationToken", _) | (_, Some(401)) => {
            "the token was refused: check tenant_id (it must be the vault's tenant) and the credential".to_string()
        }
        ("ObjectIsDeletedButRecoverable", _) => format!(
            "`{object}` is soft-deleted: turn the feature flag recover_soft_deleted_* on to recover it, or purge it (az keyvault ... purge) to create it anew"
        ),
        ("ObjectIsBeingRecovered" | "ObjectIsBeingDeleted", _) => {
            "Azure is still recovering or deleting the object: run again in a minute".to_string()
        }
        ("VaultAlreadyExists" | "ConflictError", _) => format!(
            "the vault name `{object}` is taken (vault names are global) or soft-deleted: choose another name, or recover it with recover_soft_deleted_key_vaults"
        ),
        ("ResourceGroupNotFound", _) => "create the resource group first".to_string(),
        _ => return None,
    };
    Some(text)
}

/// The error for a create that meets an object of its name which keyform does not manage (`id`).
pub fn not_managed(code: &str, message: String, id: &str) -> ProviderError {
    ProviderError::new(code, message).with_help(format!(
        "import it with `keyform import ADDRESS {id}`, or choose another name"
    ))
}

/// The [`ProviderError`] for an SDK error of `operation` on `object`.
pub fn sdk_error(error: azure_core::Error, operation: &str, object: &str) -> ProviderError {
    let failure = AzureFailure::from_sdk(&error);
    failure.into_error(operation, object, &error_chain(&error))
}

#[cfg(test)]
mod tests {
    use super::AzureFailure;

    #[test]
    fn the_inner_code_is_read_and_reported() {
        let body = serde_json::json!({
            "error": {"code": "Conflict", "message": "Secret x is currently in a deleted but recoverable state",
                      "innererror": {"code": "ObjectIsDeletedButRecoverable"}}
        });
        let failure = AzureFailure::from_body(Some(409), &body);
        assert!(failure.is("ObjectIsDeletedButRecoverable"));
        assert!(failure.is("Conflict"));
        let error = failure.into_error("secrets:set", "x", "");
        assert_eq!(error.code, "ObjectIsDeletedButRecoverable");
        assert!(error.message.contains("HTTP 409"), "{}", error.message);
        assert!(error.help.is_some_and(|help| help.contains("recover_soft_deleted")));
    }

    #[test]
    fn a_body_without_error_falls_back_to_the_status() {
        let failure = AzureFailure::from_body(Some(503), &serde_json::json!({}));
        let error = failure.into_error("vaults:GET", "v", "busy");
        assert_eq!(error.code, "HTTP503");
        assert!(error.retryable);
        assert!(error.message.ends_with("busy"));
    }
}
