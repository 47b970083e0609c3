//! Open leases when a database connection is destroyed, against OpenBao and
//! PostgreSQL: Vault revokes a dynamic user through its connection, so the
//! driver revokes the leases that need the connection before deleting it.
//! With a token that may list leases but not revoke them, the delete stops
//! with help and the connection stays (its leases stay revocable); with a
//! token that may not even list them, the connection is deleted as before.
//! The end-to-end destroy with an open lease is in vault_database.rs.

use crate::services::vault_token;
use crate::vault_database::{CREATION, admin_connection, assert_revoked, credentials, database_mount, logs_in};
use crate::vault_support::{configured_provider, root, token_with_policy};
use keyform::provider::{ApplyAction, ApplyRequest};
use std::collections::BTreeMap;

/// A database engine with the connection `pg` and the role `app`, and one open lease of `app`:
/// (mount, lease id, user, password).
fn engine_with_an_open_lease(label: &str) -> (String, String, String, String) {
    let mount = database_mount(label);
    admin_connection(&mount, "pg");
    let (status, body) = root(
        "POST",
        &format!("{mount}/roles/app"),
        Some(serde_json::json!({ "db_name": "pg", "creation_statements": [CREATION], "default_ttl": "1h" })),
    );
    assert!(status < 300, "role: {status} {body}");
    let (lease, _, user, password) = credentials(&mount);
    (mount, lease, user, password)
}

fn delete_connection(mount: &str) -> ApplyRequest {
    ApplyRequest {
        resource_type: "vault_database_secret_backend_connection".into(),
        action: ApplyAction::Delete { purge: false },
        id: Some(format!("{mount}/config/pg")),
        attributes: serde_json::json!({ "backend": mount, "name": "pg" })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        secrets: BTreeMap::new(),
        changed: Vec::new(),
    }
}

fn connection_exists(mount: &str) -> bool {
    root("GET", &format!("{mount}/config/pg"), None).0 == 200
}

#[tokio::test]
async fn a_connection_with_open_leases_is_kept_when_they_cannot_be_revoked_and_deleted_after_they_are() {
    let (mount, lease, user, password) = engine_with_an_open_lease("leases-refused");
    let token = token_with_policy(&format!(
        "path \"{mount}/*\" {{\n  capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]\n}}\n\
         path \"sys/leases/lookup/{mount}/*\" {{\n  capabilities = [\"list\", \"sudo\"]\n}}\n"
    ));
    let limited = configured_provider(&token).await;
    let error = limited
        .apply(delete_connection(&mount))
        .await
        .expect_err("the leases cannot be revoked with this token");
    assert!(error.message.contains(&format!("{mount}/creds/app")), "{error:?}");
    let help = error.help.unwrap_or_default();
    assert!(
        help.contains(&format!("vault lease revoke -prefix {mount}/creds/app")),
        "{help}"
    );
    assert!(
        connection_exists(&mount),
        "the connection stays, so the lease stays revocable"
    );
    logs_in(&user, &password).expect("the leased user still works");

    let provider = configured_provider(&vault_token()).await;
    provider
        .apply(delete_connection(&mount))
        .await
        .expect("delete with the root token");
    assert!(!connection_exists(&mount));
    assert_revoked(&lease, &user, &password);
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}

#[tokio::test]
async fn leases_of_a_role_on_another_connection_are_left_alone() {
    let (mount, lease, user, password) = engine_with_an_open_lease("leases-other");
    admin_connection(&mount, "other");
    let (status, body) = root(
        "POST",
        &format!("{mount}/roles/app"),
        Some(serde_json::json!({ "db_name": "other", "creation_statements": [CREATION], "default_ttl": "1h" })),
    );
    assert!(status < 300, "role moved to another connection: {status} {body}");
    let provider = configured_provider(&vault_token()).await;
    provider.apply(delete_connection(&mount)).await.expect("delete");
    assert!(!connection_exists(&mount));
    let (status, body) = root(
        "PUT",
        "sys/leases/lookup",
        Some(serde_json::json!({ "lease_id": lease })),
    );
    assert_eq!(status, 200, "the role's leases are not this connection's: {body}");
    logs_in(&user, &password).expect("its user is untouched");
    let (status, body) = root("PUT", &format!("sys/leases/revoke-prefix/{mount}/creds/app"), None);
    assert!(status < 300, "{status} {body}");
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}

#[tokio::test]
async fn a_token_that_may_not_list_leases_deletes_the_connection_as_before() {
    let (mount, _lease, _user, _password) = engine_with_an_open_lease("leases-unlisted");
    let token = token_with_policy(&format!(
        "path \"{mount}/*\" {{\n  capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]\n}}\n"
    ));
    let limited = configured_provider(&token).await;
    limited
        .apply(delete_connection(&mount))
        .await
        .expect("deleted without looking at leases");
    assert!(!connection_exists(&mount));
    admin_connection(&mount, "pg");
    let (status, body) = root("PUT", &format!("sys/leases/revoke-prefix/{mount}/creds/app"), None);
    assert!(status < 300, "{status} {body}");
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}
