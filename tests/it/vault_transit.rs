//! The `vault` provider's `vault_transit_secret_backend_key` against OpenBao:
//! the compliance suite; a key applied with the binary that encrypts and
//! decrypts through Vault's HTTP API directly (`curl`, not keyform); a
//! setting changed behind keyform's back restored; a destroy refused while
//! `deletion_allowed` is false, with help, and done once it is applied;
//! import and listing; a token without the capability told which one on
//! which path.
//!
//! Tests run in parallel against one OpenBao server: each uses its own paths.

use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{
    apply_with_token, assert_plan_empty, attributes, check_compliance, configured_provider, keyform_with_token,
    mount_engine, root, token_provider_block, token_with_policy,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyform::provider::{ApplyAction, ApplyRequest, FindRequest, ImportRequest};
use std::collections::BTreeMap;

/// Mounts a transit engine at a unique path with the root token.
fn transit_backend(label: &str) -> String {
    mount_engine(serde_json::json!({ "type": "transit" }), label)
}

#[tokio::test]
async fn vault_transit_secret_backend_key_passes_the_compliance_suite() {
    let backend = transit_backend("compliance-transit");
    check_compliance(
        "vault_transit_secret_backend_key",
        serde_json::json!({
            "backend": backend, "name": "kek", "type": "aes256-gcm96",
            "deletion_allowed": true, "auto_rotate_period": 86400
        }),
        Some(("auto_rotate_period".into(), 172800.into())),
        format!("{backend}/keys/no-such-key"),
    )
    .await;
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}

#[tokio::test]
async fn a_key_someone_else_made_is_not_adopted_and_one_without_deletion_allowed_is_not_deleted() {
    let backend = transit_backend("foreign-transit");
    let (status, body) = root(
        "POST",
        &format!("{backend}/keys/kek"),
        Some(serde_json::json!({ "type": "rsa-2048" })),
    );
    assert!(status < 300, "{status} {body}");
    let provider = configured_provider(&vault_token()).await;
    let wanted = attributes(serde_json::json!({ "backend": backend, "name": "kek", "deletion_allowed": true }));
    let error = provider
        .apply(ApplyRequest {
            resource_type: "vault_transit_secret_backend_key".into(),
            action: ApplyAction::Create { token: "t".into() },
            id: None,
            attributes: wanted.clone(),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect_err("the key exists");
    assert_eq!(error.code, "AlreadyExists", "{error:?}");
    let found = provider
        .find_by_token(FindRequest {
            resource_type: "vault_transit_secret_backend_key".into(),
            token: "t".into(),
            attributes: wanted,
        })
        .await
        .expect("find");
    assert!(found.is_none(), "an rsa key is not what an aes create makes");

    let id = format!("{backend}/keys/kek");
    let error = provider
        .apply(ApplyRequest {
            resource_type: "vault_transit_secret_backend_key".into(),
            action: ApplyAction::Delete { purge: false },
            id: Some(id.clone()),
            attributes: attributes(serde_json::json!({ "backend": backend, "name": "kek" })),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect_err("deletion is not allowed");
    assert_eq!(error.code, "DeletionNotAllowed", "{error:?}");
    assert!(error.help.unwrap_or_default().contains("deletion_allowed = true"));
    let (status, _) = root("GET", &id, None);
    assert_eq!(status, 200, "the key is still there");

    let listed = provider.list("vault_transit_secret_backend_key").await.expect("list");
    assert!(listed.contains(&id), "{listed:?}");
    let imported = provider
        .import(ImportRequest {
            resource_type: "vault_transit_secret_backend_key".into(),
            id: id.clone(),
        })
        .await
        .expect("import")
        .expect("the key");
    assert_eq!(imported.attributes["type"], "rsa-2048");
    assert_eq!(imported.attributes["deletion_allowed"], false);
    assert_eq!(imported.attributes["latest_version"], 1);

    // Through the binary: the imported key matches a configuration of its settings.
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &format!(
            "{}\nresource \"vault_transit_secret_backend_key\" \"kek\" {{\n  backend = \"{backend}\"\n  name    = \"kek\"\n  type    = \"rsa-2048\"\n}}\n",
            token_provider_block()
        ),
    );
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    assert_exit(
        &keyform_with_token(&workspace, &["import", "vault_transit_secret_backend_key.kek", &id]),
        0,
    );
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "no change");
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}

fn configuration(backend: &str, deletion_allowed: bool) -> String {
    format!(
        r#"{provider}
resource "vault_transit_secret_backend_key" "kek" {{
  backend            = "{backend}"
  name               = "kek"
  deletion_allowed   = {deletion_allowed}
  auto_rotate_period = "720h"
}}

output "latest_version" {{
  value = vault_transit_secret_backend_key.kek.latest_version
}}
"#,
        provider = token_provider_block()
    )
}

#[tokio::test]
async fn a_key_encrypts_drift_is_restored_and_a_destroy_needs_deletion_allowed() {
    // The engine is mounted outside this configuration: the refused destroy below leaves it alone.
    let backend = transit_backend("e2e-transit");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&backend, false));
    apply_with_token(&workspace);

    // Encrypt and decrypt through Vault's API directly.
    let plaintext = STANDARD.encode("a data key");
    let (status, body) = root(
        "POST",
        &format!("{backend}/encrypt/kek"),
        Some(serde_json::json!({ "plaintext": plaintext })),
    );
    assert_eq!(status, 200, "{body}");
    let ciphertext = body["data"]["ciphertext"].as_str().expect("a ciphertext").to_string();
    assert!(ciphertext.starts_with("vault:v1:"), "{ciphertext}");
    let (status, body) = root(
        "POST",
        &format!("{backend}/decrypt/kek"),
        Some(serde_json::json!({ "ciphertext": ciphertext })),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["plaintext"], plaintext);
    let (_, body) = root("GET", &format!("{backend}/keys/kek"), None);
    assert_eq!(body["data"]["auto_rotate_period"], 2_592_000, "{body}");

    // A setting changed behind keyform's back is shown and restored.
    let (status, body) = root(
        "POST",
        &format!("{backend}/keys/kek/config"),
        Some(serde_json::json!({ "auto_rotate_period": "48h" })),
    );
    assert!(status < 300, "{status} {body}");
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(
        mentions(&stdout(&plan), "auto_rotate_period: 2d -> 30d"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    let (_, body) = root("GET", &format!("{backend}/keys/kek"), None);
    assert_eq!(body["data"]["auto_rotate_period"], 2_592_000, "{body}");

    // Destroying a key that does not allow it: the plan says it is irreversible, the apply
    // fails with help, and the key is still there.
    let plan = keyform_with_token(&workspace, &["plan", "--destroy"]);
    assert_exit(&plan, 0);
    assert!(
        mentions(
            &stdout(&plan),
            "vault_transit_secret_backend_key.kek destroy: irreversible"
        ),
        "{}",
        stdout(&plan)
    );
    let refused = keyform_with_token(&workspace, &["destroy", "--auto-approve"]);
    assert_exit(&refused, 1);
    let text = stderr(&refused);
    assert!(mentions(&text, "deletion_allowed is false"), "{text}");
    assert!(
        mentions(&text, "set deletion_allowed = true on the key and apply"),
        "{text}"
    );
    let (status, _) = root("GET", &format!("{backend}/keys/kek"), None);
    assert_eq!(status, 200, "the key survived the refused destroy");

    // Allow deletion, apply, then destroy.
    workspace.write("main.hcl", &configuration(&backend, true));
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("{backend}/keys/kek"), None);
    assert_eq!(status, 404, "the key is gone");
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}

#[tokio::test]
async fn a_token_without_the_capability_is_told_which_capability_on_which_path() {
    let backend = transit_backend("denied-transit");
    let token = token_with_policy(&format!(
        "path \"{backend}/keys/*\" {{\n  capabilities = [\"read\"]\n}}\n"
    ));
    let provider = configured_provider(&token).await;
    let error = provider
        .apply(ApplyRequest {
            resource_type: "vault_transit_secret_backend_key".into(),
            action: ApplyAction::Create { token: "t".into() },
            id: None,
            attributes: attributes(serde_json::json!({ "backend": backend, "name": "kek" })),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect_err("the token may only read");
    assert_eq!(error.code, "PermissionDenied", "{error:?}");
    let path = format!("{backend}/keys/kek");
    assert!(
        error.message.contains(&format!("POST {path} failed with status 403")),
        "{}",
        error.message
    );
    let help = error.help.unwrap_or_default();
    assert!(help.contains("create or update"), "{help}");
    assert!(help.contains(&format!("`{path}`")), "{help}");
    assert!(
        !error.message.contains(&token) && !help.contains(&token),
        "the token is never shown"
    );
    root("DELETE", &format!("sys/mounts/{backend}"), None);
}
