//! `aws_kms_key`, the read side: what a key looks like to keyform
//! (DescribeKey, GetKeyRotationStatus, GetKeyPolicy, ListResourceTags,
//! ListKeyRotations), finding the key a create made by its token, listing
//! active keys, and the settings a configuration asks for.
//!
//! The key policy is reported in [`normalize_json`] form, the form the core
//! compares configured policies in, so a policy AWS returns reformatted is no
//! diff. `deletion_window_in_days` and `bypass_policy_lockout_safety_check`
//! are not readable from AWS: a read reports what state recorded.

use super::client::{has_code, provider_error};
use super::tags;
use crate::provider::{Attributes, LiveObject, LiveStatus, ProviderError, normalize_json};
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::{DateTime, DateTimeFormat};
use aws_sdk_kms::types::{KeyManagerType, KeyState};
use std::collections::{BTreeMap, HashMap};

/// Days a destroyed key stays recoverable when the configuration does not say.
pub const DEFAULT_DELETION_WINDOW: i32 = 30;

/// What a configuration asks of a key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeySettings {
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub key_spec: Option<String>,
    /// Normalised JSON.
    pub policy: Option<String>,
    pub enable_key_rotation: Option<bool>,
    pub rotation_period_in_days: Option<i32>,
    pub deletion_window_in_days: i32,
    pub is_enabled: Option<bool>,
    pub multi_region: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    pub bypass_policy_lockout_safety_check: bool,
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new("InvalidParameter", message)
}

fn whole_number(attributes: &Attributes, name: &str) -> Result<Option<i32>, ProviderError> {
    match attributes.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|number| number.fract() == 0.0 && number.abs() <= f64::from(i32::MAX))
            .map(|number| Some(number as i32))
            .ok_or_else(|| invalid(format!("{name} must be a whole number, not {value}"))),
    }
}

fn in_range(name: &str, value: Option<i32>, low: i32, high: i32) -> Result<Option<i32>, ProviderError> {
    match value {
        Some(number) if !(low..=high).contains(&number) => {
            Err(invalid(format!("{name} must be from {low} to {high}, not {number}")))
        }
        other => Ok(other),
    }
}

/// A whole number of days from `low` to `high` in `attributes[name]`, when it is set.
pub fn days_in_range(attributes: &Attributes, name: &str, low: i32, high: i32) -> Result<Option<i32>, ProviderError> {
    in_range(name, whole_number(attributes, name)?, low, high)
}

/// The day ranges AWS accepts: `rotation_period_in_days` and `deletion_window_in_days`.
pub const DAY_RANGES: [(&str, i32, i32); 2] = [
    ("rotation_period_in_days", 90, 2560),
    ("deletion_window_in_days", 7, 30),
];

impl KeySettings {
    /// Reads and checks the attributes of an apply request.
    pub fn from_attributes(attributes: &Attributes) -> Result<KeySettings, ProviderError> {
        let text = |name: &str| crate::provider::text_attribute(attributes, name);
        let flag = |name: &str| attributes.get(name).and_then(serde_json::Value::as_bool);
        let policy = match text("policy") {
            Some(policy) => Some(
                normalize_json(&policy).map_err(|error| invalid(format!("policy is not a JSON document: {error}")))?,
            ),
            None => None,
        };
        let tags = match attributes.get("tags") {
            Some(serde_json::Value::Object(entries)) => {
                let mut tags = BTreeMap::new();
                for (key, value) in entries {
                    let value = value
                        .as_str()
                        .ok_or_else(|| invalid(format!("tag `{key}` must be a string")))?;
                    tags.insert(key.clone(), value.to_string());
                }
                tags::check_configured(&tags)?;
                Some(tags)
            }
            None | Some(serde_json::Value::Null) => None,
            Some(other) => return Err(invalid(format!("tags must be a map of strings, not {other}"))),
        };
        Ok(KeySettings {
            description: text("description"),
            key_usage: text("key_usage"),
            key_spec: text("customer_master_key_spec"),
            policy,
            enable_key_rotation: flag("enable_key_rotation"),
            rotation_period_in_days: days_in_range(attributes, DAY_RANGES[0].0, DAY_RANGES[0].1, DAY_RANGES[0].2)?,
            deletion_window_in_days: days_in_range(attributes, DAY_RANGES[1].0, DAY_RANGES[1].1, DAY_RANGES[1].2)?
                .unwrap_or(DEFAULT_DELETION_WINDOW),
            is_enabled: flag("is_enabled"),
            multi_region: flag("multi_region"),
            tags,
            bypass_policy_lockout_safety_check: flag("bypass_policy_lockout_safety_check").unwrap_or(false),
        })
    }
}

/// An RFC 3339 time.
pub fn rfc3339(time: &DateTime) -> String {
    time.fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| time.secs().to_string())
}

/// Error codes after which an optional part of a read is left out instead of failing the read:
/// the key type has no such property (asymmetric keys have no rotation), or its state hides it.
fn optional_part_missing<E, R>(error: &aws_sdk_kms::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_kms::error::ProvideErrorMetadata,
{
    ["UnsupportedOperationException", "KMSInvalidStateException"]
        .iter()
        .any(|code| has_code(error, code))
}

/// Reads a key; Ok(None) when AWS does not know it. `prior` holds what state recorded,
/// for the settings AWS does not report.
pub async fn read(client: &Client, id: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let described = match client.describe_key().key_id(id).send().await {
        Ok(output) => output,
        Err(error) if has_code(&error, "NotFoundException") => return Ok(None),
        Err(error) => return Err(provider_error(error, "kms:DescribeKey", id)),
    };
    let Some(metadata) = described.key_metadata() else {
        return Err(ProviderError::new(
            "UnexpectedResponse",
            format!("kms:DescribeKey on {id} returned no key metadata"),
        ));
    };
    let key_id = metadata.key_id().to_string();
    let arn = metadata.arn().unwrap_or(&key_id).to_string();
    let pending = matches!(
        metadata.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    );
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), key_id.clone().into());
    attributes.insert("key_id".into(), key_id.clone().into());
    attributes.insert("arn".into(), arn.clone().into());
    attributes.insert("description".into(), metadata.description().unwrap_or_default().into());
    if let Some(usage) = metadata.key_usage() {
        attributes.insert("key_usage".into(), usage.as_str().into());
    }
    if let Some(spec) = metadata.key_spec() {
        attributes.insert("customer_master_key_spec".into(), spec.as_str().into());
    }
    attributes.insert("multi_region".into(), metadata.multi_region().unwrap_or(false).into());
    // A key pending deletion is disabled by AWS; whether the user wants it enabled is not its state.
    if !pending {
        attributes.insert("is_enabled".into(), metadata.enabled().into());
    }
    match client.get_key_rotation_status().key_id(&key_id).send().await {
        Ok(status) => {
            attributes.insert("enable_key_rotation".into(), status.key_rotation_enabled().into());
            if let Some(period) = status
                .rotation_period_in_days()
                .filter(|_| status.key_rotation_enabled())
            {
                attributes.insert("rotation_period_in_days".into(), period.into());
            }
        }
        Err(error) if optional_part_missing(&error) => {}
        Err(error) => return Err(provider_error(error, "kms:GetKeyRotationStatus", &arn)),
    }
    match client
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
    {
        Ok(output) => {
            if let Some(policy) = output.policy() {
                let policy = normalize_json(policy).unwrap_or_else(|_| policy.to_string());
                attributes.insert("policy".into(), policy.into());
            }
        }
        Err(error) if optional_part_missing(&error) => {}
        Err(error) => return Err(provider_error(error, "kms:GetKeyPolicy", &arn)),
    }
    let all_tags = tags::list(client, &key_id).await?;
    attributes.insert("tags".into(), serde_json::Value::Object(tags::visible(&all_tags)));
    for recorded in ["deletion_window_in_days", "bypass_policy_lockout_safety_check"] {
        if let Some(value) = prior.get(recorded).filter(|value| !value.is_null()) {
            attributes.insert(recorded.into(), value.clone());
        }
    }
    let status = if pending {
        LiveStatus::PendingDeletion {
            deletion_date: metadata
                .deletion_date()
                .map(rfc3339)
                .unwrap_or_else(|| "(a date AWS did not report)".to_string()),
        }
    } else {
        LiveStatus::Active
    };
    Ok(Some(LiveObject {
        id: key_id.clone(),
        attributes,
        secret_versions: BTreeMap::new(),
        status,
        last_rotated: last_rotated(client, &key_id).await,
    }))
}

/// When the key material was last rotated (automatically or on demand), if AWS says.
/// Informational, so a failure (no permission, a key type without rotations) is None.
async fn last_rotated(client: &Client, key_id: &str) -> Option<String> {
    let mut pages = client
        .list_key_rotations()
        .key_id(key_id)
        .into_paginator()
        .items()
        .send();
    let mut latest: Option<DateTime> = None;
    while let Some(entry) = pages.next().await {
        let date = *entry.ok()?.rotation_date()?;
        if latest.is_none_or(|seen| date > seen) {
            latest = Some(date);
        }
    }
    latest.as_ref().map(rfc3339)
}

/// Every key id in the account and region, with whether it is customer managed and active.
async fn key_ids(client: &Client) -> Result<Vec<String>, ProviderError> {
    let mut entries = client.list_keys().into_paginator().items().send();
    let mut ids = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|error| provider_error(error, "kms:ListKeys", "*"))?;
        if let Some(id) = entry.key_id() {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Ids of the active customer-managed keys: not those pending deletion, not AWS-managed ones.
pub async fn list(client: &Client) -> Result<Vec<String>, ProviderError> {
    let mut active = Vec::new();
    for id in key_ids(client).await? {
        let described = match client.describe_key().key_id(&id).send().await {
            Ok(output) => output,
            // Deleted since the listing, or hidden from this caller.
            Err(error) if has_code(&error, "NotFoundException") || has_code(&error, "AccessDeniedException") => {
                continue;
            }
            Err(error) => return Err(provider_error(error, "kms:DescribeKey", &id)),
        };
        let Some(metadata) = described.key_metadata() else {
            continue;
        };
        let customer = metadata.key_manager() != Some(&KeyManagerType::Aws);
        let pending = matches!(
            metadata.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        );
        if customer && !pending {
            active.push(id);
        }
    }
    Ok(active)
}

/// The create token each key seen so far carries (None: it has none). A key's
/// token tag is written at creation and never changed, so a key is looked at
/// once per run: a bootstrap of many keys lists each key's tags once, not once
/// per create.
#[derive(Debug, Default)]
pub struct TokenIndex {
    tokens: tokio::sync::Mutex<HashMap<String, Option<String>>>,
}

impl TokenIndex {
    /// Records the token of a key this provider just created.
    pub async fn remember(&self, key_id: &str, token: &str) {
        self.tokens
            .lock()
            .await
            .insert(key_id.to_string(), Some(token.to_string()));
    }

    /// The id of the key carrying `token`, if any.
    pub async fn find(&self, client: &Client, token: &str) -> Result<Option<String>, ProviderError> {
        // One scan at a time, so concurrent creates share what the first one learns.
        let mut tokens = self.tokens.lock().await;
        if let Some((id, _)) = tokens.iter().find(|(_, seen)| seen.as_deref() == Some(token)) {
            return Ok(Some(id.clone()));
        }
        let mut found = None;
        for id in key_ids(client).await? {
            if tokens.contains_key(&id) {
                continue;
            }
            let key_tags = match tags::list(client, &id).await {
                Ok(key_tags) => key_tags,
                // A key this caller cannot read, or one deleted meanwhile, is not one it created.
                Err(error) if error.code == "AccessDeniedException" || error.code == "NotFoundException" => {
                    continue;
                }
                Err(error) => return Err(error),
            };
            let carried = key_tags.get(tags::TOKEN_TAG).cloned();
            if carried.as_deref() == Some(token) {
                found = Some(id.clone());
            }
            tokens.insert(id, carried);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::KeySettings;
    use crate::provider::attributes_from_json as attributes;

    #[test]
    fn settings_are_checked() {
        let settings = KeySettings::from_attributes(&attributes(serde_json::json!({
            "description": "payments",
            "rotation_period_in_days": 365,
            "policy": "{ \"Version\": \"2012-10-17\", \"Statement\": [] }",
            "tags": { "team": "payments" }
        })))
        .expect("valid");
        assert_eq!(settings.rotation_period_in_days, Some(365));
        assert_eq!(settings.deletion_window_in_days, 30);
        assert_eq!(
            settings.policy.as_deref(),
            Some("{\"Statement\":[],\"Version\":\"2012-10-17\"}")
        );
        for wrong in [
            serde_json::json!({ "rotation_period_in_days": 89 }),
            serde_json::json!({ "rotation_period_in_days": 2561 }),
            serde_json::json!({ "deletion_window_in_days": 6 }),
            serde_json::json!({ "deletion_window_in_days": 31 }),
            serde_json::json!({ "deletion_window_in_days": 7.5 }),
            serde_json::json!({ "policy": "{ not json" }),
            serde_json::json!({ "tags": { "keyform:create-token": "x" } }),
        ] {
            assert!(
                KeySettings::from_attributes(&attributes(wrong.clone())).is_err(),
                "{wrong}"
            );
        }
    }
}
