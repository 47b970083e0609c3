//! `azurerm_key_vault_secret`, the write side: create (the first version is
//! tagged with the journal's token; a soft-deleted secret of the name is
//! recovered when `recover_soft_deleted_secrets` is on, then updated),
//! update (a new value is a new version carrying the content type, dates and
//! tags; otherwise the current version's properties change), rotate (a new
//! version with a new generated value), and destroy
//! ([`super::objects::destroy`]: soft delete, a purge only when asked and
//! allowed).
//!
//! **A value reaches Azure only in the body of SetSecret.**

use super::connection::Connection;
use super::data_plane::{body, configured_tags, date_attributes};
use super::errors::{AzureFailure, sdk_error};
use super::ids::ObjectId;
use super::kind::Kind;
use super::objects::{Existing, before_create, destroy, recover, reread, target};
use super::soft_delete::retry_through;
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, ProviderError};
use crate::secret::SensitiveString;
use azure_security_keyvault_secrets::SecretClient;

/// Carries out one apply request for an `azurerm_key_vault_secret`.
pub async fn apply(connection: &Connection, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let attributes = &request.attributes;
    let object = target(connection, Kind::Secret, request)?;
    let client = connection.secret_client(&object.vault_uri)?;
    let id = object.versionless(Kind::Secret.collection());
    let value = request.secrets.get("value");
    match &request.action {
        ApplyAction::Create { token } => match before_create(connection, Kind::Secret, &object, token).await? {
            // A create repeated after a crash: the first call wrote the value.
            Existing::Ours => update(&client, &object, attributes, None).await?,
            Existing::SoftDeleted => recover_and_update(connection, &client, &object, attributes, value).await?,
            Existing::Free => {
                let value = value.ok_or_else(|| {
                    ProviderError::new("MissingValue", format!("secret `{id}` needs a value to be created"))
                })?;
                let fields = properties(attributes, Some(token))?;
                match set(&client, &object, &fields, value).await {
                    Err(error) if AzureFailure::from_sdk(&error).is("ObjectIsDeletedButRecoverable") => {
                        recover_and_update(connection, &client, &object, attributes, Some(value)).await?;
                    }
                    Err(error) => return Err(sdk_error(error, "secrets:set", &id)),
                    Ok(()) => {}
                }
            }
        },
        ApplyAction::Update => update(&client, &object, attributes, value).await?,
        ApplyAction::Recover => recover_and_update(connection, &client, &object, attributes, value).await?,
        ApplyAction::Rotate => {
            let value = value.ok_or_else(|| {
                ProviderError::new("NothingToRotate", format!("secret {id} has no new value to write"))
                    .with_help("give the secret a generate({...}) value to rotate it")
            })?;
            update(&client, &object, attributes, Some(value)).await?;
        }
        ApplyAction::Delete { purge } => {
            destroy(connection, Kind::Secret, &object, *purge).await?;
            return Ok(None);
        }
    }
    reread(connection, Kind::Secret, &object, attributes).await.map(Some)
}

/// The properties every version carries: content type, dates and tags (with the token on a create).
fn properties(
    attributes: &Attributes,
    token: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
    let mut fields = serde_json::Map::new();
    if let Some(content_type) = attributes.get("content_type").and_then(serde_json::Value::as_str) {
        fields.insert("contentType".into(), content_type.into());
    }
    let dates = date_attributes(attributes)?;
    if !dates.is_empty() {
        fields.insert("attributes".into(), serde_json::Value::Object(dates));
    }
    if token.is_some() || attributes.get("tags").is_some_and(|tags| !tags.is_null()) {
        fields.insert("tags".into(), configured_tags(attributes, token)?);
    }
    Ok(fields)
}

/// SetSecret: a new current version holding `value`, with `fields` (from [`properties`]).
async fn set(
    client: &SecretClient,
    object: &ObjectId,
    fields: &serde_json::Map<String, serde_json::Value>,
    value: &SensitiveString,
) -> Result<(), azure_core::Error> {
    let mut fields = fields.clone();
    fields.insert("value".into(), value.expose().into());
    let request = body(&serde_json::Value::Object(fields));
    client.set_secret(&object.name, request, None).await.map(|_| ())
}

async fn recover_and_update(
    connection: &Connection,
    client: &SecretClient,
    object: &ObjectId,
    attributes: &Attributes,
    value: Option<&SensitiveString>,
) -> Result<(), ProviderError> {
    recover(connection, Kind::Secret, object).await?;
    update(client, object, attributes, value).await
}

/// Writes `value` as a new version when given, else makes the current version's properties what the
/// configuration says.
async fn update(
    client: &SecretClient,
    object: &ObjectId,
    attributes: &Attributes,
    value: Option<&SensitiveString>,
) -> Result<(), ProviderError> {
    let id = object.versionless(Kind::Secret.collection());
    let fields = properties(attributes, None)?;
    if let Some(value) = value {
        return retry_through(|| async {
            set(client, object, &fields, value)
                .await
                .map_err(|error| sdk_error(error, "secrets:set", &id))
        })
        .await;
    }
    if fields.is_empty() {
        return Ok(());
    }
    let request = serde_json::Value::Object(fields);
    retry_through(|| async {
        client
            .update_secret_properties(&object.name, body(&request), None)
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(error, "secrets:update", &id))
    })
    .await
}
