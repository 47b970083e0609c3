//! `azurerm_key_vault_key`, the write side: create (tagged with the journal's
//! token; a soft-deleted key of the name is recovered when
//! `recover_soft_deleted_keys` is on, then updated), update of operations,
//! dates, tags and rotation policy, rotate (a new version), and destroy
//! ([`super::objects::destroy`]: soft delete, a purge only when asked and
//! allowed).

use super::connection::Connection;
use super::data_plane::{answer, body, configured_tags, date_attributes};
use super::errors::AzureFailure;
use super::ids::ObjectId;
use super::kind::Kind;
use super::objects::{Existing, before_create, destroy, recover, reread, target};
use super::rotation_policy;
use super::soft_delete::retry_through;
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, ProviderError, text_attribute};
use azure_security_keyvault_keys::KeyClient;

/// Carries out one apply request for an `azurerm_key_vault_key`.
pub async fn apply(connection: &Connection, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let attributes = &request.attributes;
    let object = target(connection, Kind::Key, request)?;
    let client = connection.key_client(&object.vault_uri)?;
    let id = object.versionless(Kind::Key.collection());
    match &request.action {
        ApplyAction::Create { token } => match before_create(connection, Kind::Key, &object, token).await? {
            Existing::Ours => update(&client, &object, attributes).await?,
            Existing::SoftDeleted => recover_and_update(connection, &client, &object, attributes).await?,
            Existing::Free => {
                let result = client
                    .create_key(&object.name, body(&create_body(attributes, token)?), None)
                    .await;
                match result {
                    Err(error) if AzureFailure::from_sdk(&error).is("ObjectIsDeletedButRecoverable") => {
                        recover_and_update(connection, &client, &object, attributes).await?;
                    }
                    result => {
                        answer(result, "keys:create", &id)?;
                        if let Some(policy) = attributes.get("rotation_policy").filter(|policy| !policy.is_null()) {
                            put_policy(&client, &object, policy).await?;
                        }
                    }
                }
            }
        },
        ApplyAction::Update => update(&client, &object, attributes).await?,
        ApplyAction::Recover => recover_and_update(connection, &client, &object, attributes).await?,
        ApplyAction::Rotate => {
            answer(client.rotate_key(&object.name, None).await, "keys:rotate", &id)?;
        }
        ApplyAction::Delete { purge } => {
            destroy(connection, Kind::Key, &object, *purge).await?;
            return Ok(None);
        }
    }
    reread(connection, Kind::Key, &object, attributes).await.map(Some)
}

/// The CreateKey body.
fn create_body(attributes: &Attributes, token: &str) -> Result<serde_json::Value, ProviderError> {
    let key_type = text_attribute(attributes, "key_type")
        .ok_or_else(|| ProviderError::new("MissingAttribute", "an azurerm_key_vault_key needs key_type"))?;
    let mut fields = serde_json::Map::new();
    match key_type.as_str() {
        "RSA" | "RSA-HSM" => {
            if let Some(size) = attributes.get("key_size").and_then(serde_json::Value::as_u64) {
                fields.insert("key_size".into(), size.into());
            }
        }
        "EC" | "EC-HSM" => {
            let curve = text_attribute(attributes, "curve").unwrap_or_else(|| "P-256".to_string());
            fields.insert("crv".into(), curve.into());
        }
        other => {
            return Err(ProviderError::new(
                "InvalidKeyType",
                format!("key_type must be RSA, RSA-HSM, EC or EC-HSM, not `{other}`"),
            ));
        }
    }
    fields.insert("kty".into(), key_type.into());
    fields.extend(changeable(attributes)?);
    fields.insert("tags".into(), configured_tags(attributes, Some(token))?);
    Ok(serde_json::Value::Object(fields))
}

/// What an update can change beside tags: the operations and the dates.
fn changeable(attributes: &Attributes) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
    let mut fields = serde_json::Map::new();
    if let Some(operations) = attributes.get("key_opts").filter(|operations| !operations.is_null()) {
        fields.insert("key_ops".into(), operations.clone());
    }
    let dates = date_attributes(attributes)?;
    if !dates.is_empty() {
        fields.insert("attributes".into(), serde_json::Value::Object(dates));
    }
    Ok(fields)
}

async fn recover_and_update(
    connection: &Connection,
    client: &KeyClient,
    object: &ObjectId,
    attributes: &Attributes,
) -> Result<(), ProviderError> {
    recover(connection, Kind::Key, object).await?;
    update(client, object, attributes).await
}

async fn put_policy(client: &KeyClient, object: &ObjectId, policy: &serde_json::Value) -> Result<(), ProviderError> {
    let azure = rotation_policy::to_azure(policy)?;
    answer(
        client
            .update_key_rotation_policy(&object.name, body(&azure), None)
            .await,
        "keys:updaterotationpolicy",
        &object.versionless(Kind::Key.collection()),
    )?;
    Ok(())
}

/// Makes the key's operations, dates, tags and rotation policy what the configuration says.
async fn update(client: &KeyClient, object: &ObjectId, attributes: &Attributes) -> Result<(), ProviderError> {
    let mut fields = changeable(attributes)?;
    if attributes.get("tags").is_some_and(|tags| !tags.is_null()) {
        fields.insert("tags".into(), configured_tags(attributes, None)?);
    }
    if !fields.is_empty() {
        let request = serde_json::Value::Object(fields);
        let id = object.versionless(Kind::Key.collection());
        retry_through(|| async {
            answer(
                client.update_key_properties(&object.name, body(&request), None).await,
                "keys:update",
                &id,
            )
        })
        .await?;
    }
    if let Some(policy) = attributes.get("rotation_policy").filter(|policy| !policy.is_null()) {
        put_policy(client, object, policy).await?;
    }
    Ok(())
}
