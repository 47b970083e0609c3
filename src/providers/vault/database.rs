//! What the three database secrets engine types share: the address of a
//! connection, role or static role (`BACKEND/config/NAME`,
//! `BACKEND/roles/NAME`, `BACKEND/static-roles/NAME`, the ids Terraform
//! uses, as [`EnginePath`]s), reading and deleting one, and listing every
//! object of a kind in every mount of type `database`; and [`RoleType`], the whole of a role
//! type's behaviour (a dynamic or a static role differ only in their
//! settings).

use super::client::{Method, VaultClient, api_error};
use super::engine_path::{EnginePath, list_ids};
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError,
};
use std::collections::BTreeMap;

/// The mount type of the database secrets engine.
pub const ENGINE: &str = "database";

/// Which object of the engine an address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connection,
    Role,
    StaticRole,
}

impl Kind {
    /// The path segment between the mount and the name.
    fn segment(self) -> &'static str {
        match self {
            Kind::Connection => "config",
            Kind::Role => "roles",
            Kind::StaticRole => "static-roles",
        }
    }

    /// What a message calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Connection => "database connection",
            Kind::Role => "database role",
            Kind::StaticRole => "database static role",
        }
    }
}

/// A type's attributes: `backend` and `name` (both force replacement), for a role `db_name`,
/// then the type's `own` ones, then the computed `id`.
pub fn attributes_of(kind: Kind, own: Vec<AttributeSchema>) -> Vec<AttributeSchema> {
    let (name, id) = match kind {
        Kind::Connection => ("the connection's name", "`BACKEND/config/NAME`"),
        Kind::Role => ("the role's name", "`BACKEND/roles/NAME`"),
        Kind::StaticRole => ("the role's name", "`BACKEND/static-roles/NAME`"),
    };
    let mut attributes = vec![
        AttributeSchema::new(
            "backend",
            AttributeType::String,
            "the path of the database secrets engine",
        )
        .required()
        .force_new(),
        AttributeSchema::new("name", AttributeType::String, name)
            .required()
            .force_new(),
    ];
    if kind != Kind::Connection {
        attributes.push(
            AttributeSchema::new(
                "db_name",
                AttributeType::String,
                "the connection the role uses (a vault_database_secret_backend_connection's name)",
            )
            .required(),
        );
    }
    attributes.extend(own);
    attributes.push(AttributeSchema::new("id", AttributeType::String, id).computed());
    attributes
}

/// An object's address (`BACKEND/SEGMENT/NAME`), as every engine's objects are addressed.
pub type Address = EnginePath;

impl Kind {
    /// The address from the configured `backend` and `name`.
    pub fn address(self, attributes: &Attributes) -> Result<Address, ProviderError> {
        EnginePath::from_attributes(attributes, self.segment(), "name")
    }

    /// The address of an id `BACKEND/SEGMENT/NAME`.
    pub fn address_of_id(self, id: &str) -> Result<Address, ProviderError> {
        EnginePath::from_id(id, self.segment(), self.label())
    }

    /// The address of an apply: from the attributes for a create, from the id otherwise.
    pub fn address_of(self, request: &ApplyRequest) -> Result<Address, ProviderError> {
        match (&request.action, &request.id) {
            (ApplyAction::Create { .. }, _) | (_, None) => self.address(&request.attributes),
            (_, Some(id)) => self.address_of_id(id),
        }
    }

    /// The error of a create that finds an object keyform did not make at its address.
    pub fn already_exists(self, address: &Address) -> ProviderError {
        ProviderError::new(
            "AlreadyExists",
            format!(
                "{} `{}` already exists and keyform did not create it",
                self.label(),
                address.id()
            ),
        )
        .with_help(format!(
            "import it (`keyform import ADDRESS {}`) or choose another name",
            address.id()
        ))
    }

    /// The error of an object that a write did not leave behind.
    pub fn missing_after_write(self, address: &Address) -> ProviderError {
        ProviderError::new(
            "NotFound",
            format!("{} `{}` was not found after it was written", self.label(), address.id()),
        )
    }

    /// Ids of every object of this kind in every database mount.
    pub async fn list(self, client: &VaultClient) -> Result<Vec<String>, ProviderError> {
        list_ids(client, ENGINE, self.segment(), self.segment()).await
    }
}

/// The object's `data` as Vault reports it, or None when there is none (or no mount at the backend).
pub async fn fetch(
    client: &VaultClient,
    address: &Address,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ProviderError> {
    let path = address.id();
    let answer = client.send(Method::Get, &path, None).await?;
    if answer.status == 404 {
        return Ok(None);
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::Get, &path, &answer));
    }
    Ok(Some(answer.data().as_object().cloned().unwrap_or_default()))
}

/// Deletes the object; one already gone is no error.
pub async fn delete(client: &VaultClient, address: &Address) -> Result<(), ProviderError> {
    let path = address.id();
    let answer = client.send(Method::Delete, &path, None).await?;
    if !(200..300).contains(&answer.status) && answer.status != 404 {
        return Err(api_error(Method::Delete, &path, &answer));
    }
    Ok(())
}

/// How a role setting is sent and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Text(&'static str),
    /// Seconds; sent as `"Ns"`, reported by Vault as a number.
    Duration(&'static str),
    /// An ordered list of strings (SQL statements run in order).
    List(&'static str),
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Text(name) | Field::Duration(name) | Field::List(name) => name,
        }
    }
}

/// Every setting of `fields`, from `source` (configuration or Vault's answer), with Vault's default
/// where it is absent: the body a whole-role write sends and the form roles are compared in.
pub fn settings_of(fields: &[Field], source: &serde_json::Map<String, serde_json::Value>) -> Attributes {
    let mut settings = Attributes::new();
    for field in fields {
        let value = source.get(field.name());
        let normalised: serde_json::Value = match field {
            Field::Text(_) => value.and_then(serde_json::Value::as_str).unwrap_or_default().into(),
            Field::Duration(_) => value.and_then(serde_json::Value::as_u64).unwrap_or(0).into(),
            Field::List(_) => value
                .and_then(serde_json::Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(serde_json::Value::as_str)
                        .map(|item| serde_json::Value::from(item.to_string()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
                .into(),
        };
        settings.insert(field.name().into(), normalised);
    }
    settings
}

/// The body of a whole-role write: every setting, durations as `"Ns"`.
pub fn write_body(fields: &[Field], attributes: &Attributes) -> serde_json::Value {
    let mut body = settings_of(fields, attributes);
    for field in fields {
        if let Field::Duration(name) = field {
            let seconds = body.get(*name).and_then(serde_json::Value::as_u64).unwrap_or(0);
            body.insert((*name).into(), format!("{seconds}s").into());
        }
    }
    serde_json::Value::Object(body)
}

/// A role type of the engine: its kind and its settings. Roles carry no create token: a create
/// adopts a role already at the name only when its settings are exactly the ones it would write.
#[derive(Debug, Clone, Copy)]
pub struct RoleType {
    pub kind: Kind,
    pub fields: &'static [Field],
}

impl RoleType {
    /// The role's settings as Vault stores them, or None when there is no role.
    async fn settings(&self, client: &VaultClient, address: &Address) -> Result<Option<Attributes>, ProviderError> {
        Ok(fetch(client, address)
            .await?
            .map(|data| settings_of(self.fields, &data)))
    }

    fn live(&self, address: &Address, settings: Attributes) -> LiveObject {
        let mut attributes = settings;
        attributes.insert("backend".into(), address.backend.clone().into());
        attributes.insert("name".into(), address.name.clone().into());
        attributes.insert("id".into(), address.id().into());
        LiveObject {
            id: address.id(),
            attributes,
            secret_versions: BTreeMap::new(),
            status: LiveStatus::Active,
            last_rotated: None,
        }
    }

    async fn read_address(&self, client: &VaultClient, address: &Address) -> Result<Option<LiveObject>, ProviderError> {
        Ok(self
            .settings(client, address)
            .await?
            .map(|settings| self.live(address, settings)))
    }

    /// Reads the role with this id.
    pub async fn read(&self, client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
        self.read_address(client, &self.kind.address_of_id(id)?).await
    }

    /// The role a create of these attributes would collide with.
    pub async fn lookup(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        self.read_address(client, &self.kind.address(attributes)?).await
    }

    /// The role a create of these attributes made: one at the name with exactly its settings.
    pub async fn find_by_token(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = self.kind.address(attributes)?;
        Ok(self
            .settings(client, &address)
            .await?
            .filter(|settings| *settings == settings_of(self.fields, attributes))
            .map(|settings| self.live(&address, settings)))
    }

    /// Carries out one apply request: every write sends the whole role.
    pub async fn apply(
        &self,
        client: &VaultClient,
        request: &ApplyRequest,
    ) -> Result<Option<LiveObject>, ProviderError> {
        let address = self.kind.address_of(request)?;
        let write = || async {
            client
                .call(
                    Method::Post,
                    &address.id(),
                    Some(write_body(self.fields, &request.attributes)),
                )
                .await
                .map(|_| ())
        };
        match &request.action {
            ApplyAction::Delete { .. } => {
                delete(client, &address).await?;
                return Ok(None);
            }
            ApplyAction::Create { .. } => match self.settings(client, &address).await? {
                Some(settings) if settings == settings_of(self.fields, &request.attributes) => {}
                Some(_) => return Err(self.kind.already_exists(&address)),
                None => write().await?,
            },
            _ => write().await?,
        }
        self.read_address(client, &address)
            .await?
            .ok_or_else(|| self.kind.missing_after_write(&address))
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::{Field, Kind, settings_of, write_body};

    #[test]
    fn ids_round_trip_for_each_kind() {
        for (kind, id) in [
            (Kind::Connection, "team/db/config/pg"),
            (Kind::Role, "team/db/roles/app"),
            (Kind::StaticRole, "team/db/static-roles/app"),
        ] {
            let address = kind.address_of_id(id).expect("a valid id");
            assert_eq!(address.backend, "team/db");
            assert_eq!(address.id(), id);
        }
        assert!(Kind::Role.address_of_id("db/config/pg").is_err());
        assert!(Kind::Connection.address_of_id("db/config/").is_err());
        let attributes = serde_json::json!({ "backend": "/db/", "name": "pg" });
        let address = Kind::Connection
            .address(attributes.as_object().expect("object"))
            .expect("an address");
        assert_eq!(address.id(), "db/config/pg");
        let slashed = serde_json::json!({ "backend": "db", "name": "a/b" });
        assert!(Kind::Role.address(slashed.as_object().expect("object")).is_err());
    }

    #[test]
    fn a_whole_role_is_every_setting_with_its_default() {
        let fields = [
            Field::Text("db_name"),
            Field::Duration("default_ttl"),
            Field::List("revocation_statements"),
        ];
        let configured = serde_json::json!({ "db_name": "pg", "default_ttl": 3600, "other": "ignored" });
        let settings = settings_of(&fields, configured.as_object().expect("object"));
        assert_eq!(
            serde_json::Value::Object(settings),
            serde_json::json!({ "db_name": "pg", "default_ttl": 3600, "revocation_statements": [] })
        );
        let body = write_body(&fields, configured.as_object().expect("object"));
        assert_eq!(body["default_ttl"], "3600s");
        assert_eq!(body["revocation_statements"], serde_json::json!([]));
    }
}
