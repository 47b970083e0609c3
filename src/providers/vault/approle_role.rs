//! `vault_approle_auth_backend_role`: roles of an AppRole auth method at
//! `auth/BACKEND/role/NAME`, id `auth/BACKEND/role/NAME` as in Terraform.
//!
//! An auth [`RoleType`] (see [`WholeRole`]): every write sends the whole
//! role, and a create adopts a role already at the name only when its
//! settings are the ones it would write. `token_policies` and
//! `token_bound_cidrs` compare as sets. The computed `role_id` is read from
//! `auth/BACKEND/role/NAME/role-id` (it names the role, it is not a
//! credential).

use super::auth_role::{RoleType, backend_attribute, role_name_attribute};
use super::client::{Method, VaultClient};
use super::role_fields::{Field, WholeRole};
use crate::provider::{
    ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, ProviderError, ResourceSchema,
};

/// The AppRole mount a role belongs to when `backend` is not set.
pub const DEFAULT_BACKEND: &str = "approle";

/// The role's settings with Vault's defaults.
const ROLE: RoleType = RoleType {
    method_type: "approle",
    also: &[],
    default_backend: DEFAULT_BACKEND,
    role: WholeRole {
        label: "AppRole role",
        name_field: "role_name",
        fields: &[
            Field::Duration("token_ttl"),
            Field::Duration("token_max_ttl"),
            Field::Duration("secret_id_ttl"),
            Field::Set("token_policies"),
            Field::Set("token_bound_cidrs"),
            Field::Number("secret_id_num_uses", 0),
            Field::Bool("bind_secret_id", true),
        ],
        adjust: None,
    },
};

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::APPROLE_ROLE,
        description: "a role of an AppRole auth method: the policies and TTL of the tokens a login with it gets",
        attributes: vec![
            backend_attribute("the path of the AppRole auth method (default: approle)"),
            role_name_attribute(),
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

/// The role with its role_id, read from `auth/BACKEND/role/NAME/role-id`.
async fn with_role_id(client: &VaultClient, role: Option<LiveObject>) -> Result<Option<LiveObject>, ProviderError> {
    let Some(mut live) = role else {
        return Ok(None);
    };
    let answer = client.call(Method::Get, &format!("{}/role-id", live.id), None).await?;
    live.attributes.insert(
        "role_id".into(),
        answer.data()["role_id"].as_str().unwrap_or_default().into(),
    );
    Ok(Some(live))
}

/// Reads the role with id `auth/BACKEND/role/NAME`.
pub async fn read(client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    with_role_id(client, ROLE.read(client, id).await?).await
}

/// The role a create of these attributes made: one at the name with exactly its settings.
pub async fn find_by_token(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    with_role_id(client, ROLE.find_by_token(client, attributes).await?).await
}

/// The role a create of these attributes would collide with. Nothing when no AppRole method
/// is enabled at the backend path (it may be created in the same apply, or its path may
/// be known only after apply and `backend` fall back to its default here).
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    with_role_id(client, ROLE.lookup(client, attributes).await?).await
}

/// Ids of every role of every AppRole method.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    ROLE.list(client).await
}

/// Carries out one apply request for a `vault_approle_auth_backend_role`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    with_role_id(client, ROLE.apply(client, request).await?).await
}

#[cfg(test)]
mod tests {
    use super::ROLE;

    fn settings_of(source: &crate::providers::vault::role_fields::Map) -> crate::providers::vault::role_fields::Map {
        ROLE.role.settings_of(source)
    }

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
