//! Checks an `azurerm` resource's arguments before anything is sent, so a
//! value Azure always refuses is a diagnostic at plan time at the attribute
//! (KF1023) instead of an error at apply: a vault name outside Azure's naming
//! rule, a SKU or retention Azure does not offer (the checks of the vault's
//! request body itself), a key type, size, curve or operation Key Vault does
//! not know, a date that is not RFC 3339, and a rotation policy that
//! contradicts itself (the check of the policy's request body).

use super::data_plane::{DATES, unix_seconds};
use super::schema::{KEY, KEY_VAULT, SECRET};
use crate::provider::{Attributes, InvalidArgument, ProviderError};

const KEY_TYPES: &[&str] = &["RSA", "RSA-HSM", "EC", "EC-HSM"];
const RSA_SIZES: &[u64] = &[2048, 3072, 4096];
const CURVES: &[&str] = &["P-256", "P-256K", "P-384", "P-521"];
const OPERATIONS: &[&str] = &[
    "decrypt",
    "encrypt",
    "sign",
    "unwrapKey",
    "verify",
    "wrapKey",
    "import",
    "export",
];

fn invalid(attribute: &str, code: &str, message: String) -> InvalidArgument {
    InvalidArgument {
        attribute: attribute.to_string(),
        error: ProviderError::new(code, message),
    }
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes.get(name).and_then(serde_json::Value::as_str)
}

/// Azure's rule for vault names: 3 to 24 letters, digits and hyphens, starting with a letter, ending with a
/// letter or digit, without two hyphens in a row.
fn vault_name_problem(name: &str) -> Option<String> {
    let allowed = name
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || character == '-');
    let starts = name
        .chars()
        .next()
        .is_some_and(|character| character.is_ascii_alphabetic());
    let ends = name
        .chars()
        .last()
        .is_some_and(|character| character.is_ascii_alphanumeric());
    let ok = (3..=24).contains(&name.len()) && allowed && starts && ends && !name.contains("--");
    (!ok).then(|| {
        format!(
            "`{name}` is not a vault name Azure accepts: 3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no two hyphens in a row"
        )
    })
}

fn vault_problems(attributes: &Attributes) -> Vec<InvalidArgument> {
    let mut problems = Vec::new();
    if let Some(message) = text(attributes, "name").and_then(vault_name_problem) {
        problems.push(invalid("name", "VaultNameNotValid", message));
    }
    if let Err(error) = super::vault::desired_body(attributes, None, true) {
        let attribute = match error.code.as_str() {
            "InvalidSku" => "sku_name",
            "InvalidRetention" => "soft_delete_retention_days",
            _ => "tags",
        };
        problems.push(InvalidArgument {
            attribute: attribute.to_string(),
            error,
        });
    }
    problems
}

fn key_problems(attributes: &Attributes) -> Vec<InvalidArgument> {
    let mut problems = Vec::new();
    // An argument another resource gives is unknown at plan time and absent here: only what is known is checked.
    let key_type = text(attributes, "key_type");
    if let Some(key_type) = key_type.filter(|key_type| !KEY_TYPES.contains(key_type)) {
        problems.push(invalid(
            "key_type",
            "InvalidKeyType",
            format!("key_type must be one of {}, not `{key_type}`", KEY_TYPES.join(", ")),
        ));
    }
    let rsa = key_type.map(|key_type| key_type.starts_with("RSA"));
    if let Some(size) = attributes.get("key_size").and_then(serde_json::Value::as_u64) {
        if rsa == Some(false) {
            problems.push(invalid(
                "key_size",
                "InvalidKeySize",
                format!(
                    "key_size is for RSA keys; a {} key takes `curve`",
                    key_type.unwrap_or_default()
                ),
            ));
        } else if !RSA_SIZES.contains(&size) {
            problems.push(invalid(
                "key_size",
                "InvalidKeySize",
                format!("key_size must be 2048, 3072 or 4096, not {size}"),
            ));
        }
    }
    if let Some(curve) = text(attributes, "curve") {
        if rsa == Some(true) {
            problems.push(invalid(
                "curve",
                "InvalidCurve",
                format!(
                    "curve is for EC keys; a {} key takes `key_size`",
                    key_type.unwrap_or_default()
                ),
            ));
        } else if !CURVES.contains(&curve) {
            problems.push(invalid(
                "curve",
                "InvalidCurve",
                format!("curve must be one of {}, not `{curve}`", CURVES.join(", ")),
            ));
        }
    }
    let unknown: Vec<&str> = attributes
        .get("key_opts")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .filter(|operation| !OPERATIONS.contains(operation))
        .collect();
    if !unknown.is_empty() {
        problems.push(invalid(
            "key_opts",
            "InvalidKeyOperation",
            format!(
                "key_opts names operations Key Vault does not know: {} (they are {}; the case matters)",
                unknown.join(", "),
                OPERATIONS.join(", ")
            ),
        ));
    }
    if let Some(policy) = attributes.get("rotation_policy").filter(|policy| !policy.is_null())
        && let Err(error) = super::rotation_policy::to_azure(policy)
    {
        problems.push(InvalidArgument {
            attribute: "rotation_policy".to_string(),
            error,
        });
    }
    problems
}

fn date_problems(attributes: &Attributes) -> Vec<InvalidArgument> {
    DATES
        .iter()
        .filter_map(|(name, _)| {
            let value = text(attributes, name)?;
            unix_seconds(name, value).err().map(|error| InvalidArgument {
                attribute: name.to_string(),
                error,
            })
        })
        .collect()
}

/// Every argument of a `resource_type` instance Azure would refuse.
pub fn problems(resource_type: &str, attributes: &Attributes) -> Vec<InvalidArgument> {
    match resource_type {
        KEY_VAULT => vault_problems(attributes),
        KEY => key_problems(attributes)
            .into_iter()
            .chain(date_problems(attributes))
            .collect(),
        SECRET => date_problems(attributes),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::problems;
    use crate::provider::attributes_from_json as attributes;

    fn attributes_named(resource_type: &str, json: serde_json::Value) -> Vec<String> {
        problems(resource_type, &attributes(json))
            .into_iter()
            .map(|problem| problem.attribute)
            .collect()
    }

    #[test]
    fn a_vault_name_follows_azures_rule() {
        for (name, ok) in [
            ("kv-payments-1", true),
            ("kv", false),
            ("1kv-payments", false),
            ("kv--payments", false),
            ("kv-payments-", false),
            ("kv_payments", false),
            ("a-name-that-is-far-too-long", false),
        ] {
            let found = attributes_named(
                "azurerm_key_vault",
                serde_json::json!({ "name": name, "sku_name": "standard" }),
            );
            assert_eq!(found.is_empty(), ok, "{name}: {found:?}");
        }
        let found = attributes_named(
            "azurerm_key_vault",
            serde_json::json!({ "name": "kv-ok", "sku_name": "gold", "soft_delete_retention_days": 90 }),
        );
        assert_eq!(found, vec!["sku_name"]);
        let found = attributes_named(
            "azurerm_key_vault",
            serde_json::json!({ "name": "kv-ok", "soft_delete_retention_days": 120 }),
        );
        assert_eq!(found, vec!["soft_delete_retention_days"]);
    }

    #[test]
    fn key_arguments_are_checked_against_the_key_type() {
        assert!(
            attributes_named(
                "azurerm_key_vault_key",
                serde_json::json!({ "key_type": "RSA", "key_size": 3072, "key_opts": ["wrapKey", "unwrapKey"] })
            )
            .is_empty()
        );
        assert!(
            attributes_named(
                "azurerm_key_vault_key",
                serde_json::json!({ "key_type": "EC", "curve": "P-384" })
            )
            .is_empty()
        );
        assert_eq!(
            attributes_named(
                "azurerm_key_vault_key",
                serde_json::json!({ "key_type": "EC", "key_size": 2048, "key_opts": ["wrapkey"] })
            ),
            vec!["key_size", "key_opts"]
        );
        assert_eq!(
            attributes_named(
                "azurerm_key_vault_key",
                serde_json::json!({ "key_type": "AES", "expiration_date": "next year" })
            ),
            vec!["key_type", "expiration_date"]
        );
        assert_eq!(
            attributes_named(
                "azurerm_key_vault_key",
                serde_json::json!({ "key_type": "RSA", "rotation_policy": { "automatic": { "time_after_creation": "P1Y", "time_before_expiry": "P30D" } } })
            ),
            vec!["rotation_policy"]
        );
        assert_eq!(
            attributes_named(
                "azurerm_key_vault_secret",
                serde_json::json!({ "not_before_date": "2030-01-01T00:00:00Z", "expiration_date": "2030-13-01" })
            ),
            vec!["expiration_date"]
        );
    }
}
