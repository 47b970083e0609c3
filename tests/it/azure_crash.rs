//! Crash recovery over Azure: an apply of keys and secrets killed with
//! SIGKILL midway, then run again, leaves exactly one key and one secret in
//! the vault per resource (each create carries the journal's token as a tag,
//! so the second run adopts what the first made): nothing duplicated,
//! nothing orphaned, and the next plan is empty.

use crate::azure_support::{
    assert_plan_is_empty, keyform, keyform_command, provider_block, server, test_key_client, test_secret_client,
    unique, vault_resource,
};
use crate::crash::kill_when_the_journal_reaches;
use crate::support::{Workspace, assert_exit};
use futures::TryStreamExt;
use std::collections::BTreeSet;

const COUNT: usize = 40;

fn configuration(vault: &str) -> String {
    format!(
        r#"{provider}
{vault_block}
resource "azurerm_key_vault_key" "many" {{
  count        = {COUNT}
  key_vault_id = azurerm_key_vault.main.id
  name         = "key-${{count.index}}"
  key_type     = "EC"
}}

resource "azurerm_key_vault_secret" "many" {{
  count        = {COUNT}
  key_vault_id = azurerm_key_vault.main.id
  name         = "secret-${{count.index}}"
  value        = generate({{ length = 24 }})
}}
"#,
        provider = provider_block(server(), ""),
        vault_block = vault_resource(vault, 7, false),
    )
}

/// The names of the vault's active keys and secrets, read with the test's own clients.
async fn names_in(vault: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let vault_uri = format!("https://{vault}.{}/", server().key_vault_suffix());
    let name_of = |id: Option<&str>| id.and_then(|id| id.rsplit('/').next()).unwrap_or_default().to_string();
    let mut keys = BTreeSet::new();
    let mut pager = test_key_client(&vault_uri)
        .list_key_properties(None)
        .expect("list keys");
    while let Some(key) = pager.try_next().await.expect("a page of keys") {
        keys.insert(name_of(key.kid.as_deref()));
    }
    let mut secrets = BTreeSet::new();
    let mut pager = test_secret_client(&vault_uri)
        .list_secret_properties(None)
        .expect("list secrets");
    while let Some(secret) = pager.try_next().await.expect("a page of secrets") {
        secrets.insert(name_of(secret.id.as_deref()));
    }
    (keys, secrets)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_azure_apply_killed_midway_converges_without_duplicates_or_orphans() {
    let vault = unique("kv");
    let workspace = Workspace::initialized(&configuration(&vault));
    // 81 resources journal an intent each up front, then a result each: kill after about 25 results.
    kill_when_the_journal_reaches(
        &workspace,
        keyform_command(&workspace, &["apply", "--auto-approve", "--parallelism", "8"]),
        110,
    );
    let (keys, secrets) = names_in(&vault).await;
    assert!(
        !(keys.is_empty() && secrets.is_empty()) && keys.len() + secrets.len() < 2 * COUNT,
        "the kill landed mid-apply: {} keys, {} secrets",
        keys.len(),
        secrets.len()
    );

    assert_exit(
        &keyform(&workspace, &["apply", "--auto-approve", "--parallelism", "8"]),
        0,
    );
    let (keys, secrets) = names_in(&vault).await;
    let expected = |prefix: &str| {
        (0..COUNT)
            .map(|index| format!("{prefix}-{index}"))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(keys, expected("key"), "one key per resource");
    assert_eq!(secrets, expected("secret"), "one secret per resource");
    assert_plan_is_empty(&workspace);
}
