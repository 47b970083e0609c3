//! `aws_secretsmanager_secret`, the read side: what a secret looks like to
//! keyform (DescribeSecret, GetResourcePolicy, ListSecretVersionIds), finding
//! the secret a create made by its token, the secret a create would collide
//! with, listing active secrets, and reading the current value on request.
//!
//! A secret's id is its ARN. The value is never read to refresh: the version
//! id stands for it. Without a rotation Lambda, `secret_versions["value"]` is
//! the AWSCURRENT version id, so a value written outside keyform is drift.
//! **With a rotation Lambda, the value is only the initial value: a read
//! reports the version keyform last wrote (recorded in state as
//! `version_id`), so a version the Lambda adds is never drift and keyform
//! never puts an old value back over a rotated one.**
//!
//! `recovery_window_in_days` and `rotation.rotate_immediately` are not
//! readable from AWS: a read reports what state recorded.

use super::client::{has_code, provider_error};
use super::kms_key::rfc3339;
use super::secret_schema::{days_seconds, duration_seconds};
use crate::provider::{Attributes, LiveObject, LiveStatus, ProviderError, normalize_json};
use crate::secret::SensitiveString;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use std::collections::BTreeMap;

const CURRENT: &str = "AWSCURRENT";

/// Turns an SDK error into a [`ProviderError`], with help for the errors of Secrets Manager.
pub fn secret_error<E, R>(
    error: aws_sdk_secretsmanager::error::SdkError<E, R>,
    action: &str,
    resource: &str,
) -> ProviderError
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut error = provider_error(error, action, resource);
    let help = match error.code.as_str() {
        "AccessDeniedException" | "AccessDenied" => Some(format!(
            "the caller lacks the permission `{action}` on `{resource}`: allow it in an IAM policy of the caller and in the secret's resource policy; a secret encrypted with a customer managed key also needs kms:Decrypt / kms:GenerateDataKey on that key"
        )),
        "ResourceExistsException" => Some(format!(
            "a secret named like `{resource}` already exists: import it with `keyform import ADDRESS NAME`, or choose another name"
        )),
        "MalformedPolicyDocumentException" => Some(
            "AWS refused the secret's resource policy: check its JSON, that every principal it names exists, and that it does not grant broad access".to_string(),
        ),
        "EncryptionFailure" | "DecryptionFailure" => Some(
            "Secrets Manager could not use the KMS key: check that kms_key_id names an enabled symmetric key and that the caller may use it".to_string(),
        ),
        "InvalidRequestException" => Some(format!(
            "`{resource}` is in a state that does not allow `{action}`: it may be scheduled for deletion (restore it), or a rotation may still be in progress"
        )),
        "ResourceNotFoundException" => Some(format!(
            "`{resource}` does not exist (or a rotation Lambda it names does not): check the name or ARN"
        )),
        _ => None,
    };
    if let Some(help) = help {
        error.help = Some(help);
    }
    error
}

/// DescribeSecret; Ok(None) when AWS does not know the secret.
pub async fn describe(client: &Client, id: &str) -> Result<Option<DescribeSecretOutput>, ProviderError> {
    match client.describe_secret().secret_id(id).send().await {
        Ok(output) => Ok(Some(output)),
        Err(error) if has_code(&error, "ResourceNotFoundException") => Ok(None),
        Err(error) => Err(secret_error(error, "secretsmanager:DescribeSecret", id)),
    }
}

/// One version of a secret.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: String,
    pub stages: Vec<String>,
    pub created: Option<String>,
}

/// Every version of a secret, those without a staging label included.
pub async fn versions(client: &Client, id: &str) -> Result<Vec<Version>, ProviderError> {
    let mut pages = client
        .list_secret_version_ids()
        .secret_id(id)
        .include_deprecated(true)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| secret_error(error, "secretsmanager:ListSecretVersionIds", id))?;
        for entry in page.versions() {
            if let Some(version_id) = entry.version_id() {
                found.push(Version {
                    id: version_id.to_string(),
                    stages: entry.version_stages().to_vec(),
                    created: entry.created_date().map(rfc3339),
                });
            }
        }
    }
    Ok(found)
}

/// Reads a secret; Ok(None) when AWS does not know it. `prior` holds what state recorded (or
/// what an apply asked for); `written` is the version an apply just wrote.
pub async fn read(
    client: &Client,
    id: &str,
    prior: &Attributes,
    written: Option<&str>,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(described) = describe(client, id).await? else {
        return Ok(None);
    };
    let arn = described.arn().unwrap_or(id).to_string();
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), arn.clone().into());
    attributes.insert("arn".into(), arn.clone().into());
    if let Some(name) = described.name() {
        attributes.insert("name".into(), name.into());
    }
    attributes.insert("description".into(), described.description().unwrap_or_default().into());
    if let Some(key) = described.kms_key_id() {
        attributes.insert("kms_key_id".into(), same_key_as_recorded(key, prior).into());
    }
    let tags: serde_json::Map<String, serde_json::Value> = described
        .tags()
        .iter()
        .filter_map(|tag| {
            Some((
                tag.key()?.to_string(),
                serde_json::Value::String(tag.value()?.to_string()),
            ))
        })
        .collect();
    attributes.insert("tags".into(), serde_json::Value::Object(tags));
    let pending = described.deleted_date().is_some();
    // A secret scheduled for deletion answers no call but DescribeSecret and RestoreSecret.
    if !pending {
        match client.get_resource_policy().secret_id(&arn).send().await {
            Ok(output) => {
                if let Some(policy) = output.resource_policy() {
                    let policy = normalize_json(policy).unwrap_or_else(|_| policy.to_string());
                    attributes.insert("policy".into(), policy.into());
                }
            }
            Err(error) => return Err(secret_error(error, "secretsmanager:GetResourcePolicy", &arn)),
        }
    }
    let window = prior
        .get("recovery_window_in_days")
        .filter(|value| !value.is_null())
        .cloned()
        .unwrap_or_else(|| super::secret_schema::DEFAULT_RECOVERY_WINDOW.into());
    attributes.insert("recovery_window_in_days".into(), window);
    let lambda = described
        .rotation_lambda_arn()
        .filter(|arn| !arn.is_empty() && described.rotation_enabled() == Some(true));
    if let Some(rotation) = reported_rotation(&described, prior) {
        attributes.insert("rotation".into(), rotation);
    }
    let all_versions = if pending {
        Vec::new()
    } else {
        versions(client, &arn).await?
    };
    let current = all_versions
        .iter()
        .find(|version| version.stages.iter().any(|stage| stage == CURRENT))
        .map(|version| version.id.clone())
        .or_else(|| current_from_stages(&described));
    let recorded = prior
        .get("version_id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let reported = match (written, lambda, recorded) {
        (Some(written), _, _) => Some(written.to_string()),
        // A rotation Lambda owns the value: what keyform wrote stays what it reports.
        (None, Some(_), Some(recorded)) => Some(recorded),
        _ => current,
    };
    let mut secret_versions = BTreeMap::new();
    if let Some(version) = &reported {
        attributes.insert("version_id".into(), version.clone().into());
        secret_versions.insert("value".to_string(), version.clone());
    }
    let status = match described.deleted_date() {
        Some(date) => LiveStatus::PendingDeletion {
            deletion_date: rfc3339(date),
        },
        None => LiveStatus::Active,
    };
    let current_created = all_versions
        .iter()
        .find(|version| version.stages.iter().any(|stage| stage == CURRENT))
        .and_then(|version| version.created.clone());
    let last_rotated = described
        .last_rotated_date()
        .map(rfc3339)
        .filter(|_| lambda.is_some())
        .or(current_created)
        .or_else(|| described.created_date().map(rfc3339));
    Ok(Some(LiveObject {
        id: arn,
        attributes,
        secret_versions,
        status,
        last_rotated,
    }))
}

/// The AWSCURRENT version from DescribeSecret's VersionIdsToStages.
fn current_from_stages(described: &DescribeSecretOutput) -> Option<String> {
    described.version_ids_to_stages().and_then(|stages| {
        stages
            .iter()
            .find(|(_, labels)| labels.iter().any(|label| label == CURRENT))
            .map(|(version, _)| version.clone())
    })
}

/// AWS reports a key as an ARN where the configuration may name it by id: keep the recorded form
/// when it names the same key.
fn same_key_as_recorded(reported: &str, prior: &Attributes) -> String {
    match prior.get("kms_key_id").and_then(serde_json::Value::as_str) {
        Some(recorded) if recorded == reported || reported.ends_with(&format!("/{recorded}")) => recorded.to_string(),
        _ => reported.to_string(),
    }
}

/// The rotation object to report: AWS's rotation settings, in the fields the prior rotation
/// object has. Without a Lambda in the prior object, nothing: keyform runs that schedule, and the
/// core compares it against state.
fn reported_rotation(described: &DescribeSecretOutput, prior: &Attributes) -> Option<serde_json::Value> {
    let prior_rotation = prior.get("rotation").and_then(serde_json::Value::as_object);
    let configured_lambda = prior_rotation.is_some_and(|fields| fields.contains_key("lambda_arn"));
    let enabled = described.rotation_enabled() == Some(true);
    if !configured_lambda {
        return None;
    }
    if !enabled {
        // Rotation was turned off outside keyform.
        return Some(serde_json::Value::Null);
    }
    let rules = described.rotation_rules();
    let mut fields = serde_json::Map::new();
    if let Some(lambda) = described.rotation_lambda_arn() {
        fields.insert("lambda_arn".into(), lambda.into());
    }
    let days = rules.and_then(|rules| rules.automatically_after_days());
    let schedule = rules.and_then(|rules| rules.schedule_expression());
    let wants = |name: &str| prior_rotation.is_some_and(|fields| fields.contains_key(name));
    if wants("every") {
        if let Some(days) = days {
            fields.insert("every".into(), days_seconds(days).into());
        }
    } else if let Some(schedule) = schedule {
        fields.insert("schedule_expression".into(), schedule.into());
    }
    if wants("duration")
        && let Some(duration) = rules.and_then(|rules| rules.duration()).and_then(duration_seconds)
    {
        fields.insert("duration".into(), duration.into());
    }
    for recorded in ["rotate_immediately", "grace"] {
        if let Some(value) = prior_rotation.and_then(|fields| fields.get(recorded)) {
            fields.insert(recorded.into(), value.clone());
        }
    }
    Some(serde_json::Value::Object(fields))
}

fn name_of(attributes: &Attributes) -> Option<&str> {
    attributes
        .get("name")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty())
}

/// The secret a create with `token` made: a secret of that name holding a version whose id is the token.
pub async fn find_by_token(
    client: &Client,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(name) = name_of(attributes) else {
        return Ok(None);
    };
    let Some(described) = describe(client, name).await? else {
        return Ok(None);
    };
    let arn = described.arn().unwrap_or(name).to_string();
    let carries_token = described
        .version_ids_to_stages()
        .is_some_and(|stages| stages.contains_key(token))
        || (described.deleted_date().is_none()
            && versions(client, &arn).await?.iter().any(|version| version.id == token));
    if !carries_token {
        return Ok(None);
    }
    read(client, &arn, attributes, None).await
}

/// The secret a create of `attributes.name` would collide with (active, or pending deletion).
pub async fn lookup_existing(client: &Client, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    match name_of(attributes) {
        Some(name) => read(client, name, attributes, None).await,
        None => Ok(None),
    }
}

/// ARNs of the secrets that are not scheduled for deletion.
pub async fn list(client: &Client) -> Result<Vec<String>, ProviderError> {
    let mut pages = client.list_secrets().into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| secret_error(error, "secretsmanager:ListSecrets", "*"))?;
        for entry in page.secret_list() {
            if entry.deleted_date().is_none()
                && let Some(arn) = entry.arn()
            {
                arns.push(arn.to_string());
            }
        }
    }
    Ok(arns)
}

/// The AWSCURRENT value (GetSecretValue), only for `keyform secret get` and for resources that read it.
pub async fn read_value(client: &Client, id: &str) -> Result<SensitiveString, ProviderError> {
    let output = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|error| secret_error(error, "secretsmanager:GetSecretValue", id))?;
    match output.secret_string() {
        Some(text) => Ok(SensitiveString::new(text.to_string())),
        None if output.secret_binary().is_some() => Err(ProviderError::new(
            "NotText",
            format!("secret `{id}` holds binary data, not text"),
        )),
        None => Err(ProviderError::new(
            "NoValue",
            format!("secret `{id}` has no current value"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{reported_rotation, same_key_as_recorded};
    use crate::provider::attributes_from_json as attributes;
    use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
    use aws_sdk_secretsmanager::types::RotationRulesType;

    #[test]
    fn a_key_named_by_id_is_reported_as_configured() {
        let prior = attributes(serde_json::json!({ "kms_key_id": "1234abcd" }));
        assert_eq!(
            same_key_as_recorded("arn:aws:kms:us-east-1:1:key/1234abcd", &prior),
            "1234abcd"
        );
        assert_eq!(
            same_key_as_recorded("arn:aws:kms:us-east-1:1:key/other", &prior),
            "arn:aws:kms:us-east-1:1:key/other"
        );
    }

    #[test]
    fn rotation_is_reported_in_the_configured_fields() {
        let described = DescribeSecretOutput::builder()
            .rotation_enabled(true)
            .rotation_lambda_arn("arn:aws:lambda:us-east-1:1:function:r")
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(30)
                    .schedule_expression("rate(30 days)")
                    .duration("3h")
                    .build(),
            )
            .build();
        let prior = attributes(serde_json::json!({
            "rotation": { "lambda_arn": "x", "every": 1, "rotate_immediately": false }
        }));
        assert_eq!(
            reported_rotation(&described, &prior),
            Some(serde_json::json!({
                "lambda_arn": "arn:aws:lambda:us-east-1:1:function:r",
                "every": 2_592_000,
                "rotate_immediately": false
            }))
        );
        // A schedule keyform runs itself is not reported: the core compares it against state.
        let own = attributes(serde_json::json!({ "rotation": { "every": 2_592_000 } }));
        assert_eq!(reported_rotation(&described, &own), None);
        // Rotation turned off outside keyform.
        let off = DescribeSecretOutput::builder().rotation_enabled(false).build();
        assert_eq!(reported_rotation(&off, &prior), Some(serde_json::Value::Null));
    }
}
