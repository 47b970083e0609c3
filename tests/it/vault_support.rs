//! What the Vault tests share: unique names, requests to Vault's HTTP API
//! made outside keyform (with `curl`), the driver configured as the core does
//! it, and the compliance check.

use crate::services::{vault_address, vault_token};
use keyform::provider::compliance::{Outcome, report};
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

/// A `provider "vault"` block at the test server that takes the root token from `KF_VAULT_TEST_TOKEN`.
pub fn token_provider_block() -> String {
    format!(
        "provider \"vault\" {{\n  address = \"{}\"\n  token   = env(\"KF_VAULT_TEST_TOKEN\")\n}}\n",
        vault_address()
    )
}

/// Runs keyform in `workspace` with the root token in `KF_VAULT_TEST_TOKEN` (and no VAULT_ADDR or VAULT_TOKEN).
pub fn keyform_with_token(workspace: &crate::support::Workspace, arguments: &[&str]) -> std::process::Output {
    workspace
        .command(arguments)
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
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
