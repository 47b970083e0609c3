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

pub fn resource_schemas() -> Vec<ResourceSchema> {
    vec![
        mount(),
        policy(),
        kv_secret_v2(),
        super::auth_backend::schema(),
        super::approle_role::schema(),
    ]
}

/// The nested blocks of the provider block: `approle { ... }`.
pub fn provider_blocks() -> Vec<BlockSchema> {
    vec![BlockSchema {
        name: "approle",
        attributes: vec![
            AttributeSchema::new("role_id", AttributeType::String, "the AppRole's role_id (not secret)").required(),
            AttributeSchema::new(
                "secret_id_env",
                AttributeType::String,
                "the environment variable that holds the secret_id (default: VAULT_APPROLE_SECRET_ID); provider blocks take no secret attribute, so the secret_id is never written in the configuration",
            ),
            AttributeSchema::new(
                "mount",
                AttributeType::String,
                "the path the AppRole auth method is enabled at (default: approle)",
            ),
        ],
        description: "log in with an AppRole instead of a token; the token is obtained again when less than 10% of its TTL remains",
    }]
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
