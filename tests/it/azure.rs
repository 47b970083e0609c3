//! The `azurerm` driver against the in-repo Azure test server, through
//! Microsoft's Rust SDK (keys and secrets) and Azure Resource Manager's REST
//! API (vaults): the compliance suite for each resource type, and the first
//! end-to-end path (a vault, a key and a secret made by the driver).

use crate::azure_support::{
    configured_provider, create, new_vault, object, read, secret, server, unique, vault_attributes, vault_uri_of,
};
use keyform::provider::compliance::{Subject, report, run};
use std::collections::BTreeMap;

#[tokio::test]
async fn a_vault_a_key_and_a_secret_are_made_and_read_back() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    assert!(
        vault.attributes["vault_uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with(".vault.keyform.test/")),
        "{:?}",
        vault.attributes
    );
    let key_attributes = object(serde_json::json!({
        "key_vault_id": vault.id,
        "name": unique("key"),
        "key_type": "RSA",
        "key_size": 2048,
        "key_opts": ["sign", "verify"],
    }));
    let key = create(&provider, "azurerm_key_vault_key", &key_attributes, BTreeMap::new())
        .await
        .expect("create a key")
        .expect("the key");
    assert_eq!(key.attributes["key_size"], 2048, "{:?}", key.attributes);
    let secret_attributes = object(serde_json::json!({
        "key_vault_id": vault.id,
        "name": unique("secret"),
        "content_type": "password",
    }));
    let value = secret("value", "s3cret-value");
    let secret = create(&provider, "azurerm_key_vault_secret", &secret_attributes, value)
        .await
        .expect("create a secret")
        .expect("the secret");
    assert!(secret.secret_versions.contains_key("value"), "{secret:?}");
    let read = read(&provider, "azurerm_key_vault_secret", &secret)
        .await
        .expect("read the secret")
        .expect("the secret exists");
    assert_eq!(read.secret_versions, secret.secret_versions);
    assert_eq!(read.attributes["content_type"], "password");
}

async fn compliance(resource_type: &str, subject: Subject) {
    let results = run(&subject).await;
    let (text, passed) = report(resource_type, &results);
    println!("{text}");
    assert!(passed, "{text}");
    assert!(results.len() >= 12, "every case ran:\n{text}");
}

#[tokio::test]
async fn azurerm_key_vault_passes_the_compliance_suite() {
    let provider = configured_provider(serde_json::json!({})).await;
    let server = server();
    let subject = Subject {
        provider,
        resource_type: "azurerm_key_vault".into(),
        attributes: vault_attributes(&unique("kv"), false),
        secrets: BTreeMap::new(),
        update: Some(("rbac_authorization_enabled".into(), true.into())),
        missing_id: format!(
            "/subscriptions/{}/resourceGroups/keyform-tests/providers/Microsoft.KeyVault/vaults/{}",
            server.subscription_id(),
            unique("gone")
        ),
    };
    compliance("azurerm_key_vault", subject).await;
}

#[tokio::test]
async fn azurerm_key_vault_key_passes_the_compliance_suite() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    let vault_uri = vault_uri_of(&vault);
    let subject = Subject {
        provider,
        resource_type: "azurerm_key_vault_key".into(),
        attributes: object(serde_json::json!({
            "key_vault_id": vault.id,
            "name": unique("key"),
            "key_type": "EC",
            "curve": "P-256",
        })),
        secrets: BTreeMap::new(),
        update: Some(("expiration_date".into(), "2031-01-01T00:00:00Z".into())),
        missing_id: format!("{vault_uri}keys/{}", unique("missing")),
    };
    compliance("azurerm_key_vault_key", subject).await;
}

#[tokio::test]
async fn azurerm_key_vault_secret_passes_the_compliance_suite() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    let vault_uri = vault_uri_of(&vault);
    let subject = Subject {
        provider,
        resource_type: "azurerm_key_vault_secret".into(),
        attributes: object(serde_json::json!({
            "key_vault_id": vault.id,
            "name": unique("secret"),
            "content_type": "text/plain",
        })),
        secrets: secret("value", uuid::Uuid::new_v4().to_string()),
        update: Some(("content_type".into(), "application/json".into())),
        missing_id: format!("{vault_uri}secrets/{}", unique("missing")),
    };
    compliance("azurerm_key_vault_secret", subject).await;
}
