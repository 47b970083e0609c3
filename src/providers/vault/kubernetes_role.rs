//! `vault_kubernetes_auth_backend_role`: roles of a Kubernetes auth method at
//! `auth/BACKEND/role/NAME` (the id, as in Terraform): which service
//! accounts, in which namespaces, may log in, and the policies and TTL of
//! the Vault token a login gets. Read, create (a role at the name is
//! adopted only when its settings are the ones the create writes), update
//! (always the whole role) and delete are [`RoleType`]'s.

use super::auth_role::{RoleType, backend_attribute, role_name_attribute, token_attributes};
use super::role_fields::{Field, WholeRole};
use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};

/// The role's fields and their defaults.
pub const ROLE: RoleType = RoleType {
    method_type: "kubernetes",
    also: &[],
    default_backend: "kubernetes",
    role: WholeRole {
        label: "Kubernetes role",
        name_field: "role_name",
        fields: &[
            Field::Set("bound_service_account_names"),
            Field::Set("bound_service_account_namespaces"),
            Field::Text("audience", ""),
            Field::Set("token_policies"),
            Field::Duration("token_ttl"),
        ],
        adjust: None,
    },
};

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::KUBERNETES_ROLE,
        description: "a role of a Kubernetes auth method: which service accounts may log in, and the policies and TTL of the Vault token they get",
        attributes: vec![
            backend_attribute("the path of the Kubernetes auth method (default: kubernetes)"),
            role_name_attribute(),
            AttributeSchema::new(
                "bound_service_account_names",
                AttributeType::ListOfStrings,
                "the service accounts that may log in (`*`: any)",
            )
            .required()
            .unordered(),
            AttributeSchema::new(
                "bound_service_account_namespaces",
                AttributeType::ListOfStrings,
                "the namespaces those accounts are in (`*`: any)",
            )
            .required()
            .unordered(),
            AttributeSchema::new(
                "audience",
                AttributeType::String,
                "the audience a service-account token must be issued for (empty: any)",
            ),
        ]
        .into_iter()
        .chain(token_attributes())
        .collect(),
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}
