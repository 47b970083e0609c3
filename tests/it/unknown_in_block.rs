//! A value known only at apply inside a nested block: the plan shows the
//! block's argument as known after apply, the apply evaluates the instance
//! again once the value exists and sends the whole block with it, and the
//! next plan is empty; an existing block whose argument becomes unknown is
//! planned as an update of that argument alone. Against OpenBao: a database connection whose
//! `postgresql.connection_url` names the accessor of the mount created in
//! the same run (`verify_connection = false`, so no database is reached).

use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, mentions, stdout};
use crate::vault_support::{assert_plan_empty, keyform_command, root, token_provider_block, unique};

/// The accessor of the mount at `path`, read with the root token.
fn accessor_of(path: &str) -> String {
    let (_, body) = root("GET", &format!("sys/mounts/{path}"), None);
    body["data"]["accessor"]
        .as_str()
        .or_else(|| body["accessor"].as_str())
        .expect("the mount's accessor")
        .to_string()
}

/// The connection URL Vault stores for `MOUNT/config/postgres`.
fn stored_url(mount: &str) -> String {
    let (status, body) = root("GET", &format!("{mount}/config/postgres"), None);
    assert_eq!(status, 200, "{body}");
    body["data"]["connection_details"]["connection_url"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_block_argument_known_only_at_apply_is_sent_with_the_block() {
    let mount = unique("block-unknown-db");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &format!(
            r#"{provider}
resource "vault_mount" "db" {{
  path = "{mount}"
  type = "database"
}}

resource "vault_database_secret_backend_connection" "postgres" {{
  backend           = vault_mount.db.path
  name              = "postgres"
  allowed_roles     = ["app"]
  verify_connection = false

  postgresql {{
    connection_url = "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:1/${{vault_mount.db.accessor}}"
    username       = "keyform"
    password       = env("KF_BLOCK_PASSWORD")
  }}
}}
"#,
            provider = token_provider_block()
        ),
    );
    let run = |arguments: &[&str]| {
        keyform_command(&workspace, arguments)
            .env("KF_VAULT_TEST_TOKEN", vault_token())
            .env("KF_BLOCK_PASSWORD", "not-a-real-password")
            .output()
            .expect("run keyform")
    };
    assert_exit(&run(&["init"]), 0);
    let plan = run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(
        mentions(&stdout(&plan), "postgresql.connection_url: (known after apply)"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&run(&["apply", "--auto-approve"]), 0);

    let accessor = accessor_of(&mount);
    let url = stored_url(&mount);
    assert!(
        url.ends_with(&format!("/{accessor}")),
        "the block was sent with the resolved value: {url}"
    );
    assert_plan_empty(&run(&["plan", "--detailed-exitcode"]), "the next plan is empty");

    // The existing connection now names a mount this run creates: the plan shows the argument as known after
    // apply beside its current value, updates the block in place, and does not claim the URL is removed.
    let configuration = std::fs::read_to_string(workspace.path().join("main.hcl")).expect("main.hcl");
    let other = unique("block-unknown-other");
    workspace.write(
        "main.hcl",
        &format!(
            "{}\nresource \"vault_mount\" \"other\" {{\n  path = \"{other}\"\n  type = \"kv\"\n}}\n",
            configuration.replace("vault_mount.db.accessor", "vault_mount.other.accessor")
        ),
    );
    let plan = run(&["plan"]);
    assert_exit(&plan, 0);
    let text = stdout(&plan);
    assert!(
        mentions(
            &text,
            &format!("postgresql.connection_url: \"{url}\" -> (known after apply)")
        ),
        "{text}"
    );
    assert!(mentions(&text, "0 to replace"), "{text}");
    assert!(
        !text.contains("postgresql: "),
        "the block itself is not shown as changed: {text}"
    );
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let other_accessor = accessor_of(&other);
    let url = stored_url(&mount);
    assert!(url.ends_with(&format!("/{other_accessor}")), "{url}");
    assert_plan_empty(
        &run(&["plan", "--detailed-exitcode"]),
        "the plan after the update is empty",
    );
    assert_exit(&run(&["destroy", "--auto-approve"]), 0);
}
