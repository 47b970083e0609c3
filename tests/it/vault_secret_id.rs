//! The `vault` provider's `vault_approle_auth_backend_role_secret_id`
//! against OpenBao: the compliance suite; the driver keeps a generated
//! secret_id for its run only (a later run's driver says how to get a new
//! one); a secret_id destroyed outside keyform reads as gone; listing and
//! import; and through the binary, a role, a secret_id and a KV v2 secret
//! whose value is the secret_id: a login with the role_id and the value read
//! back from KV (with `curl`, not keyform) succeeds, no secret_id reaches
//! state, plan or output, and `--replace` hands out a new one.
//!
//! Tests run in parallel against one OpenBao server: each uses its own paths.

use crate::canary::Scanner;
use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{
    attributes, check, configured_provider, enable_auth, keyform_with_token, output_text, root, token_provider_block,
    unique, vault,
};
use keyform::provider::compliance::{Subject, run};
use keyform::provider::{ApplyAction, ApplyRequest, ImportRequest, ReadRequest, ReadSecretRequest};
use std::collections::BTreeMap;
use std::process::Output;

const TYPE: &str = "vault_approle_auth_backend_role_secret_id";

/// Enables an AppRole method at a unique path with a role `ci`; returns the path and the role_id.
fn approle_with_role(label: &str) -> (String, String) {
    let path = enable_auth("approle", label);
    let (status, body) = root(
        "POST",
        &format!("auth/{path}/role/ci"),
        Some(serde_json::json!({ "token_ttl": "10m", "token_policies": ["default"] })),
    );
    assert!(status < 300, "role: {status} {body}");
    let (_, body) = root("GET", &format!("auth/{path}/role/ci/role-id"), None);
    let role_id = body["data"]["role_id"].as_str().expect("a role_id").to_string();
    (path, role_id)
}

fn logs_in(backend: &str, role_id: &str, secret_id: &str) -> bool {
    let (status, _) = vault(
        "POST",
        &format!("auth/{backend}/login"),
        Some(serde_json::json!({ "role_id": role_id, "secret_id": secret_id })),
        None,
    );
    status == 200
}

#[tokio::test]
async fn vault_approle_auth_backend_role_secret_id_passes_the_compliance_suite() {
    let (backend, _) = approle_with_role("compliance-secret-id");
    let subject = Subject {
        provider: configured_provider(&vault_token()).await,
        resource_type: TYPE.into(),
        attributes: attributes(serde_json::json!({
            "backend": backend, "role_name": "ci", "metadata": "{\"team\":\"ci\"}",
            "ttl": 3600, "cidr_list": ["127.0.0.0/8"]
        })),
        secrets: BTreeMap::new(),
        update: None,
        missing_id: format!("auth/{backend}/role/ci/secret-id-accessor/00000000-0000-0000-0000-000000000000"),
    };
    check(TYPE, &run(&subject).await);
    let (status, body) = root("LIST", &format!("auth/{backend}/role/ci/secret-id"), None);
    assert!(
        status == 404 || body["data"]["keys"].as_array().is_none_or(Vec::is_empty),
        "every secret_id is destroyed after the suite: {body}"
    );
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

#[tokio::test]
async fn a_secret_id_is_readable_only_in_its_run_and_destroyed_by_accessor() {
    let (backend, role_id) = approle_with_role("run-secret-id");
    let provider = configured_provider(&vault_token()).await;
    let request = ApplyRequest {
        resource_type: TYPE.into(),
        action: ApplyAction::Create { token: "t1".into() },
        id: None,
        attributes: attributes(serde_json::json!({
            "backend": backend, "role_name": "ci", "metadata": "{\"team\":\"ci\"}", "num_uses": 5
        })),
        secrets: BTreeMap::new(),
        changed: Vec::new(),
    };
    let live = provider.apply(request).await.expect("create").expect("the secret_id");
    let accessor = live.attributes["accessor"].as_str().expect("an accessor").to_string();
    assert_eq!(live.id, format!("auth/{backend}/role/ci/secret-id-accessor/{accessor}"));
    assert_eq!(live.secret_versions.get("secret_id"), Some(&accessor));
    assert_eq!(
        live.attributes["metadata"], "{\"team\":\"ci\"}",
        "the token key is hidden"
    );
    assert!(
        live.attributes.get("secret_id").is_none(),
        "no value among the plain attributes"
    );

    let read_secret = ReadSecretRequest {
        resource_type: TYPE.into(),
        id: live.id.clone(),
        attribute: "secret_id".into(),
    };
    let secret_id = provider
        .read_secret(read_secret.clone())
        .await
        .expect("the value, in the run that made it");
    assert!(
        logs_in(&backend, &role_id, secret_id.expose()),
        "a login with it succeeds"
    );
    assert!(!format!("{live:?}").contains(secret_id.expose()));

    // A later run (another driver) has no value, and says how to get a new one.
    let later = configured_provider(&vault_token()).await;
    let error = later
        .read_secret(read_secret)
        .await
        .expect_err("not generated in this run");
    assert_eq!(error.code, keyform::provider::VALUE_NOT_RETAINED, "{error:?}");
    assert!(
        error.message.contains("only in the run that creates it"),
        "{}",
        error.message
    );
    assert!(!error.message.contains(secret_id.expose()));
    let imported = later
        .import(ImportRequest {
            resource_type: TYPE.into(),
            id: live.id.clone(),
        })
        .await
        .expect("import")
        .expect("the secret_id");
    assert_eq!(imported.secret_versions, live.secret_versions);
    let listed = later.list(TYPE).await.expect("list");
    assert!(listed.contains(&live.id), "{listed:?}");

    // Destroyed outside keyform: the object is gone (the plan creates a new one).
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci/secret-id-accessor/destroy"),
        Some(serde_json::json!({ "secret_id_accessor": accessor })),
    );
    assert!(status < 300, "{status} {body}");
    let gone = later
        .read(ReadRequest {
            resource_type: TYPE.into(),
            id: live.id.clone(),
            prior: Default::default(),
        })
        .await
        .expect("read");
    assert!(gone.is_none());
    assert!(
        !logs_in(&backend, &role_id, secret_id.expose()),
        "the destroyed secret_id is refused"
    );
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

fn configuration(backend: &str, mount: &str) -> String {
    handoff_configuration(
        backend,
        mount,
        "  metadata  = jsonencode({ system = \"ci\" })\n  ttl       = \"24h\"\n",
        "secret_id",
    )
}

/// An AppRole method at `backend` with a role `ci`, a secret_id with `settings` (HCL lines), and a KV v2 engine at
/// `mount` whose secret `ci/approle` holds the secret_id resource's `handed` attribute under that name; outputs
/// `role_id` and `accessor`.
pub fn handoff_configuration(backend: &str, mount: &str, settings: &str, handed: &str) -> String {
    format!(
        r#"{provider}
resource "vault_auth_backend" "ci" {{
  type = "approle"
  path = "{backend}"
}}

resource "vault_approle_auth_backend_role" "ci" {{
  backend        = vault_auth_backend.ci.path
  role_name      = "ci"
  token_ttl      = "10m"
  token_policies = ["default"]
}}

resource "vault_approle_auth_backend_role_secret_id" "ci" {{
  backend   = vault_auth_backend.ci.path
  role_name = vault_approle_auth_backend_role.ci.role_name
{settings}}}

resource "vault_mount" "handoff" {{
  path = "{mount}"
  type = "kv-v2"
}}

# The CI system's credentials, handed over through KV.
resource "vault_kv_secret_v2" "ci_credentials" {{
  mount     = vault_mount.handoff.path
  name      = "ci/approle"
  data_json = jsonencode({{ {handed} = vault_approle_auth_backend_role_secret_id.ci.{handed} }})
}}

output "role_id" {{
  value = vault_approle_auth_backend_role.ci.role_id
}}

output "accessor" {{
  value = vault_approle_auth_backend_role_secret_id.ci.accessor
}}
"#,
        provider = token_provider_block()
    )
}

/// The secret_id the KV secret holds, read with `curl`.
fn handed_over(mount: &str) -> String {
    handed_over_value(mount, "secret_id")
}

/// The value the KV secret `ci/approle` holds under `name`, read with `curl`.
pub fn handed_over_value(mount: &str, name: &str) -> String {
    let (status, body) = root("GET", &format!("{mount}/data/ci/approle"), None);
    assert_eq!(status, 200, "{body}");
    body["data"]["data"][name]
        .as_str()
        .unwrap_or_else(|| panic!("a {name} in KV: {body}"))
        .to_string()
}

#[tokio::test]
async fn a_secret_id_is_handed_to_kv_logs_in_and_is_never_stored() {
    let backend = unique("handoff-approle");
    let mount = unique("handoff-kv");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&backend, &mount));
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let plan = keyform_with_token(&workspace, &["plan", "--out", "first.kfplan"]);
    assert_exit(&plan, 0);
    assert!(
        mentions(&stdout(&plan), "data_json: (sensitive, known after apply)"),
        "the value is known once the secret_id is generated: {}",
        stdout(&plan)
    );
    outputs.push(("plan".into(), plan));
    let applied = keyform_with_token(&workspace, &["apply", "first.kfplan"]);
    assert_exit(&applied, 0);
    outputs.push(("apply".into(), applied));

    let role_id = output_text(&workspace, "role_id");
    let secret_id = handed_over(&mount);
    assert!(
        logs_in(&backend, &role_id, &secret_id),
        "a login with the handed-over secret_id succeeds"
    );
    let accessor = output_text(&workspace, "accessor");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci/secret-id-accessor/lookup"),
        Some(serde_json::json!({ "secret_id_accessor": accessor })),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["metadata"]["system"], "ci", "{body}");
    assert_eq!(body["data"]["secret_id_ttl"], 86400, "{body}");

    // Vault returns a secret_id once: later runs leave what took it as it is, and plan nothing.
    let later = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_exit(&later, 0);
    outputs.push(("later plan".into(), later));
    assert_eq!(handed_over(&mount), secret_id, "the handed-over value is untouched");
    for arguments in [
        &["show"][..],
        &["state", "show", "vault_approle_auth_backend_role_secret_id.ci"],
    ] {
        let output = keyform_with_token(&workspace, arguments);
        assert_exit(&output, 0);
        outputs.push((arguments.join(" "), output));
    }

    // Replacing it hands a new secret_id over in the same run; the old one stops working.
    let replaced = keyform_with_token(
        &workspace,
        &[
            "apply",
            "--auto-approve",
            "--replace",
            "vault_approle_auth_backend_role_secret_id.ci",
        ],
    );
    assert_exit(&replaced, 0);
    outputs.push(("replace".into(), replaced));
    let renewed = handed_over(&mount);
    assert_ne!(renewed, secret_id);
    assert!(logs_in(&backend, &role_id, &renewed), "the new secret_id logs in");
    assert!(
        !logs_in(&backend, &role_id, &secret_id),
        "the replaced one is destroyed"
    );

    let scanner = Scanner::new(&[secret_id, renewed.clone()]);
    let hits = scanner.scan_run(workspace.path(), &[], &outputs);
    assert!(hits.is_empty(), "the secret_id leaked:\n{}", hits.join("\n"));

    // A change elsewhere in a later run applies without the value.
    let tuned = configuration(&backend, &mount).replace("token_ttl      = \"10m\"", "token_ttl      = \"20m\"");
    workspace.write("main.hcl", &tuned);
    let applied = keyform_with_token(&workspace, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    assert_eq!(handed_over(&mount), renewed, "the handed-over value is untouched");

    // Destroy needs no value either.
    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
    let (status, _) = root("GET", &format!("sys/mounts/{mount}"), None);
    assert!(status >= 400, "the KV engine is gone");
}

#[tokio::test]
async fn a_secret_id_nothing_reads_plans_no_change_in_later_runs_and_is_recreated_when_gone() {
    let backend = unique("later-approle");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &format!(
            r#"{provider}
resource "vault_auth_backend" "ci" {{
  type = "approle"
  path = "{backend}"
}}

resource "vault_approle_auth_backend_role" "ci" {{
  backend            = vault_auth_backend.ci.path
  role_name          = "ci"
  secret_id_ttl      = "1h"
  secret_id_num_uses = 5
}}

resource "vault_approle_auth_backend_role_secret_id" "ci" {{
  backend   = vault_auth_backend.ci.path
  role_name = vault_approle_auth_backend_role.ci.role_name
  ttl       = 0
  cidr_list = ["10.0.0.0/8", "127.0.0.0/8"]
}}

output "accessor" {{
  value = vault_approle_auth_backend_role_secret_id.ci.accessor
}}
"#,
            provider = token_provider_block()
        ),
    );
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        code(&plan),
        0,
        "ttl 0 (the role's) and the cidr_list in another order are no change:\n{}{}",
        stdout(&plan),
        stderr(&plan)
    );

    // Destroyed outside keyform: the next plan creates a new one.
    let accessor = output_text(&workspace, "accessor");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci/secret-id-accessor/destroy"),
        Some(serde_json::json!({ "secret_id_accessor": accessor })),
    );
    assert!(status < 300, "{status} {body}");
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(
        mentions(&stdout(&plan), "+ vault_approle_auth_backend_role_secret_id.ci"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    assert_ne!(output_text(&workspace, "accessor"), accessor);
    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
}
