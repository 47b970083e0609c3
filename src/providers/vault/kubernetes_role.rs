//! `vault_kubernetes_auth_backend_role`: roles of a Kubernetes auth method at
//! `auth/BACKEND/role/NAME` (the id, as in Terraform): which service
//! accounts, in which namespaces, may log in, and the policies and TTL of
//! the Vault token a login gets. Read, create (a role at the name is
//! adopted only when its settings are the ones the create writes), update
//! (always the whole role) and delete are [`RoleType`]'s.

use super::auth_role::{Field, RoleType, backend_attribute, token_attributes};
use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};

/// The role's fields and their defaults.
pub const ROLE: RoleType = RoleType {
    method_type: "kubernetes",
    also: &[],
    label: "Kubernetes role",
    default_backend: "kubernetes",
    fields: &[
        Field::Set("bound_service_account_names"),
        Field::Set("bound_service_account_namespaces"),
        Field::Text("audience", ""),
        Field::Set("token_policies"),
        Field::Duration("token_ttl"),
    ],
};

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::KUBERNETES_ROLE,
        description: "a role of a Kubernetes auth method: which service accounts may log in, and the policies and TTL of the Vault token they get",
        attributes: vec![
            backend_attribute("the path of the Kubernetes auth method (default: kubernetes)"),
            AttributeSchema::new("role_name", AttributeType::String, "the role's name")
                .required()
                .force_new(),
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
