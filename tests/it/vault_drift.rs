//! Drift and leaks over the `vault` provider, against OpenBao:
//!
//! - a policy edited, a role's TTL changed and a mount tuned outside keyform
//!   (with `curl`) each show in the next plan (exit 2 with
//!   `--detailed-exitcode`), apply restores them, and the plan after is empty;
//! - the canary harness of the core (`crate::canary::Scanner`) over this
//!   provider: canaries planted as KV v2 data values (from env, a file and a
//!   sensitive variable) and the AppRole secret_id handed to a KV secret never
//!   appear, in any encoding, in any file in the workspace or anything keyform
//!   prints with `RUST_LOG=trace`, through plan, apply, plan, show, state
//!   show and drift.
//!
//! Tests run in parallel against one OpenBao server: each uses its own paths.

use crate::canary::{Scanner, canary};
use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{apply_with_token, keyform_command, keyform_with_token, root, token_provider_block, unique};
use std::process::Output;

fn drift_configuration(policy_name: &str, backend: &str, mount: &str) -> String {
    format!(
        r#"{provider}
resource "vault_policy" "app" {{
  name   = "{policy_name}"
  policy = <<-EOT
    path "{mount}/data/app/*" {{
      capabilities = ["read"]
    }}
  EOT
}}

resource "vault_auth_backend" "ci" {{
  type = "approle"
  path = "{backend}"
}}

resource "vault_approle_auth_backend_role" "ci" {{
  backend        = vault_auth_backend.ci.path
  role_name      = "ci"
  token_ttl      = "1h"
  token_policies = [vault_policy.app.name]
}}

resource "vault_mount" "kv" {{
  path                      = "{mount}"
  type                      = "kv-v2"
  default_lease_ttl_seconds = "1h"
}}
"#,
        provider = token_provider_block()
    )
}

#[tokio::test]
async fn changes_made_outside_keyform_show_in_the_plan_and_apply_restores_them() {
    let policy_name = unique("drift-policy");
    let backend = unique("drift-approle");
    let mount = unique("drift-kv");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &drift_configuration(&policy_name, &backend, &mount));
    apply_with_token(&workspace);

    // Outside keyform: the policy gains a capability, the role's TTL shrinks, the mount is tuned.
    let edited = format!("path \"{mount}/data/app/*\" {{\n  capabilities = [\"read\", \"delete\"]\n}}\n");
    let (status, body) = root(
        "PUT",
        &format!("sys/policies/acl/{policy_name}"),
        Some(serde_json::json!({ "policy": edited })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci"),
        Some(serde_json::json!({ "token_ttl": "5m" })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        &format!("sys/mounts/{mount}/tune"),
        Some(serde_json::json!({ "default_lease_ttl": "10m" })),
    );
    assert!(status < 300, "{status} {body}");

    let drift = keyform_with_token(&workspace, &["drift", "--format", "json"]);
    assert_eq!(code(&drift), 2, "{}{}", stdout(&drift), stderr(&drift));
    let changed = managed_drift(&drift);
    for address in [
        "vault_policy.app",
        "vault_approle_auth_backend_role.ci",
        "vault_mount.kv",
    ] {
        assert!(
            changed.iter().any(|found| found == address),
            "{address} drifted: {changed:?}"
        );
    }
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("vault_policy.app"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.trim_start().starts_with("- ") && line.contains(r#"capabilities = ["read", "delete"]"#)),
        "the policy's changed line is shown line by line: {text}"
    );
    assert!(mentions(&text, "token_ttl: 5m -> 1h"), "{text}");
    assert!(mentions(&text, "default_lease_ttl_seconds: 10m -> 1h"), "{text}");
    assert!(text.contains("3 to change"), "{text}");

    let applied = keyform_with_token(&workspace, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    let (_, body) = root("GET", &format!("sys/policies/acl/{policy_name}"), None);
    let policy = body["data"]["policy"].as_str().unwrap_or_default();
    assert!(!policy.contains("delete"), "{policy}");
    let (_, body) = root("GET", &format!("auth/{backend}/role/ci"), None);
    assert_eq!(body["data"]["token_ttl"], 3600, "{body}");
    let (_, body) = root("GET", &format!("sys/mounts/{mount}/tune"), None);
    assert_eq!(body["data"]["default_lease_ttl"], 3600, "{body}");
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "restored:\n{}{}", stdout(&plan), stderr(&plan));
    // The shared server holds other tests' objects (unmanaged here): only managed drift is checked.
    let drift = keyform_with_token(&workspace, &["drift", "--format", "json"]);
    assert!(
        code(&drift) == 0 || code(&drift) == 2,
        "{}{}",
        stdout(&drift),
        stderr(&drift)
    );
    assert!(managed_drift(&drift).is_empty(), "{}", stdout(&drift));

    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
}

/// The addresses `keyform drift --format json` reports as changed outside keyform.
fn managed_drift(output: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(&stdout(output)).expect("drift's JSON report");
    report["managed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["address"].as_str().map(str::to_string))
        .collect()
}

fn canary_configuration(backend: &str, mount: &str, with_handoff: bool) -> String {
    let mut text = format!(
        r#"{provider}
variable "api_token" {{
  type      = string
  sensitive = true
}}

resource "vault_mount" "kv" {{
  path = "{mount}"
  type = "kv-v2"
}}

resource "vault_kv_secret_v2" "app" {{
  mount     = vault_mount.kv.path
  name      = "app/config"
  data_json = jsonencode({{
    password  = env("KF_CANARY_ENV")
    api_key   = file("api-key.txt")
    api_token = var.api_token
  }})
}}

resource "vault_auth_backend" "ci" {{
  type = "approle"
  path = "{backend}"
}}

resource "vault_approle_auth_backend_role" "ci" {{
  backend        = vault_auth_backend.ci.path
  role_name      = "ci"
  token_policies = ["default"]
}}

resource "vault_approle_auth_backend_role_secret_id" "ci" {{
  backend   = vault_auth_backend.ci.path
  role_name = vault_approle_auth_backend_role.ci.role_name
}}
"#,
        provider = token_provider_block()
    );
    if with_handoff {
        text.push_str(
            r#"
resource "vault_kv_secret_v2" "handoff" {
  mount     = vault_mount.kv.path
  name      = "ci/approle"
  data_json = jsonencode({ secret_id = vault_approle_auth_backend_role_secret_id.ci.secret_id })
}
"#,
        );
    }
    text
}

#[tokio::test]
async fn no_kv_value_or_secret_id_leaks_through_the_vault_provider() {
    let [by_env, by_file, by_variable] = std::array::from_fn(|_| canary());
    let backend = unique("canary-approle");
    let mount = unique("canary-kv");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &canary_configuration(&backend, &mount, true));
    workspace.write("api-key.txt", &by_file);
    let run = |arguments: &[&str]| -> Output {
        keyform_command(&workspace, arguments)
            .env("KF_VAULT_TEST_TOKEN", vault_token())
            .env("RUST_LOG", "trace")
            .env("KF_CANARY_ENV", &by_env)
            .env("KEYFORM_VAR_api_token", &by_variable)
            .output()
            .expect("run keyform")
    };
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut step = |name: &str, arguments: &[&str], expected: i32| {
        let output = run(arguments);
        assert_eq!(
            code(&output),
            expected,
            "{name}\nstdout:\n{}\nstderr:\n{}",
            stdout(&output),
            stderr(&output)
        );
        outputs.push((name.to_string(), output));
    };

    // The run that creates the secret_id hands it to KV.
    step("init", &["init"], 0);
    step("plan json", &["plan", "--format", "json"], 0);
    step("plan --out", &["plan", "--out", "plan.kfplan"], 0);
    step("show plan", &["show", "plan.kfplan"], 0);
    step("apply plan", &["apply", "plan.kfplan"], 0);
    let (status, body) = root("GET", &format!("{mount}/data/app/config"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["password"], by_env.as_str());
    assert_eq!(body["data"]["data"]["api_key"], by_file.as_str());
    assert_eq!(body["data"]["data"]["api_token"], by_variable.as_str());
    let (status, body) = root("GET", &format!("{mount}/data/ci/approle"), None);
    assert_eq!(status, 200, "{body}");
    let secret_id = body["data"]["data"]["secret_id"]
        .as_str()
        .expect("the handed-over secret_id")
        .to_string();
    step("show", &["show"], 0);
    step("state show kv", &["state", "show", "vault_kv_secret_v2.app"], 0);
    step(
        "state show secret_id",
        &["state", "show", "vault_approle_auth_backend_role_secret_id.ci"],
        0,
    );
    step("output", &["output"], 0);
    step(
        "secret get",
        &["secret", "get", "vault_kv_secret_v2.app", "--attribute", "data_json"],
        0,
    );
    // A later run cannot read the secret_id again and needs not: the KV secret keeps it.
    step("later plan", &["plan", "--detailed-exitcode"], 0);

    // Without the hand-off (the secret_id stays), every command runs again.
    workspace.write("main.hcl", &canary_configuration(&backend, &mount, false));
    step("plan without the hand-off", &["plan"], 0);
    step("apply without the hand-off", &["apply", "--auto-approve"], 0);
    step("no-op plan", &["plan", "--detailed-exitcode"], 0);
    let (status, body) = root(
        "POST",
        &format!("{mount}/data/app/config"),
        Some(serde_json::json!({ "data": { "password": "changed outside" } })),
    );
    assert!(status < 300, "{status} {body}");
    step("drift", &["drift"], 2);
    step("drift json", &["drift", "--format", "json"], 2);
    step("restoring apply", &["apply", "--auto-approve"], 0);
    step("show after", &["show"], 0);
    step("state show after", &["state", "show", "vault_kv_secret_v2.app"], 0);
    step("destroy", &["destroy", "--auto-approve"], 0);

    // `secret get` prints the value it is asked for, on purpose: it is scanned for the others.
    let (value_name, value_output) = outputs
        .iter()
        .position(|(name, _)| name == "secret get")
        .map(|index| outputs.remove(index))
        .expect("secret get ran");
    assert!(stdout(&value_output).contains(&by_env), "{value_name} prints the value");
    let scanner = Scanner::new(&[by_env.clone(), by_file.clone(), by_variable.clone(), secret_id.clone()]);
    let mut hits = scanner.scan_folder(workspace.path(), &["api-key.txt"]);
    for (name, output) in &outputs {
        hits.extend(scanner.scan_output(name, output));
    }
    hits.extend(
        Scanner::new(&[secret_id])
            .scan_output(&value_name, &value_output)
            .into_iter(),
    );
    assert!(hits.is_empty(), "secret values leaked:\n{}", hits.join("\n"));

    // The scan finds what is there.
    let planted = scanner.scan_folder(workspace.path(), &[]);
    assert!(
        planted.iter().any(|hit| hit.starts_with("api-key.txt:")),
        "the scan missed the planted file: {planted:?}"
    );
}
