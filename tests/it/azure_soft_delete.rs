//! Soft delete done right, through the driver against the test server:
//! destroy soft-deletes; a create of a soft-deleted name recovers it (through
//! the `409 ObjectIsBeingRecovered` window) and updates it; with recovery off
//! the create and the plan-time lookup explain both ways out; a purge happens
//! only when the feature flag asks, and never under purge protection; a
//! vault's retention and purge protection cannot be changed.

use crate::azure_support::{
    configured_provider, create, lookup, new_vault, object, read, request, secret, server, unique, vault_attributes,
};
use keyform::provider::{ApplyAction, Attributes, LiveObject, LiveStatus, Provider};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::sync::Arc;

const SECRET: &str = "azurerm_key_vault_secret";
const KEY: &str = "azurerm_key_vault_key";
const VAULT: &str = "azurerm_key_vault";

fn secret_attributes(vault: &LiveObject, name: &str) -> Attributes {
    object(serde_json::json!({ "key_vault_id": vault.id, "name": name, "content_type": "password" }))
}

/// A secret's value, as a request's secrets.
fn value(text: &str) -> BTreeMap<String, SensitiveString> {
    secret("value", text)
}

async fn delete(provider: &Arc<dyn Provider>, resource_type: &str, live: &LiveObject) {
    provider
        .apply(request(
            resource_type,
            ApplyAction::Delete { purge: false },
            Some(live.id.clone()),
            live.attributes.clone(),
            BTreeMap::new(),
        ))
        .await
        .expect("delete");
}

fn vault_name(vault: &LiveObject) -> String {
    vault.attributes["name"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_secret_created_again_after_a_destroy_is_recovered_and_updated() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    let name = unique("secret");
    let attributes = secret_attributes(&vault, &name);
    let first = create(&provider, SECRET, &attributes, value("first"))
        .await
        .expect("create")
        .expect("secret");
    delete(&provider, SECRET, &first).await;
    // The plan-time lookup reports it pending deletion, so the plan recovers it instead of creating it.
    let found = lookup(&provider, SECRET, &attributes)
        .await
        .expect("lookup")
        .expect("found soft-deleted");
    assert!(matches!(found.status, LiveStatus::PendingDeletion { .. }), "{found:?}");
    // Recovery takes a while at Azure: writes answer 409 ObjectIsBeingRecovered meanwhile.
    server().set_recovery_window(std::time::Duration::from_secs(2));
    let again = create(&provider, SECRET, &attributes, value("second")).await;
    server().set_recovery_window(std::time::Duration::ZERO);
    let again = again
        .expect("a create of a soft-deleted name recovers it")
        .expect("secret");
    assert_eq!(again.id, first.id);
    assert_ne!(
        again.secret_versions, first.secret_versions,
        "the new value is a new version"
    );
    assert_eq!(
        server().secret_value(&vault_name(&vault), &name).as_deref(),
        Some("second")
    );
}

#[tokio::test]
async fn with_recovery_off_a_soft_deleted_name_is_an_error_that_names_both_choices() {
    let provider = configured_provider(serde_json::json!({
        "recover_soft_deleted_secrets": false,
        "recover_soft_deleted_keys": false,
        "recover_soft_deleted_key_vaults": false,
    }))
    .await;
    let vault = new_vault(&provider, false).await;
    let secret = secret_attributes(&vault, &unique("secret"));
    let live = create(&provider, SECRET, &secret, value("v"))
        .await
        .expect("create")
        .expect("secret");
    delete(&provider, SECRET, &live).await;
    let key = object(serde_json::json!({ "key_vault_id": vault.id, "name": unique("key"), "key_type": "EC" }));
    let live_key = create(&provider, KEY, &key, BTreeMap::new())
        .await
        .expect("create")
        .expect("key");
    delete(&provider, KEY, &live_key).await;
    for (resource_type, attributes, secrets, flag) in [
        (SECRET, &secret, value("v"), "recover_soft_deleted_secrets"),
        (KEY, &key, BTreeMap::new(), "recover_soft_deleted_keys"),
    ] {
        let planned = lookup(&provider, resource_type, attributes)
            .await
            .expect_err("the plan refuses");
        let created = create(&provider, resource_type, attributes, secrets)
            .await
            .expect_err("the create refuses");
        for error in [planned, created] {
            assert_eq!(error.code, "ObjectIsDeletedButRecoverable", "{error:?}");
            let help = error.help.clone().unwrap_or_default();
            assert!(help.contains(&format!("{flag} = true")), "{help}");
            assert!(help.contains("purge it"), "{help}");
        }
    }
    // The vault too.
    let vault_attributes = vault.attributes.clone();
    delete(&provider, VAULT, &vault).await;
    let refused = create(&provider, VAULT, &vault_attributes, BTreeMap::new())
        .await
        .expect_err("refused");
    assert_eq!(refused.code, "ObjectIsDeletedButRecoverable", "{refused:?}");
    assert!(
        refused
            .help
            .unwrap_or_default()
            .contains("recover_soft_deleted_key_vaults = true")
    );
}

#[tokio::test]
async fn purging_happens_only_when_asked_and_never_under_purge_protection() {
    let purging = configured_provider(serde_json::json!({
        "purge_soft_deleted_secrets_on_destroy": true,
        "purge_soft_deleted_keys_on_destroy": true,
    }))
    .await;
    let keeping = configured_provider(serde_json::json!({})).await;
    let open = new_vault(&purging, false).await;
    let protected = new_vault(&purging, true).await;
    for (provider, vault, purged) in [
        (&purging, &open, true),
        (&purging, &protected, false),
        (&keeping, &open, false),
    ] {
        let attributes = secret_attributes(vault, &unique("secret"));
        let live = create(provider, SECRET, &attributes, value("v"))
            .await
            .expect("create")
            .expect("secret");
        let window = live.attributes["recovery_window_in_days"].as_u64();
        assert_eq!(
            window,
            Some(if purged { 0 } else { 7 }),
            "the plan's recovery window: {:?}",
            live.attributes
        );
        delete(provider, SECRET, &live).await;
        let after = lookup(&keeping, SECRET, &attributes).await.expect("lookup");
        assert_eq!(after.is_none(), purged, "purged: {purged}, found: {after:?}");
        let key = object(serde_json::json!({ "key_vault_id": vault.id, "name": unique("key"), "key_type": "RSA" }));
        let live_key = create(provider, KEY, &key, BTreeMap::new())
            .await
            .expect("create")
            .expect("key");
        delete(provider, KEY, &live_key).await;
        assert_eq!(lookup(&keeping, KEY, &key).await.expect("lookup").is_none(), purged);
    }
    // A vault: purged when asked and unprotected, kept under purge protection.
    let purging_vaults = configured_provider(serde_json::json!({ "purge_soft_delete_on_destroy": true })).await;
    for (vault, purged) in [
        (new_vault(&purging_vaults, false).await, true),
        (new_vault(&purging_vaults, true).await, false),
    ] {
        delete(&purging_vaults, VAULT, &vault).await;
        let after = lookup(&keeping, VAULT, &vault.attributes).await.expect("lookup");
        assert_eq!(after.is_none(), purged, "vault purged: {purged}, found: {after:?}");
    }
}

#[tokio::test]
async fn a_vault_is_recovered_on_create_and_keeps_its_retention_and_purge_protection() {
    let provider = configured_provider(serde_json::json!({})).await;
    let name = unique("kv");
    let attributes = vault_attributes(&name, true);
    let vault = create(&provider, VAULT, &attributes, BTreeMap::new())
        .await
        .expect("create")
        .expect("vault");
    delete(&provider, VAULT, &vault).await;
    let pending = read(&provider, VAULT, &vault)
        .await
        .expect("read")
        .expect("soft-deleted");
    assert!(
        matches!(pending.status, LiveStatus::PendingDeletion { .. }),
        "{pending:?}"
    );
    let recovered = create(&provider, VAULT, &attributes, BTreeMap::new())
        .await
        .expect("recover")
        .expect("vault");
    assert_eq!(recovered.id, vault.id);
    assert_eq!(recovered.status, LiveStatus::Active);

    let mut shorter = attributes.clone();
    shorter.insert("soft_delete_retention_days".into(), 30.into());
    let update = |attributes: Attributes| {
        request(
            VAULT,
            ApplyAction::Update,
            Some(vault.id.clone()),
            attributes,
            BTreeMap::new(),
        )
    };
    let error = provider
        .apply(update(shorter))
        .await
        .expect_err("the retention is fixed");
    assert_eq!(error.code, "RetentionIsFixed");
    assert!(error.message.contains("cannot change to 30"), "{}", error.message);
    let mut unprotected = attributes.clone();
    unprotected.insert("purge_protection_enabled".into(), false.into());
    let error = provider
        .apply(update(unprotected))
        .await
        .expect_err("purge protection stays");
    assert_eq!(error.code, "PurgeProtectionIsPermanent");
}

#[tokio::test]
async fn a_secret_in_a_vault_deleted_outside_keyform_is_pending_and_comes_back_with_the_vault() {
    let provider = configured_provider(serde_json::json!({})).await;
    let vault = new_vault(&provider, false).await;
    let attributes = secret_attributes(&vault, &unique("secret"));
    let secret = create(&provider, SECRET, &attributes, value("kept"))
        .await
        .expect("create")
        .expect("secret");
    delete(&provider, VAULT, &vault).await;
    // A later run: a fresh driver, as keyform has in each run.
    let later = configured_provider(serde_json::json!({})).await;
    let pending = read(&later, SECRET, &secret).await.expect("read").expect("still known");
    assert!(
        matches!(pending.status, LiveStatus::PendingDeletion { .. }),
        "{pending:?}"
    );
    for (resource_type, live) in [(VAULT, &vault), (SECRET, &secret)] {
        later
            .apply(request(
                resource_type,
                ApplyAction::Recover,
                Some(live.id.clone()),
                live.attributes.clone(),
                BTreeMap::new(),
            ))
            .await
            .expect("recover")
            .expect("recovered");
    }
    let back = read(&later, SECRET, &secret).await.expect("read").expect("back");
    assert_eq!(back.status, LiveStatus::Active);
    assert_eq!(back.secret_versions, secret.secret_versions, "the same value came back");
}
