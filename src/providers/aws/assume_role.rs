//! The provider block's `assume_role { role_arn, session_name, external_id }`:
//! every call of the provider goes with the credentials of that role, assumed
//! through STS with the base credentials (the block's static keys, the profile,
//! or the SDK's default chain). This is how one central account bootstraps
//! others: one aliased provider block per account, each assuming a role there.
//!
//! The core hands a nested block of the provider block over as a JSON object
//! under the block's name (`attributes["assume_role"]`). [`AssumeRole::from_block`]
//! reads it; [`assume`] swaps the SDK configuration's credentials for an
//! `aws_config::sts::AssumeRoleProvider` (which refreshes them before they
//! expire) and, at once, asks STS who the provider now is (GetCallerIdentity),
//! so a role that cannot be assumed fails `configure` with the role's ARN in
//! the message instead of failing the first resource, and the role assumed is
//! logged (`RUST_LOG=keyform=info`).

use super::client::provider_error;
use crate::provider::{Attributes, ProviderError};
use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_kms::config::SharedCredentialsProvider;

/// The provider-block block that names the role.
pub const BLOCK: &str = "assume_role";

/// The session name when the block gives none; it shows in the role's CloudTrail entries.
pub const DEFAULT_SESSION_NAME: &str = "keyform";

/// What the `assume_role` block asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new("InvalidProviderConfiguration", message)
}

impl AssumeRole {
    /// Reads the `assume_role` block; None when the provider block has none.
    pub fn from_block(attributes: &Attributes) -> Result<Option<AssumeRole>, ProviderError> {
        let block = match attributes.get(BLOCK) {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::Object(block)) => block,
            Some(other) => return Err(invalid(format!("{BLOCK} must be a block, not {other}"))),
        };
        let text = |name: &str| -> Result<Option<String>, ProviderError> {
            match block.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(None),
                Some(serde_json::Value::String(text)) => Ok(Some(text.trim().to_string())),
                Some(other) => Err(invalid(format!("{BLOCK}.{name} must be a string, not {other}"))),
            }
        };
        if let Some(unknown) = block
            .keys()
            .find(|name| !["role_arn", "session_name", "external_id"].contains(&name.as_str()))
        {
            return Err(invalid(format!("{BLOCK} has no attribute `{unknown}`"))
                .with_help("assume_role takes role_arn, session_name and external_id"));
        }
        let Some(role_arn) = text("role_arn")? else {
            return Err(invalid(format!("{BLOCK} needs role_arn"))
                .with_help("name the role to assume: role_arn = \"arn:aws:iam::111122223333:role/keyform\""));
        };
        if !(role_arn.starts_with("arn:") && role_arn.contains(":role/")) {
            return Err(invalid(format!(
                "{BLOCK}.role_arn `{role_arn}` is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )));
        }
        let session_name = text("session_name")?.unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string());
        // STS: 2 to 64 characters of [\w+=,.@-].
        let valid_session = (2..=64).contains(&session_name.len())
            && session_name
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "_+=,.@-".contains(character));
        if !valid_session {
            return Err(invalid(format!(
                "{BLOCK}.session_name `{session_name}` must be 2 to 64 letters, digits or _+=,.@-"
            )));
        }
        Ok(Some(AssumeRole {
            role_arn,
            session_name,
            external_id: text("external_id")?,
        }))
    }
}

/// `config` with its credentials replaced by those of the role, after checking with STS that
/// the role can be assumed. Returns the ARN STS reports for the assumed session.
pub async fn assume(config: SdkConfig, role: &AssumeRole) -> Result<(SdkConfig, String), ProviderError> {
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone()).session_name(role.session_name.clone());
    if let Some(external_id) = &role.external_id {
        builder = builder.external_id(external_id.clone());
    }
    let provider = builder.configure(&config).build().await;
    let config = config
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| {
            let mut error = provider_error(error, "sts:AssumeRole", &role.role_arn);
            error.message = format!("could not assume role {}: {}", role.role_arn, error.message);
            error.help = Some(format!(
                "the base credentials need sts:AssumeRole on {}, and the role's trust policy must allow them{}",
                role.role_arn,
                if role.external_id.is_some() {
                    " with this external_id"
                } else {
                    " (add external_id if the trust policy requires one)"
                }
            ));
            error
        })?;
    let caller = identity.arn().unwrap_or(&role.role_arn).to_string();
    tracing::info!(
        role_arn = %role.role_arn,
        session_name = %role.session_name,
        caller = %caller,
        "aws provider assumed role {} as {}",
        role.role_arn,
        caller
    );
    Ok((config, caller))
}

#[cfg(test)]
mod tests {
    use super::{AssumeRole, DEFAULT_SESSION_NAME};

    fn block(json: serde_json::Value) -> crate::provider::Attributes {
        let mut attributes = serde_json::Map::new();
        attributes.insert(super::BLOCK.into(), json);
        attributes
    }

    #[test]
    fn the_block_is_read_and_checked() {
        assert_eq!(AssumeRole::from_block(&serde_json::Map::new()).expect("no block"), None);
        let role = AssumeRole::from_block(&block(serde_json::json!({
            "role_arn": "arn:aws:iam::111122223333:role/keyform",
            "external_id": "audit-7"
        })))
        .expect("valid")
        .expect("a role");
        assert_eq!(role.role_arn, "arn:aws:iam::111122223333:role/keyform");
        assert_eq!(role.session_name, DEFAULT_SESSION_NAME);
        assert_eq!(role.external_id.as_deref(), Some("audit-7"));
        for (wrong, expected) in [
            (serde_json::json!({}), "needs role_arn"),
            (serde_json::json!({ "role_arn": "keyform" }), "is not a role ARN"),
            (
                serde_json::json!({ "role_arn": "arn:aws:iam::1:role/r", "session_name": "a b" }),
                "session_name",
            ),
            (
                serde_json::json!({ "role_arn": "arn:aws:iam::1:role/r", "duration": "1h" }),
                "no attribute `duration`",
            ),
        ] {
            let error = AssumeRole::from_block(&block(wrong.clone())).expect_err("refused");
            assert!(error.message.contains(expected), "{wrong}: {}", error.message);
        }
    }
}
