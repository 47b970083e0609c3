//! `aws_kms_grant`, the read side: a grant that lets a principal (often
//! another account's) use a KMS key for some operations; what a grant looks
//! like to keyform (ListGrants), finding the grant a create made, listing,
//! and the settings a configuration asks for. The write side is
//! [`super::kms_grant_apply`].
//!
//! keyform's id is Terraform's: `<key_id>:<grant_id>`, with the key as the
//! configuration named it (a key id or a key ARN). Every argument but
//! `retire_on_delete` forces a new grant, since AWS cannot change a grant;
//! `retire_on_delete` only says how the grant will be deleted, so changing
//! it touches nothing at AWS. The grant token is never exported: it is
//! sensitive and short-lived.
//!
//! A create names the grant: its `name` if the configuration gives one, else
//! the journal's token. A grant's name makes CreateGrant idempotent at AWS,
//! and lets `find_by_token` (and a repeated create) find the grant a crashed
//! create made, by listing the key's grants. Operations are reported sorted,
//! and the core compares them as a set. Deletion (RevokeGrant, or RetireGrant
//! with `retire_on_delete`) is immediate and final.

use super::client::{has_code, provider_error};
use crate::provider::{Attributes, LiveObject, LiveStatus, ProviderError};
use aws_sdk_kms::Client;
use aws_sdk_kms::types::{GrantListEntry, GrantOperation};
use std::collections::{BTreeMap, HashMap};

/// The `constraints` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Constraints {
    pub(super) equals: Option<HashMap<String, String>>,
    pub(super) subset: Option<HashMap<String, String>>,
}

/// What a configuration asks of a grant.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GrantSettings {
    pub(super) name: Option<String>,
    pub(super) key_id: String,
    pub(super) grantee_principal: String,
    /// Sorted, without repeats.
    pub(super) operations: Vec<String>,
    pub(super) constraints: Option<Constraints>,
    pub(super) retiring_principal: Option<String>,
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new("InvalidParameter", message)
}

fn string_map(value: Option<&serde_json::Value>, name: &str) -> Result<Option<HashMap<String, String>>, ProviderError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(entries)) => entries
            .iter()
            .map(|(key, inner)| {
                inner
                    .as_str()
                    .map(|text| (key.clone(), text.to_string()))
                    .ok_or_else(|| invalid(format!("constraints.{name}: `{key}` must be a string")))
            })
            .collect::<Result<HashMap<_, _>, _>>()
            .map(Some),
        Some(other) => Err(invalid(format!(
            "constraints.{name} must be a map of strings, not {other}"
        ))),
    }
}

impl GrantSettings {
    pub(super) fn from_attributes(attributes: &Attributes) -> Result<GrantSettings, ProviderError> {
        let text = |name: &str| {
            attributes
                .get(name)
                .and_then(serde_json::Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let required = |name: &str| text(name).ok_or_else(|| invalid(format!("an aws_kms_grant needs `{name}`")));
        let mut operations = Vec::new();
        for operation in attributes
            .get("operations")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            let operation = operation
                .as_str()
                .ok_or_else(|| invalid(format!("operations must be strings, not {operation}")))?;
            if !GrantOperation::values().contains(&operation) {
                return Err(invalid(format!("`{operation}` is not a KMS grant operation"))
                    .with_help(format!("use some of: {}", GrantOperation::values().join(", "))));
            }
            operations.push(operation.to_string());
        }
        operations.sort();
        operations.dedup();
        if operations.is_empty() {
            return Err(invalid(
                "an aws_kms_grant needs at least one of `operations`".to_string(),
            ));
        }
        let constraints = match attributes.get("constraints") {
            None | Some(serde_json::Value::Null) => None,
            Some(block) => {
                let constraints = Constraints {
                    equals: string_map(block.get("encryption_context_equals"), "encryption_context_equals")?,
                    subset: string_map(block.get("encryption_context_subset"), "encryption_context_subset")?,
                };
                if constraints.equals.is_some() && constraints.subset.is_some() {
                    return Err(invalid(
                        "constraints takes encryption_context_equals or encryption_context_subset, not both"
                            .to_string(),
                    ));
                }
                Some(constraints)
            }
        };
        Ok(GrantSettings {
            name: text("name"),
            key_id: required("key_id")?,
            grantee_principal: required("grantee_principal")?,
            operations,
            constraints,
            retiring_principal: text("retiring_principal"),
        })
    }
}

/// Splits `<key_id>:<grant_id>`; the key may be an ARN, which holds colons itself.
pub fn split_id(id: &str) -> Result<(&str, &str), ProviderError> {
    id.rsplit_once(':')
        .filter(|(key_id, grant_id)| !key_id.is_empty() && !grant_id.is_empty())
        .ok_or_else(|| {
            invalid(format!("`{id}` is not a grant id")).with_help(
                "a grant's id is `<key_id>:<grant_id>`, such as `1234abcd-12ab-34cd-56ef-1234567890ab:0c237476b39f8bc44e45212e08498fbe`",
            )
        })
}

/// Every grant on a key (or only the one with `grant_id`); an empty list when the key does not exist.
pub(super) async fn grants_of(
    client: &Client,
    key_id: &str,
    grant_id: Option<&str>,
) -> Result<Vec<GrantListEntry>, ProviderError> {
    let mut entries = client
        .list_grants()
        .key_id(key_id)
        .set_grant_id(grant_id.map(str::to_string))
        .into_paginator()
        .items()
        .send();
    let mut grants = Vec::new();
    while let Some(entry) = entries.next().await {
        match entry {
            Ok(grant) => grants.push(grant),
            Err(error) if has_code(&error, "NotFoundException") => return Ok(Vec::new()),
            Err(error) => return Err(provider_error(error, "kms:ListGrants", key_id)),
        }
    }
    Ok(grants)
}

/// Reads the grant `<key_id>:<grant_id>`; Ok(None) when it or its key is gone.
/// `prior` holds what state recorded, for `retire_on_delete`, which AWS does not know.
pub async fn read(client: &Client, id: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let (key_id, grant_id) = split_id(id)?;
    let found = grants_of(client, key_id, Some(grant_id))
        .await?
        .into_iter()
        .find(|grant| grant.grant_id() == Some(grant_id));
    Ok(found.map(|grant| live_object(&grant, key_id, grant_id, prior)))
}

fn map_value(map: &HashMap<String, String>) -> serde_json::Value {
    let sorted: BTreeMap<&String, &String> = map.iter().collect();
    serde_json::Value::Object(
        sorted
            .into_iter()
            .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
            .collect(),
    )
}

pub(super) fn live_object(grant: &GrantListEntry, key_id: &str, grant_id: &str, prior: &Attributes) -> LiveObject {
    let id = format!("{key_id}:{grant_id}");
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), id.clone().into());
    attributes.insert("grant_id".into(), grant_id.into());
    attributes.insert("key_id".into(), key_id.into());
    if let Some(name) = grant.name().filter(|name| !name.is_empty()) {
        attributes.insert("name".into(), name.into());
    }
    if let Some(grantee) = grant.grantee_principal() {
        attributes.insert("grantee_principal".into(), grantee.into());
    }
    if let Some(retiring) = grant.retiring_principal().filter(|principal| !principal.is_empty()) {
        attributes.insert("retiring_principal".into(), retiring.into());
    }
    let mut operations: Vec<&str> = grant.operations().iter().map(GrantOperation::as_str).collect();
    operations.sort_unstable();
    operations.dedup();
    attributes.insert("operations".into(), operations.into());
    if let Some(constraints) = grant.constraints() {
        let mut block = serde_json::Map::new();
        if let Some(equals) = constraints.encryption_context_equals().filter(|map| !map.is_empty()) {
            block.insert("encryption_context_equals".into(), map_value(equals));
        }
        if let Some(subset) = constraints.encryption_context_subset().filter(|map| !map.is_empty()) {
            block.insert("encryption_context_subset".into(), map_value(subset));
        }
        if !block.is_empty() {
            attributes.insert("constraints".into(), serde_json::Value::Object(block));
        }
    }
    if let Some(retire) = prior.get("retire_on_delete").filter(|value| !value.is_null()) {
        attributes.insert("retire_on_delete".into(), retire.clone());
    }
    LiveObject {
        id,
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// Ids of the grants on every key `aws_kms_key` lists (active, customer-managed).
pub async fn list(client: &Client) -> Result<Vec<String>, ProviderError> {
    let mut ids = Vec::new();
    for key_id in super::kms_key::list(client).await? {
        let grants = match grants_of(client, &key_id, None).await {
            Ok(grants) => grants,
            // A key this caller may not look into, or one that changed state since the listing.
            Err(error) if error.code == "AccessDeniedException" || error.code == "KMSInvalidStateException" => {
                continue;
            }
            Err(error) => return Err(error),
        };
        ids.extend(
            grants
                .iter()
                .filter_map(GrantListEntry::grant_id)
                .map(|grant_id| format!("{key_id}:{grant_id}")),
        );
    }
    Ok(ids)
}

/// The grant on the configured key named `token` (or the configured name): what a create with
/// this token made.
pub async fn find_by_token(
    client: &Client,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(key_id) = attributes.get("key_id").and_then(serde_json::Value::as_str) else {
        return Ok(None);
    };
    let configured = attributes.get("name").and_then(serde_json::Value::as_str);
    let found = grants_of(client, key_id, None).await?.into_iter().find(|grant| {
        grant
            .name()
            .is_some_and(|name| name == token || Some(name) == configured)
    });
    Ok(found.and_then(|grant| {
        let grant_id = grant.grant_id()?.to_string();
        Some(live_object(&grant, key_id, &grant_id, attributes))
    }))
}

#[cfg(test)]
mod tests {
    use super::{GrantSettings, split_id};
    use crate::provider::attributes_from_json as attributes;

    #[test]
    fn ids_split_at_the_last_colon() {
        assert_eq!(split_id("key:grant").expect("an id"), ("key", "grant"));
        let arn = "arn:aws:kms:us-east-1:111122223333:key/1234";
        assert_eq!(split_id(&format!("{arn}:abcd")).expect("an id"), (arn, "abcd"));
        assert!(split_id("no-colon").is_err());
        assert!(split_id("key:").is_err());
    }

    #[test]
    fn settings_are_checked() {
        let settings = GrantSettings::from_attributes(&attributes(serde_json::json!({
            "key_id": "1234",
            "grantee_principal": "arn:aws:iam::111122223333:root",
            "operations": ["GenerateDataKey", "Encrypt", "Decrypt", "Encrypt"],
            "constraints": { "encryption_context_equals": { "team": "audit" } },
        })))
        .expect("valid");
        assert_eq!(settings.operations, vec!["Decrypt", "Encrypt", "GenerateDataKey"]);
        for wrong in [
            serde_json::json!({ "key_id": "k", "grantee_principal": "p", "operations": ["Fly"] }),
            serde_json::json!({ "key_id": "k", "grantee_principal": "p", "operations": [] }),
            serde_json::json!({ "grantee_principal": "p", "operations": ["Encrypt"] }),
            serde_json::json!({ "key_id": "k", "grantee_principal": "p", "operations": ["Encrypt"],
                "constraints": { "encryption_context_equals": {}, "encryption_context_subset": {} } }),
        ] {
            assert!(
                GrantSettings::from_attributes(&attributes(wrong.clone())).is_err(),
                "{wrong}"
            );
        }
    }
}
