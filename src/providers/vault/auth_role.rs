//! What the roles of Vault auth methods share: the address
//! `auth/BACKEND/role/NAME` (the id, as in Terraform), listing the roles of
//! every method of a type, and, for the JWT and Kubernetes roles, one
//! implementation of read, find, create, update and delete driven by a
//! [`RoleType`] (the fields the role has and their defaults).
//!
//! Every write sends the whole role: a setting the configuration leaves out
//! is sent with Vault's default, never left as it was, so removing a line
//! resets the setting. Lists compare as sets. A role has nowhere to carry a
//! create token, so a create adopts a role already at the name only when its
//! settings are exactly the ones the create would write (a create repeated
//! after a crash); any other role there fails the create instead of being
//! overwritten.

use super::client::{Method, VaultClient, api_error, clean_path};
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError,
};
use std::collections::BTreeMap;

type Map = serde_json::Map<String, serde_json::Value>;

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
        let name = clean_path("role_name", field("role_name").unwrap_or(""))?;
        if name.contains('/') {
            return Err(ProviderError::new(
                "InvalidParameter",
                format!("role_name `{name}` must not contain `/`"),
            ));
        }
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

/// One setting of a role and how it is sent and compared.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// Seconds; sent as `Ns`, default 0.
    Duration(&'static str),
    /// A list of strings compared as a set; default empty.
    Set(&'static str),
    /// A string with its default.
    Text(&'static str, &'static str),
    /// A map of strings; default empty.
    Map(&'static str),
}

/// A kind of role: the auth method type it belongs to and its fields.
#[derive(Debug)]
pub struct RoleType {
    /// The auth method type (`jwt`, `kubernetes`).
    pub method_type: &'static str,
    /// Other method types whose roles live at the same paths (`oidc` for `jwt`).
    pub also: &'static [&'static str],
    /// How messages name it: "JWT role".
    pub label: &'static str,
    pub default_backend: &'static str,
    pub fields: &'static [Field],
}

/// The strings of a JSON list (none when it is not a list).
pub fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    value
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl RoleType {
    /// The role's settings, every field present with its default, lists sorted.
    pub fn settings_of(&self, source: &Map) -> Map {
        let mut settings = Map::new();
        for field in self.fields {
            match *field {
                Field::Duration(name) => {
                    let seconds = source.get(name).and_then(serde_json::Value::as_u64).unwrap_or(0);
                    settings.insert(name.into(), seconds.into());
                }
                Field::Set(name) => {
                    let mut items = strings(source.get(name));
                    items.sort();
                    items.dedup();
                    settings.insert(name.into(), items.into());
                }
                Field::Text(name, default) => {
                    let text = source
                        .get(name)
                        .and_then(serde_json::Value::as_str)
                        .filter(|text| !text.is_empty())
                        .unwrap_or(default);
                    settings.insert(name.into(), text.into());
                }
                Field::Map(name) => {
                    let entries: Map = source
                        .get(name)
                        .and_then(serde_json::Value::as_object)
                        .map(|entries| {
                            entries
                                .iter()
                                .map(|(key, value)| {
                                    let text = match value {
                                        serde_json::Value::String(text) => text.clone(),
                                        other => other.to_string(),
                                    };
                                    (key.clone(), text.into())
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    settings.insert(name.into(), serde_json::Value::Object(entries));
                }
            }
        }
        settings
    }

    /// The role's settings as Vault stores them, or None when there is no role.
    async fn fetch(&self, client: &VaultClient, address: &Address) -> Result<Option<Map>, ProviderError> {
        Ok(client
            .read_data(&address.id())
            .await?
            .map(|data| self.settings_of(&data.as_object().cloned().unwrap_or_default())))
    }

    fn live(address: &Address, settings: Map) -> LiveObject {
        let mut attributes = settings;
        attributes.insert("backend".into(), address.backend.clone().into());
        attributes.insert("role_name".into(), address.name.clone().into());
        attributes.insert("id".into(), address.id().into());
        LiveObject {
            id: address.id(),
            attributes,
            secret_versions: BTreeMap::new(),
            status: LiveStatus::Active,
            last_rotated: None,
        }
    }

    /// Reads the role with id `auth/BACKEND/role/NAME`.
    pub async fn read(&self, client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
        let address = Address::from_id(id)?;
        Ok(self
            .fetch(client, &address)
            .await?
            .map(|settings| Self::live(&address, settings)))
    }

    /// The role a create of these attributes made: one at the name with exactly its settings.
    pub async fn find_by_token(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = Address::from_attributes(attributes, self.default_backend)?;
        Ok(match self.fetch(client, &address).await? {
            Some(settings) if settings == self.settings_of(attributes) => Some(Self::live(&address, settings)),
            _ => None,
        })
    }

    /// The role a create of these attributes would collide with. Nothing when no method of the
    /// type is enabled at the backend path (it may be enabled in the same apply).
    pub async fn lookup(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = Address::from_attributes(attributes, self.default_backend)?;
        if !self.backends(client).await?.contains(&address.backend) {
            return Ok(None);
        }
        Ok(self
            .fetch(client, &address)
            .await?
            .map(|settings| Self::live(&address, settings)))
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

    /// Writes the whole role.
    async fn write(
        &self,
        client: &VaultClient,
        address: &Address,
        attributes: &Attributes,
    ) -> Result<(), ProviderError> {
        let mut body = self.settings_of(attributes);
        for field in self.fields {
            if let Field::Duration(name) = *field {
                let seconds = body.get(name).and_then(serde_json::Value::as_u64).unwrap_or(0);
                body.insert(name.into(), format!("{seconds}s").into());
            }
        }
        client
            .call(Method::Post, &address.id(), Some(serde_json::Value::Object(body)))
            .await?;
        Ok(())
    }

    /// Carries out one apply request for a role of this type.
    pub async fn apply(
        &self,
        client: &VaultClient,
        request: &ApplyRequest,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = match (&request.action, &request.id) {
            (ApplyAction::Create { .. }, _) | (_, None) => {
                Address::from_attributes(&request.attributes, self.default_backend)?
            }
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
            ApplyAction::Create { .. } => match self.fetch(client, &address).await? {
                Some(settings) if settings == self.settings_of(&request.attributes) => {}
                Some(_) => {
                    return Err(ProviderError::new(
                        "AlreadyExists",
                        format!(
                            "{} `{}` already exists and keyform did not create it",
                            self.label,
                            address.id()
                        ),
                    )
                    .with_help(format!(
                        "import it (`keyform import ADDRESS {}`) or choose another role_name",
                        address.id()
                    )));
                }
                None => self.write(client, &address, &request.attributes).await?,
            },
            _ => self.write(client, &address, &request.attributes).await?,
        }
        self.fetch(client, &address)
            .await?
            .map(|settings| Some(Self::live(&address, settings)))
            .ok_or_else(|| {
                ProviderError::new(
                    "NotFound",
                    format!("{} `{}` was not found after it was written", self.label, address.id()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::{Address, Field, RoleType};

    const ROLE: RoleType = RoleType {
        method_type: "jwt",
        also: &[],
        label: "test role",
        default_backend: "jwt",
        fields: &[
            Field::Duration("token_ttl"),
            Field::Set("token_policies"),
            Field::Text("role_type", "oidc"),
            Field::Map("bound_claims"),
        ],
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
