//! `azurerm_key_vault` and the provider block through the `keyform` binary
//! against the test server: a vault's soft-delete retention and purge
//! protection cannot be changed (the plan refuses with KF5005 and the reason,
//! nothing is replaced), a misspelled `features` block is an error rather than dropped,
//! a secret made outside keyform is imported, and the example validates.

use crate::azure_support::{
    configured_provider, keyform, keyform_command, lookup, provider_block, sdk_body, server, test_secret_client,
    unique, vault_attributes, vault_resource, vault_uri,
};
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};

fn vault_configuration(name: &str, retention: u32, purge_protection: bool) -> String {
    format!(
        "{}\n{}",
        provider_block(server(), ""),
        vault_resource(name, retention, purge_protection)
    )
}

#[test]
fn a_vault_keeps_its_retention_and_its_purge_protection() {
    let name = unique("kv");
    let workspace = Workspace::initialized(&vault_configuration(&name, 7, true));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);

    // Both are plan errors (KF5005): nothing is applied, nothing replaced.
    workspace.write("main.hcl", &vault_configuration(&name, 30, true));
    let plan = keyform(&workspace, &["plan"]);
    assert_exit(&plan, 1);
    let said = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(said.contains("KF5005") && mentions(&said, "RetentionIsFixed"), "{said}");
    assert!(
        mentions(&said, "soft_delete_retention_days is 7 and cannot change to 30"),
        "{said}"
    );
    assert!(
        !mentions(&said, "forces replacement"),
        "a retention change never replaces the vault: {said}"
    );
    let apply = keyform(&workspace, &["apply", "--auto-approve"]);
    assert_exit(&apply, 1);
    assert!(stderr(&apply).contains("KF5005"), "{}", stderr(&apply));

    workspace.write("main.hcl", &vault_configuration(&name, 7, false));
    let plan = keyform(&workspace, &["plan"]);
    assert_exit(&plan, 1);
    let said = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(said.contains("KF5005"), "{said}");
    assert!(
        mentions(&said, "purge protection, which cannot be turned off"),
        "{said}"
    );

    // Destroying a purge-protected vault keeps it soft-deleted for its retention.
    workspace.write("main.hcl", &vault_configuration(&name, 7, true));
    let plan = keyform(&workspace, &["plan", "--destroy"]);
    assert_exit(&plan, 0);
    assert!(mentions(&stdout(&plan), "recoverable for 7 days"), "{}", stdout(&plan));
}

#[test]
fn a_misspelled_features_block_is_an_error_not_dropped() {
    let configuration = vault_configuration(&unique("kv"), 7, false);
    let workspace = Workspace::initialized(&configuration.replace("key_vault {", "key_vaults {"));
    let plan = keyform(&workspace, &["plan"]);
    assert_exit(&plan, 1);
    let said = stderr(&plan);
    assert!(mentions(&said, "block `features` has no block `key_vaults`"), "{said}");
    assert!(mentions(&said, "did you mean `key_vault`?"), "{said}");
}

#[tokio::test]
async fn a_secret_made_outside_keyform_is_imported() {
    let vault = unique("kv");
    let workspace = Workspace::initialized(&vault_configuration(&vault, 7, false));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let vault_uri = vault_uri(&vault);
    test_secret_client(&vault_uri)
        .set_secret(
            "legacy",
            sdk_body(serde_json::json!({ "value": "made-by-hand", "contentType": "password" })),
            None,
        )
        .await
        .expect("a secret made outside keyform");
    workspace.write(
        "secret.hcl",
        r#"resource "azurerm_key_vault_secret" "legacy" {
  key_vault_id = azurerm_key_vault.main.id
  name         = "legacy"
  value        = env("LEGACY_SECRET")
  content_type = "password"
}
"#,
    );
    let id = format!("{vault_uri}secrets/legacy");
    let with_secret = |arguments: &[&str]| {
        keyform_command(&workspace, arguments)
            .env("LEGACY_SECRET", "made-by-hand")
            .output()
            .expect("run keyform")
    };
    assert_exit(&with_secret(&["import", "azurerm_key_vault_secret.legacy", &id]), 0);
    let plan = with_secret(&["plan", "--detailed-exitcode"]);
    let shown = stdout(&plan);
    assert_eq!(code(&plan), 2, "{shown}{}", stderr(&plan));
    assert!(
        mentions(&shown, "azurerm_key_vault_secret.legacy update in place"),
        "{shown}"
    );
    assert!(mentions(&shown, "value: (unknown) -> (sensitive, changes)"), "{shown}");
    assert!(!shown.contains("made-by-hand"), "{shown}");
    assert_exit(&with_secret(&["apply", "--auto-approve"]), 0);
    let plan = with_secret(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}{}", stdout(&plan), stderr(&plan));
}

#[test]
fn the_azure_example_validates() {
    let workspace = Workspace::copy_of("examples/azure");
    let validate = workspace.run(&["validate"]);
    assert_exit(&validate, 0);
}

#[test]
fn a_misspelled_block_inside_a_rotation_policy_is_an_error_not_dropped() {
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        r#"resource "azurerm_key_vault_key" "signing" {
  key_vault_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v"
  name         = "signing"
  key_type     = "RSA"

  rotation_policy {
    expire_after = "P1Y"
    automatik {
      time_after_creation = "P11M"
    }
  }
}
"#,
    );
    let validate = workspace.run(&["validate"]);
    assert_exit(&validate, 1);
    let said = stderr(&validate);
    assert!(
        mentions(&said, "a rotation_policy block has no block `automatik`"),
        "{said}"
    );
    assert!(mentions(&said, "did you mean `automatic`?"), "{said}");
    workspace.write(
        "main.hcl",
        &std::fs::read_to_string(workspace.path().join("main.hcl"))
            .unwrap_or_default()
            .replace("automatik", "automatic")
            .replace("time_after_creation", "time_after_create"),
    );
    let validate = workspace.run(&["validate"]);
    assert_exit(&validate, 1);
    assert!(
        mentions(
            &stderr(&validate),
            "a rotation_policy.automatic block has no attribute `time_after_create`"
        ),
        "{}",
        stderr(&validate)
    );
}

#[tokio::test]
async fn the_azure_example_applies_against_the_test_server_and_destroy_keeps_its_protected_vault() {
    let workspace = Workspace::copy_of("examples/azure");
    let vault = unique("payments");
    let server = server();
    workspace.write(
        "test-server.tfvars",
        &format!(
            r#"tenant_id       = "{tenant}"
subscription_id = "{subscription}"
client_id       = "{client}"
vault_name      = "{vault}"
cloud = {{
  authority_host   = "{authority}"
  resource_manager = "{manager}"
  key_vault_suffix = "{suffix}"
}}
"#,
            tenant = server.tenant_id(),
            subscription = server.subscription_id(),
            client = server.client_id(),
            authority = server.authority_host(),
            manager = server.resource_manager(),
            suffix = server.key_vault_suffix(),
        ),
    );
    assert_exit(&keyform(&workspace, &["init"]), 0);
    let variables = ["--var-file", "test-server.tfvars"];
    let with = |command: &[&'static str]| [command, &variables[..]].concat();
    assert_exit(&keyform(&workspace, &with(&["apply", "--auto-approve"])), 0);
    let plan = keyform(&workspace, &with(&["plan", "--detailed-exitcode"]));
    assert_eq!(code(&plan), 0, "{}{}", stdout(&plan), stderr(&plan));
    let password = server.secret_value(&vault, "database-password").unwrap_or_default();
    assert_eq!(password.chars().count(), 32, "the generated password was written");

    let destroy_plan = keyform(&workspace, &with(&["plan", "--destroy"]));
    assert!(
        mentions(&stdout(&destroy_plan), "recoverable for 90 days"),
        "{}",
        stdout(&destroy_plan)
    );
    assert_exit(&keyform(&workspace, &with(&["destroy", "--auto-approve"])), 0);
    // Purge protection: the vault stays soft-deleted, and applying again recovers it.
    let provider = configured_provider(serde_json::json!({ "purge_soft_delete_on_destroy": true })).await;
    let mut attributes = vault_attributes(&vault, true);
    attributes.insert("resource_group_name".into(), "payments-prod".into());
    let kept = lookup(&provider, "azurerm_key_vault", &attributes)
        .await
        .expect("lookup")
        .expect("the vault is kept");
    assert!(
        matches!(kept.status, keyform::provider::LiveStatus::PendingDeletion { .. }),
        "{kept:?}"
    );
    let plan = keyform(&workspace, &with(&["plan"]));
    assert_exit(&plan, 0);
    assert!(
        mentions(
            &stdout(&plan),
            "found pending deletion: it will be restored, not recreated"
        ),
        "{}",
        stdout(&plan)
    );
    assert_exit(&keyform(&workspace, &with(&["apply", "--auto-approve"])), 0);
    let recovered = server.secret_value(&vault, "database-password").unwrap_or_default();
    assert_eq!(
        recovered.chars().count(),
        32,
        "the recovered secret holds a generated value"
    );
    let plan = keyform(&workspace, &with(&["plan", "--detailed-exitcode"]));
    assert_eq!(code(&plan), 0, "{}{}", stdout(&plan), stderr(&plan));
}
