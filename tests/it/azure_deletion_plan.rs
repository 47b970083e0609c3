//! The plan's words for a destroy follow the provider's current settings: a
//! secret in a vault without purge protection is "recoverable for N days",
//! and once `purge_soft_deleted_secrets_on_destroy` is on, the very next plan
//! (no apply between) says it is deleted at once.

use crate::azure_support::{keyform, provider_block, server, unique, vault_resource};
use crate::support::{Workspace, assert_exit, mentions, stdout};

fn configuration(features: &str, vault: &str) -> String {
    format!(
        "{}\n{}\nresource \"azurerm_key_vault_secret\" \"token\" {{\n  key_vault_id = azurerm_key_vault.main.id\n  name         = \"token\"\n  value        = env(\"ARM_CLIENT_SECRET\")\n}}\n",
        provider_block(server(), features),
        vault_resource(vault, 7, false)
    )
}

#[test]
fn the_destroy_plan_follows_the_purge_flags_without_an_apply() {
    let vault = unique("kv");
    let workspace = Workspace::initialized(&configuration("", &vault));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);

    let plan = keyform(&workspace, &["plan", "--destroy"]);
    assert_exit(&plan, 0);
    let text = stdout(&plan);
    assert!(mentions(&text, "recoverable for 7 days"), "{text}");

    workspace.write(
        "main.hcl",
        &configuration("      purge_soft_deleted_secrets_on_destroy = true", &vault),
    );
    let plan = keyform(&workspace, &["plan", "--destroy"]);
    assert_exit(&plan, 0);
    let text = stdout(&plan);
    let secret_line = text
        .lines()
        .find(|line| line.contains("azurerm_key_vault_secret.token") && line.contains("destroy:"))
        .unwrap_or_default();
    assert!(mentions(secret_line, "deleted at once"), "{text}");
}
