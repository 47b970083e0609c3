//! `vault_database_secret_backend_role`: a dynamic role of a database
//! secrets engine at `BACKEND/roles/NAME` (the id, as in Terraform). A read
//! of `BACKEND/creds/NAME` makes a database user that lives `default_ttl`.
//!
//! Every write sends the whole role, never only the changed fields: each
//! setting the request holds (the configured ones, and for the others what
//! Vault last reported), and Vault's default (no statements, a TTL of 0: the
//! mount's) for any it does not. A setting the configuration leaves out
//! therefore keeps its value; setting it to its default resets it.
//! A role carries no create token: see [`RoleType`].

use super::database::{self, RoleType, attributes_of};
use super::role_fields::Field;
use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};

/// The role's settings.
const FIELDS: &[Field] = &[
    Field::Text("db_name", ""),
    Field::List("creation_statements"),
    Field::List("revocation_statements"),
    Field::List("rollback_statements"),
    Field::List("renew_statements"),
    Field::Duration("default_ttl"),
    Field::Duration("max_ttl"),
];

/// The behaviour of the type.
pub const ROLE: RoleType = RoleType::new(database::ROLE, FIELDS);

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::DATABASE_ROLE,
        description: "a dynamic role of a database secrets engine: each read of BACKEND/creds/NAME makes a database user that lives default_ttl",
        attributes: attributes_of(
            database::ROLE,
            vec![
                AttributeSchema::new(
                    "creation_statements",
                    AttributeType::ListOfStrings,
                    "the SQL that makes the user, with {{name}}, {{password}} and {{expiration}}",
                )
                .required(),
                AttributeSchema::new(
                    "revocation_statements",
                    AttributeType::ListOfStrings,
                    "the SQL that removes the user when its lease ends (default: the plugin's, which drops it)",
                ),
                AttributeSchema::new(
                    "rollback_statements",
                    AttributeType::ListOfStrings,
                    "the SQL run when making the user failed",
                ),
                AttributeSchema::new(
                    "renew_statements",
                    AttributeType::ListOfStrings,
                    "the SQL run when the lease is renewed",
                ),
                AttributeSchema::new(
                    "default_ttl",
                    AttributeType::Duration,
                    "how long a user lives (3600 or \"1h\"; 0: the mount's default)",
                ),
                AttributeSchema::new(
                    "max_ttl",
                    AttributeType::Duration,
                    "the longest a lease can be renewed to (0: the mount's maximum)",
                ),
            ],
        ),
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}
