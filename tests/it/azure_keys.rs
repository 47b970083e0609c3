//! `azurerm_key_vault_key` through the driver against the test server: the
//! rotation policy round trip (created, read back the same, changed, read
//! back), a rotation that makes a new version under the same id, and the
//! errors a user can cause (an unknown key type, an invalid date, a bad
//! automatic trigger).

use crate::azure_support::{
    assert_plan_is_empty, configured_provider, create, keyform, new_vault, object, provider_block, read, request,
    server, test_key_client, test_secret_client, unique, vault_resource, vault_uri, vault_uri_of,
};
use crate::support::{Workspace, assert_exit};
use keyform::provider::ApplyAction;
use std::collections::BTreeMap;

const KEY: &str = "azurerm_key_vault_key";

/// The id of a key's current version, read with the test's own client.
async fn current_version(client: &azure_security_keyvault_keys::KeyClient, name: &str) -> String {
    let key: serde_json::Value = client
        .get_key(name, None)
        .await
        .expect("get the key")
        .into_body()
        .json()
        .expect("the key as JSON");
    key["key"]["kid"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_rotation_policy_round_trips_and_a_rotation_keeps_the_id() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    let name = unique("rotated");
    let policy = serde_json::json!({
        "expire_after": "P1Y",
        "notify_before_expiry": "P30D",
        "automatic": { "time_after_creation": "P11M" }
    });
    let mut attributes = object(serde_json::json!({
        "key_vault_id": vault.id,
        "name": name,
        "key_type": "RSA",
        "key_size": 3072,
        "rotation_policy": policy,
    }));
    let created = create(&provider, KEY, &attributes, BTreeMap::new())
        .await
        .expect("create")
        .expect("key");
    assert_eq!(
        created.attributes["rotation_policy"], policy,
        "{:?}",
        created.attributes
    );
    assert_eq!(created.attributes["key_size"], 3072);
    let read = read(&provider, KEY, &created).await.expect("read").expect("key");
    assert_eq!(
        read.attributes, created.attributes,
        "a read reports what the create reported"
    );

    let changed = serde_json::json!({ "expire_after": "P2Y", "automatic": { "time_before_expiry": "P60D" } });
    attributes.insert("rotation_policy".into(), changed.clone());
    let updated = provider
        .apply(request(
            KEY,
            ApplyAction::Update,
            Some(created.id.clone()),
            attributes.clone(),
            BTreeMap::new(),
        ))
        .await
        .expect("update")
        .expect("key");
    assert_eq!(updated.attributes["rotation_policy"], changed);

    let client = test_key_client(&vault_uri_of(&vault));
    let before = current_version(&client, &name).await;
    let rotated = provider
        .apply(request(
            KEY,
            ApplyAction::Rotate,
            Some(created.id.clone()),
            attributes,
            BTreeMap::new(),
        ))
        .await
        .expect("rotate")
        .expect("key");
    assert_eq!(rotated.id, created.id, "the versionless id stays");
    let after = current_version(&client, &name).await;
    assert_ne!(before, after, "a rotation makes a new version");
}

#[tokio::test]
async fn a_key_the_configuration_gets_wrong_is_refused_with_the_reason() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    for (change, code, phrase) in [
        (
            serde_json::json!({ "key_type": "AES" }),
            "InvalidKeyType",
            "RSA, RSA-HSM, EC or EC-HSM",
        ),
        (
            serde_json::json!({ "expiration_date": "next year" }),
            "InvalidDate",
            "RFC 3339",
        ),
        (
            serde_json::json!({ "rotation_policy": { "automatic": { "time_after_creation": "P1M", "time_before_expiry": "P1M" } } }),
            "InvalidRotationPolicy",
            "one of time_after_creation or time_before_expiry",
        ),
    ] {
        let mut attributes = object(serde_json::json!({
            "key_vault_id": vault.id,
            "name": unique("wrong"),
            "key_type": "RSA",
        }));
        for (name, value) in change.as_object().cloned().unwrap_or_default() {
            attributes.insert(name, value);
        }
        let error = create(&provider, KEY, &attributes, BTreeMap::new())
            .await
            .expect_err("refused");
        assert_eq!(error.code, code, "{error:?}");
        assert!(error.to_string().contains(phrase) || error.help.unwrap_or_default().contains(phrase));
    }
}

#[tokio::test]
async fn rotate_now_makes_a_new_key_version_and_a_new_secret_version() {
    let vault = unique("kv");
    let workspace = Workspace::initialized(&format!(
        r#"{provider}
{vault_block}
resource "azurerm_key_vault_key" "signing" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "signing"
  key_type     = "EC"
}}

resource "azurerm_key_vault_secret" "token" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "token"
  value        = generate({{ length = 30 }})
}}
"#,
        provider = provider_block(server(), ""),
        vault_block = vault_resource(&vault, 7, false),
    ));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let vault_uri = vault_uri(&vault);
    let keys = test_key_client(&vault_uri);
    let key_before = current_version(&keys, "signing").await;
    let value_before = server().secret_value(&vault, "token");
    let rotate = keyform(
        &workspace,
        &[
            "rotate",
            "--auto-approve",
            "--now",
            "azurerm_key_vault_key.signing",
            "--now",
            "azurerm_key_vault_secret.token",
        ],
    );
    assert_exit(&rotate, 0);
    assert_ne!(current_version(&keys, "signing").await, key_before, "a new key version");
    let value_after = server().secret_value(&vault, "token");
    assert!(
        value_after.is_some() && value_after != value_before,
        "a new generated value"
    );
    let secret: serde_json::Value = test_secret_client(&vault_uri)
        .get_secret("token", None)
        .await
        .expect("get the secret")
        .into_body()
        .json()
        .expect("json");
    assert_eq!(secret["value"].as_str(), value_after.as_deref());
    assert_plan_is_empty(&workspace);
}
