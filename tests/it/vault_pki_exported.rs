//! `vault_pki_secret_backend_root_cert` with `type = "exported"` against
//! OpenBao: the private key Vault returns once is handed, in the same run, to
//! a KV v2 secret; read back with `curl`, it is the key of the root's
//! certificate (checked with `openssl`); it reaches no file or stream keyform
//! writes; later plans change nothing and keep `type = "exported"`; a later
//! run's driver has no key and says to replace the root; an unknown type is
//! refused before anything is generated.

use crate::canary::Scanner;
use crate::services::vault_token;
use crate::support::{Workspace, assert_exit};
use crate::vault_pki::{pki_backend, pki_root_configuration};
use crate::vault_support::{
    assert_plan_empty, attributes, configured_provider, keyform_command, keyform_with_token, output_text, root, unique,
};
use keyform::provider::{ApplyAction, ApplyRequest, ReadRequest, ReadSecretRequest};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const TYPE: &str = "vault_pki_secret_backend_root_cert";

fn configuration(backend: &str, mount: &str) -> String {
    let root = pki_root_configuration(
        backend,
        r#"  type         = "exported"
  common_name  = "Keyform Exported Root"
  ttl          = "8760h"
  key_type     = "ec"
  key_bits     = 256
"#,
    );
    format!(
        r#"{root}
resource "vault_mount" "escrow" {{
  path = "{mount}"
  type = "kv-v2"
}}

# The root's key, escrowed for an offline signing ceremony.
resource "vault_kv_secret_v2" "root_key" {{
  mount     = vault_mount.escrow.path
  name      = "pki/root"
  data_json = jsonencode({{ private_key = vault_pki_secret_backend_root_cert.root.private_key }})
}}
"#
    )
}

/// The public key `openssl` derives from `pem` with `arguments` (`pkey -pubout` for a key, `x509 -pubkey -noout`
/// for a certificate).
fn public_key(arguments: &[&str], pem: &str) -> String {
    let mut child = Command::new("openssl")
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl (apt-get install openssl)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pem.as_bytes())
        .expect("write to openssl");
    let output = child.wait_with_output().expect("openssl");
    assert!(
        output.status.success(),
        "openssl {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn an_exported_root_hands_its_private_key_to_the_same_run_only() {
    let backend = unique("exported-pki");
    let mount = unique("exported-escrow");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&backend, &mount));
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let applied = keyform_command(&workspace, &["apply", "--auto-approve"])
        .env("KF_VAULT_TEST_TOKEN", vault_token())
        .env("RUST_LOG", "trace")
        .output()
        .expect("run keyform");
    assert_exit(&applied, 0);
    outputs.push(("apply with RUST_LOG=trace".into(), applied));

    let (status, body) = root("GET", &format!("{mount}/data/pki/root"), None);
    assert_eq!(status, 200, "{body}");
    let private_key = body["data"]["data"]["private_key"]
        .as_str()
        .expect("the escrowed private key")
        .to_string();
    assert!(private_key.contains("PRIVATE KEY-----"), "a PEM private key");
    let certificate = output_text(&workspace, "root_certificate");
    assert_eq!(
        public_key(&["pkey", "-pubout"], &private_key),
        public_key(&["x509", "-pubkey", "-noout"], &certificate),
        "the escrowed key is the root certificate's key"
    );

    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "a later plan keeps the exported root and the escrowed key");
    outputs.push(("later plan".into(), plan));
    let shown = keyform_with_token(
        &workspace,
        &["state", "show", "vault_pki_secret_backend_root_cert.root"],
    );
    assert_exit(&shown, 0);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("type = \"exported\""),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );
    outputs.push(("state show".into(), shown));

    let scanner = Scanner::new(&[private_key]);
    let hits = scanner.scan_run(workspace.path(), &[], &outputs);
    assert!(hits.is_empty(), "the private key leaked:\n{}", hits.join("\n"));
    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
}

#[tokio::test]
async fn a_later_run_has_no_private_key_and_an_unknown_type_generates_nothing() {
    let backend = pki_backend("exported-later");
    let provider = configured_provider(&vault_token()).await;
    let create = |kind: &str| ApplyRequest {
        resource_type: TYPE.into(),
        action: ApplyAction::Create {
            token: format!("t-{kind}"),
        },
        id: None,
        attributes: attributes(serde_json::json!({
            "backend": backend, "type": kind, "common_name": "later.example.com", "key_type": "ec", "key_bits": 256
        })),
        secrets: BTreeMap::new(),
        changed: Vec::new(),
    };
    let error = provider
        .apply(create("kms"))
        .await
        .expect_err("an unknown type is refused");
    assert_eq!(error.code, "InvalidParameter", "{error:?}");
    let (_, body) = root("LIST", &format!("{backend}/issuers"), None);
    assert!(body["data"]["keys"].as_array().is_none_or(Vec::is_empty), "{body}");

    let live = provider
        .apply(create("exported"))
        .await
        .expect("create")
        .expect("the root");
    assert_eq!(live.attributes["type"], "exported");
    assert!(live.secret_versions.contains_key("private_key"), "{live:?}");
    let request = ReadSecretRequest {
        resource_type: TYPE.into(),
        id: live.id.clone(),
        attribute: "private_key".into(),
    };
    let key = provider
        .read_secret(request.clone())
        .await
        .expect("the key, in this run");
    assert!(!format!("{live:?}").contains(key.expose()));

    let later = configured_provider(&vault_token()).await;
    let error = later.read_secret(request).await.expect_err("no key in a later run");
    assert_eq!(error.code, keyform::provider::VALUE_NOT_RETAINED, "{error:?}");
    assert!(error.help.unwrap_or_default().contains("--replace"));
    let read = later
        .read(ReadRequest {
            resource_type: TYPE.into(),
            id: live.id.clone(),
            prior: live.attributes.clone(),
        })
        .await
        .expect("read")
        .expect("the root");
    assert_eq!(read.attributes["type"], "exported", "carried over from state");
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}
