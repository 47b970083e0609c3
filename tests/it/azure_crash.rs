//! Crash recovery over Azure: an apply of keys and secrets killed with
//! SIGKILL midway, then run again, leaves exactly one key and one secret in
//! the vault per resource (each create carries the journal's token as a tag,
//! so the second run adopts what the first made): nothing duplicated,
//! nothing orphaned, and the next plan is empty.

use crate::azure_support::{
    assert_plan_is_empty, keyform, keyform_command, provider_block, server, test_key_client, test_secret_client,
    unique, vault_resource, vault_uri,
};
use crate::crash::kill_when_the_journal_reaches;
use crate::support::{Workspace, assert_exit};
use futures::{Stream, TryStreamExt};
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

/// The names in a listing, each read from the end of its item's id.
async fn names<T>(
    listing: azure_core::Result<impl Stream<Item = azure_core::Result<T>>>,
    id_of: impl Fn(&T) -> Option<&str>,
) -> BTreeSet<String> {
    let mut pager = std::pin::pin!(listing.expect("list"));
    let mut names = BTreeSet::new();
    while let Some(item) = pager.try_next().await.expect("a page") {
        names.insert(
            id_of(&item)
                .and_then(|id| id.rsplit('/').next())
                .unwrap_or_default()
                .to_string(),
        );
    }
    names
}

/// The names of the vault's active keys and secrets, read with the test's own clients.
async fn names_in(vault: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let vault_uri = vault_uri(vault);
    let keys = names(test_key_client(&vault_uri).list_key_properties(None), |key| {
        key.kid.as_deref()
    })
    .await;
    let secrets = names(test_secret_client(&vault_uri).list_secret_properties(None), |secret| {
        secret.id.as_deref()
    })
    .await;
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
