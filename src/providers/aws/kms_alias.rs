//! `aws_kms_alias`: a friendly name (`alias/payments`) for a KMS key.
//!
//! An alias is addressed by its name, which is also keyform's id: it has no
//! tags, so a create is made idempotent by the name itself. CreateAlias on a
//! name that already points at the configured key adopts that alias;
//! `find_by_token` finds an alias by the configured name, and
//! `lookup_existing` reports an alias of that name before a create.
//! Retargeting (`target_key_id`) is an update in place (UpdateAlias); a new
//! name replaces the alias. Deletion (DeleteAlias) is immediate and final.
//!
//! `target_key_id` is reported in the form the configuration or state used
//! (a key id or a key ARN) as long as it names the key AWS reports, so giving
//! an ARN is no perpetual diff.

use super::client::{has_code, provider_error};
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError};
use aws_sdk_kms::Client;
use aws_sdk_kms::types::AliasListEntry;
use std::collections::BTreeMap;

/// Every alias name starts with this.
const ALIAS_PREFIX: &str = "alias/";
/// Aliases of AWS-managed keys: reserved, never keyform's.
const AWS_ALIAS_PREFIX: &str = "alias/aws/";

/// What a configuration asks of an alias.
#[derive(Debug, Clone, PartialEq)]
struct AliasSettings {
    name: String,
    target_key_id: String,
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new("InvalidParameter", message)
}

/// Checks an alias name as AWS would, with keyform's words.
pub fn check_name(name: &str) -> Result<(), ProviderError> {
    if !name.starts_with(ALIAS_PREFIX) || name.len() == ALIAS_PREFIX.len() {
        return Err(
            invalid(format!("alias name `{name}` must start with `alias/`")).with_help(
                "write the name as `alias/` followed by letters, digits, `/`, `_` or `-`, such as `alias/payments`",
            ),
        );
    }
    if name.starts_with(AWS_ALIAS_PREFIX) {
        return Err(invalid(format!(
            "alias name `{name}` is reserved: names under `alias/aws/` belong to AWS-managed keys"
        ))
        .with_help("choose a name outside `alias/aws/`"));
    }
    Ok(())
}

impl AliasSettings {
    fn from_attributes(attributes: &Attributes) -> Result<AliasSettings, ProviderError> {
        let text = |name: &str| {
            attributes
                .get(name)
                .and_then(serde_json::Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let name = text("name").ok_or_else(|| invalid("an aws_kms_alias needs `name`".to_string()))?;
        check_name(&name)?;
        let target_key_id =
            text("target_key_id").ok_or_else(|| invalid("an aws_kms_alias needs `target_key_id`".to_string()))?;
        Ok(AliasSettings { name, target_key_id })
    }
}

/// Whether `configured` (a key id or key ARN) names the key whose id is `key_id`.
pub fn names_key(configured: &str, key_id: &str) -> bool {
    configured == key_id || configured.ends_with(&format!(":key/{key_id}"))
}

/// The alias name an import id or ARN stands for (`arn:aws:kms:...:alias/x` is `alias/x`).
pub fn name_from_id(id: &str) -> String {
    match id.split_once(":alias/") {
        Some((_, rest)) if id.starts_with("arn:") => format!("{ALIAS_PREFIX}{rest}"),
        _ => id.to_string(),
    }
}

/// Every alias in the account and region, or only those of the key `key_id`.
async fn all_aliases(client: &Client, key_id: Option<&str>) -> Result<Vec<AliasListEntry>, ProviderError> {
    let mut entries = client
        .list_aliases()
        .set_key_id(key_id.map(str::to_string))
        .into_paginator()
        .items()
        .send();
    let mut aliases = Vec::new();
    while let Some(entry) = entries.next().await {
        aliases.push(entry.map_err(|error| provider_error(error, "kms:ListAliases", key_id.unwrap_or("*")))?);
    }
    Ok(aliases)
}

/// Reads the alias `name`; Ok(None) when there is none. `prior` holds what state recorded
/// (or what a change asked for): its `target_key_id` form is kept while it names the same key.
/// The aliases of that key are looked at first (one short page), every alias only when the
/// alias is not among them.
pub async fn read(client: &Client, name: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let name = name_from_id(name);
    let named = |entry: &&AliasListEntry| entry.alias_name() == Some(name.as_str());
    if let Some(key_id) = prior.get("target_key_id").and_then(serde_json::Value::as_str) {
        match all_aliases(client, Some(key_id)).await {
            Ok(aliases) => {
                if let Some(entry) = aliases.iter().find(named) {
                    return Ok(Some(live_object(entry, &name, prior)));
                }
            }
            // The key is gone, or hidden from this caller: look through every alias.
            Err(error) if error.code == "NotFoundException" || error.code == "AccessDeniedException" => {}
            Err(error) => return Err(error),
        }
    }
    let aliases = all_aliases(client, None).await?;
    Ok(aliases.iter().find(named).map(|entry| live_object(entry, &name, prior)))
}

fn live_object(entry: &AliasListEntry, name: &str, prior: &Attributes) -> LiveObject {
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), name.into());
    attributes.insert("name".into(), name.into());
    let alias_arn = entry.alias_arn().unwrap_or_default();
    attributes.insert("arn".into(), alias_arn.into());
    if let Some(key_id) = entry.target_key_id() {
        let recorded = prior
            .get("target_key_id")
            .and_then(serde_json::Value::as_str)
            .filter(|recorded| names_key(recorded, key_id));
        attributes.insert("target_key_id".into(), recorded.unwrap_or(key_id).into());
        // An alias ARN is `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME`; its key's is `...:key/ID`.
        if let Some((prefix, _)) = alias_arn.split_once(":alias/") {
            attributes.insert("target_key_arn".into(), format!("{prefix}:key/{key_id}").into());
        }
    }
    LiveObject {
        id: name.to_string(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// The names of the aliases keyform may manage: all but AWS's own.
pub async fn list(client: &Client) -> Result<Vec<String>, ProviderError> {
    Ok(all_aliases(client, None)
        .await?
        .iter()
        .filter_map(AliasListEntry::alias_name)
        .filter(|name| !name.starts_with(AWS_ALIAS_PREFIX))
        .map(str::to_string)
        .collect())
}

/// The alias of the configured name, if it exists (for `find_by_token` and `lookup_existing`).
pub async fn find_by_name(client: &Client, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    match attributes.get("name").and_then(serde_json::Value::as_str) {
        Some(name) if !name.is_empty() => read(client, name, attributes).await,
        _ => Ok(None),
    }
}

/// Creates, retargets or deletes an alias.
pub async fn apply(client: &Client, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    match &request.action {
        ApplyAction::Delete { .. } => {
            let name = existing_name(request)?;
            match client.delete_alias().alias_name(name).send().await {
                Ok(_) => Ok(None),
                Err(error) if has_code(&error, "NotFoundException") => Ok(None),
                Err(error) => Err(provider_error(error, "kms:DeleteAlias", name)),
            }
        }
        ApplyAction::Create { .. } => {
            let settings = AliasSettings::from_attributes(&request.attributes)?;
            create(client, &settings, request).await.map(Some)
        }
        ApplyAction::Update | ApplyAction::Recover => {
            let settings = AliasSettings::from_attributes(&request.attributes)?;
            let name = existing_name(request)?;
            client
                .update_alias()
                .alias_name(name)
                .target_key_id(&settings.target_key_id)
                .send()
                .await
                .map_err(|error| provider_error(error, "kms:UpdateAlias", name))?;
            reread(client, name, request).await.map(Some)
        }
        ApplyAction::Rotate => Err(ProviderError::new(
            "NotSupported",
            "an aws_kms_alias has no material to rotate: rotate the key it points at",
        )),
    }
}

async fn create(
    client: &Client,
    settings: &AliasSettings,
    request: &ApplyRequest,
) -> Result<LiveObject, ProviderError> {
    let created = client
        .create_alias()
        .alias_name(&settings.name)
        .target_key_id(&settings.target_key_id)
        .send()
        .await;
    match created {
        Ok(_) => reread(client, &settings.name, request).await,
        Err(error) if has_code(&error, "AlreadyExistsException") => {
            // A repeated create (a crash before the journal) finds the alias it made: adopt it
            // when it points at the configured key, refuse to take over one that points elsewhere.
            match read(client, &settings.name, &request.attributes).await? {
                Some(live)
                    if live
                        .attributes
                        .get("target_key_id")
                        .and_then(serde_json::Value::as_str)
                        == Some(settings.target_key_id.as_str()) =>
                {
                    Ok(live)
                }
                _ => Err(provider_error(error, "kms:CreateAlias", &settings.name).with_help(format!(
                    "`{}` already exists and points at another key: adopt it with `keyform import ADDRESS {}` (an update then retargets it), or choose another name",
                    settings.name, settings.name
                ))),
            }
        }
        Err(error) => Err(provider_error(error, "kms:CreateAlias", &settings.name)),
    }
}

fn existing_name(request: &ApplyRequest) -> Result<&str, ProviderError> {
    request
        .id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::new("MissingId", "an aws_kms_alias change needs the alias name"))
}

async fn reread(client: &Client, name: &str, request: &ApplyRequest) -> Result<LiveObject, ProviderError> {
    read(client, name, &request.attributes).await?.ok_or_else(|| {
        ProviderError::new(
            "NotFoundException",
            format!("KMS alias {name} was not found after it was changed"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{AliasSettings, name_from_id, names_key};
    use crate::provider::attributes_from_json as attributes;

    #[test]
    fn names_are_checked() {
        let settings = AliasSettings::from_attributes(&attributes(serde_json::json!({
            "name": "alias/payments", "target_key_id": "1234"
        })))
        .expect("valid");
        assert_eq!(settings.name, "alias/payments");
        for wrong in ["payments", "alias/", "alias/aws/s3"] {
            let error = AliasSettings::from_attributes(&attributes(serde_json::json!({
                "name": wrong, "target_key_id": "1234"
            })))
            .expect_err(wrong);
            assert_eq!(error.code, "InvalidParameter");
            assert!(error.help.is_some(), "{wrong}");
        }
        assert!(AliasSettings::from_attributes(&attributes(serde_json::json!({ "name": "alias/x" }))).is_err());
    }

    #[test]
    fn a_key_is_named_by_its_id_or_its_arn() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(names_key(id, id));
        assert!(names_key(&format!("arn:aws:kms:us-east-1:111122223333:key/{id}"), id));
        assert!(!names_key("arn:aws:kms:us-east-1:111122223333:key/other", id));
        assert_eq!(
            name_from_id("arn:aws:kms:us-east-1:111122223333:alias/payments"),
            "alias/payments"
        );
        assert_eq!(name_from_id("alias/payments"), "alias/payments");
    }
}
