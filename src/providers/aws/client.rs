//! The SDK clients a configured `aws` provider uses, and the one place that
//! turns an SDK error into a [`ProviderError`].
//!
//! Credentials come from the provider block's `access_key` / `secret_key`
//! when given, otherwise from the SDK's default chain (environment, shared
//! files and profiles, SSO, web identity for CI systems with OIDC, container
//! and instance metadata). The endpoint comes from `endpoint_url`, otherwise
//! from the SDK's `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_KMS`. Retries use
//! the SDK's adaptive mode.

use super::assume_role::AssumeRole;
use super::rate_limit::{RateLimits, paced_default_http_client};
use crate::provider::{Attributes, ProviderError};
use crate::secret::SensitiveString;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::config::Credentials;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use std::collections::BTreeMap;

/// The provider block, as the SDK needs it.
#[derive(Debug, Default)]
pub struct Settings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub access_key: Option<String>,
    /// Debug prints `(sensitive)`.
    pub secret_key: Option<SensitiveString>,
    /// Calls per second of each operation family ([`super::rate_limit`]); clones share the pace.
    pub rate_limits: RateLimits,
    /// The `assume_role` block ([`super::assume_role`]).
    pub assume_role: Option<AssumeRole>,
}

impl Settings {
    /// Reads the evaluated provider block.
    pub fn from_block(
        attributes: &Attributes,
        secrets: &BTreeMap<String, SensitiveString>,
    ) -> Result<Settings, ProviderError> {
        let text = |name: &str| {
            attributes
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let settings = Settings {
            region: text("region"),
            profile: text("profile"),
            endpoint_url: text("endpoint_url"),
            access_key: text("access_key"),
            secret_key: secrets.get("secret_key").cloned(),
            rate_limits: RateLimits::from_block(attributes)?,
            assume_role: AssumeRole::from_block(attributes)?,
        };
        if settings.access_key.is_some() != settings.secret_key.is_some() {
            return Err(ProviderError::new(
                "InvalidProviderConfiguration",
                "access_key and secret_key must be given together",
            )
            .with_help(
                "give both, or neither to use the SDK's credential chain (environment, profile, SSO, web identity)",
            ));
        }
        if let Some(endpoint) = &settings.endpoint_url
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ProviderError::new(
                "InvalidProviderConfiguration",
                format!("endpoint_url `{endpoint}` is not an http:// or https:// URL"),
            ));
        }
        Ok(settings)
    }
}

/// The SDK configuration every client of a provider block shares (KMS, Secrets Manager): built
/// once per configure, so a role is assumed once.
pub async fn sdk_config(settings: &Settings) -> Result<aws_config::SdkConfig, ProviderError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive())
        .http_client(paced_default_http_client(settings.rate_limits.clone()));
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let (Some(access_key), Some(secret_key)) = (&settings.access_key, &settings.secret_key) {
        loader = loader.credentials_provider(Credentials::new(
            access_key,
            secret_key.expose(),
            None,
            None,
            "keyform-provider-block",
        ));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(ProviderError::new("NoRegion", "no AWS region is configured").with_help(
            "set `region` in the provider block, or AWS_REGION, or a region in the profile of ~/.aws/config",
        ));
    }
    match &settings.assume_role {
        Some(role) => Ok(super::assume_role::assume(config, role).await?.0),
        None => Ok(config),
    }
}

/// The `<Code>` and `<Message>` of an XML error body, found in a raw response's text.
fn xml_error(raw: &str) -> Option<(String, String)> {
    let between = |open: &str, close: &str| -> Option<String> {
        let start = raw.find(open)? + open.len();
        let end = raw[start..].find(close)? + start;
        Some(raw[start..end].to_string())
    };
    let code = between("<Code>", "</Code>").filter(|code| !code.is_empty() && code.len() < 100)?;
    Some((code, between("<Message>", "</Message>").unwrap_or_default()))
}

/// Error codes that retrying the same call may cure.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "LimitExceededException",
];

/// Turns an SDK error into a [`ProviderError`] that names the AWS error
/// code, its message, the call (`kms:CreateKey`) and the resource.
pub fn provider_error<E, R>(error: SdkError<E, R>, action: &str, resource: &str) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let service_code = error.code().map(str::to_string);
    let service_message = error.message().map(str::to_string);
    let detail = crate::provider::error_chain(&error);
    match (&error, service_code) {
        (SdkError::ServiceError(_), Some(code)) => {
            let message = service_message.unwrap_or_else(|| "(AWS sent no message)".to_string());
            let mut provider_error = ProviderError::new(
                code.clone(),
                format!("{action} on {resource} failed: {code}: {message}"),
            );
            provider_error.retryable = RETRYABLE_CODES.contains(&code.as_str());
            if let Some(help) = help_for(&code, action, resource) {
                provider_error = provider_error.with_help(help);
            }
            provider_error
        }
        (SdkError::TimeoutError(_), _) => {
            let mut provider_error =
                ProviderError::new("RequestTimeout", format!("{action} on {resource} timed out: {detail}"));
            provider_error.retryable = true;
            provider_error
        }
        (SdkError::DispatchFailure(_), _) | (SdkError::ConstructionFailure(_), _) => {
            let credentials = detail.to_lowercase().contains("credential");
            let mut provider_error = ProviderError::new(
                if credentials { "NoCredentials" } else { "RequestFailed" },
                format!("{action} on {resource} could not be sent: {detail}"),
            );
            provider_error.retryable = !credentials;
            provider_error.with_help(if credentials {
                "give the provider credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a `profile` (with `aws sso login` for SSO), web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), or access_key and secret_key in the provider block"
            } else {
                "check the network, the `region` and `endpoint_url` of the provider block, and AWS_ENDPOINT_URL"
            })
        }
        (SdkError::ServiceError(context), None) if xml_error(&format!("{:?}", context.raw())).is_some() => {
            // Some endpoints (moto's IAM enforcement, proxies) refuse with an XML error body the
            // JSON protocol cannot parse: keep its code and message rather than "unreadable".
            let (code, message) = xml_error(&format!("{:?}", context.raw())).unwrap_or_default();
            let mut provider_error = ProviderError::new(
                code.clone(),
                format!("{action} on {resource} failed: {code}: {message}"),
            );
            provider_error.retryable = RETRYABLE_CODES.contains(&code.as_str());
            if let Some(help) = help_for(&code, action, resource) {
                provider_error = provider_error.with_help(help);
            }
            provider_error
        }
        (_, code) => {
            let mut provider_error = ProviderError::new(
                code.unwrap_or_else(|| "UnexpectedResponse".to_string()),
                format!("{action} on {resource} got an answer keyform could not read: {detail}"),
            );
            provider_error.retryable = true;
            provider_error
        }
    }
}

/// Help for the common AWS error codes.
fn help_for(code: &str, action: &str, resource: &str) -> Option<String> {
    match code {
        "AccessDeniedException" | "AccessDenied" => Some(format!(
            "the caller lacks the permission `{action}` on `{resource}`: allow it in an IAM policy of the caller{}",
            if resource == "*" {
                String::new()
            } else {
                " and in the key policy".to_string()
            }
        )),
        "MalformedPolicyDocumentException" => Some(
            "AWS refused the key policy: check its JSON and that every principal it names exists; a key policy must also let the caller manage the key, unless bypass_policy_lockout_safety_check = true".to_string(),
        ),
        "UnrecognizedClientException" | "InvalidSignatureException" | "IncompleteSignature" => Some(
            "AWS does not accept these credentials: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the profile, or access_key / secret_key".to_string(),
        ),
        "ExpiredTokenException" => Some("the session credentials have expired: sign in again (`aws sso login`, or a new session token)".to_string()),
        "KMSInvalidStateException" => Some(format!(
            "`{resource}` is in a state that does not allow `{action}` (disabled, or pending deletion): enable or recover it first"
        )),
        "LimitExceededException" => Some("an AWS KMS quota was reached: raise the quota, or apply fewer keys at once (--parallelism)".to_string()),
        "ThrottlingException" => Some("AWS throttled the calls even after retrying: lower --parallelism".to_string()),
        "UnsupportedOperationException" => Some(format!(
            "`{resource}` does not support `{action}`: rotation, for one, works only on symmetric encryption keys whose material KMS made"
        )),
        "TagException" => Some("AWS refused a tag: keys and values are at most 128 and 256 characters, and `aws:` is reserved".to_string()),
        _ => None,
    }
}

/// Whether an SDK error is the service error `code`.
pub fn has_code<E, R>(error: &SdkError<E, R>, code: &str) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(error, SdkError::ServiceError(_)) && error.code() == Some(code)
}

#[cfg(test)]
mod tests {
    use super::{Settings, has_code, help_for, provider_error};
    use crate::secret::SensitiveString;
    use aws_sdk_kms::error::{ErrorMetadata, SdkError};
    use aws_sdk_kms::operation::create_key::CreateKeyError;
    use std::collections::BTreeMap;

    fn service_error(code: &str, message: &str) -> SdkError<CreateKeyError, ()> {
        let metadata = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(CreateKeyError::generic(metadata), ())
    }

    #[test]
    fn a_service_error_keeps_the_aws_code_and_message() {
        let denied = service_error(
            "AccessDeniedException",
            "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:CreateKey",
        );
        assert!(has_code(&denied, "AccessDeniedException"));
        let error = provider_error(denied, "kms:CreateKey", "*");
        assert_eq!(error.code, "AccessDeniedException");
        assert!(
            error
                .message
                .contains("kms:CreateKey on * failed: AccessDeniedException: User: arn:aws:iam::111122223333:user/ci"),
            "{}",
            error.message
        );
        assert!(
            error
                .help
                .as_deref()
                .is_some_and(|help| help.contains("`kms:CreateKey`"))
        );
        assert!(!error.retryable);
        let throttled = provider_error(service_error("ThrottlingException", "slow down"), "kms:ListKeys", "*");
        assert!(throttled.retryable);
    }

    #[test]
    fn access_denied_help_names_the_permission_and_the_resource() {
        let help = help_for("AccessDeniedException", "kms:CreateKey", "*").expect("help");
        assert!(help.contains("`kms:CreateKey`"), "{help}");
        let help = help_for(
            "AccessDeniedException",
            "kms:PutKeyPolicy",
            "arn:aws:kms:us-east-1:1:key/k",
        )
        .expect("help");
        assert!(
            help.contains("`arn:aws:kms:us-east-1:1:key/k`") && help.contains("key policy"),
            "{help}"
        );
    }

    #[test]
    fn static_credentials_come_in_pairs() {
        let mut attributes = serde_json::Map::new();
        attributes.insert("access_key".into(), "AKIAEXAMPLE".into());
        let error = Settings::from_block(&attributes, &BTreeMap::new()).expect_err("half a pair");
        assert!(error.message.contains("together"));
        let secrets = BTreeMap::from([("secret_key".to_string(), SensitiveString::new("hidden"))]);
        let settings = Settings::from_block(&attributes, &secrets).expect("a pair");
        assert!(!format!("{settings:?}").contains("hidden"));
    }

    #[test]
    fn endpoint_must_be_a_url() {
        let mut attributes = serde_json::Map::new();
        attributes.insert("endpoint_url".into(), "localhost:4566".into());
        assert!(Settings::from_block(&attributes, &BTreeMap::new()).is_err());
    }
}
