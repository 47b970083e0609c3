//! The `vault` provider's resource types and provider settings. Names follow
//! Terraform's Vault provider, so a Terraform configuration ports attribute
//! by attribute.

use crate::provider::{AttributeSchema, AttributeType, BlockSchema, ResourceSchema};

/// A secrets engine mount.
pub const MOUNT: &str = "vault_mount";
/// An ACL policy.
pub const POLICY: &str = "vault_policy";
/// A KV version 2 secret.
pub const KV_SECRET_V2: &str = "vault_kv_secret_v2";
/// An auth method enabled at a path.
pub const AUTH_BACKEND: &str = "vault_auth_backend";
/// A role of an AppRole auth method.
pub const APPROLE_ROLE: &str = "vault_approle_auth_backend_role";
/// A JWT/OIDC auth method and its configuration.
pub const JWT_BACKEND: &str = "vault_jwt_auth_backend";
/// A role of a JWT/OIDC auth method.
pub const JWT_ROLE: &str = "vault_jwt_auth_backend_role";
/// The configuration of a Kubernetes auth method.
pub const KUBERNETES_CONFIG: &str = "vault_kubernetes_auth_backend_config";
/// A role of a Kubernetes auth method.
pub const KUBERNETES_ROLE: &str = "vault_kubernetes_auth_backend_role";
/// A secret_id of an AppRole role.
pub const APPROLE_SECRET_ID: &str = "vault_approle_auth_backend_role_secret_id";
/// A root certificate authority of a PKI engine.
pub const PKI_ROOT_CERT: &str = "vault_pki_secret_backend_root_cert";
/// A role of a PKI engine.
pub const PKI_ROLE: &str = "vault_pki_secret_backend_role";
/// A named key of a transit engine.
pub const TRANSIT_KEY: &str = "vault_transit_secret_backend_key";
/// A connection of a database secrets engine.
pub const DATABASE_CONNECTION: &str = "vault_database_secret_backend_connection";
/// A dynamic role of a database secrets engine.
pub const DATABASE_ROLE: &str = "vault_database_secret_backend_role";
/// A static role of a database secrets engine.
pub const DATABASE_STATIC_ROLE: &str = "vault_database_secret_backend_static_role";

pub fn resource_schemas() -> Vec<ResourceSchema> {
    vec![
        mount(),
        policy(),
        kv_secret_v2(),
        super::auth_backend::schema(),
        super::approle_role::schema(),
        super::jwt_backend::schema(),
        super::jwt_role::schema(),
        super::kubernetes_config::schema(),
        super::kubernetes_role::schema(),
        super::approle_secret_id::schema(),
        super::pki_root_cert::schema(),
        super::pki_role::schema(),
        super::transit_key::schema(),
        super::database_connection::schema(),
        super::database_role::schema(),
        super::database_static_role::schema(),
    ]
}

/// The nested blocks of the provider block: `approle`, `jwt` and `kubernetes` logins.
pub fn provider_blocks() -> Vec<BlockSchema> {
    super::login::blocks()
}

fn mount() -> ResourceSchema {
    ResourceSchema {
        type_name: MOUNT,
        description: "a secrets engine mounted at a path; destroying it deletes everything stored under it",
        attributes: vec![
            AttributeSchema::new("path", AttributeType::String, "where the engine is mounted (`kv`, `database`)")
                .required()
                .force_new(),
            AttributeSchema::new(
                "type",
                AttributeType::String,
                "the engine type (`kv-v2`, `kv`, `database`, `pki`, `transit`, ...); `kv-v2` equals `kv` with options { version = \"2\" }",
            )
            .required()
            .force_new(),
            AttributeSchema::new("description", AttributeType::String, "what the mount is for"),
            AttributeSchema::new(
                "default_lease_ttl_seconds",
                AttributeType::Duration,
                "the default lease of the engine's secrets (3600 or \"1h\"; 0: the system default)",
            ),
            AttributeSchema::new(
                "max_lease_ttl_seconds",
                AttributeType::Duration,
                "the longest lease of the engine's secrets (0: the system default)",
            ),
            AttributeSchema::new(
                "options",
                AttributeType::MapOfStrings,
                "engine options, such as { version = \"2\" } for kv",
            ),
            AttributeSchema::new("id", AttributeType::String, "the mount's path").computed(),
            AttributeSchema::new("accessor", AttributeType::String, "the mount's accessor").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

fn policy() -> ResourceSchema {
    ResourceSchema {
        type_name: POLICY,
        description: "an ACL policy; compared after normalising its HCL formatting",
        attributes: vec![
            AttributeSchema::new("name", AttributeType::String, "the policy's name")
                .required()
                .force_new(),
            AttributeSchema::new(
                "policy",
                AttributeType::String,
                "the policy document in HCL (a heredoc, or file(\"app.hcl\"))",
            )
            .required(),
            AttributeSchema::new("id", AttributeType::String, "the policy's name").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

fn kv_secret_v2() -> ResourceSchema {
    ResourceSchema {
        type_name: KV_SECRET_V2,
        description: "a secret in a KV version 2 engine; destroying it soft-deletes its current version (recoverable)",
        attributes: vec![
            AttributeSchema::new("mount", AttributeType::String, "the path of the KV v2 mount")
                .required()
                .force_new(),
            AttributeSchema::new("name", AttributeType::String, "the secret's path inside the mount")
                .required()
                .force_new(),
            AttributeSchema::new(
                "data_json",
                AttributeType::Secret,
                "the secret's data, a JSON object: a value source such as jsonencode({ password = env(\"...\") })",
            )
            .required(),
            AttributeSchema::new("id", AttributeType::String, "`mount/data/name`").computed(),
            AttributeSchema::new("path", AttributeType::String, "`mount/data/name`").computed(),
            AttributeSchema::new("version", AttributeType::Number, "the current version number").computed(),
        ],
        blocks: vec![BlockSchema {
            name: "custom_metadata",
            attributes: vec![
                AttributeSchema::new(
                    "max_versions",
                    AttributeType::Number,
                    "versions kept (0: the mount's setting)",
                ),
                AttributeSchema::new(
                    "cas_required",
                    AttributeType::Bool,
                    "whether every write must give check-and-set",
                ),
                AttributeSchema::new(
                    "delete_version_after",
                    AttributeType::Duration,
                    "how long a version lives before it is deleted (0: forever)",
                ),
                AttributeSchema::new(
                    "data",
                    AttributeType::MapOfStrings,
                    "custom key-value metadata (not secret: it is shown in plans)",
                ),
            ],
            description: "the secret's metadata (`MOUNT/metadata/NAME`)",
        }],
        recoverable_deletion: true,
    }
}

pub fn provider_attributes() -> Vec<AttributeSchema> {
    vec![
        AttributeSchema::new(
            "address",
            AttributeType::String,
            "the Vault server's URL (default: VAULT_ADDR)",
        ),
        AttributeSchema::new(
            "token",
            AttributeType::Secret,
            "the token keyform authenticates with: a value source such as env(\"...\") (default: VAULT_TOKEN)",
        ),
        AttributeSchema::new(
            "namespace",
            AttributeType::String,
            "the Vault Enterprise or OpenBao namespace every request goes to",
        ),
        AttributeSchema::new(
            "ca_cert_file",
            AttributeType::String,
            "a PEM file of the CA certificates that sign the server's certificate",
        ),
        AttributeSchema::new(
            "skip_tls_verify",
            AttributeType::Bool,
            "do not check the server's certificate; refused unless the address is loopback",
        ),
    ]
}
