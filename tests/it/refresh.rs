//! An apply with nothing to change records what the refresh found: a value
//! the provider changed by design (a transit key's `latest_version` after a
//! rotation) is shown once as changed outside keyform, then recorded, and
//! the next plan and `drift` no longer report it; the dependencies state
//! recorded are kept, so the destroy still deletes the key before its mount.

use crate::support::{Workspace, assert_exit, stdout};
use crate::vault_support::{keyform_with_token, root, transit_key_configuration, unique};

#[test]
fn an_apply_without_changes_records_what_the_refresh_found() {
    let mount = unique("refresh-transit");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &transit_key_configuration(&mount, "  deletion_allowed = true"),
    );
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);

    let (status, body) = root("POST", &format!("{mount}/keys/kek/rotate"), None);
    assert!(status < 300, "rotate outside keyform: {status} {body}");
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(stdout(&plan).contains("latest_version"), "{}", stdout(&plan));

    let apply = keyform_with_token(&workspace, &["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    let shown = keyform_with_token(&workspace, &["state", "show", "vault_transit_secret_backend_key.kek"]);
    assert!(stdout(&shown).contains("latest_version = 2"), "{}", stdout(&shown));
    let state = workspace.state_json();
    assert_eq!(
        state["resources"]["vault_transit_secret_backend_key.kek"]["dependencies"],
        serde_json::json!(["vault_mount.transit"]),
        "recording the refresh keeps the dependencies that order the destroy"
    );
    let plan = keyform_with_token(&workspace, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(!stdout(&plan).contains("latest_version"), "recorded: {}", stdout(&plan));

    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
}
