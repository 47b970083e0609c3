//! `aws_kms_grant`, the write side: CreateGrant (adopting the grant a
//! crashed create made: same name and arguments), an update that records
//! `retire_on_delete` without calling AWS, and RevokeGrant or RetireGrant.

use super::client::{has_code, provider_error};
use super::kms_grant::{Constraints, GrantSettings, grants_of, live_object, read, split_id};
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, ProviderError};
use aws_sdk_kms::Client;
use aws_sdk_kms::types::{GrantConstraints, GrantListEntry, GrantOperation};
use std::collections::HashMap;

/// Whether a grant AWS reports is the one `settings` describe (what makes CreateGrant idempotent).
fn matches(grant: &GrantListEntry, settings: &GrantSettings, name: &str) -> bool {
    let mut operations: Vec<&str> = grant.operations().iter().map(GrantOperation::as_str).collect();
    operations.sort_unstable();
    operations.dedup();
    grant.name() == Some(name)
        && grant.grantee_principal() == Some(settings.grantee_principal.as_str())
        && operations == settings.operations
        && grant.retiring_principal().filter(|principal| !principal.is_empty())
            == settings.retiring_principal.as_deref()
        && same_constraints(grant.constraints(), settings.constraints.as_ref())
}

/// Whether AWS's constraints are the configured ones; an empty map is no constraint.
fn same_constraints(live: Option<&GrantConstraints>, configured: Option<&Constraints>) -> bool {
    let present = |map: Option<&HashMap<String, String>>| map.filter(|map| !map.is_empty()).cloned();
    let live = (
        present(live.and_then(GrantConstraints::encryption_context_equals)),
        present(live.and_then(GrantConstraints::encryption_context_subset)),
    );
    let configured = (
        present(configured.and_then(|constraints| constraints.equals.as_ref())),
        present(configured.and_then(|constraints| constraints.subset.as_ref())),
    );
    live == configured
}

/// Creates, records or deletes a grant.
pub async fn apply(client: &Client, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    match &request.action {
        ApplyAction::Delete { .. } => {
            let id = existing_id(request)?;
            delete(client, id, &request.attributes).await.map(|()| None)
        }
        ApplyAction::Create { token } => {
            let settings = GrantSettings::from_attributes(&request.attributes)?;
            create(client, token, &settings, request).await.map(Some)
        }
        // Only `retire_on_delete` changes in place, and AWS does not hold it.
        ApplyAction::Update | ApplyAction::Recover => {
            GrantSettings::from_attributes(&request.attributes)?;
            let id = existing_id(request)?;
            read(client, id, &request.attributes).await?.map(Some).ok_or_else(|| {
                ProviderError::new(
                    "NotFoundException",
                    format!("KMS grant {id} no longer exists: plan again to create it"),
                )
            })
        }
        ApplyAction::Rotate => Err(ProviderError::new(
            "NotSupported",
            "an aws_kms_grant has no material to rotate: rotate the key it grants",
        )),
    }
}

async fn create(
    client: &Client,
    token: &str,
    settings: &GrantSettings,
    request: &ApplyRequest,
) -> Result<LiveObject, ProviderError> {
    let name = settings.name.clone().unwrap_or_else(|| token.to_string());
    // A repeated create (a crash before the journal) finds the grant the first one made.
    if let Some(grant) = grants_of(client, &settings.key_id, None)
        .await?
        .into_iter()
        .find(|grant| matches(grant, settings, &name))
        && let Some(grant_id) = grant.grant_id()
    {
        return Ok(live_object(&grant, &settings.key_id, grant_id, &request.attributes));
    }
    let created = client
        .create_grant()
        .key_id(&settings.key_id)
        .grantee_principal(&settings.grantee_principal)
        .set_operations(Some(sdk_operations(settings)))
        .set_constraints(sdk_constraints(settings))
        .set_retiring_principal(settings.retiring_principal.clone())
        .name(&name)
        .send()
        .await
        .map_err(|error| provider_error(error, "kms:CreateGrant", &settings.key_id))?;
    let grant_id = created
        .grant_id()
        .filter(|grant_id| !grant_id.is_empty())
        .ok_or_else(|| ProviderError::new("UnexpectedResponse", "kms:CreateGrant returned no grant id"))?;
    // A new grant may take a while to show in ListGrants (AWS is eventually consistent):
    // report what was created instead of reading it back.
    let grant = GrantListEntry::builder()
        .key_id(&settings.key_id)
        .grant_id(grant_id)
        .name(&name)
        .grantee_principal(&settings.grantee_principal)
        .set_retiring_principal(settings.retiring_principal.clone())
        .set_operations(Some(sdk_operations(settings)))
        .set_constraints(sdk_constraints(settings))
        .build();
    Ok(live_object(&grant, &settings.key_id, grant_id, &request.attributes))
}

fn sdk_operations(settings: &GrantSettings) -> Vec<GrantOperation> {
    settings
        .operations
        .iter()
        .map(|operation| GrantOperation::from(operation.as_str()))
        .collect()
}

fn sdk_constraints(settings: &GrantSettings) -> Option<GrantConstraints> {
    settings.constraints.as_ref().map(|constraints| {
        GrantConstraints::builder()
            .set_encryption_context_equals(constraints.equals.clone())
            .set_encryption_context_subset(constraints.subset.clone())
            .build()
    })
}

/// Retires or revokes a grant; one already gone is fine.
async fn delete(client: &Client, id: &str, attributes: &Attributes) -> Result<(), ProviderError> {
    let (key_id, grant_id) = split_id(id)?;
    let retire = attributes
        .get("retire_on_delete")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let result = if retire {
        client
            .retire_grant()
            .key_id(key_id)
            .grant_id(grant_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                let gone = has_code(&error, "NotFoundException");
                (gone, provider_error(error, "kms:RetireGrant", id))
            })
    } else {
        client
            .revoke_grant()
            .key_id(key_id)
            .grant_id(grant_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                let gone = has_code(&error, "NotFoundException");
                (gone, provider_error(error, "kms:RevokeGrant", id))
            })
    };
    match result {
        Ok(()) | Err((true, _)) => Ok(()),
        Err((false, error)) => Err(error),
    }
}

fn existing_id(request: &ApplyRequest) -> Result<&str, ProviderError> {
    request
        .id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::new("MissingId", "an aws_kms_grant change needs the grant's id"))
}
