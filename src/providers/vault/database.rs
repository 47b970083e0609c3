//! What the three database secrets engine types share: the address of a
//! connection, role or static role (`BACKEND/config/NAME`,
//! `BACKEND/roles/NAME`, `BACKEND/static-roles/NAME`, the ids Terraform
//! uses, as [`EnginePath`]s), reading one, and listing every object of a
//! kind in every mount of type `database`; and [`RoleType`], the whole of a
//! role type's behaviour (a dynamic or a static role differ only in their
//! [`Field`]s; the rest is [`WholeRole`]'s).

use super::client::VaultClient;
use super::engine_path::{EngineObject, EnginePath};
use super::role_fields::{Field, WholeRole};
use crate::provider::{ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, ProviderError};

/// The mount type of the database secrets engine.
pub const ENGINE: &str = "database";

/// The engine's connections, at `BACKEND/config/NAME`.
pub const CONNECTION: EngineObject = EngineObject {
    engine: ENGINE,
    segment: "config",
    label: "database connection",
};

/// The engine's dynamic roles, at `BACKEND/roles/NAME`.
pub const ROLE: EngineObject = EngineObject {
    engine: ENGINE,
    segment: "roles",
    label: "database role",
};

/// The engine's static roles, at `BACKEND/static-roles/NAME`.
pub const STATIC_ROLE: EngineObject = EngineObject {
    engine: ENGINE,
    segment: "static-roles",
    label: "database static role",
};

/// A type's attributes: `backend` and `name` (both force replacement), for a role `db_name`,
/// then the type's `own` ones, then the computed `id`.
pub fn attributes_of(kind: EngineObject, own: Vec<AttributeSchema>) -> Vec<AttributeSchema> {
    let (name, id) = if kind == CONNECTION {
        ("the connection's name", "`BACKEND/config/NAME`")
    } else if kind == ROLE {
        ("the role's name", "`BACKEND/roles/NAME`")
    } else {
        ("the role's name", "`BACKEND/static-roles/NAME`")
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
    if kind != CONNECTION {
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

/// The object's `data` as Vault reports it, or None when there is none (or no mount at the backend).
pub async fn fetch(
    client: &VaultClient,
    address: &Address,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ProviderError> {
    Ok(client
        .read_data(&address.id())
        .await?
        .map(|data| data.as_object().cloned().unwrap_or_default()))
}

/// A role type of the engine: its kind and its settings. Roles carry no create token: a create
/// adopts a role already at the name only when its settings are exactly the ones it would write.
#[derive(Debug, Clone, Copy)]
pub struct RoleType {
    pub kind: EngineObject,
    role: WholeRole,
}

impl RoleType {
    /// The role type of `kind` with `fields`.
    pub const fn new(kind: EngineObject, fields: &'static [Field]) -> RoleType {
        RoleType {
            kind,
            role: WholeRole {
                label: kind.label,
                name_field: "name",
                fields,
                adjust: None,
            },
        }
    }

    /// Reads the role with this id.
    pub async fn read(&self, client: &VaultClient, id: &str) -> Result<Option<LiveObject>, ProviderError> {
        self.role.read_at(client, &self.kind.address_of_id(id)?).await
    }

    /// The role a create of these attributes would collide with.
    pub async fn lookup(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        self.role.read_at(client, &self.kind.address(attributes)?).await
    }

    /// The role a create of these attributes made: one at the name with exactly its settings.
    pub async fn find_by_token(
        &self,
        client: &VaultClient,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        self.role
            .find_at(client, &self.kind.address(attributes)?, attributes)
            .await
    }

    /// Carries out one apply request: every write sends the whole role.
    pub async fn apply(
        &self,
        client: &VaultClient,
        request: &ApplyRequest,
    ) -> Result<Option<LiveObject>, ProviderError> {
        self.role
            .apply_at(client, &self.kind.address_of(request)?, request)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::{CONNECTION, ROLE, STATIC_ROLE};
    use crate::providers::vault::role_fields::{Field, settings_of, write_body};

    #[test]
    fn ids_round_trip_for_each_kind() {
        for (kind, id) in [
            (CONNECTION, "team/db/config/pg"),
            (ROLE, "team/db/roles/app"),
            (STATIC_ROLE, "team/db/static-roles/app"),
        ] {
            let address = kind.address_of_id(id).expect("a valid id");
            assert_eq!(address.backend, "team/db");
            assert_eq!(address.id(), id);
        }
        assert!(ROLE.address_of_id("db/config/pg").is_err());
        assert!(CONNECTION.address_of_id("db/config/").is_err());
        let attributes = serde_json::json!({ "backend": "/db/", "name": "pg" });
        let address = CONNECTION
            .address(attributes.as_object().expect("object"))
            .expect("an address");
        assert_eq!(address.id(), "db/config/pg");
        let slashed = serde_json::json!({ "backend": "db", "name": "a/b" });
        assert!(ROLE.address(slashed.as_object().expect("object")).is_err());
    }

    #[test]
    fn a_whole_role_is_every_setting_with_its_default() {
        let fields = [
            Field::Text("db_name", ""),
            Field::Duration("default_ttl"),
            Field::List("revocation_statements"),
        ];
        let configured = serde_json::json!({ "db_name": "pg", "default_ttl": 3600, "other": "ignored" });
        let settings = settings_of(&fields, configured.as_object().expect("object"));
        assert_eq!(
            serde_json::Value::Object(settings.clone()),
            serde_json::json!({ "db_name": "pg", "default_ttl": 3600, "revocation_statements": [] })
        );
        let body = write_body(&fields, settings);
        assert_eq!(body["default_ttl"], "3600s");
        assert_eq!(body["revocation_statements"], serde_json::json!([]));
    }
}
