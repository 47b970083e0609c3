//! Crash recovery over AWS: an apply of KMS keys and Secrets Manager secrets
//! killed with SIGKILL midway, then run again, leaves exactly one object at
//! moto per resource (found by the run's own tag and name prefix): nothing
//! duplicated, nothing orphaned, and the next plan is empty.

use crate::aws_support::{
    REGION, assert_plan_is_empty, keyform, keyform_command, kms_client, secrets_manager_client, unique,
};
use crate::crash::{ids_in_state, kill_when_the_journal_reaches};
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit};
use std::collections::BTreeSet;

const COUNT: usize = 40;

fn configuration(endpoint: &str, run: &str) -> String {
    format!(
        r#"provider "aws" {{
  region       = "{REGION}"
  endpoint_url = "{endpoint}"
  rate_limits  = {{ "*" = "1000" }}
}}

resource "aws_kms_key" "many" {{
  count                   = {COUNT}
  description             = "{run} key ${{count.index}}"
  deletion_window_in_days = 7
  tags                    = {{ crash_run = "{run}" }}
}}

resource "aws_secretsmanager_secret" "many" {{
  count                   = {COUNT}
  name                    = "{run}/secret-${{count.index}}"
  kms_key_id              = aws_kms_key.many[count.index].arn
  recovery_window_in_days = 0
  value                   = generate({{ length = 24 }})
}}
"#
    )
}

/// Key ids at moto tagged with this run, and not pending deletion.
async fn keys_of_run(endpoint: &str, run: &str) -> BTreeSet<String> {
    let client = kms_client(endpoint);
    let mut found = BTreeSet::new();
    let mut pages = client.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        for key in page.expect("ListKeys").keys() {
            let Some(key_id) = key.key_id() else { continue };
            let tags = client
                .list_resource_tags()
                .key_id(key_id)
                .send()
                .await
                .expect("ListResourceTags");
            let ours = tags
                .tags()
                .iter()
                .any(|tag| tag.tag_key() == "crash_run" && tag.tag_value() == run);
            if !ours {
                continue;
            }
            let described = client.describe_key().key_id(key_id).send().await.expect("DescribeKey");
            let pending = described
                .key_metadata()
                .and_then(|metadata| metadata.key_state())
                .is_some_and(|state| state.as_str() == "PendingDeletion");
            if !pending {
                found.insert(key_id.to_string());
            }
        }
    }
    found
}

/// Secret names at moto under this run's prefix.
async fn secrets_of_run(endpoint: &str, run: &str) -> BTreeSet<String> {
    let client = secrets_manager_client(endpoint);
    let mut found = BTreeSet::new();
    let mut pages = client.list_secrets().into_paginator().send();
    while let Some(page) = pages.next().await {
        for secret in page.expect("ListSecrets").secret_list() {
            if let Some(name) = secret.name().filter(|name| name.starts_with(&format!("{run}/"))) {
                found.insert(name.to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_apply_killed_midway_converges_without_duplicates_or_orphans() {
    let endpoint = aws_endpoint();
    let run = unique("crash");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&endpoint, &run));
    assert_exit(&keyform(&workspace, &["init"]), 0);

    // 80 resources journal an intent and a result each: kill a third of the way in.
    kill_when_the_journal_reaches(
        &workspace,
        keyform_command(&workspace, &["apply", "--auto-approve", "--parallelism", "8"], &[]),
        50,
    );
    let keys_after_kill = keys_of_run(&endpoint, &run).await;
    assert!(
        !keys_after_kill.is_empty() && keys_after_kill.len() < COUNT + 1,
        "the kill landed mid-apply: {} keys",
        keys_after_kill.len()
    );

    let apply = keyform(&workspace, &["apply", "--auto-approve", "--parallelism", "8"]);
    assert_exit(&apply, 0);

    let keys = keys_of_run(&endpoint, &run).await;
    let keys_in_state: BTreeSet<String> = ids_in_state(&workspace, "aws_kms_key").into_iter().collect();
    assert_eq!(keys.len(), COUNT, "one key at AWS per resource, no duplicate");
    assert_eq!(
        keys, keys_in_state,
        "keys at AWS and in state differ (orphans or missing)"
    );

    let secrets = secrets_of_run(&endpoint, &run).await;
    let expected: BTreeSet<String> = (0..COUNT).map(|index| format!("{run}/secret-{index}")).collect();
    assert_eq!(secrets, expected, "one secret at AWS per resource");
    assert_eq!(ids_in_state(&workspace, "aws_secretsmanager_secret").len(), COUNT);
    assert_plan_is_empty(&workspace);

    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
    assert!(
        keys_of_run(&endpoint, &run).await.is_empty(),
        "destroy scheduled every key's deletion"
    );
    assert!(secrets_of_run(&endpoint, &run).await.is_empty());
}
