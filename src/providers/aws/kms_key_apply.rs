//! `aws_kms_key`, the write side: create (idempotent through the
//! `keyform:create-token` tag), update (only what differs from AWS),
//! delete (ScheduleKeyDeletion: recoverable for the deletion window),
//! recover (CancelKeyDeletion and EnableKey, then the update) and rotate
//! (RotateKeyOnDemand).
//!
//! `key_usage`, `customer_master_key_spec` and `multi_region` cannot change
//! in place: the core plans a replacement, and an update leaves them alone.

use super::client::{has_code, provider_error};
use super::kms_key::{KeySettings, TokenIndex, read};
use super::retry::retry_while_principal_not_visible;
use super::tags;
use crate::provider::{ApplyAction, ApplyRequest, LiveObject, LiveStatus, ProviderError};
use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeySpec, KeyUsageType};

/// Carries out one apply request for an `aws_kms_key`.
pub async fn apply(
    client: &Client,
    index: &TokenIndex,
    request: &ApplyRequest,
) -> Result<Option<LiveObject>, ProviderError> {
    let settings = KeySettings::from_attributes(&request.attributes)?;
    match &request.action {
        ApplyAction::Create { token } => create(client, index, token, request, &settings).await.map(Some),
        ApplyAction::Update => {
            let id = existing_id(request)?;
            // The compliance suite and some callers name no changed attributes: then compare everything.
            let only = (!request.changed.is_empty()).then_some(request.changed.as_slice());
            update(client, id, &settings, only).await?;
            reread(client, id, request).await.map(Some)
        }
        ApplyAction::Recover => {
            let id = existing_id(request)?;
            recover(client, id, &settings).await?;
            update(client, id, &settings, Some(request.changed.as_slice())).await?;
            reread(client, id, request).await.map(Some)
        }
        ApplyAction::Rotate => {
            let id = existing_id(request)?;
            client
                .rotate_key_on_demand()
                .key_id(id)
                .send()
                .await
                .map_err(|error| provider_error(error, "kms:RotateKeyOnDemand", id))?;
            reread(client, id, request).await.map(Some)
        }
        ApplyAction::Delete { purge } => {
            let id = existing_id(request)?;
            // AWS never deletes a key at once: a purge gets the shortest window it allows.
            let window = if *purge { 7 } else { settings.deletion_window_in_days };
            schedule_deletion(client, id, window).await?;
            Ok(None)
        }
    }
}

fn existing_id(request: &ApplyRequest) -> Result<&str, ProviderError> {
    request
        .id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::new("MissingId", "an aws_kms_key change needs the key's id"))
}

async fn reread(client: &Client, id: &str, request: &ApplyRequest) -> Result<LiveObject, ProviderError> {
    read(client, id, &request.attributes).await?.ok_or_else(|| {
        ProviderError::new(
            "NotFoundException",
            format!("KMS key {id} was not found after it was changed"),
        )
    })
}

async fn create(
    client: &Client,
    index: &TokenIndex,
    token: &str,
    request: &ApplyRequest,
    settings: &KeySettings,
) -> Result<LiveObject, ProviderError> {
    // A repeated create (a crash between the call and the journal) finds the first key.
    // If that crash came before the settings made after CreateKey (rotation, disabling), make them now.
    if let Some(id) = index.find(client, token).await?
        && let Some(found) = read(client, &id, &request.attributes).await?
    {
        if found.status != LiveStatus::Active {
            return Ok(found);
        }
        update(client, &id, settings, None).await?;
        return reread(client, &id, request).await;
    }
    let mut key_tags = settings.tags.clone().unwrap_or_default();
    key_tags.insert(tags::TOKEN_TAG.to_string(), token.to_string());
    let mut call = client
        .create_key()
        .set_tags(Some(tags::to_sdk(&key_tags)?))
        .bypass_policy_lockout_safety_check(settings.bypass_policy_lockout_safety_check);
    if let Some(description) = &settings.description {
        call = call.description(description);
    }
    if let Some(usage) = &settings.key_usage {
        call = call.key_usage(KeyUsageType::from(usage.as_str()));
    }
    if let Some(spec) = &settings.key_spec {
        call = call.key_spec(KeySpec::from(spec.as_str()));
    }
    if let Some(policy) = &settings.policy {
        call = call.policy(policy);
    }
    if let Some(multi_region) = settings.multi_region {
        call = call.multi_region(multi_region);
    }
    let created = retry_while_principal_not_visible("kms:CreateKey", "*", || call.clone().send()).await?;
    let id = created
        .key_metadata()
        .map(|metadata| metadata.key_id().to_string())
        .ok_or_else(|| ProviderError::new("UnexpectedResponse", "kms:CreateKey returned no key metadata"))?;
    index.remember(&id, token).await;
    if settings.enable_key_rotation == Some(true) {
        enable_rotation(client, &id, settings.rotation_period_in_days).await?;
    }
    if settings.is_enabled == Some(false) {
        set_enabled(client, &id, false).await?;
    }
    read(client, &id, &request.attributes).await?.ok_or_else(|| {
        ProviderError::new(
            "NotFoundException",
            format!("KMS key {id} was not found after its creation"),
        )
    })
}

/// Changes what differs between AWS and `settings`; with `only`, just those attributes.
async fn update(
    client: &Client,
    id: &str,
    settings: &KeySettings,
    only: Option<&[String]>,
) -> Result<(), ProviderError> {
    let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|changed| changed == name));
    let live = read(client, id, &Default::default())
        .await?
        .ok_or_else(|| ProviderError::new("NotFoundException", format!("KMS key {id} does not exist")))?;
    let current = &live.attributes;
    let text = |name: &str| current.get(name).and_then(serde_json::Value::as_str);
    let flag = |name: &str| current.get(name).and_then(serde_json::Value::as_bool);

    if let Some(description) = &settings.description
        && wanted("description")
        && text("description") != Some(description.as_str())
    {
        client
            .update_key_description()
            .key_id(id)
            .description(description)
            .send()
            .await
            .map_err(|error| provider_error(error, "kms:UpdateKeyDescription", id))?;
    }
    if let Some(policy) = &settings.policy
        && wanted("policy")
        && text("policy") != Some(policy.as_str())
    {
        let call = client
            .put_key_policy()
            .key_id(id)
            .policy_name("default")
            .policy(policy)
            .bypass_policy_lockout_safety_check(settings.bypass_policy_lockout_safety_check);
        retry_while_principal_not_visible("kms:PutKeyPolicy", id, || call.clone().send()).await?;
    }
    // Enable before changing rotation (a disabled key refuses it), disable after.
    let enable = settings.is_enabled.filter(|_| wanted("is_enabled"));
    if enable == Some(true) && flag("is_enabled") == Some(false) {
        set_enabled(client, id, true).await?;
    }
    let rotation_wanted = wanted("enable_key_rotation") || wanted("rotation_period_in_days");
    let rotating = flag("enable_key_rotation").unwrap_or(false);
    let want_rotation = settings.enable_key_rotation.unwrap_or(rotating);
    let live_period = current
        .get("rotation_period_in_days")
        .and_then(serde_json::Value::as_i64);
    let period_differs = settings
        .rotation_period_in_days
        .is_some_and(|period| live_period != Some(i64::from(period)));
    if rotation_wanted {
        if want_rotation && (!rotating || (period_differs && wanted("rotation_period_in_days"))) {
            enable_rotation(client, id, settings.rotation_period_in_days).await?;
        } else if !want_rotation && rotating {
            client
                .disable_key_rotation()
                .key_id(id)
                .send()
                .await
                .map_err(|error| provider_error(error, "kms:DisableKeyRotation", id))?;
        }
    }
    if let Some(desired_tags) = &settings.tags
        && wanted("tags")
    {
        tags::apply(client, id, desired_tags).await?;
    }
    if enable == Some(false) && flag("is_enabled") == Some(true) {
        set_enabled(client, id, false).await?;
    }
    Ok(())
}

async fn enable_rotation(client: &Client, id: &str, period: Option<i32>) -> Result<(), ProviderError> {
    client
        .enable_key_rotation()
        .key_id(id)
        .set_rotation_period_in_days(period)
        .send()
        .await
        .map_err(|error| provider_error(error, "kms:EnableKeyRotation", id))?;
    Ok(())
}

async fn set_enabled(client: &Client, id: &str, enabled: bool) -> Result<(), ProviderError> {
    if enabled {
        client
            .enable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|error| provider_error(error, "kms:EnableKey", id))?;
    } else {
        client
            .disable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|error| provider_error(error, "kms:DisableKey", id))?;
    }
    Ok(())
}

/// Cancels a scheduled deletion and enables the key, unless the configuration wants it disabled.
async fn recover(client: &Client, id: &str, settings: &KeySettings) -> Result<(), ProviderError> {
    let live = read(client, id, &Default::default()).await?.ok_or_else(|| {
        ProviderError::new(
            "NotFoundException",
            format!("KMS key {id} no longer exists: it cannot be recovered"),
        )
    })?;
    if matches!(live.status, LiveStatus::PendingDeletion { .. }) {
        client
            .cancel_key_deletion()
            .key_id(id)
            .send()
            .await
            .map_err(|error| provider_error(error, "kms:CancelKeyDeletion", id))?;
        // A cancelled key comes back disabled.
        if settings.is_enabled != Some(false) {
            set_enabled(client, id, true).await?;
        }
    }
    Ok(())
}

/// Schedules the deletion; a key already pending deletion or gone is fine.
async fn schedule_deletion(client: &Client, id: &str, window: i32) -> Result<(), ProviderError> {
    match client
        .schedule_key_deletion()
        .key_id(id)
        .pending_window_in_days(window)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if has_code(&error, "NotFoundException") => Ok(()),
        Err(error) if has_code(&error, "KMSInvalidStateException") => {
            match read(client, id, &Default::default()).await? {
                Some(live) if matches!(live.status, LiveStatus::PendingDeletion { .. }) => Ok(()),
                None => Ok(()),
                Some(_) => Err(provider_error(error, "kms:ScheduleKeyDeletion", id)),
            }
        }
        Err(error) => Err(provider_error(error, "kms:ScheduleKeyDeletion", id)),
    }
}
