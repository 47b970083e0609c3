//! `keyform drift` with a token that may read what keyform manages but may
//! not list most object types (a least-privilege cron token): the managed
//! drift is still reported, each listing that failed is a diagnostic naming
//! the type, and the exit is 1 because the report is incomplete. With the
//! root token the same workspace lists everything again.

use crate::services::vault_token;
use crate::support::{Workspace, assert_exit, code, stderr, stdout};
use crate::vault_support::{
    keyform_command, keyform_with_token, root, token_provider_block, token_with_policy, unique,
};

#[test]
fn a_listing_that_fails_is_reported_beside_the_drift_it_found() {
    let name = unique("partial-drift");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &format!(
            "{provider}\nresource \"vault_policy\" \"app\" {{\n  name   = \"{name}\"\n  policy = \"path \\\"app/*\\\" {{ capabilities = [\\\"read\\\"] }}\"\n}}\n",
            provider = token_provider_block()
        ),
    );
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    let (status, body) = root(
        "PUT",
        &format!("sys/policies/acl/{name}"),
        Some(serde_json::json!({ "policy": "path \"app/*\" { capabilities = [\"read\", \"delete\"] }" })),
    );
    assert!(status < 300, "{status} {body}");

    // May read its own token and the one policy keyform manages, nothing else.
    let token = token_with_policy(&format!(
        "path \"auth/token/lookup-self\" {{ capabilities = [\"read\"] }}\n\
         path \"sys/policies/acl/{name}\" {{ capabilities = [\"read\"] }}\n"
    ));
    let drift = keyform_command(&workspace, &["drift"])
        .env("KF_VAULT_TEST_TOKEN", &token)
        .output()
        .expect("run keyform");
    assert_eq!(code(&drift), 1, "{}{}", stdout(&drift), stderr(&drift));
    assert!(
        stdout(&drift).contains("vault_policy.app") && stdout(&drift).contains("changed outside keyform"),
        "the drift it could see is reported: {}",
        stdout(&drift)
    );
    assert!(
        stderr(&drift).contains("listing vault_mount") && stderr(&drift).contains("listing vault_policy"),
        "each failed listing is named: {}",
        stderr(&drift)
    );
    assert!(!stdout(&drift).contains("No drift:"), "{}", stdout(&drift));

    let with_root = keyform_command(&workspace, &["drift"])
        .env("KF_VAULT_TEST_TOKEN", vault_token())
        .output()
        .expect("run keyform");
    assert_eq!(code(&with_root), 2, "{}{}", stdout(&with_root), stderr(&with_root));
    assert!(
        stdout(&with_root).contains("vault_policy.app"),
        "{}",
        stdout(&with_root)
    );
    root("DELETE", &format!("sys/policies/acl/{name}"), None);
}
