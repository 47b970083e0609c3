//! The `vault` provider's auth methods against OpenBao: the compliance suite
//! for `vault_auth_backend` and `vault_approle_auth_backend_role`; an AppRole
//! applied with the root token, then logged in to through Vault's HTTP API
//! directly (`curl`, not keyform) to check the token's policies and TTL; the
//! provider authenticating with `approle { ... }` instead of a token; and an
//! apply that outlasts the AppRole token's TTL.
//!
//! Tests run in parallel against one OpenBao server: each uses its own paths.

use crate::services::{vault_address, vault_token};
use crate::support::{Workspace, assert_exit, code, stderr, stdout};
use crate::vault_support::{
    assert_plan_empty, attributes, check_compliance, configured_provider, enable_auth, keyform_command, login_policies,
    root, token_provider_block, unique, vault,
};
use std::collections::BTreeMap;
use std::process::Output;
use std::time::{Duration, Instant};

#[tokio::test]
async fn vault_auth_backend_passes_the_compliance_suite() {
    let path = unique("compliance-auth");
    check_compliance(
        "vault_auth_backend",
        serde_json::json!({ "type": "approle", "path": path, "description": "compliance" }),
        Some(("description".into(), "changed".into())),
        unique("no-such-auth"),
    )
    .await;
    let (status, _) = root("GET", &format!("sys/auth/{path}"), None);
    assert!(status >= 400, "the auth method is disabled after the suite");
}

#[tokio::test]
async fn vault_approle_auth_backend_role_passes_the_compliance_suite() {
    let backend = enable_auth("approle", "compliance-role");
    check_compliance(
        "vault_approle_auth_backend_role",
        serde_json::json!({
            "backend": backend,
            "role_name": "ci",
            "token_ttl": 3600,
            "token_policies": ["default", "app"],
        }),
        Some(("token_ttl".into(), 7200.into())),
        format!("auth/{backend}/role/no-such-role"),
    )
    .await;
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

#[tokio::test]
async fn a_role_written_by_someone_else_is_not_overwritten_and_the_whole_role_is_sent() {
    let backend = enable_auth("approle", "foreign-role");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci"),
        Some(serde_json::json!({ "token_ttl": "5m", "token_policies": ["other"] })),
    );
    assert!(status < 300, "{status} {body}");
    let provider = configured_provider(&vault_token()).await;
    let mut request = keyform::provider::ApplyRequest {
        resource_type: "vault_approle_auth_backend_role".into(),
        action: keyform::provider::ApplyAction::Create { token: "t".into() },
        id: None,
        attributes: attributes(serde_json::json!({ "backend": backend, "role_name": "ci", "token_ttl": 3600 })),
        secrets: BTreeMap::new(),
        changed: Vec::new(),
    };
    let error = provider.apply(request.clone()).await.expect_err("the role exists");
    assert_eq!(error.code, "AlreadyExists", "{error:?}");
    let (_, body) = root("GET", &format!("auth/{backend}/role/ci"), None);
    assert_eq!(body["data"]["token_ttl"], 300);
    // An update sends the whole role: the policies the configuration leaves out are cleared.
    request.action = keyform::provider::ApplyAction::Update;
    request.id = Some(format!("auth/{backend}/role/ci"));
    request.changed = vec!["token_ttl".into()];
    let live = provider.apply(request).await.expect("update").expect("the role");
    assert_eq!(live.attributes["token_ttl"], 3600);
    let (_, body) = root("GET", &format!("auth/{backend}/role/ci"), None);
    assert_eq!(body["data"]["token_ttl"], 3600);
    assert_eq!(body["data"]["token_policies"], serde_json::json!([]));
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

/// The auth method, a policy that lets its tokens manage this test's objects, and the role.
fn approle_configuration(backend: &str, policy_name: &str, provider_block: &str, token_ttl: &str) -> String {
    format!(
        r#"{provider_block}

resource "vault_auth_backend" "ci" {{
  type        = "approle"
  path        = "{backend}"
  description = "keyform AppRole test"

  tune {{
    default_lease_ttl  = "2h"
    listing_visibility = "unauth"
  }}
}}

resource "vault_policy" "ci" {{
  name   = "{policy_name}"
  policy = <<-EOT
    path "*" {{
      capabilities = ["create", "read", "update", "delete", "list", "sudo"]
    }}
  EOT
}}

resource "vault_approle_auth_backend_role" "ci" {{
  backend        = vault_auth_backend.ci.path
  role_name      = "ci"
  token_ttl      = "{token_ttl}"
  token_max_ttl  = "{token_ttl}"
  token_policies = [vault_policy.ci.name, "default"]
}}

output "role_id" {{
  value = vault_approle_auth_backend_role.ci.role_id
}}
"#
    )
}

fn approle_provider(backend: &str, role_id: &str) -> String {
    format!(
        "provider \"vault\" {{\n  address = \"{}\"\n\n  approle {{\n    role_id       = \"{role_id}\"\n    mount         = \"{backend}\"\n    secret_id_env = \"KF_VAULT_TEST_SECRET_ID\"\n  }}\n}}",
        vault_address()
    )
}

/// Runs keyform with the root token, or with only an AppRole secret_id, in its environment.
fn keyform(workspace: &Workspace, arguments: &[&str], secret_id: Option<&str>) -> Output {
    let mut command = keyform_command(workspace, arguments);
    command.env("KF_VAULT_TEST_DATA", "{\"value\":\"test-data\"}");
    match secret_id {
        Some(secret_id) => command.env("KF_VAULT_TEST_SECRET_ID", secret_id),
        None => command.env("KF_VAULT_TEST_TOKEN", vault_token()),
    };
    let output = command.output().expect("run keyform");
    if let Some(secret_id) = secret_id {
        assert!(
            !stdout(&output).contains(secret_id) && !stderr(&output).contains(secret_id),
            "keyform printed the secret_id"
        );
    }
    output
}

fn role_id_output(workspace: &Workspace) -> String {
    let output = keyform(workspace, &["output", "role_id", "--json"], None);
    assert_exit(&output, 0);
    let value: serde_json::Value = serde_json::from_str(stdout(&output).trim()).expect("the output as JSON");
    let role_id = value.as_str().unwrap_or_default().to_string();
    assert!(!role_id.is_empty(), "role_id output: {value}");
    role_id
}

/// A secret_id for the role, generated through Vault's API with the root token.
fn generate_secret_id(backend: &str) -> String {
    let (status, body) = root("POST", &format!("auth/{backend}/role/ci/secret-id"), None);
    assert!(status < 300, "secret-id: {status} {body}");
    body["data"]["secret_id"].as_str().expect("a secret_id").to_string()
}

fn kv_resources(mount: &str, count: usize) -> String {
    let mut text = format!("\nresource \"vault_mount\" \"kv\" {{\n  path = \"{mount}\"\n  type = \"kv-v2\"\n}}\n");
    for index in 0..count {
        text.push_str(&format!(
            "\nresource \"vault_kv_secret_v2\" \"s{index}\" {{\n  mount     = vault_mount.kv.path\n  name      = \"app/s{index}\"\n  data_json = env(\"KF_VAULT_TEST_DATA\")\n}}\n"
        ));
    }
    text
}

#[tokio::test]
async fn an_approle_logs_in_with_its_policies_and_ttl_and_the_provider_authenticates_with_it() {
    let backend = unique("e2e-approle");
    let policy_name = unique("e2e-ci");
    let mount = unique("e2e-approle-kv");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &approle_configuration(&backend, &policy_name, &token_provider_block(), "1h"),
    );
    assert_exit(&keyform(&workspace, &["init"], None), 0);
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"], None), 0);
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], None);
    assert_plan_empty(&plan, "a second plan is empty");

    let (status, body) = root("GET", &format!("sys/auth/{backend}/tune"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["default_lease_ttl"], 7200, "{body}");
    assert_eq!(body["data"]["listing_visibility"], "unauth", "{body}");

    // A method tuned and a role's TTL changed behind keyform's back show in the plan, and apply
    // restores them (the whole role).
    let (status, body) = root(
        "POST",
        &format!("sys/auth/{backend}/tune"),
        Some(serde_json::json!({ "default_lease_ttl": "10m" })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci"),
        Some(serde_json::json!({ "token_ttl": "5m", "token_policies": ["default"] })),
    );
    assert!(status < 300, "{status} {body}");
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], None);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("token_ttl"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("token_policies"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("default_lease_ttl"), "{}", stdout(&plan));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"], None), 0);
    let (_, body) = root("GET", &format!("sys/auth/{backend}/tune"), None);
    assert_eq!(body["data"]["default_lease_ttl"], 7200, "{body}");
    let (_, body) = root("GET", &format!("auth/{backend}/role/ci"), None);
    assert_eq!(body["data"]["token_ttl"], 3600, "{body}");
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], None);
    assert_plan_empty(&plan, "no change");

    // Log in through Vault's API directly, not through keyform.
    let role_id = role_id_output(&workspace);
    let secret_id = generate_secret_id(&backend);
    let (status, body) = vault(
        "POST",
        &format!("auth/{backend}/login"),
        Some(serde_json::json!({ "role_id": role_id, "secret_id": secret_id })),
        None,
    );
    assert_eq!(status, 200, "login: {body}");
    assert_eq!(body["auth"]["lease_duration"], 3600, "{body}");
    let policies = login_policies(&body);
    assert!(policies.contains(&policy_name), "{policies:?}");
    assert!(policies.iter().any(|policy| policy == "default"), "{policies:?}");

    // The provider now logs in with the AppRole, with no token in its environment, and applies a change.
    let mut configuration = approle_configuration(&backend, &policy_name, &approle_provider(&backend, &role_id), "1h");
    configuration.push_str(&kv_resources(&mount, 1));
    workspace.write("main.hcl", &configuration);
    let applied = keyform(&workspace, &["apply", "--auto-approve"], Some(&secret_id));
    assert_exit(&applied, 0);
    let (status, body) = root("GET", &format!("{mount}/metadata/app/s0"), None);
    assert_eq!(status, 200, "the secret written through the AppRole login: {body}");
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], Some(&secret_id));
    assert_plan_empty(&plan, "no change");
    for file in ["state.json", "state.journal"] {
        let text = std::fs::read_to_string(workspace.state_folder().join(file)).unwrap_or_default();
        assert!(!text.contains(&secret_id), "{file} holds the secret_id");
    }

    // A wrong secret_id is a diagnostic naming the login path, and is never printed.
    let refused = keyform(&workspace, &["plan"], Some("not-the-secret-id"));
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains(&format!("auth/{backend}/login")),
        "{}",
        stderr(&refused)
    );

    let mut configuration = approle_configuration(&backend, &policy_name, &token_provider_block(), "1h");
    configuration.push_str(&kv_resources(&mount, 1));
    workspace.write("main.hcl", &configuration);
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"], None), 0);
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
}

#[tokio::test]
async fn an_apply_that_outlasts_the_approle_token_logs_in_again() {
    const TTL_SECONDS: u64 = 1;
    let backend = unique("renew-approle");
    let policy_name = unique("renew-ci");
    let mount = unique("renew-kv");
    let workspace = Workspace::new();
    let ttl = format!("{TTL_SECONDS}s");
    workspace.write(
        "main.hcl",
        &approle_configuration(&backend, &policy_name, &token_provider_block(), &ttl),
    );
    assert_exit(&keyform(&workspace, &["init"], None), 0);
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"], None), 0);
    let role_id = role_id_output(&workspace);
    let secret_id = generate_secret_id(&backend);

    // The Vault writes wait for a local key whose every call takes longer than the token lives,
    // so the token the run logged in with first has expired when they are sent.
    let mut configuration = approle_configuration(&backend, &policy_name, &approle_provider(&backend, &role_id), &ttl);
    configuration.push_str(&format!(
        "\nprovider \"local\" {{\n  simulated_latency_ms = {}\n}}\n\nresource \"local_key\" \"pause\" {{\n  description = \"outlasts the token\"\n}}\n",
        TTL_SECONDS * 1500
    ));
    configuration.push_str(&kv_resources(&mount, 20).replace(
        "  mount     = vault_mount.kv.path\n",
        "  mount     = vault_mount.kv.path\n  depends_on = [local_key.pause]\n",
    ));
    workspace.write("main.hcl", &configuration);
    let started = Instant::now();
    let applied = keyform(&workspace, &["apply", "--auto-approve"], Some(&secret_id));
    let elapsed = started.elapsed();
    assert_exit(&applied, 0);
    assert!(
        elapsed > Duration::from_millis(TTL_SECONDS * 1500),
        "the apply took {elapsed:?}: too short to outlast a {TTL_SECONDS}s token"
    );
    let (status, body) = root("GET", &format!("{mount}/metadata/app/s19"), None);
    assert_eq!(status, 200, "the last secret was written: {body}");

    root("DELETE", &format!("sys/mounts/{mount}"), None);
    root("DELETE", &format!("sys/auth/{backend}"), None);
    root("DELETE", &format!("sys/policies/acl/{policy_name}"), None);
}
