//! The `vault` provider's PKI types against OpenBao: the compliance suite
//! for `vault_pki_secret_backend_root_cert` and
//! `vault_pki_secret_backend_role`; a PKI engine, a root and a role applied
//! with the binary, a certificate issued through Vault's HTTP API directly
//! (`curl`, not keyform) and checked against the root; a role edited behind
//! keyform's back restored whole; import and listing. Exported roots:
//! tests/it/vault_pki_exported.rs.
//!
//! Tests run in parallel against one OpenBao server: each uses its own paths.

use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{
    assert_plan_empty, attributes, check, check_compliance, configured_provider, keyform_with_token, mount_engine,
    output_text, root, token_provider_block, unique,
};
use keyform::provider::compliance::{Subject, run};
use keyform::provider::{ApplyAction, ApplyRequest, ImportRequest};
use std::collections::BTreeMap;

/// Mounts a PKI engine at a unique path with the root token.
pub fn pki_backend(label: &str) -> String {
    mount_engine(
        serde_json::json!({ "type": "pki", "config": { "max_lease_ttl": "87600h" } }),
        label,
    )
}

#[tokio::test]
async fn vault_pki_secret_backend_root_cert_passes_the_compliance_suite() {
    let backend = pki_backend("compliance-pki-root");
    let provider = configured_provider(&vault_token()).await;
    let subject = Subject {
        provider: provider.clone(),
        resource_type: "vault_pki_secret_backend_root_cert".into(),
        attributes: attributes(serde_json::json!({
            "backend": backend, "type": "internal", "common_name": "compliance.example.com",
            "ttl": 86400, "key_type": "ec", "key_bits": 256, "issuer_name": "compliance-root"
        })),
        secrets: BTreeMap::new(),
        update: None,
        missing_id: format!("{backend}/issuer/00000000-0000-0000-0000-000000000000"),
    };
    check("vault_pki_secret_backend_root_cert", &run(&subject).await);
    let (_, body) = root("LIST", &format!("{backend}/issuers"), None);
    assert!(
        body["data"]["keys"].as_array().is_none_or(Vec::is_empty),
        "the issuer is deleted after the suite: {body}"
    );
    let (_, body) = root("LIST", &format!("{backend}/keys"), None);
    assert!(
        body["data"]["keys"].as_array().is_none_or(Vec::is_empty),
        "the root's key is deleted with it: {body}"
    );
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}

#[tokio::test]
async fn vault_pki_secret_backend_role_passes_the_compliance_suite() {
    let backend = pki_backend("compliance-pki-role");
    check_compliance(
        "vault_pki_secret_backend_role",
        serde_json::json!({
            "backend": backend, "name": "web", "allowed_domains": ["example.com"],
            "allow_subdomains": true, "max_ttl": 259200, "ttl": 3600, "key_type": "ec"
        }),
        Some(("ttl".into(), 7200.into())),
        format!("{backend}/roles/no-such-role"),
    )
    .await;
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}

/// A PKI engine at `backend` with the root `vault_pki_secret_backend_root_cert.root` (its `settings`, HCL lines
/// after `backend`) and the output `root_certificate`.
pub fn pki_root_configuration(backend: &str, settings: &str) -> String {
    format!(
        r#"{provider}
resource "vault_mount" "pki" {{
  path                  = "{backend}"
  type                  = "pki"
  max_lease_ttl_seconds = "8760h"
}}

resource "vault_pki_secret_backend_root_cert" "root" {{
  backend      = vault_mount.pki.path
{settings}}}

output "root_certificate" {{
  value = vault_pki_secret_backend_root_cert.root.certificate
}}
"#,
        provider = token_provider_block()
    )
}

fn configuration(backend: &str) -> String {
    let root = pki_root_configuration(
        backend,
        r#"  type         = "internal"
  common_name  = "Keyform Test Root"
  ttl          = "8760h"
  key_type     = "ec"
  key_bits     = 256
  issuer_name  = "test-root"
  organization = "keyform"
"#,
    );
    format!(
        r#"{root}
resource "vault_pki_secret_backend_role" "web" {{
  backend          = vault_mount.pki.path
  name             = "web"
  allowed_domains  = ["example.com"]
  allow_subdomains = true
  ttl              = "1h"
  max_ttl          = "72h"
  key_type         = "ec"
  issuer_ref       = vault_pki_secret_backend_root_cert.root.issuer_id
}}

output "root_serial" {{
  value = vault_pki_secret_backend_root_cert.root.serial_number
}}
"#
    )
}

#[tokio::test]
async fn a_root_and_a_role_issue_certificates_and_a_role_changed_outside_is_restored() {
    let backend = unique("e2e-pki");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&backend));
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    let applied = keyform_with_token(&workspace, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "a second plan is empty");

    // Issue a certificate through Vault's API directly: it is signed by the root keyform made.
    let root_certificate = output_text(&workspace, "root_certificate");
    assert!(
        root_certificate.starts_with("-----BEGIN CERTIFICATE-----"),
        "{root_certificate}"
    );
    let serial = output_text(&workspace, "root_serial");
    assert!(serial.contains(':'), "{serial}");
    let (status, body) = root(
        "POST",
        &format!("{backend}/issue/web"),
        Some(serde_json::json!({ "common_name": "api.example.com", "ttl": "30m" })),
    );
    assert_eq!(status, 200, "issue: {body}");
    assert_eq!(
        body["data"]["issuing_ca"].as_str().map(str::trim),
        Some(root_certificate.trim())
    );
    let (status, body) = root(
        "POST",
        &format!("{backend}/issue/web"),
        Some(serde_json::json!({ "common_name": "api.other.org" })),
    );
    assert!(status >= 400, "a name outside allowed_domains is refused: {body}");

    // The role changed behind keyform's back: the plan shows it, apply sends the whole role back.
    let (status, body) = root(
        "POST",
        &format!("{backend}/roles/web"),
        Some(serde_json::json!({ "allowed_domains": ["evil.test"], "ttl": "5m", "key_type": "ec" })),
    );
    assert!(status < 300, "{status} {body}");
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("allowed_domains"), "{text}");
    assert!(text.contains("evil.test"), "{text}");
    assert!(text.contains("ttl"), "{text}");
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    let (_, body) = root("GET", &format!("{backend}/roles/web"), None);
    assert_eq!(
        body["data"]["allowed_domains"],
        serde_json::json!(["example.com"]),
        "{body}"
    );
    assert_eq!(body["data"]["ttl"], 3600, "{body}");
    assert_eq!(body["data"]["max_ttl"], 259200, "{body}");
    assert_eq!(body["data"]["allow_subdomains"], true, "{body}");

    // A changed subject replaces the root; the plan says so.
    workspace.write(
        "main.hcl",
        &configuration(&backend).replace("Keyform Test Root", "Keyform Test Root 2"),
    );
    let plan = keyform_with_token(&workspace, &["plan"]);
    assert_exit(&plan, 0);
    assert!(
        mentions(&stdout(&plan), "replace (common_name forces replacement)"),
        "{}",
        stdout(&plan)
    );

    workspace.write("main.hcl", &configuration(&backend));
    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("sys/mounts/{backend}"), None);
    assert!(status >= 400, "the engine is gone");
}

#[tokio::test]
async fn pki_objects_are_listed_and_imported() {
    let backend = pki_backend("list-pki");
    let (status, body) = root(
        "POST",
        &format!("{backend}/root/generate/internal"),
        Some(serde_json::json!({ "common_name": "made.outside", "key_type": "ec", "issuer_name": "outside" })),
    );
    assert_eq!(status, 200, "{body}");
    let issuer_id = body["data"]["issuer_id"].as_str().expect("an issuer id").to_string();
    let (status, body) = root(
        "POST",
        &format!("{backend}/roles/outside"),
        Some(serde_json::json!({ "allowed_domains": ["made.outside"], "allow_subdomains": true })),
    );
    assert!(status < 300, "{body}");
    let provider = configured_provider(&vault_token()).await;
    let root_id = format!("{backend}/issuer/{issuer_id}");
    let role_id = format!("{backend}/roles/outside");
    let roots = provider
        .list("vault_pki_secret_backend_root_cert")
        .await
        .expect("list roots");
    assert!(roots.contains(&root_id), "{roots:?}");
    let roles = provider
        .list("vault_pki_secret_backend_role")
        .await
        .expect("list roles");
    assert!(roles.contains(&role_id), "{roles:?}");

    let imported = provider
        .import(ImportRequest {
            resource_type: "vault_pki_secret_backend_root_cert".into(),
            id: root_id.clone(),
        })
        .await
        .expect("import the root")
        .expect("the root");
    assert_eq!(imported.attributes["issuer_name"], "outside");
    assert_eq!(imported.attributes["key_type"], "ec");
    assert_eq!(
        imported.attributes["common_name"], "made.outside",
        "read from the certificate"
    );
    assert_eq!(imported.attributes["type"], "internal");
    assert!(
        imported.attributes["certificate"]
            .as_str()
            .is_some_and(|pem| pem.starts_with("-----BEGIN CERTIFICATE-----"))
    );
    let imported = provider
        .import(ImportRequest {
            resource_type: "vault_pki_secret_backend_role".into(),
            id: role_id.clone(),
        })
        .await
        .expect("import the role")
        .expect("the role");
    assert_eq!(
        imported.attributes["allowed_domains"],
        serde_json::json!(["made.outside"])
    );
    assert_eq!(imported.attributes["allow_subdomains"], true);
    assert_eq!(imported.attributes["key_bits"], 2048);

    // Through the binary: the imported root matches a configuration of its arguments.
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &format!(
            "{}\nresource \"vault_pki_secret_backend_root_cert\" \"root\" {{\n  backend     = \"{backend}\"\n  type        = \"internal\"\n  common_name = \"made.outside\"\n  key_type    = \"ec\"\n  issuer_name = \"outside\"\n}}\n",
            token_provider_block()
        ),
    );
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    assert_exit(
        &keyform_with_token(
            &workspace,
            &["import", "vault_pki_secret_backend_root_cert.root", &root_id],
        ),
        0,
    );
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "no change");
    let mut text = std::fs::read_to_string(workspace.path().join("main.hcl")).expect("main.hcl");
    text.push_str(&format!(
        "\nresource \"vault_pki_secret_backend_role\" \"outside\" {{\n  backend          = \"{backend}\"\n  name             = \"outside\"\n  allowed_domains  = [\"made.outside\"]\n  allow_subdomains = true\n}}\n"
    ));
    workspace.write("main.hcl", &text);
    assert_exit(
        &keyform_with_token(
            &workspace,
            &["import", "vault_pki_secret_backend_role.outside", &role_id],
        ),
        0,
    );
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "no change");

    // Deleting a root keyform did not generate deletes the issuer, not the key someone else named.
    provider
        .apply(ApplyRequest {
            resource_type: "vault_pki_secret_backend_root_cert".into(),
            action: ApplyAction::Delete { purge: false },
            id: Some(root_id),
            attributes: imported.attributes.clone(),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect("delete the issuer");
    let (_, body) = root("LIST", &format!("{backend}/issuers"), None);
    assert!(body["data"]["keys"].as_array().is_none_or(Vec::is_empty), "{body}");
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}
