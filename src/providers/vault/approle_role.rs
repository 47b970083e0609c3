//! `vault_approle_auth_backend_role`: roles of an AppRole auth method at
//! `auth/BACKEND/role/NAME`, id `auth/BACKEND/role/NAME` as in Terraform.
//!
//! Every write sends the whole role: a setting the configuration leaves out
//! is sent with Vault's default, never left as it was, so removing a line
//! resets the setting. `token_policies` and `token_bound_cidrs` compare as
//! sets. The computed `role_id` is read from `auth/BACKEND/role/NAME/role-id`
//! (it names the role, it is not a credential).
//!
//! A role has nowhere to carry a create token, so a create adopts a role
//! already at the name only when its settings are the ones the create
//! would write (a create repeated after a crash); any other role there
//! fails the create instead of being overwritten.

use super::auth_role::Address;
use super::client::{Method, VaultClient, api_error};
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError,
    ResourceSchema,
};
use std::collections::BTreeMap;

/// The AppRole mount a role belongs to when `backend` is not set.
pub const DEFAULT_BACKEND: &str = "approle";

/// Duration settings: (attribute, Vault field).
const DURATIONS: &[&str] = &["token_ttl", "token_max_ttl", "secret_id_ttl"];
/// List settings, compared as sets.
const LISTS: &[&str] = &["token_policies", "token_bound_cidrs"];

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::APPROLE_ROLE,
        description: "a role of an AppRole auth method: the policies and TTL of the tokens a login with it gets",
        attributes: vec![
            AttributeSchema::new(
                "backend",
                AttributeType::String,
                "the path of the AppRole auth method (default: approle)",
            )
            .force_new(),
            AttributeSchema::new("role_name", AttributeType::String, "the role's name")
                .required()
                .force_new(),
            AttributeSchema::new(
                "token_ttl",
                AttributeType::Duration,
                "the TTL of the tokens a login gets (3600 or \"1h\"; 0: the system default)",
            ),
            AttributeSchema::new(
                "token_max_ttl",
                AttributeType::Duration,
                "the longest a token can be renewed to (0: the system default)",
            ),
            AttributeSchema::new(
                "token_policies",
                AttributeType::ListOfStrings,
                "the policies of the tokens a login gets",
            )
            .unordered(),
            AttributeSchema::new(
                "token_bound_cidrs",
                AttributeType::ListOfStrings,
                "the networks the tokens may be used from",
            )
            .unordered(),
            AttributeSchema::new(
                "secret_id_ttl",
                AttributeType::Duration,
                "how long a secret_id is valid (0: forever)",
            ),
            AttributeSchema::new(
                "secret_id_num_uses",
                AttributeType::Number,
                "how many logins a secret_id allows (0: unlimited)",
            ),
            AttributeSchema::new(
                "bind_secret_id",
                AttributeType::Bool,
                "whether a login needs a secret_id (default: true)",
            ),
            AttributeSchema::new(
                "role_id",
                AttributeType::String,
                "the role's role_id, which a login gives",
            )
            .computed(),
            AttributeSchema::new("id", AttributeType::String, "`auth/BACKEND/role/NAME`").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

/// The role body Vault takes and returns, every setting present, lists sorted.
fn settings_of(source: &serde_json::Map<String, serde_json::Value>) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    for name in DURATIONS {
        body.insert(
            (*name).into(),
            source
                .get(*name)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
                .into(),
        );
    }
    for name in LISTS {
        let mut items: Vec<String> = source
            .get(*name)
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        items.sort();
        items.dedup();
        body.insert((*name).into(), items.into());
    }
    body.insert(
        "secret_id_num_uses".into(),
        source
            .get("secret_id_num_uses")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
            .into(),
    );
    body.insert(
        "bind_secret_id".into(),
        source
            .get("bind_secret_id")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true)
            .into(),
    );
    body
}

/// The role's settings as Vault stores them, or None when there is no role.
async fn fetch(
    client: &VaultClient,
    address: &Address,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ProviderError> {
    Ok(client
        .read_data(&address.id())
        .await?
        .map(|data| settings_of(&data.as_object().cloned().unwrap_or_default())))
}

/// Reads a role and its role_id.
pub async fn read_address(client: &VaultClient, address: &Address) -> Result<Option<LiveObject>, ProviderError> {
    let Some(settings) = fetch(client, address).await? else {
        return Ok(None);
    };
    let role_id_path = format!("{}/role-id", address.id());
    let answer = client.call(Method::Get, &role_id_path, None).await?;
    let mut attributes = settings;
    attributes.insert("backend".into(), address.backend.clone().into());
    attributes.insert("role_name".into(), address.name.clone().into());
    attributes.insert(
        "role_id".into(),
        answer.data()["role_id"].as_str().unwrap_or_default().into(),
    );
    attributes.insert("id".into(), address.id().into());
    Ok(Some(LiveObject {
        id: address.id(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }))
}

/// Reads the role with id `auth/BACKEND/role/NAME`.
pub async fn read(client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    read_address(client, &Address::from_id(id)?).await
}

/// The role a create of these attributes made: one at the name with exactly its settings.
pub async fn find_by_token(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let address = Address::from_attributes(attributes, DEFAULT_BACKEND)?;
    match fetch(client, &address).await? {
        Some(settings) if settings == settings_of(attributes) => read_address(client, &address).await,
        _ => Ok(None),
    }
}

/// The role a create of these attributes would collide with. Nothing when no AppRole method
/// is enabled at the backend path (it may be created in the same apply, or its path may
/// be known only after apply and `backend` fall back to its default here).
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let address = Address::from_attributes(attributes, DEFAULT_BACKEND)?;
    if !super::auth_backend::paths_of_type(client, &["approle"])
        .await?
        .contains(&address.backend)
    {
        return Ok(None);
    }
    read_address(client, &address).await
}

/// Ids of every role of every AppRole method.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    super::auth_role::list(client, "approle").await
}

/// Writes the whole role.
async fn write(client: &VaultClient, address: &Address, attributes: &Attributes) -> Result<(), ProviderError> {
    let mut body = settings_of(attributes);
    for name in DURATIONS {
        let seconds = body.get(*name).and_then(serde_json::Value::as_u64).unwrap_or(0);
        body.insert((*name).into(), format!("{seconds}s").into());
    }
    client
        .call(Method::Post, &address.id(), Some(serde_json::Value::Object(body)))
        .await?;
    Ok(())
}

/// Carries out one apply request for a `vault_approle_auth_backend_role`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let address = match (&request.action, &request.id) {
        (ApplyAction::Create { .. }, _) | (_, None) => Address::from_attributes(&request.attributes, DEFAULT_BACKEND)?,
        (_, Some(id)) => Address::from_id(id)?,
    };
    match &request.action {
        ApplyAction::Delete { .. } => {
            let path = address.id();
            let answer = client.send(Method::Delete, &path, None).await?;
            if !(200..300).contains(&answer.status) && answer.status != 404 {
                return Err(api_error(Method::Delete, &path, &answer));
            }
            return Ok(None);
        }
        ApplyAction::Create { .. } => match fetch(client, &address).await? {
            Some(settings) if settings == settings_of(&request.attributes) => {}
            Some(_) => {
                return Err(ProviderError::new(
                    "AlreadyExists",
                    format!(
                        "AppRole role `{}` already exists and keyform did not create it",
                        address.id()
                    ),
                )
                .with_help(format!(
                    "import it (`keyform import ADDRESS {}`) or choose another role_name",
                    address.id()
                )));
            }
            None => write(client, &address, &request.attributes).await?,
        },
        _ => write(client, &address, &request.attributes).await?,
    }
    read_address(client, &address)
        .await?
        .ok_or_else(|| {
            ProviderError::new(
                "NotFound",
                format!("AppRole role `{}` was not found after it was written", address.id()),
            )
        })
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::settings_of;

    #[test]
    fn the_whole_role_is_sent_with_defaults() {
        let attributes = serde_json::json!({ "token_policies": ["b", "a", "b"], "token_ttl": 3600 });
        let body = settings_of(attributes.as_object().expect("object"));
        assert_eq!(body["token_policies"], serde_json::json!(["a", "b"]));
        assert_eq!(body["token_ttl"], 3600);
        assert_eq!(body["token_max_ttl"], 0);
        assert_eq!(body["token_bound_cidrs"], serde_json::json!([]));
        assert_eq!(body["bind_secret_id"], true);
    }
}
