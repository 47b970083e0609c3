//! The `azurerm` provider through the `keyform` binary against the test
//! server: apply, an empty plan, and drift made behind keyform's back with
//! Microsoft's Rust SDK (a secret's value, a key's expiration date, a key's
//! rotation policy) shown by `plan` and restored by `apply`.

use crate::azure_support::{
    keyform_command, output, provider_block, sdk_body, server, test_key_client, test_secret_client, unique,
    vault_resource,
};
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};

/// A vault, a key with an expiration date and a rotation policy, and a secret from `env("APP_SECRET")`.
fn configuration(vault: &str, key: &str, secret: &str) -> String {
    format!(
        r#"{provider}
{vault_block}
resource "azurerm_key_vault_key" "signing" {{
  key_vault_id    = azurerm_key_vault.main.id
  name            = "{key}"
  key_type        = "RSA"
  key_size        = 2048
  key_opts        = ["sign", "verify"]
  expiration_date = "2031-01-01T00:00:00Z"

  rotation_policy {{
    expire_after         = "P1Y"
    notify_before_expiry = "P30D"

    automatic {{
      time_before_expiry = "P60D"
    }}
  }}
}}

resource "azurerm_key_vault_secret" "database" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "{secret}"
  value        = env("APP_SECRET")
  content_type = "password"
}}

output "vault_uri" {{
  value = azurerm_key_vault.main.vault_uri
}}
"#,
        provider = provider_block(server(), ""),
        vault_block = vault_resource(vault, 7, false),
    )
}

fn run(workspace: &Workspace, arguments: &[&str], secret: &str) -> std::process::Output {
    keyform_command(workspace, arguments)
        .env("APP_SECRET", secret)
        .output()
        .expect("run keyform")
}

#[tokio::test]
async fn drift_in_a_secret_value_an_expiration_date_and_a_rotation_policy_is_planned_and_restored() {
    let (vault, key, secret) = (unique("kv"), unique("signing"), unique("database"));
    let workspace = Workspace::initialized(&configuration(&vault, &key, &secret));
    let apply = run(&workspace, &["apply", "--auto-approve"], "first-value");
    assert_exit(&apply, 0);
    let empty = run(&workspace, &["plan", "--detailed-exitcode"], "first-value");
    assert_eq!(code(&empty), 0, "{}{}", stdout(&empty), stderr(&empty));
    assert_eq!(server().secret_value(&vault, &secret).as_deref(), Some("first-value"));

    // Behind keyform's back, through the SDK.
    let vault_uri = output(&workspace, "vault_uri");
    let secrets = test_secret_client(&vault_uri);
    secrets
        .set_secret(
            &secret,
            sdk_body(serde_json::json!({ "value": "changed-outside" })),
            None,
        )
        .await
        .expect("set the secret outside keyform");
    let keys = test_key_client(&vault_uri);
    keys.update_key_properties(
        &key,
        sdk_body(serde_json::json!({ "attributes": { "exp": 1_956_528_000 } })),
        None,
    )
    .await
    .expect("change the expiration date outside keyform");
    keys.update_key_rotation_policy(
        &key,
        sdk_body(serde_json::json!({
            "lifetimeActions": [{ "trigger": { "timeAfterCreate": "P90D" }, "action": { "type": "Rotate" } }],
            "attributes": { "expiryTime": "P2Y" }
        })),
        None,
    )
    .await
    .expect("change the rotation policy outside keyform");

    let plan = run(&workspace, &["plan", "--detailed-exitcode"], "first-value");
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    let shown = stdout(&plan);
    assert!(mentions(&shown, "written outside keyform"), "{shown}");
    assert!(mentions(&shown, "expiration_date"), "{shown}");
    assert!(
        mentions(&shown, "2032-01-01T00:00:00Z"),
        "the drifted date is shown: {shown}"
    );
    assert!(mentions(&shown, "rotation_policy"), "{shown}");
    assert!(
        !shown.contains("changed-outside") && !shown.contains("first-value"),
        "{shown}"
    );

    let restore = run(&workspace, &["apply", "--auto-approve"], "first-value");
    assert_exit(&restore, 0);
    assert_eq!(server().secret_value(&vault, &secret).as_deref(), Some("first-value"));
    let restored = keys.get_key(&key, None).await.expect("read the key").into_body();
    let restored: serde_json::Value = restored.json().expect("the key as JSON");
    assert_eq!(restored["attributes"]["exp"], 1_924_992_000, "{restored}");
    let policy: serde_json::Value = keys
        .get_key_rotation_policy(&key, None)
        .await
        .expect("read the rotation policy")
        .into_body()
        .json()
        .expect("the policy as JSON");
    assert_eq!(policy["attributes"]["expiryTime"], "P1Y", "{policy}");
    let empty = run(&workspace, &["plan", "--detailed-exitcode"], "first-value");
    assert_eq!(code(&empty), 0, "{}{}", stdout(&empty), stderr(&empty));

    // A destroy soft-deletes, and the plan says for how long the objects stay recoverable.
    let destroy_plan = run(&workspace, &["plan", "--destroy"], "first-value");
    assert_exit(&destroy_plan, 0);
    assert!(
        mentions(&stdout(&destroy_plan), "recoverable for 7 days"),
        "{}",
        stdout(&destroy_plan)
    );
    let destroy = run(&workspace, &["destroy", "--auto-approve"], "first-value");
    assert_exit(&destroy, 0);
}
