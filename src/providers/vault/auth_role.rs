//! What the roles of Vault auth methods share: the address
//! `auth/BACKEND/role/NAME` (the id, as in Terraform), listing the roles of
//! every method of a type, and, for the AppRole, JWT and Kubernetes roles, a
//! [`RoleType`]: the method type and the role's [`WholeRole`] (its fields
//! and their defaults; read, find, create, update and delete, every write
//! sending the whole role).

use super::client::{VaultClient, clean_name, clean_path};
use super::engine_path::address_of_request;
use super::role_fields::{RoleAddress, WholeRole};
use crate::provider::{ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, ProviderError};

/// A role's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub backend: String,
    pub name: String,
}

impl Address {
    /// `backend` (or `default_backend` when it is not set) and `role_name`.
    pub fn from_attributes(attributes: &Attributes, default_backend: &str) -> Result<Address, ProviderError> {
        let field = |name: &str| {
            attributes
                .get(name)
                .and_then(serde_json::Value::as_str)
                .filter(|value| !value.trim().is_empty())
        };
        let name = clean_name("role_name", field("role_name").unwrap_or(""))?;
        Ok(Address {
            backend: clean_path("backend", field("backend").unwrap_or(default_backend))?,
            name,
        })
    }

    /// Parses `auth/BACKEND/role/NAME`.
    pub fn from_id(id: &str) -> Result<Address, ProviderError> {
        let invalid = || {
            ProviderError::new(
                "InvalidId",
                format!("`{id}` is not a role id: write it as auth/BACKEND/role/NAME"),
            )
        };
        let rest = id.trim().trim_matches('/').strip_prefix("auth/").ok_or_else(invalid)?;
        let (backend, name) = rest.rsplit_once("/role/").ok_or_else(invalid)?;
        Ok(Address {
            backend: clean_path("backend", backend)?,
            name: clean_path("role_name", name)?,
        })
    }

    pub fn id(&self) -> String {
        format!("auth/{}/role/{}", self.backend, self.name)
    }
}

impl RoleAddress for Address {
    fn backend(&self) -> &str {
        &self.backend
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn id(&self) -> String {
        Address::id(self)
    }
}

/// Ids of every role of every method of type `method_type`.
pub async fn list(client: &VaultClient, method_type: &str) -> Result<Vec<String>, ProviderError> {
    let mut ids = Vec::new();
    for backend in super::auth_backend::paths_of_type(client, &[method_type]).await? {
        for name in client.list_keys(&format!("auth/{backend}/role")).await? {
            ids.push(
                Address {
                    backend: backend.clone(),
                    name,
                }
                .id(),
            );
        }
    }
    Ok(ids)
}

/// The `backend` argument of a resource of an auth method (`description` names the default).
pub fn backend_attribute(description: &'static str) -> AttributeSchema {
    AttributeSchema::new("backend", AttributeType::String, description).force_new()
}

/// The `role_name` argument of an auth role.
pub fn role_name_attribute() -> AttributeSchema {
    AttributeSchema::new("role_name", AttributeType::String, "the role's name")
        .required()
        .force_new()
}

/// The arguments every auth role has: the policies and TTL of the tokens a login gets, and the id.
pub fn token_attributes() -> Vec<AttributeSchema> {
    vec![
        AttributeSchema::new(
            "token_policies",
            AttributeType::ListOfStrings,
            "the policies of the Vault tokens a login gets",
        )
        .unordered(),
        AttributeSchema::new(
            "token_ttl",
            AttributeType::Duration,
            "the TTL of the Vault tokens a login gets (3600 or \"1h\"; 0: the system default)",
        ),
        AttributeSchema::new("id", AttributeType::String, "`auth/BACKEND/role/NAME`").computed(),
    ]
}

/// A kind of role: the auth method type it belongs to and its fields.
#[derive(Debug)]
pub struct RoleType {
    /// The auth method type (`jwt`, `kubernetes`).
    pub method_type: &'static str,
    /// Other method types whose roles live at the same paths (`oidc` for `jwt`).
    pub also: &'static [&'static str],
    pub default_backend: &'static str,
    /// The role's fields; its label names it in messages ("JWT role"), its name is `role_name`.
    pub role: WholeRole,
}

impl RoleType {
    fn address(&self, attributes: &Attributes) -> Result<Address, ProviderError> {
        Address::from_attributes(attributes, self.default_backend)
    }

    /// Reads the role with id `auth/BACKEND/role/NAME`.
    pub async fn read(&self, client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
        self.role.read_at(client, &Address::from_id(id)?).await
    }

    /// The role a create of these attributes made: one at the name with exactly its settings.
    pub async fn find_by_token(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        self.role.find_at(client, &self.address(attributes)?, attributes).await
    }

    /// The role a create of these attributes would collide with. Nothing when no method of the
    /// type is enabled at the backend path (it may be enabled in the same apply).
    pub async fn lookup(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = self.address(attributes)?;
        if !self.backends(client).await?.contains(&address.backend) {
            return Ok(None);
        }
        self.role.read_at(client, &address).await
    }

    async fn backends(&self, client: &VaultClient) -> Result<Vec<String>, ProviderError> {
        let mut types = vec![self.method_type];
        types.extend_from_slice(self.also);
        super::auth_backend::paths_of_type(client, &types).await
    }

    /// Ids of every role of every method of the type.
    pub async fn list(&self, client: &VaultClient) -> Result<Vec<String>, ProviderError> {
        let mut ids = list(client, self.method_type).await?;
        for other in self.also {
            ids.extend(list(client, other).await?);
        }
        Ok(ids)
    }

    /// Carries out one apply request for a role of this type.
    pub async fn apply(
        &self,
        client: &VaultClient,
        request: &ApplyRequest,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = address_of_request(request, |attributes| self.address(attributes), Address::from_id)?;
        self.role.apply_at(client, &address, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::Address;
    use crate::providers::vault::role_fields::{Field, WholeRole};

    const ROLE: WholeRole = WholeRole {
        label: "test role",
        name_field: "role_name",
        fields: &[
            Field::Duration("token_ttl"),
            Field::Set("token_policies"),
            Field::Text("role_type", "oidc"),
            Field::Map("bound_claims"),
        ],
        adjust: None,
    };

    #[test]
    fn ids_round_trip() {
        let address = Address::from_id("auth/ci/approle/role/deploy").expect("id");
        assert_eq!(address.backend, "ci/approle");
        assert_eq!(address.name, "deploy");
        assert_eq!(address.id(), "auth/ci/approle/role/deploy");
        assert!(Address::from_id("ci/role/deploy").is_err());
        let attributes = serde_json::json!({ "role_name": "deploy" });
        let address = Address::from_attributes(attributes.as_object().expect("object"), "jwt").expect("address");
        assert_eq!(address.id(), "auth/jwt/role/deploy");
        let slash = serde_json::json!({ "role_name": "a/b" });
        assert!(Address::from_attributes(slash.as_object().expect("object"), "jwt").is_err());
    }

    #[test]
    fn every_field_is_present_with_its_default() {
        let attributes = serde_json::json!({ "token_policies": ["b", "a", "b"], "bound_claims": { "n": 1 } });
        let settings = ROLE.settings_of(attributes.as_object().expect("object"));
        assert_eq!(settings["token_policies"], serde_json::json!(["a", "b"]));
        assert_eq!(settings["token_ttl"], 0);
        assert_eq!(settings["role_type"], "oidc");
        assert_eq!(settings["bound_claims"], serde_json::json!({ "n": "1" }));
        let empty = ROLE.settings_of(&serde_json::Map::new());
        assert_eq!(empty["bound_claims"], serde_json::json!({}));
    }
}
