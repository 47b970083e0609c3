//! Response wrapping of a `vault_approle_auth_backend_role_secret_id`
//! (`wrapping_ttl`) against OpenBao: keyform never sees the secret_id, only
//! a single-use wrapping token, which it hands to a KV v2 secret in the same
//! run; a receiver (with `curl`, not keyform) unwraps it once through
//! `sys/wrapping/unwrap` and logs in with the secret_id; a second unwrap is
//! refused. Later plans change nothing, state keeps the wrapping accessor
//! and TTL, and neither the wrapping token nor the secret_id reaches a file
//! or a stream keyform writes. Asking a wrapped resource for its `secret_id`
//! is an error that says to hand on `wrapping_token`.

use crate::canary::Scanner;
use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, stdout};
use crate::vault_secret_id::{handed_over_value, handoff_configuration};
use crate::vault_support::{
    attributes, configured_provider, keyform_command, keyform_with_token, output_text, root, unique, vault,
};
use keyform::provider::{ApplyAction, ApplyRequest, ReadSecretRequest};
use std::collections::BTreeMap;
use std::process::Output;

/// `auth/token/lookup-accessor` as root: the status and the answer.
fn accessor_lookup(accessor: &str) -> (u16, serde_json::Value) {
    root(
        "POST",
        "auth/token/lookup-accessor",
        Some(serde_json::json!({ "accessor": accessor })),
    )
}

/// `sys/wrapping/unwrap` with the wrapping token: the status and the answer.
fn unwrap(wrapping_token: &str) -> (u16, serde_json::Value) {
    vault("POST", "sys/wrapping/unwrap", None, Some(wrapping_token))
}

#[test]
fn a_wrapped_secret_id_is_handed_on_as_a_single_use_token_and_never_seen() {
    let backend = unique("wrapped-approle");
    let mount = unique("wrapped-kv");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &handoff_configuration(&backend, &mount, "  wrapping_ttl = \"10m\"\n", "wrapping_token"),
    );
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let applied = keyform_command(&workspace, &["apply", "--auto-approve"])
        .env("KF_VAULT_TEST_TOKEN", vault_token())
        .env("RUST_LOG", "trace")
        .output()
        .expect("run keyform");
    assert_exit(&applied, 0);
    outputs.push(("apply with RUST_LOG=trace".into(), applied));

    let wrapping_token = handed_over_value(&mount, "wrapping_token");
    let (status, lookup) = vault(
        "POST",
        "sys/wrapping/lookup",
        Some(serde_json::json!({ "token": wrapping_token })),
        None,
    );
    assert_eq!(status, 200, "{lookup}");
    assert_eq!(lookup["data"]["creation_ttl"], 600, "{lookup}");
    assert!(
        lookup["data"]["creation_path"]
            .as_str()
            .is_some_and(|path| path.ends_with(&format!("auth/{backend}/role/ci/secret-id"))),
        "{lookup}"
    );

    // State records the wrapping token's accessor (not the token) and the TTL.
    let shown = keyform_with_token(
        &workspace,
        &["state", "show", "vault_approle_auth_backend_role_secret_id.ci"],
    );
    assert_exit(&shown, 0);
    let wrapping_accessor = stdout(&shown)
        .lines()
        .find_map(|line| line.trim().strip_prefix("wrapping_accessor = "))
        .map(|value| value.trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("state keeps the wrapping accessor: {}", stdout(&shown)));
    assert!(stdout(&shown).contains("wrapping_ttl"), "{}", stdout(&shown));
    outputs.push(("state show".into(), shown));
    let (status, body) = accessor_lookup(&wrapping_accessor);
    assert_eq!(status, 200, "the accessor names the wrapping token: {body}");
    assert_eq!(body["data"]["num_uses"], 1, "{body}");

    let (status, unwrapped) = unwrap(&wrapping_token);
    assert_eq!(status, 200, "{unwrapped}");
    let secret_id = unwrapped["data"]["secret_id"]
        .as_str()
        .expect("the secret_id")
        .to_string();
    let role_id = output_text(&workspace, "role_id");
    let (status, login) = vault(
        "POST",
        &format!("auth/{backend}/login"),
        Some(serde_json::json!({ "role_id": role_id, "secret_id": secret_id })),
        None,
    );
    assert_eq!(status, 200, "a login with the unwrapped secret_id succeeds: {login}");
    let (status, _) = unwrap(&wrapping_token);
    assert!(status >= 400, "a wrapping token unwraps once");

    let later = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_exit(&later, 0);
    outputs.push(("later plan".into(), later));
    let (status, _) = accessor_lookup(&wrapping_accessor);
    assert!(status >= 400, "the used wrapping token is revoked with its accessor");

    let scanner = Scanner::new(&[wrapping_token, secret_id]);
    let hits = scanner.scan_run(workspace.path(), &[], &outputs);
    assert!(
        hits.is_empty(),
        "a wrapping token or secret_id leaked:\n{}",
        hits.join("\n")
    );

    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
}

#[tokio::test]
async fn the_secret_id_of_a_wrapped_resource_is_refused_with_help() {
    let backend = crate::vault_support::enable_auth("approle", "wrapped-refusal");
    let (status, body) = root("POST", &format!("auth/{backend}/role/ci"), Some(serde_json::json!({})));
    assert!(status < 300, "role: {status} {body}");
    let provider = configured_provider(&vault_token()).await;
    let live = provider
        .apply(ApplyRequest {
            resource_type: "vault_approle_auth_backend_role_secret_id".into(),
            action: ApplyAction::Create { token: "w1".into() },
            id: None,
            attributes: attributes(serde_json::json!({ "backend": backend, "role_name": "ci", "wrapping_ttl": 60 })),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect("create")
        .expect("the secret_id");
    assert!(
        live.attributes["wrapping_accessor"]
            .as_str()
            .is_some_and(|accessor| !accessor.is_empty())
    );
    assert_eq!(live.attributes["wrapping_ttl"], 60);
    let accessor = live.attributes["accessor"].as_str().expect("an accessor");
    assert_eq!(
        live.secret_versions.get("wrapping_token").map(String::as_str),
        Some(accessor)
    );
    let request = |attribute: &str| ReadSecretRequest {
        resource_type: "vault_approle_auth_backend_role_secret_id".into(),
        id: live.id.clone(),
        attribute: attribute.into(),
    };
    let error = provider.read_secret(request("secret_id")).await.expect_err("wrapped");
    assert_eq!(error.code, "SecretIdWrapped", "{error:?}");
    assert!(error.help.unwrap_or_default().contains("wrapping_token"));
    let token = provider
        .read_secret(request("wrapping_token"))
        .await
        .expect("the wrapping token");
    let (status, unwrapped) = unwrap(token.expose());
    assert_eq!(status, 200, "{unwrapped}");
    root("DELETE", &format!("sys/auth/{backend}"), None);
}
