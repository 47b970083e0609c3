//! What the Vault tests share: unique names, requests to Vault's HTTP API
//! made outside keyform (with `curl`), auth methods and secrets engines
//! enabled at unique paths, the driver configured as the core does it, the
//! compliance check, and keyform run against the test server (the provider
//! block, the command, its outputs).

use crate::services::{vault_address, vault_token};
use keyform::provider::compliance::{Outcome, Subject, report, run};
use keyform::provider::{ConfigureRequest, Provider};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

/// `label` with a short random suffix (Vault paths stay readable).
pub fn unique(label: &str) -> String {
    format!("{label}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// One request to Vault's HTTP API with `curl`; returns the status and the JSON body (Null when empty).
pub fn vault(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let url = format!("{}/v1/{path}", vault_address().trim_end_matches('/'));
    let mut command = Command::new("curl");
    command.args(["-s", "-X", method, "-w", "\n%{http_code}"]);
    if let Some(token) = token {
        command.arg("-H").arg(format!("X-Vault-Token: {token}"));
    }
    if let Some(body) = body {
        command.args(["-d", &body.to_string()]);
    }
    let output = command.arg(&url).output().expect("run curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    let status = status.trim().parse().unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

/// [`vault`] with the root token.
pub fn root(method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    vault(method, path, body, Some(&vault_token()))
}

/// Enables an auth method of `method_type` at a unique path with the root token; the path.
pub fn enable_auth(method_type: &str, label: &str) -> String {
    let path = unique(label);
    let (status, body) = root(
        "POST",
        &format!("sys/auth/{path}"),
        Some(serde_json::json!({ "type": method_type })),
    );
    assert!(status < 300, "enable {method_type}: {status} {body}");
    path
}

/// Mounts a secrets engine (`settings`: its `type` and any `config`) at a unique path with the root token; the path.
pub fn mount_engine(settings: serde_json::Value, label: &str) -> String {
    let path = unique(label);
    let (status, body) = root("POST", &format!("sys/mounts/{path}"), Some(settings.clone()));
    assert!(status < 300, "mount {settings}: {status} {body}");
    path
}

/// A JSON object as provider attributes.
pub fn attributes(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    json.as_object().cloned().unwrap_or_default()
}

/// The driver, configured through `Provider::configure` as the core does it.
pub async fn configured_provider(token: &str) -> Arc<dyn Provider> {
    let provider = keyform::providers::registry("vault").expect("the vault provider is registered");
    provider
        .configure(ConfigureRequest {
            folder: std::env::temp_dir(),
            attributes: attributes(serde_json::json!({ "address": vault_address() })),
            secrets: BTreeMap::from([("token".to_string(), SensitiveString::new(token))]),
        })
        .await
        .expect("configure the vault provider");
    provider
}

/// Fails with the suite's report unless every case passed or was NotSupported.
pub fn check(resource_type: &str, results: &[(&'static str, Outcome)]) {
    let (text, passed) = report(resource_type, results);
    println!("{text}");
    assert!(passed, "{text}");
    assert!(results.len() >= 12, "every case ran:\n{text}");
}

/// Runs the compliance suite on `resource_type` through the driver configured with the root token,
/// for an object of `attributes` (no secret values), `update` and `missing_id` as [`Subject`] takes them.
pub async fn check_compliance(
    resource_type: &str,
    attributes: serde_json::Value,
    update: Option<(String, serde_json::Value)>,
    missing_id: String,
) {
    let subject = Subject {
        provider: configured_provider(&vault_token()).await,
        resource_type: resource_type.into(),
        attributes: self::attributes(attributes),
        secrets: BTreeMap::new(),
        update,
        missing_id,
    };
    check(resource_type, &run(&subject).await);
}

/// A `provider "vault"` block at the test server that takes the root token from `KF_VAULT_TEST_TOKEN`.
pub fn token_provider_block() -> String {
    format!(
        "provider \"vault\" {{\n  address = \"{}\"\n  token   = env(\"KF_VAULT_TEST_TOKEN\")\n}}\n",
        vault_address()
    )
}

/// keyform in `workspace` with no VAULT_ADDR or VAULT_TOKEN: the configuration says how to reach Vault.
pub fn keyform_command(workspace: &crate::support::Workspace, arguments: &[&str]) -> Command {
    let mut command = workspace.command(arguments);
    command.env_remove("VAULT_ADDR").env_remove("VAULT_TOKEN");
    command
}

/// Runs keyform in `workspace` with the root token in `KF_VAULT_TEST_TOKEN` (and no VAULT_ADDR or VAULT_TOKEN).
pub fn keyform_with_token(workspace: &crate::support::Workspace, arguments: &[&str]) -> std::process::Output {
    keyform_command(workspace, arguments)
        .env("KF_VAULT_TEST_TOKEN", vault_token())
        .output()
        .expect("run keyform")
}

/// The string value of output `name` (`keyform output NAME --json`).
pub fn output_text(workspace: &crate::support::Workspace, name: &str) -> String {
    let output = keyform_with_token(workspace, &["output", name, "--json"]);
    crate::support::assert_exit(&output, 0);
    let value: serde_json::Value =
        serde_json::from_str(crate::support::stdout(&output).trim()).expect("the output as JSON");
    value.as_str().unwrap_or_default().to_string()
}

/// Asserts that `plan` (`keyform plan --detailed-exitcode`) proposed no change; `what` names it in the failure.
pub fn assert_plan_empty(plan: &std::process::Output, what: &str) {
    assert_eq!(
        crate::support::code(plan),
        0,
        "{what}:\n{}{}",
        crate::support::stdout(plan),
        crate::support::stderr(plan)
    );
}

/// `init` and `apply --auto-approve` with the root token, both succeeding, and a second plan that proposes nothing.
pub fn apply_with_token(workspace: &crate::support::Workspace) {
    crate::support::assert_exit(&keyform_with_token(workspace, &["init"]), 0);
    crate::support::assert_exit(&keyform_with_token(workspace, &["apply", "--auto-approve"]), 0);
    let plan = keyform_with_token(workspace, &["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "a second plan is empty");
}

/// The policies of the token a login answer (`auth/MOUNT/login`) gave.
pub fn login_policies(body: &serde_json::Value) -> Vec<String> {
    body["auth"]["token_policies"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A token provider block, a transit mount at `mount` and its key `kek` with `key_settings` (HCL lines).
pub fn transit_key_configuration(mount: &str, key_settings: &str) -> String {
    format!(
        r#"{provider}
resource "vault_mount" "transit" {{
  path = "{mount}"
  type = "transit"
}}

resource "vault_transit_secret_backend_key" "kek" {{
  backend = vault_mount.transit.path
  name    = "kek"
{key_settings}
}}
"#,
        provider = token_provider_block()
    )
}

/// A 10-minute token with only a new policy holding `rules` (HCL), made with the root token.
pub fn token_with_policy(rules: &str) -> String {
    let name = unique("test-policy");
    let (status, body) = root(
        "PUT",
        &format!("sys/policies/acl/{name}"),
        Some(serde_json::json!({ "policy": rules })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        "auth/token/create",
        Some(serde_json::json!({ "policies": [name], "ttl": "10m", "no_default_policy": true })),
    );
    assert!(status < 300, "{status} {body}");
    body["auth"]["client_token"].as_str().expect("a token").to_string()
}
