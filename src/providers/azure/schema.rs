//! The `azurerm` provider's resource types and provider settings. Names follow
//! Terraform's azurerm provider, so a Terraform configuration ports attribute
//! by attribute. The difference: a key's and a secret's `id` is the
//! versionless id (keyform's ids never change on update). A block inside a
//! block (`rotation_policy { automatic { ... } }`, `features { key_vault {
//! ... } }`) is declared under its dotted path.

use crate::provider::{AttributeSchema, AttributeType, BlockSchema, ResourceSchema};

/// The resource type of a vault.
pub const KEY_VAULT: &str = "azurerm_key_vault";
/// The resource type of a key.
pub const KEY: &str = "azurerm_key_vault_key";
/// The resource type of a secret.
pub const SECRET: &str = "azurerm_key_vault_secret";

pub fn resource_schemas() -> Vec<ResourceSchema> {
    vec![key_vault(), key(), secret()]
}

fn recovery_window() -> AttributeSchema {
    AttributeSchema::new(
        "recovery_window_in_days",
        AttributeType::Number,
        "days a destroyed object stays recoverable: the vault's soft-delete retention, or 0 when features.key_vault purges it on destroy (never under purge protection)",
    )
    .computed()
}

fn dates() -> [AttributeSchema; 2] {
    [
        AttributeSchema::new(
            "not_before_date",
            AttributeType::String,
            "not usable before this UTC time, RFC 3339 (\"2030-01-01T00:00:00Z\")",
        ),
        AttributeSchema::new(
            "expiration_date",
            AttributeType::String,
            "not usable after this UTC time, RFC 3339 (\"2031-01-01T00:00:00Z\")",
        ),
    ]
}

fn key_vault() -> ResourceSchema {
    ResourceSchema {
        type_name: KEY_VAULT,
        description: "an Azure Key Vault (an ARM resource); destroying it soft-deletes it for its retention days",
        attributes: vec![
            AttributeSchema::new(
                "name",
                AttributeType::String,
                "the vault's globally unique name, 3 to 24 letters, digits and dashes",
            )
            .required()
            .force_new(),
            AttributeSchema::new("location", AttributeType::String, "the Azure region (\"westeurope\")")
                .required()
                .force_new(),
            AttributeSchema::new(
                "resource_group_name",
                AttributeType::String,
                "the resource group that holds the vault",
            )
            .required()
            .force_new(),
            AttributeSchema::new(
                "tenant_id",
                AttributeType::String,
                "the Entra ID tenant that authenticates requests to the vault",
            )
            .required(),
            AttributeSchema::new(
                "sku_name",
                AttributeType::String,
                "standard or premium (HSM-backed keys)",
            )
            .required(),
            AttributeSchema::new(
                "soft_delete_retention_days",
                AttributeType::Number,
                "days a deleted vault, key or secret stays recoverable, 7 to 90 (default 90); set at creation only",
            ),
            AttributeSchema::new(
                "purge_protection_enabled",
                AttributeType::Bool,
                "nothing deleted can be purged before its retention ends (default false); once on, it cannot be turned off",
            ),
            AttributeSchema::new(
                "rbac_authorization_enabled",
                AttributeType::Bool,
                "authorize data-plane requests with Azure RBAC instead of access policies (default false)",
            ),
            AttributeSchema::new("tags", AttributeType::MapOfStrings, "tags on the vault"),
            AttributeSchema::new("id", AttributeType::String, "the vault's ARM resource id").computed(),
            AttributeSchema::new(
                "vault_uri",
                AttributeType::String,
                "the data-plane URI: https://NAME.vault.azure.net/",
            )
            .computed(),
            recovery_window(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: true,
    }
}

fn key() -> ResourceSchema {
    let [not_before, expiration] = dates();
    ResourceSchema {
        type_name: KEY,
        description: "a key in an Azure Key Vault; destroying it soft-deletes it",
        attributes: vec![
            AttributeSchema::new("key_vault_id", AttributeType::String, "the ARM id of the vault (azurerm_key_vault.x.id)")
                .required()
                .force_new(),
            AttributeSchema::new("name", AttributeType::String, "the key's name: letters, digits and dashes")
                .required()
                .force_new(),
            AttributeSchema::new("key_type", AttributeType::String, "RSA, RSA-HSM, EC or EC-HSM")
                .required()
                .force_new(),
            AttributeSchema::new("key_size", AttributeType::Number, "an RSA key's size: 2048, 3072 or 4096").force_new(),
            AttributeSchema::new("curve", AttributeType::String, "an EC key's curve: P-256, P-256K, P-384 or P-521")
                .force_new(),
            AttributeSchema::new(
                "key_opts",
                AttributeType::ListOfStrings,
                "permitted operations: decrypt, encrypt, sign, unwrapKey, verify, wrapKey (default: all the key type allows)",
            )
            .unordered(),
            not_before,
            expiration,
            AttributeSchema::new("tags", AttributeType::MapOfStrings, "tags on the key"),
            AttributeSchema::new("id", AttributeType::String, "the key's versionless id: https://VAULT/keys/NAME").computed(),
            AttributeSchema::new("versionless_id", AttributeType::String, "the same as id").computed(),
            AttributeSchema::new("resource_id", AttributeType::String, "the key's ARM id").computed(),
            recovery_window(),
        ],
        blocks: vec![BlockSchema {
            name: "rotation_policy",
            attributes: vec![
                AttributeSchema::new(
                    "expire_after",
                    AttributeType::String,
                    "each new version expires this long after it is made, ISO 8601 (\"P1Y\", \"P90D\")",
                ),
                AttributeSchema::new(
                    "notify_before_expiry",
                    AttributeType::String,
                    "Event Grid notifies this long before a version expires, ISO 8601 (\"P30D\")",
                ),
            ],
            description: "Azure's own rotation of the key: when versions expire, when to notify, when to rotate",
        },
        BlockSchema {
            name: "rotation_policy.automatic",
            attributes: vec![
                AttributeSchema::new(
                    "time_after_creation",
                    AttributeType::String,
                    "Azure rotates the key this long after each version is made, ISO 8601 (\"P11M\")",
                ),
                AttributeSchema::new(
                    "time_before_expiry",
                    AttributeType::String,
                    "Azure rotates the key this long before each version expires, ISO 8601 (\"P30D\")",
                ),
            ],
            description: "Azure rotates the key by itself: one of time_after_creation or time_before_expiry",
        }],
        recoverable_deletion: true,
    }
}

fn secret() -> ResourceSchema {
    let [not_before, expiration] = dates();
    ResourceSchema {
        type_name: SECRET,
        description: "a secret in an Azure Key Vault; destroying it soft-deletes it",
        attributes: vec![
            AttributeSchema::new("key_vault_id", AttributeType::String, "the ARM id of the vault (azurerm_key_vault.x.id)")
                .required()
                .force_new(),
            AttributeSchema::new("name", AttributeType::String, "the secret's name: letters, digits and dashes")
                .required()
                .force_new(),
            AttributeSchema::new(
                "value",
                AttributeType::Secret,
                "the secret value: a value source (generate({...}), env(\"...\"), file(\"...\")); never stored by keyform",
            )
            .required(),
            AttributeSchema::new("content_type", AttributeType::String, "a hint of what the value is (\"password\")"),
            not_before,
            expiration,
            AttributeSchema::new("tags", AttributeType::MapOfStrings, "tags on the secret"),
            AttributeSchema::new("id", AttributeType::String, "the secret's versionless id: https://VAULT/secrets/NAME")
                .computed(),
            AttributeSchema::new("versionless_id", AttributeType::String, "the same as id").computed(),
            AttributeSchema::new("resource_id", AttributeType::String, "the secret's ARM id").computed(),
            recovery_window(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: true,
    }
}

/// The provider block's attributes.
pub fn provider_attributes() -> Vec<AttributeSchema> {
    vec![
        AttributeSchema::new(
            "tenant_id",
            AttributeType::String,
            "the Entra ID tenant (default: ARM_TENANT_ID)",
        ),
        AttributeSchema::new(
            "subscription_id",
            AttributeType::String,
            "the subscription that holds the vaults (default: ARM_SUBSCRIPTION_ID)",
        ),
        AttributeSchema::new(
            "client_id",
            AttributeType::String,
            "the application (client) id of the service principal, workload identity or user-assigned managed identity (default: ARM_CLIENT_ID)",
        ),
        AttributeSchema::new(
            "client_secret",
            AttributeType::Secret,
            "the service principal's client secret: a value source such as env(\"ARM_CLIENT_SECRET\")",
        ),
        AttributeSchema::new(
            "use_oidc",
            AttributeType::Bool,
            "authenticate with workload identity federation, reading the federated token from oidc_token_file_path or AZURE_FEDERATED_TOKEN_FILE",
        ),
        AttributeSchema::new(
            "oidc_token",
            AttributeType::Secret,
            "a federated token (a CI system's OIDC token) as a value source; implies use_oidc",
        ),
        AttributeSchema::new(
            "oidc_token_file_path",
            AttributeType::String,
            "the file holding the federated token (default: AZURE_FEDERATED_TOKEN_FILE)",
        ),
        AttributeSchema::new(
            "use_msi",
            AttributeType::Bool,
            "authenticate as the managed identity of the machine (user-assigned when client_id is set)",
        ),
        AttributeSchema::new(
            "use_cli",
            AttributeType::Bool,
            "authenticate with the Azure CLI's login when no other method is set (default true)",
        ),
    ]
}

/// The provider block's nested blocks: `environment`, and `features` with its `key_vault` block.
pub fn provider_blocks() -> Vec<BlockSchema> {
    let flag =
        |name: &'static str, description: &'static str| AttributeSchema::new(name, AttributeType::Bool, description);
    vec![
        BlockSchema {
            name: "environment",
            attributes: vec![
                AttributeSchema::new(
                    "authority_host",
                    AttributeType::String,
                    "Entra ID's URL (default https://login.microsoftonline.com/)",
                ),
                AttributeSchema::new(
                    "resource_manager",
                    AttributeType::String,
                    "Azure Resource Manager's URL (default https://management.azure.com/)",
                ),
                AttributeSchema::new(
                    "key_vault_suffix",
                    AttributeType::String,
                    "the DNS suffix of vaults (default vault.azure.net)",
                ),
            ],
            description: "the endpoints of a sovereign or private cloud",
        },
        BlockSchema {
            name: "features",
            attributes: Vec::new(),
            description: "how the provider behaves (its key_vault block)",
        },
        BlockSchema {
            name: "features.key_vault",
            attributes: vec![
                flag(
                    "purge_soft_delete_on_destroy",
                    "purge a destroyed vault instead of keeping it soft-deleted (default false)",
                ),
                flag(
                    "purge_soft_deleted_keys_on_destroy",
                    "purge a destroyed key (default false)",
                ),
                flag(
                    "purge_soft_deleted_secrets_on_destroy",
                    "purge a destroyed secret (default false)",
                ),
                flag(
                    "recover_soft_deleted_key_vaults",
                    "a vault created with a soft-deleted vault's name recovers it (default true)",
                ),
                flag(
                    "recover_soft_deleted_keys",
                    "a key created with a soft-deleted key's name recovers it (default true)",
                ),
                flag(
                    "recover_soft_deleted_secrets",
                    "a secret created with a soft-deleted secret's name recovers it (default true)",
                ),
            ],
            description: "soft delete: what destroy purges and what a create recovers; never a purge under purge protection",
        },
    ]
}
