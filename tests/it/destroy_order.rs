//! Deletion order when a deletion fails: what a refused destroy depends on is
//! kept. A transit key whose destroy Vault refuses (`deletion_allowed` is
//! false) keeps its mount: disabling the mount would delete the key anyway.

use crate::support::{Workspace, assert_exit, mentions, stderr};
use crate::vault_support::{keyform_with_token, root, transit_key_configuration, unique};

#[test]
fn a_refused_destroy_keeps_what_the_resource_depends_on() {
    let mount = unique("order-transit");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &transit_key_configuration(&mount, ""));
    assert_exit(&keyform_with_token(&workspace, &["init"]), 0);
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);

    let destroy = keyform_with_token(&workspace, &["destroy", "--auto-approve"]);
    assert_exit(&destroy, 1);
    let text = stderr(&destroy);
    assert!(mentions(&text, "deletion_allowed"), "{text}");
    assert!(
        mentions(
            &text,
            "not deleted because something that depends on them could not be deleted"
        ) && text.contains("vault_mount.transit"),
        "{text}"
    );
    let (status, body) = root("GET", &format!("{mount}/keys/kek"), None);
    assert_eq!(status, 200, "the key and its mount are still there: {body}");

    // Allowing deletion and destroying again removes both.
    workspace.write(
        "main.hcl",
        &transit_key_configuration(&mount, "  deletion_allowed = true"),
    );
    assert_exit(&keyform_with_token(&workspace, &["apply", "--auto-approve"]), 0);
    assert_exit(&keyform_with_token(&workspace, &["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("sys/mounts/{mount}"), None);
    assert!(status >= 400, "the mount is gone");
}
