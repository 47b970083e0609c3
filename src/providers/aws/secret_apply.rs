//! `aws_secretsmanager_secret`, the write side: create (CreateSecret with the
//! journal's token as `ClientRequestToken`, so the first version's id is the
//! token and a repeated create finds the secret it made), update (only what
//! differs from AWS; a new value is PutSecretValue with a fresh token),
//! recover (RestoreSecret, then the update), rotate (RotateSecret with a
//! Lambda, otherwise a new generated value) and delete (DeleteSecret with
//! the recovery window; 0 deletes at once).
//!
//! A create whose name is taken by a secret scheduled for deletion restores
//! that secret and updates it. The value is sent once and never read back.

use super::client::has_code;
use super::secret::{describe, find_by_token, read, secret_error};
use super::secret_schema::{LambdaRotation, SecretSettings};
use crate::provider::{ApplyAction, ApplyRequest, LiveObject, LiveStatus, ProviderError};
use crate::secret::SensitiveString;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{RotationRulesType, Tag};
use std::collections::BTreeMap;

/// Carries out one apply request for an `aws_secretsmanager_secret`.
pub async fn apply(client: &Client, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let settings = SecretSettings::from_attributes(&request.attributes)?;
    let value = request.secrets.get("value");
    match &request.action {
        ApplyAction::Create { token } => create(client, token, request, &settings, value).await.map(Some),
        ApplyAction::Update => {
            let id = existing_id(request)?;
            // The compliance suite and some callers name no changed attributes: then compare everything.
            let only = (!request.changed.is_empty()).then_some(request.changed.as_slice());
            let written = update(client, id, &settings, only, value).await?;
            reread(client, id, request, written.as_deref()).await.map(Some)
        }
        ApplyAction::Recover => {
            let id = existing_id(request)?;
            restore(client, id).await?;
            let written = update(client, id, &settings, None, value).await?;
            reread(client, id, request, written.as_deref()).await.map(Some)
        }
        ApplyAction::Rotate => {
            let id = existing_id(request)?;
            let written = rotate(client, id, &settings, value).await?;
            reread(client, id, request, written.as_deref()).await.map(Some)
        }
        ApplyAction::Delete { purge } => {
            let id = existing_id(request)?;
            delete(client, id, settings.recovery_window_in_days, *purge).await?;
            Ok(None)
        }
    }
}

fn existing_id(request: &ApplyRequest) -> Result<&str, ProviderError> {
    request.id.as_deref().filter(|id| !id.is_empty()).ok_or_else(|| {
        ProviderError::new(
            "MissingId",
            "an aws_secretsmanager_secret change needs the secret's ARN",
        )
    })
}

async fn reread(
    client: &Client,
    id: &str,
    request: &ApplyRequest,
    written: Option<&str>,
) -> Result<LiveObject, ProviderError> {
    read(client, id, &request.attributes, written).await?.ok_or_else(|| {
        ProviderError::new(
            "ResourceNotFoundException",
            format!("secret {id} was not found after it was changed"),
        )
    })
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

async fn create(
    client: &Client,
    token: &str,
    request: &ApplyRequest,
    settings: &SecretSettings,
    value: Option<&SensitiveString>,
) -> Result<LiveObject, ProviderError> {
    let name = settings
        .name
        .as_deref()
        .ok_or_else(|| ProviderError::new("MissingName", "an aws_secretsmanager_secret needs a name"))?;
    // A repeated create (a crash between the call and the journal) finds the first secret, and makes
    // the settings that call did not reach.
    if let Some(found) = find_by_token(client, token, &request.attributes).await? {
        if found.status != LiveStatus::Active {
            return Ok(found);
        }
        update(client, &found.id, settings, None, None).await?;
        return reread(client, &found.id, request, Some(token)).await;
    }
    if let Some(existing) = describe(client, name).await? {
        let arn = existing.arn().unwrap_or(name).to_string();
        if existing.deleted_date().is_none() {
            return Err(ProviderError::new(
                "ResourceExistsException",
                format!("a secret named `{name}` already exists ({arn}) and keyform does not manage it"),
            )
            .with_help(format!(
                "import it with `keyform import ADDRESS {arn}`, or choose another name"
            )));
        }
        // Scheduled for deletion: restore it instead of failing, then write the new value with the token.
        restore(client, &arn).await?;
        update(client, &arn, settings, None, None).await?;
        if let Some(value) = value {
            put_value(client, &arn, value, token).await?;
        }
        apply_rotation(client, &arn, settings.rotation.as_ref(), None).await?;
        return reread(client, &arn, request, value.map(|_| token)).await;
    }
    let mut call = client.create_secret().name(name).client_request_token(token);
    if let Some(description) = &settings.description {
        call = call.description(description);
    }
    if let Some(key) = &settings.kms_key_id {
        call = call.kms_key_id(key);
    }
    if let Some(tags) = &settings.tags {
        call = call.set_tags(Some(sdk_tags(tags)));
    }
    if let Some(value) = value {
        call = call.secret_string(value.expose());
    }
    let created = call
        .send()
        .await
        .map_err(|error| secret_error(error, "secretsmanager:CreateSecret", name))?;
    let arn = created.arn().unwrap_or(name).to_string();
    if let Some(policy) = &settings.policy {
        put_policy(client, &arn, policy).await?;
    }
    apply_rotation(client, &arn, settings.rotation.as_ref(), None).await?;
    reread(client, &arn, request, value.map(|_| token)).await
}

/// Writes `value` as a new AWSCURRENT version whose id is `token`.
async fn put_value(client: &Client, id: &str, value: &SensitiveString, token: &str) -> Result<(), ProviderError> {
    client
        .put_secret_value()
        .secret_id(id)
        .client_request_token(token)
        .secret_string(value.expose())
        .send()
        .await
        .map_err(|error| secret_error(error, "secretsmanager:PutSecretValue", id))?;
    Ok(())
}

async fn put_policy(client: &Client, id: &str, policy: &str) -> Result<(), ProviderError> {
    client
        .put_resource_policy()
        .secret_id(id)
        .resource_policy(policy)
        .send()
        .await
        .map_err(|error| secret_error(error, "secretsmanager:PutResourcePolicy", id))?;
    Ok(())
}

/// Configures rotation through the Lambda; `live` is the rotation AWS reports (to skip a call that changes
/// nothing). A rotation block removed from the configuration turns rotation off (CancelRotateSecret), so the
/// Lambda stops changing a value keyform now owns.
async fn apply_rotation(
    client: &Client,
    id: &str,
    rotation: Option<&LambdaRotation>,
    live: Option<&LambdaRotation>,
) -> Result<(), ProviderError> {
    let Some(rotation) = rotation else {
        if live.is_some() {
            client
                .cancel_rotate_secret()
                .secret_id(id)
                .send()
                .await
                .map_err(|error| secret_error(error, "secretsmanager:CancelRotateSecret", id))?;
        }
        return Ok(());
    };
    if let Some(live) = live
        && live.lambda_arn == rotation.lambda_arn
        && live.every_days == rotation.every_days
        && live.schedule_expression == rotation.schedule_expression
        && (rotation.duration.is_none() || live.duration == rotation.duration)
    {
        return Ok(());
    }
    let rules = RotationRulesType::builder()
        .set_automatically_after_days(rotation.every_days)
        .set_schedule_expression(rotation.schedule_expression.clone())
        .set_duration(rotation.duration.clone())
        .build();
    client
        .rotate_secret()
        .secret_id(id)
        .client_request_token(uuid::Uuid::new_v4().to_string())
        .rotation_lambda_arn(&rotation.lambda_arn)
        .rotation_rules(rules)
        .rotate_immediately(rotation.rotate_immediately)
        .send()
        .await
        .map_err(|error| secret_error(error, "secretsmanager:RotateSecret", id))?;
    Ok(())
}

/// Changes what differs between AWS and `settings` (with `only`, just those attributes) and writes
/// `value` when given. Returns the id of the version it wrote.
async fn update(
    client: &Client,
    id: &str,
    settings: &SecretSettings,
    only: Option<&[String]>,
    value: Option<&SensitiveString>,
) -> Result<Option<String>, ProviderError> {
    let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|changed| changed == name));
    let live = describe(client, id)
        .await?
        .ok_or_else(|| ProviderError::new("ResourceNotFoundException", format!("secret {id} does not exist")))?;
    let description = settings
        .description
        .as_ref()
        .filter(|description| wanted("description") && live.description().unwrap_or_default() != description.as_str());
    let key = settings.kms_key_id.as_ref().filter(|key| {
        wanted("kms_key_id")
            && live
                .kms_key_id()
                .is_none_or(|live_key| live_key != key.as_str() && !live_key.ends_with(&format!("/{key}")))
    });
    if description.is_some() || key.is_some() {
        client
            .update_secret()
            .secret_id(id)
            .set_description(description.cloned())
            .set_kms_key_id(key.cloned())
            .send()
            .await
            .map_err(|error| secret_error(error, "secretsmanager:UpdateSecret", id))?;
    }
    if let Some(policy) = settings.policy.as_ref().filter(|_| wanted("policy")) {
        let current = client
            .get_resource_policy()
            .secret_id(id)
            .send()
            .await
            .map_err(|error| secret_error(error, "secretsmanager:GetResourcePolicy", id))?;
        let current = current
            .resource_policy()
            .and_then(|text| crate::provider::normalize_json(text).ok());
        if current.as_deref() != Some(policy.as_str()) {
            put_policy(client, id, policy).await?;
        }
    }
    if let Some(desired) = settings.tags.as_ref().filter(|_| wanted("tags")) {
        let current: BTreeMap<String, String> = live
            .tags()
            .iter()
            .filter_map(|tag| Some((tag.key()?.to_string(), tag.value()?.to_string())))
            .collect();
        let to_tag: BTreeMap<String, String> = desired
            .iter()
            .filter(|(key, value)| current.get(*key) != Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let to_untag: Vec<String> = current
            .keys()
            .filter(|key| !desired.contains_key(*key))
            .cloned()
            .collect();
        if !to_tag.is_empty() {
            client
                .tag_resource()
                .secret_id(id)
                .set_tags(Some(sdk_tags(&to_tag)))
                .send()
                .await
                .map_err(|error| secret_error(error, "secretsmanager:TagResource", id))?;
        }
        if !to_untag.is_empty() {
            client
                .untag_resource()
                .secret_id(id)
                .set_tag_keys(Some(to_untag))
                .send()
                .await
                .map_err(|error| secret_error(error, "secretsmanager:UntagResource", id))?;
        }
    }
    let mut written = None;
    if let Some(value) = value {
        let token = uuid::Uuid::new_v4().to_string();
        put_value(client, id, value, &token).await?;
        written = Some(token);
    }
    if wanted("rotation") {
        let live_rotation = live_rotation(&live);
        apply_rotation(client, id, settings.rotation.as_ref(), live_rotation.as_ref()).await?;
    }
    Ok(written)
}

/// The Lambda rotation AWS reports, if rotation is on.
fn live_rotation(
    live: &aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput,
) -> Option<LambdaRotation> {
    let lambda_arn = live.rotation_lambda_arn().filter(|arn| !arn.is_empty())?;
    if live.rotation_enabled() != Some(true) {
        return None;
    }
    let rules = live.rotation_rules();
    Some(LambdaRotation {
        lambda_arn: lambda_arn.to_string(),
        every_days: rules.and_then(|rules| rules.automatically_after_days()),
        schedule_expression: rules
            .and_then(|rules| rules.schedule_expression())
            .map(str::to_string)
            .filter(|_| rules.and_then(|rules| rules.automatically_after_days()).is_none()),
        duration: rules.and_then(|rules| rules.duration()).map(str::to_string),
        rotate_immediately: true,
    })
}

/// A rotation: through the Lambda when there is one (Secrets Manager makes the new value), otherwise
/// the new value keyform generated. Returns the id of the version keyform wrote, if it wrote one.
async fn rotate(
    client: &Client,
    id: &str,
    settings: &SecretSettings,
    value: Option<&SensitiveString>,
) -> Result<Option<String>, ProviderError> {
    if let Some(rotation) = &settings.rotation {
        client
            .rotate_secret()
            .secret_id(id)
            .rotation_lambda_arn(&rotation.lambda_arn)
            .client_request_token(uuid::Uuid::new_v4().to_string())
            .send()
            .await
            .map_err(|error| secret_error(error, "secretsmanager:RotateSecret", id))?;
        return Ok(None);
    }
    let value = value.ok_or_else(|| {
        ProviderError::new(
            "NothingToRotate",
            format!("secret {id} has no rotation Lambda and no new value to write"),
        )
        .with_help("give the secret a generate({...}) value, or a rotation block with lambda_arn")
    })?;
    let token = uuid::Uuid::new_v4().to_string();
    put_value(client, id, value, &token).await?;
    Ok(Some(token))
}

/// Cancels a scheduled deletion; a secret that is not scheduled for deletion is fine.
async fn restore(client: &Client, id: &str) -> Result<(), ProviderError> {
    let live = describe(client, id).await?.ok_or_else(|| {
        ProviderError::new(
            "ResourceNotFoundException",
            format!("secret {id} no longer exists: it cannot be restored"),
        )
    })?;
    if live.deleted_date().is_some() {
        client
            .restore_secret()
            .secret_id(id)
            .send()
            .await
            .map_err(|error| secret_error(error, "secretsmanager:RestoreSecret", id))?;
    }
    Ok(())
}

/// Schedules the deletion (or deletes at once with a window of 0 or a purge); a secret already
/// scheduled for deletion, or gone, is fine.
async fn delete(client: &Client, id: &str, window: i64, purge: bool) -> Result<(), ProviderError> {
    let mut call = client.delete_secret().secret_id(id);
    call = if purge || window == 0 {
        call.force_delete_without_recovery(true)
    } else {
        call.recovery_window_in_days(window)
    };
    match call.send().await {
        Ok(_) => Ok(()),
        Err(error) if has_code(&error, "ResourceNotFoundException") => Ok(()),
        Err(error) if has_code(&error, "InvalidRequestException") => match describe(client, id).await? {
            Some(live) if live.deleted_date().is_some() && !purge => Ok(()),
            None => Ok(()),
            Some(_) => Err(secret_error(error, "secretsmanager:DeleteSecret", id)),
        },
        Err(error) => Err(secret_error(error, "secretsmanager:DeleteSecret", id)),
    }
}
