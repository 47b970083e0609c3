//! `vault_jwt_auth_backend_role`: roles of a JWT/OIDC auth method at
//! `auth/BACKEND/role/NAME` (the id, as in Terraform): which tokens may log
//! in (`bound_audiences`, `bound_claims`), which claim names the user, and
//! the policies and TTL of the Vault token a login gets. Read, create (a
//! role at the name is adopted only when its settings are the ones the
//! create writes), update (always the whole role) and delete are
//! [`RoleType`]'s.

use super::auth_role::{RoleType, backend_attribute, role_name_attribute, token_attributes};
use super::role_fields::{Field, WholeRole};
use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};

/// The role's fields and their defaults (Vault's: a role is `oidc` unless it says `jwt`).
pub const ROLE: RoleType = RoleType {
    method_type: "jwt",
    also: &["oidc"],
    default_backend: "jwt",
    role: WholeRole {
        label: "JWT role",
        name_field: "role_name",
        fields: &[
            Field::Text("role_type", "oidc"),
            Field::Set("bound_audiences"),
            Field::Map("bound_claims"),
            Field::Text("user_claim", ""),
            Field::Set("token_policies"),
            Field::Duration("token_ttl"),
        ],
        adjust: None,
    },
};

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::JWT_ROLE,
        description: "a role of a JWT/OIDC auth method: which tokens may log in, and the policies and TTL of the Vault token they get",
        attributes: vec![
            backend_attribute("the path of the JWT auth method (default: jwt)"),
            role_name_attribute(),
            AttributeSchema::new(
                "role_type",
                AttributeType::String,
                "`jwt` for a login with a token (a CI system's OIDC token), `oidc` for a browser login (Vault's default)",
            ),
            AttributeSchema::new(
                "bound_audiences",
                AttributeType::ListOfStrings,
                "the `aud` values a token must have one of",
            )
            .unordered(),
            AttributeSchema::new(
                "bound_claims",
                AttributeType::MapOfStrings,
                "claims a token must carry with exactly these values, such as { repository = \"org/app\" }",
            ),
            AttributeSchema::new(
                "user_claim",
                AttributeType::String,
                "the claim that names the user (`sub`)",
            )
            .required(),
        ]
        .into_iter()
        .chain(token_attributes())
        .collect(),
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}
