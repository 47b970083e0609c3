//! The `vault` provider's login blocks through the `keyform` binary against
//! OpenBao: an `approle` block whose `secret_id` is a value source logs in
//! and applies, with the secret_id in no file or stream; and the settings
//! keyform refuses before any request: two ways to authenticate, both
//! `secret_id` and `secret_id_env`, and a secret_id written as a literal.

use crate::canary::Scanner;
use crate::services::vault_address;
use crate::support::{Workspace, assert_exit, mentions, stderr, stdout};
use crate::vault_support::{enable_auth, keyform_command, root, unique};
use std::process::Output;

fn keyform(workspace: &Workspace, arguments: &[&str], environment: &[(&str, &str)]) -> Output {
    keyform_command(workspace, arguments)
        .env("RUST_LOG", "trace")
        .envs(environment.iter().copied())
        .output()
        .expect("run keyform")
}

fn provider(blocks: &str) -> String {
    format!(
        "provider \"vault\" {{\n  address = \"{}\"\n{blocks}}}\n",
        vault_address()
    )
}

fn policy(name: &str) -> String {
    format!(
        "\nresource \"vault_policy\" \"made\" {{\n  name   = \"{name}\"\n  policy = \"path \\\"secret/data/x\\\" {{ capabilities = [\\\"read\\\"] }}\"\n}}\n"
    )
}

#[test]
fn an_approle_secret_id_from_a_value_source_logs_in_and_never_leaks() {
    let backend = enable_auth("approle", "login-approle");
    let policy_name = unique("login-approle-policy");
    let rules = format!(
        "path \"sys/policies/acl/{policy_name}*\" {{ capabilities = [\"create\", \"read\", \"update\", \"delete\"] }}"
    );
    let (status, body) = root(
        "PUT",
        &format!("sys/policies/acl/{policy_name}-login"),
        Some(serde_json::json!({ "policy": rules })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci"),
        Some(serde_json::json!({ "token_policies": [format!("{policy_name}-login")], "token_ttl": "10m" })),
    );
    assert!(status < 300, "{status} {body}");
    let (_, body) = root("GET", &format!("auth/{backend}/role/ci/role-id"), None);
    let role_id = body["data"]["role_id"].as_str().expect("a role_id").to_string();
    let (_, body) = root("POST", &format!("auth/{backend}/role/ci/secret-id"), None);
    let secret_id = body["data"]["secret_id"].as_str().expect("a secret_id").to_string();

    let workspace = Workspace::new();
    let block = format!(
        "\n  approle {{\n    role_id   = \"{role_id}\"\n    secret_id = env(\"KF_TEST_SECRET_ID\")\n    mount     = \"{backend}\"\n  }}\n"
    );
    workspace.write(
        "main.hcl",
        &(provider(&block) + &policy(&format!("{policy_name}-made"))),
    );
    let environment = [("KF_TEST_SECRET_ID", secret_id.as_str())];
    assert_exit(&keyform(&workspace, &["init"], &environment), 0);
    let applied = keyform(&workspace, &["apply", "--auto-approve"], &environment);
    assert_exit(&applied, 0);
    let (status, body) = root("GET", &format!("sys/policies/acl/{policy_name}-made"), None);
    assert_eq!(status, 200, "the policy written through the AppRole login: {body}");
    let destroyed = keyform(&workspace, &["destroy", "--auto-approve"], &environment);
    assert_exit(&destroyed, 0);

    let scanner = Scanner::new(std::slice::from_ref(&secret_id));
    let mut leaks = scanner.scan_output("apply", &applied);
    leaks.extend(scanner.scan_output("destroy", &destroyed));
    leaks.extend(scanner.scan_folder(workspace.path(), &[]));
    assert!(leaks.is_empty(), "the secret_id leaked: {leaks:?}");
    root("DELETE", &format!("sys/auth/{backend}"), None);
    root("DELETE", &format!("sys/policies/acl/{policy_name}-login"), None);
}

/// Runs `plan` on a provider block and returns its error output, which must be a failure.
fn refused(blocks: &str, environment: &[(&str, &str)]) -> String {
    let workspace = Workspace::new();
    workspace.write("main.hcl", &(provider(blocks) + &policy(&unique("never-made"))));
    assert_exit(&keyform(&workspace, &["init"], environment), 0);
    let output = keyform(&workspace, &["plan"], environment);
    assert_exit(&output, 1);
    format!("{}{}", stdout(&output), stderr(&output))
}

#[test]
fn conflicting_or_literal_login_settings_are_refused_before_any_request() {
    let jwt = "  token = env(\"KF_TEST_TOKEN\")\n\n  jwt {\n    role = \"ci\"\n    jwt  = env(\"KF_TEST_JWT\")\n  }\n";
    let message = refused(jwt, &[("KF_TEST_TOKEN", "t"), ("KF_TEST_JWT", "j")]);
    assert!(mentions(&message, "more than one way to authenticate"), "{message}");
    assert!(mentions(&message, "`token`, `jwt`"), "{message}");

    let both = "\n  approle {\n    role_id       = \"r\"\n    secret_id     = env(\"KF_TEST_SECRET_ID\")\n    secret_id_env = \"KF_TEST_SECRET_ID\"\n  }\n";
    let message = refused(both, &[("KF_TEST_SECRET_ID", "s")]);
    assert!(mentions(&message, "both `secret_id` and `secret_id_env`"), "{message}");

    let literal_secret = "literal-secret-id-0123456789";
    let literal = format!("\n  approle {{\n    role_id   = \"r\"\n    secret_id = \"{literal_secret}\"\n  }}\n");
    let message = refused(&literal, &[]);
    assert!(mentions(&message, "KF1004"), "a hardcoded secret: {message}");
    assert!(!message.contains(literal_secret), "the literal is masked: {message}");

    let kubernetes = "\n  kubernetes {\n    role     = \"app\"\n    jwt_file = \"no-such-token\"\n  }\n";
    let message = refused(kubernetes, &[]);
    assert!(
        mentions(&message, "no-such-token"),
        "the missing token file is named: {message}"
    );
}
