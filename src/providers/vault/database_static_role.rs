//! `vault_database_secret_backend_static_role`: a static role of a database
//! secrets engine at `BACKEND/static-roles/NAME` (the id, as in Terraform):
//! Vault takes over an existing database user and changes its password every
//! `rotation_period`; `BACKEND/static-creds/NAME` gives the current one.
//!
//! Creating the role rotates the user's password at once. Every write sends
//! the whole role, and a changed `username` replaces the role (Vault refuses
//! to change it in place). A role carries no create token: see [`RoleType`].

use super::database::{self, RoleType, attributes_of};
use super::role_fields::Field;
use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};

/// The role's settings.
const FIELDS: &[Field] = &[
    Field::Text("db_name", ""),
    Field::Text("username", ""),
    Field::Duration("rotation_period"),
    Field::List("rotation_statements"),
];

/// The behaviour of the type.
pub const STATIC_ROLE: RoleType = RoleType::new(database::STATIC_ROLE, FIELDS);

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::DATABASE_STATIC_ROLE,
        description: "a static role of a database secrets engine: Vault rotates an existing database user's password every rotation_period",
        attributes: attributes_of(
            database::STATIC_ROLE,
            vec![
                AttributeSchema::new(
                    "username",
                    AttributeType::String,
                    "the existing database user whose password Vault rotates",
                )
                .required()
                .force_new(),
                AttributeSchema::new(
                    "rotation_period",
                    AttributeType::Duration,
                    "how often the password changes (86400 or \"24h\"; at least 5 seconds)",
                )
                .required(),
                AttributeSchema::new(
                    "rotation_statements",
                    AttributeType::ListOfStrings,
                    "the SQL that sets the new password (default: the plugin's ALTER ROLE)",
                ),
            ],
        ),
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}
