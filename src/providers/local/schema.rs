//! The `local` provider's resource types and provider settings.

use crate::provider::{AttributeSchema, AttributeType, BlockSchema, ResourceSchema};

fn rotation_block() -> BlockSchema {
    BlockSchema {
        name: "rotation",
        attributes: vec![
            AttributeSchema::new(
                "every",
                AttributeType::Duration,
                "how often keyform makes a new version",
            )
            .required(),
            AttributeSchema::new(
                "grace",
                AttributeType::Duration,
                "how long the previous version stays valid after a rotation",
            ),
        ],
        description: "a rotation schedule",
    }
}

pub fn resource_schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema {
            type_name: "local_key",
            description: "an AES-256-GCM key-encryption key with numbered versions",
            attributes: vec![
                AttributeSchema::new("description", AttributeType::String, "what the key protects"),
                AttributeSchema::new(
                    "enabled",
                    AttributeType::Bool,
                    "whether the key may wrap new data keys (default true)",
                ),
                AttributeSchema::new(
                    "deletion_window_in_days",
                    AttributeType::Number,
                    "days a destroyed key stays recoverable before it is purged (7 to 30, default 30)",
                ),
                AttributeSchema::new("id", AttributeType::String, "the key's id").computed(),
                AttributeSchema::new(
                    "current_version",
                    AttributeType::Number,
                    "the version that wraps new data keys",
                )
                .computed(),
            ],
            blocks: vec![rotation_block()],
            recoverable_deletion: true,
        },
        ResourceSchema {
            type_name: "local_secret",
            description: "a named secret, envelope-encrypted under a local_key",
            attributes: vec![
                AttributeSchema::new("name", AttributeType::String, "the secret's name in the store")
                    .required()
                    .force_new(),
                AttributeSchema::new("description", AttributeType::String, "what the secret is for"),
                AttributeSchema::new("value", AttributeType::Secret, "the secret value: a value source").required(),
                AttributeSchema::new(
                    "key",
                    AttributeType::String,
                    "the id of the local_key that protects the value",
                )
                .required(),
                AttributeSchema::new(
                    "recovery_window_in_days",
                    AttributeType::Number,
                    "days a destroyed secret stays recoverable (0, or 7 to 30; default 30)",
                ),
                AttributeSchema::new("id", AttributeType::String, "the secret's id (its name)").computed(),
                AttributeSchema::new("version_id", AttributeType::String, "the id of the current version").computed(),
            ],
            blocks: vec![rotation_block()],
            recoverable_deletion: true,
        },
    ]
}

/// Data sources: read-only lookups of objects, managed here or not.
pub fn data_schemas() -> Vec<ResourceSchema> {
    vec![ResourceSchema {
        type_name: "local_key",
        description: "looks up a local_key by id",
        attributes: vec![
            AttributeSchema::new("id", AttributeType::String, "the key's id").required(),
            AttributeSchema::new("description", AttributeType::String, "what the key protects").computed(),
            AttributeSchema::new("enabled", AttributeType::Bool, "whether the key may wrap new data keys").computed(),
            AttributeSchema::new(
                "current_version",
                AttributeType::Number,
                "the version that wraps new data keys",
            )
            .computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }]
}

pub fn provider_attributes() -> Vec<AttributeSchema> {
    vec![
        AttributeSchema::new(
            "store",
            AttributeType::String,
            "the store folder, relative to the configuration (default .keyform/local-store)",
        ),
        AttributeSchema::new(
            "master_key_file",
            AttributeType::String,
            "the master key file, relative to the configuration (default .keyform/local-master.key)",
        ),
        AttributeSchema::new(
            "simulated_latency_ms",
            AttributeType::Number,
            "milliseconds every call waits, to model a remote service in tests and benchmarks (default 0)",
        ),
    ]
}
