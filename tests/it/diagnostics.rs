//! Bad input, each case in its own workspace: exit code 1, the stable code,
//! the location where there is one, and the whole message as a snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{Workspace, assert_exit, mentions, stderr};

const KEY: &str = "resource \"local_key\" \"main\" {\n  description = \"k\"\n}\n";

/// stderr with the workspace's absolute path replaced. miette wraps a long
/// message at 100 columns, and where depends on the temporary folder's length:
/// continuation lines are joined first.
fn normalized(workspace: &Workspace, text: &str) -> String {
    let path = workspace.path().display().to_string();
    text.replace("\n  │ ", " ").replace(&path, "[WORKSPACE]")
}

/// Runs `validate` and `plan` on `config`; both fail with `code`, at
/// `location` when given. Returns validate's stderr for a snapshot.
fn config_error(config: &str, code: &str, location: Option<&str>) -> String {
    let workspace = Workspace::initialized(config);
    let validate = workspace.run(&["validate"]);
    assert_exit(&validate, 1);
    let text = stderr(&validate);
    assert!(text.contains(code), "expected {code} in:\n{text}");
    if let Some(location) = location {
        assert!(text.contains(location), "expected {location} in:\n{text}");
    }
    let plan = workspace.run(&["plan"]);
    assert_exit(&plan, 1);
    assert!(
        stderr(&plan).contains(code),
        "plan: expected {code} in:\n{}",
        stderr(&plan)
    );
    normalized(&workspace, &text)
}

#[test]
fn malformed_hcl() {
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  name = \"a\"\n  value = generate({{ length = 16 }}\n}}\n"
        ),
        "KF1001",
        Some("main.hcl:"),
    );
    insta::assert_snapshot!("malformed_hcl", text);
}

#[test]
fn unknown_block_suggests_the_right_one() {
    let text = config_error(
        &format!("{KEY}\nresorce \"local_secret\" \"a\" {{\n  name = \"a\"\n}}\n"),
        "KF1002",
        Some("main.hcl:5:1"),
    );
    assert!(mentions(&text, "resource"), "{text}");
    insta::assert_snapshot!("unknown_block", text);
}

#[test]
fn unknown_attribute_suggests_the_right_one() {
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  nmae  = \"a\"\n  value = generate({{ length = 16 }})\n  key   = local_key.main.id\n}}\n"
        ),
        "KF1003",
        Some("main.hcl:6:3"),
    );
    assert!(mentions(&text, "did you mean `name`"), "{text}");
    insta::assert_snapshot!("unknown_attribute", text);
}

#[test]
fn reference_to_an_undeclared_resource() {
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  name  = \"a\"\n  value = generate({{ length = 16 }})\n  key   = local_key.other.id\n}}\n"
        ),
        "KF1007",
        Some("main.hcl:8:"),
    );
    assert!(mentions(&text, "local_key.other"), "{text}");
    insta::assert_snapshot!("undeclared_reference", text);
}

#[test]
fn type_mismatch() {
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  name                    = \"a\"\n  value                   = generate({{ length = 16 }})\n  key                     = local_key.main.id\n  recovery_window_in_days = \"seven\"\n}}\n"
        ),
        "KF1006",
        Some("main.hcl:9:"),
    );
    insta::assert_snapshot!("type_mismatch", text);
}

#[test]
fn a_cycle_between_two_locals_is_one_diagnostic_naming_both() {
    let text = config_error(
        "locals {\n  first  = \"${local.second}-x\"\n  second = \"${local.first}-y\"\n}\n\noutput \"o\" {\n  value = local.first\n}\n",
        "KF2001",
        Some("main.hcl:"),
    );
    assert_eq!(text.matches("KF2001").count(), 1, "one diagnostic:\n{text}");
    assert!(
        mentions(&text, "local.first") && mentions(&text, "local.second"),
        "{text}"
    );
    insta::assert_snapshot!("cycle", text);
}

#[test]
fn a_duplicate_resource_address() {
    let secret = "\nresource \"local_secret\" \"a\" {\n  name  = \"a\"\n  value = generate({ length = 16 })\n  key   = local_key.main.id\n}\n";
    let text = config_error(&format!("{KEY}{secret}{secret}"), "KF1008", Some("main.hcl:5:1"));
    assert!(
        text.contains("11 │ resource") && text.contains("declared again here"),
        "{text}"
    );
    assert!(mentions(&text, "local_secret.a"), "{text}");
    insta::assert_snapshot!("duplicate_resource", text);
}

#[test]
fn a_failed_variable_validation() {
    let config = "variable \"length\" {\n  type    = number\n  default = 4\n  validation {\n    condition     = var.length >= 16\n    error_message = \"length must be at least 16\"\n  }\n}\n";
    let text = config_error(config, "KF1009", Some("main.hcl:"));
    assert!(mentions(&text, "length must be at least 16"), "{text}");
    insta::assert_snapshot!("variable_validation", text);
}

#[test]
fn a_literal_secret_is_refused_and_masked() {
    let literal = format!("LITERAL-{}", uuid::Uuid::new_v4().simple());
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  name  = \"a\"\n  value = \"{literal}\"\n  key   = local_key.main.id\n}}\n"
        ),
        "KF1004",
        Some("main.hcl:7:11"),
    );
    assert!(!text.contains(&literal), "the literal is printed:\n{text}");
    assert!(
        !text.contains(&literal[8..20]),
        "part of the literal is printed:\n{text}"
    );
    insta::assert_snapshot!("literal_secret", text);
}

#[test]
fn a_literal_provider_secret_is_refused_and_masked() {
    let literal = format!("LITERAL-{}", uuid::Uuid::new_v4().simple());
    let workspace = Workspace::initialized(&format!(
        "provider \"aws\" {{\n  region       = \"eu-west-1\"\n  endpoint_url = \"http://127.0.0.1:9\"\n  access_key   = \"AKIAEXAMPLE\"\n  secret_key   = \"{literal}\"\n}}\n\nresource \"aws_kms_key\" \"a\" {{\n  description = \"a\"\n}}\n"
    ));
    let plan = workspace.run(&["plan"]);
    assert_exit(&plan, 1);
    let text = normalized(&workspace, &stderr(&plan));
    assert!(text.contains("KF1004") && text.contains("main.hcl:5:18"), "{text}");
    assert!(mentions(&text, "secret_key"), "{text}");
    assert!(!text.contains(&literal[8..20]), "the literal is printed:\n{text}");
    insta::assert_snapshot!("literal_provider_secret", text);
}

#[test]
fn a_function_with_wrong_arguments() {
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  name  = \"a\"\n  value = generate({{ length = 16 }}, 3)\n  key   = local_key.main.id\n}}\n"
        ),
        "KF1010",
        Some("main.hcl:7:"),
    );
    insta::assert_snapshot!("function_arguments", text);
}

#[test]
fn two_independent_errors_are_both_reported() {
    let text = config_error(
        &format!(
            "{KEY}\nresource \"local_secret\" \"a\" {{\n  nmae  = \"a\"\n  value = generate({{ length = 16 }})\n  key   = local_key.main.id\n}}\n\nresource \"local_secret\" \"b\" {{\n  name  = \"b\"\n  value = generate({{ length = 16 }})\n  key   = local_key.missing.id\n}}\n"
        ),
        "KF1003",
        Some("main.hcl:6:3"),
    );
    assert!(text.contains("KF1007"), "the second error is reported too:\n{text}");
    assert!(text.contains("main.hcl:14:"), "{text}");
    insta::assert_snapshot!("two_errors", text);
}

const APPLIED: &str = "resource \"local_key\" \"main\" {\n  description = \"k\"\n}\n\nresource \"local_secret\" \"a\" {\n  name  = \"a\"\n  value = generate({ length = 16 })\n  key   = local_key.main.id\n}\n";

fn applied() -> Workspace {
    let workspace = Workspace::initialized(APPLIED);
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    workspace
}

fn state_error(snapshot: &str, code: &str) -> String {
    let workspace = applied();
    std::fs::write(workspace.path().join(".keyform/state.json"), snapshot).expect("write the state");
    let plan = workspace.run(&["plan"]);
    assert_exit(&plan, 1);
    let text = stderr(&plan);
    assert!(text.contains(code), "expected {code} in:\n{text}");
    assert!(mentions(&text, "state.json"), "the file is named:\n{text}");
    normalized(&workspace, &text)
}

#[test]
fn a_state_file_that_is_not_json() {
    let text = state_error("this is { not json\n", "KF3001");
    insta::assert_snapshot!("state_not_json", text);
}

#[test]
fn a_state_file_from_a_newer_keyform() {
    let snapshot = r#"{
  "format_version": 99,
  "lineage": "2b0f6d1e-3c1a-4f51-9a8e-3d7d2c1b0a99",
  "serial": 7,
  "keyform_version": "9.0.0",
  "resources": {},
  "outputs": {},
  "pending_creates": {}
}
"#;
    let text = state_error(snapshot, "KF3003");
    insta::assert_snapshot!("state_format_99", text);
}

fn files_under(folder: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read a folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read a file");
                files.insert(path, bytes);
            }
        }
    }
    files
}

#[test]
fn a_wrong_master_key_changes_nothing() {
    use base64::Engine;
    let workspace = applied();
    // A change to apply, so that a run that could open the store would write.
    workspace.write(
        "main.hcl",
        &format!(
            "{APPLIED}\nresource \"local_secret\" \"b\" {{\n  name  = \"b\"\n  value = generate({{ length = 16 }})\n  key   = local_key.main.id\n}}\n"
        ),
    );
    let store = workspace.path().join(".keyform/local-store");
    let before = files_under(&store);
    assert!(before.keys().any(|path| path.ends_with("secrets/a.json")));
    let other_key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    for arguments in [
        &["apply", "--auto-approve"][..],
        &["plan"],
        &["secret", "get", "local_secret.a"],
    ] {
        let output = workspace
            .command(arguments)
            .env("KEYFORM_LOCAL_MASTER_KEY", &other_key)
            .output()
            .expect("run keyform");
        assert_exit(&output, 1);
        let text = stderr(&output);
        assert!(
            text.contains("KF6001"),
            "{}: expected KF6001 in:\n{text}",
            arguments.join(" ")
        );
        assert!(!text.contains(&other_key), "the key is printed:\n{text}");
        if arguments[0] == "apply" {
            insta::assert_snapshot!("wrong_master_key", normalized(&workspace, &text));
        }
    }
    assert_eq!(files_under(&store), before, "the store changed");
    // The right key still works.
    assert_exit(&workspace.run(&["secret", "get", "local_secret.a"]), 0);
}

#[test]
fn a_malformed_key_policy_says_where_before_anything_is_sent() {
    let text = config_error(
        r#"provider "aws" {
  region       = "us-east-1"
  endpoint_url = "http://127.0.0.1:9"
}

resource "aws_kms_key" "payments" {
  description = "payments"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "Root", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:root" }, Action = "kms:*", Resource = "*" },
      { Sid = "Audit", Effect = "Allwo", Principal = { AWS = "arn:aws:iam::444455556666:root" }, Action = "kms:Decrypt" },
    ]
  })
}

resource "aws_secretsmanager_secret" "db" {
  name   = "db"
  policy = "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\"]}"
}

resource "aws_kms_key" "audit" {
  description             = "audit"
  rotation_period_in_days = 30
}

resource "aws_kms_alias" "audit" {
  name          = "alias/aws/audit"
  target_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
}
"#,
        "KF1023",
        Some("main.hcl:8:"),
    );
    assert!(
        mentions(&text, r#"statement 2 (Sid "Audit") has `Effect` "Allwo""#),
        "{text}"
    );
    assert!(mentions(&text, "KF1006") && mentions(&text, "main.hcl:19:"), "{text}");
    assert!(mentions(&text, "expected `,` or `}` at line 1 column"), "{text}");
    assert!(
        mentions(&text, "rotation_period_in_days must be from 90 to 2560, not 30") && mentions(&text, "main.hcl:24:"),
        "{text}"
    );
    assert!(
        mentions(&text, "is reserved") && mentions(&text, "main.hcl:28:"),
        "{text}"
    );
    insta::assert_snapshot!("malformed_key_policy", text);
}

#[test]
fn a_vault_policy_with_a_misspelt_key_or_capability_names_the_path_and_the_line() {
    let text = config_error(
        r#"provider "vault" {
  address = "http://127.0.0.1:9"
  # Any variable that is set: the plan stops before Vault is called.
  token   = env("HOME")
}

resource "vault_policy" "ci" {
  name   = "ci"
  policy = <<EOT
path "database/creds/app" {
  capabilities = ["read"]
}

path "secret/data/ci/*" {
  capabilties = ["read"]
}

path "transit/encrypt/app" {
  capabilities = ["update", "raed"]
}
EOT
}
"#,
        "KF1023",
        Some("main.hcl:9:"),
    );
    assert!(
        mentions(&text, r#"path "secret/data/ci/*" sets `capabilties` (line 6)"#),
        "{text}"
    );
    assert!(
        mentions(
            &text,
            r#"path "transit/encrypt/app" grants the capability "raed" (line 10)"#
        ),
        "{text}"
    );
    insta::assert_snapshot!("misspelt_vault_policy", text);
}

#[test]
fn azure_arguments_azure_would_refuse_are_reported_at_each_attribute() {
    let text = config_error(
        r#"provider "azurerm" {
  tenant_id       = "00000000-0000-0000-0000-000000000001"
  subscription_id = "00000000-0000-0000-0000-000000000002"
}

resource "azurerm_key_vault" "main" {
  name                = "kv--payments"
  location            = "westeurope"
  resource_group_name = "payments"
  tenant_id           = "00000000-0000-0000-0000-000000000001"
  sku_name            = "gold"
}

resource "azurerm_key_vault_key" "signing" {
  key_vault_id    = "https://kv-other.vault.azure.net/"
  name            = "signing"
  key_type        = "EC"
  key_size        = 2048
  key_opts        = ["sign", "Verify"]
  expiration_date = "2030-02-30"
}
"#,
        "KF1023",
        Some("main.hcl:7:"),
    );
    for (location, phrase) in [
        ("main.hcl:7:", "`kv--payments` is not a vault name Azure accepts"),
        ("main.hcl:11:", "sku_name must be standard or premium"),
        ("main.hcl:18:", "is for RSA keys"),
        ("main.hcl:19:", "names operations Key Vault does not know: Verify"),
        ("main.hcl:20:", "must be a UTC time in RFC 3339"),
    ] {
        assert!(
            mentions(&text, location) && mentions(&text, phrase),
            "{location} {phrase}:\n{text}"
        );
    }
    assert!(mentions(&text, "5 errors"), "{text}");
}
