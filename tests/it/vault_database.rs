//! The `vault` provider's database secrets engine against OpenBao and
//! PostgreSQL: the compliance suite for the connection, the dynamic role and
//! the static role; and dynamic credentials end to end through the `keyform`
//! binary: after apply, a client that is not keyform (`curl`) reads
//! `MOUNT/creds/app`, the lease is 3600 seconds, the user logs in to
//! PostgreSQL with password authentication (scram-sha-256) while a wrong
//! password is refused, and after the lease is revoked the login fails.
//! Then drift (a role's TTL and the connection's allowed roles changed
//! outside keyform), a connection password whose source changes, and a scan
//! proving the password is in no file and no output.
//!
//! Tests run in parallel against one OpenBao and one PostgreSQL server: each
//! uses its own mount and its own database users.

use crate::services::{Postgres, postgres, psql, vault_address, vault_token};
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{
    assert_plan_empty, attributes, check, check_compliance, configured_provider, keyform_command, mount_engine, root,
    token_provider_block, unique,
};
use keyform::provider::compliance::{Subject, run};
use keyform::provider::{ApplyAction, ApplyRequest, FindRequest};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// The SQL a dynamic role makes its users with.
pub const CREATION: &str = "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';";

/// Enables a database secrets engine at a unique path with the root token.
pub fn database_mount(label: &str) -> String {
    mount_engine(serde_json::json!({ "type": "database" }), label)
}

/// The connection URL of the test PostgreSQL, with Vault's templates for the login.
fn connection_url() -> String {
    let server = postgres();
    format!(
        "postgresql://{{{{username}}}}:{{{{password}}}}@{}:{}/postgres",
        server.host, server.port
    )
}

/// Runs SQL as the PostgreSQL superuser; panics when it fails.
fn as_admin(sql: &str) {
    let server = postgres();
    let (ok, stdout, stderr) = psql(&server, &server.password, sql);
    assert!(ok, "{sql}: {stdout} {stderr}");
}

/// Whether `user` logs in to PostgreSQL with `password` and runs `select 1`; the error text when not.
pub fn logs_in(user: &str, password: &str) -> Result<(), String> {
    let server = postgres();
    let login = Postgres {
        user: user.to_string(),
        password: password.to_string(),
        ..server
    };
    match psql(&login, password, "select 1") {
        (true, stdout, _) if stdout == "1" => Ok(()),
        (_, stdout, stderr) => Err(format!("{stdout} {stderr}")),
    }
}

/// A PostgreSQL user that may create roles, for Vault to connect as; its name and password.
fn connection_user(label: &str) -> (String, String) {
    let user = unique(label).replace('-', "_");
    let password = unique("pw");
    as_admin(&format!(
        "CREATE ROLE \"{user}\" WITH LOGIN CREATEROLE PASSWORD '{password}'"
    ));
    (user, password)
}

/// Writes a connection as the PostgreSQL superuser with the root token (outside keyform).
pub fn admin_connection(mount: &str, name: &str) {
    let server = postgres();
    let (status, body) = root(
        "POST",
        &format!("{mount}/config/{name}"),
        Some(serde_json::json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": connection_url(),
            "username": server.user,
            "password": server.password,
            "allowed_roles": ["*"],
        })),
    );
    assert!(status < 300, "connection: {status} {body}");
}

#[tokio::test]
async fn vault_database_secret_backend_connection_passes_the_compliance_suite() {
    let mount = database_mount("compliance-db-connection");
    let server = postgres();
    let subject = Subject {
        provider: configured_provider(&vault_token()).await,
        resource_type: "vault_database_secret_backend_connection".into(),
        attributes: attributes(serde_json::json!({
            "backend": mount,
            "name": "pg",
            "allowed_roles": ["app"],
            // The suite writes a random new password: Vault must not try to log in with it.
            "verify_connection": false,
            "postgresql": { "connection_url": connection_url(), "username": server.user },
        })),
        secrets: BTreeMap::from([(
            "postgresql.password".to_string(),
            SensitiveString::new(server.password.clone()),
        )]),
        update: Some(("allowed_roles".into(), serde_json::json!(["app", "other"]))),
        missing_id: format!("{mount}/config/no-such-connection"),
    };
    check("vault_database_secret_backend_connection", &run(&subject).await);
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}

#[tokio::test]
async fn vault_database_secret_backend_role_passes_the_compliance_suite() {
    let mount = database_mount("compliance-db-role");
    admin_connection(&mount, "pg");
    let subject = Subject {
        provider: configured_provider(&vault_token()).await,
        resource_type: "vault_database_secret_backend_role".into(),
        attributes: attributes(serde_json::json!({
            "backend": mount,
            "name": "app",
            "db_name": "pg",
            "creation_statements": [CREATION],
            "default_ttl": 3600,
            "max_ttl": 86400,
        })),
        secrets: BTreeMap::new(),
        update: Some(("default_ttl".into(), 7200.into())),
        missing_id: format!("{mount}/roles/no-such-role"),
    };
    check("vault_database_secret_backend_role", &run(&subject).await);
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}

#[tokio::test]
async fn vault_database_secret_backend_static_role_passes_the_compliance_suite() {
    let mount = database_mount("compliance-db-static");
    admin_connection(&mount, "pg");
    let (user, _) = connection_user("kf_static");
    check_compliance(
        "vault_database_secret_backend_static_role",
        serde_json::json!({
            "backend": mount,
            "name": "reporting",
            "db_name": "pg",
            "username": user,
            "rotation_period": 86400,
        }),
        Some(("rotation_period".into(), 172_800.into())),
        format!("{mount}/static-roles/no-such-role"),
    )
    .await;
    root("DELETE", &format!("sys/mounts/{mount}"), None);
    as_admin(&format!("DROP ROLE IF EXISTS \"{user}\""));
}

#[tokio::test]
async fn a_static_role_hands_out_the_password_vault_rotated() {
    let mount = database_mount("static-login");
    admin_connection(&mount, "pg");
    let (user, first_password) = connection_user("kf_static_login");
    let provider = configured_provider(&vault_token()).await;
    let live = provider
        .apply(ApplyRequest {
            resource_type: "vault_database_secret_backend_static_role".into(),
            action: ApplyAction::Create { token: "t".into() },
            id: None,
            attributes: attributes(serde_json::json!({
                "backend": mount, "name": "reporting", "db_name": "pg", "username": user, "rotation_period": 86400,
            })),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect("create the static role")
        .expect("the role");
    assert_eq!(live.id, format!("{mount}/static-roles/reporting"));
    assert_eq!(live.attributes["rotation_period"], 86400);
    let (status, body) = root("GET", &format!("{mount}/static-creds/reporting"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["username"], user.as_str());
    let rotated = body["data"]["password"].as_str().expect("a password").to_string();
    assert!(logs_in(&user, &rotated).is_ok(), "the rotated password works");
    assert!(
        logs_in(&user, &first_password).is_err(),
        "the first password was rotated away"
    );
    root("DELETE", &format!("sys/mounts/{mount}"), None);
    as_admin(&format!("DROP ROLE IF EXISTS \"{user}\""));
}

#[tokio::test]
async fn a_connection_someone_else_wrote_is_not_overwritten_and_its_token_survives() {
    let mount = database_mount("foreign-db");
    admin_connection(&mount, "theirs");
    let provider = configured_provider(&vault_token()).await;
    let server = postgres();
    let create = |name: &str, token: &str| ApplyRequest {
        resource_type: "vault_database_secret_backend_connection".into(),
        action: ApplyAction::Create { token: token.into() },
        id: None,
        attributes: attributes(serde_json::json!({
            "backend": mount,
            "name": name,
            "allowed_roles": ["*"],
            "postgresql": { "connection_url": connection_url(), "username": server.user },
        })),
        secrets: BTreeMap::from([(
            "postgresql.password".to_string(),
            SensitiveString::new(server.password.clone()),
        )]),
        changed: Vec::new(),
    };
    let error = provider
        .apply(create("theirs", "mine"))
        .await
        .expect_err("the connection exists");
    assert_eq!(error.code, "AlreadyExists", "{error:?}");
    assert!(
        error.message.contains(&format!("{mount}/config/theirs")),
        "{}",
        error.message
    );
    assert!(!error.message.contains(&server.password));
    let found = provider
        .lookup_existing(FindRequest {
            resource_type: "vault_database_secret_backend_connection".into(),
            token: String::new(),
            attributes: create("theirs", "").attributes,
        })
        .await
        .expect("lookup");
    assert!(found.is_some(), "the plan finds it by name before a create");
    let (_, body) = root("GET", &format!("{mount}/config/theirs"), None);
    assert_eq!(body["data"]["allowed_roles"], serde_json::json!(["*"]));

    let mut wrong = create("refused", "t");
    wrong.secrets.insert(
        "postgresql.password".into(),
        SensitiveString::new("wrong-hunter2-value"),
    );
    let error = provider.apply(wrong).await.expect_err("Vault verifies the login");
    assert!(
        error.message.contains("password authentication failed"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("wrong-hunter2-value") && !error.help.unwrap_or_default().contains("hunter2"));
    let (status, _) = root("GET", &format!("{mount}/config/refused"), None);
    assert_eq!(status, 404, "a connection Vault could not verify is not saved");

    let token = uuid::Uuid::new_v4().simple().to_string();
    provider.apply(create("ours", &token)).await.expect("create");
    // A fresh driver, as after a crash: the token is found on the connection itself.
    let second = configured_provider(&vault_token()).await;
    let find = |token: String| FindRequest {
        resource_type: "vault_database_secret_backend_connection".into(),
        token,
        attributes: create("ours", "").attributes,
    };
    assert!(second.find_by_token(find(token.clone())).await.expect("find").is_some());
    assert!(
        second
            .find_by_token(find("another".into()))
            .await
            .expect("find")
            .is_none()
    );
    let (_, body) = root("GET", &format!("{mount}/config/ours"), None);
    let details = &body["data"]["connection_details"];
    assert_eq!(details[keyform::providers::vault::DATABASE_TOKEN_KEY], token.as_str());
    assert!(
        details.get("password").is_none(),
        "Vault never returns the password: {details}"
    );
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}

/// The end-to-end configuration: a database mount, a connection whose password comes from the
/// environment, and the `app` role whose users live one hour.
fn configuration(mount: &str, user: &str) -> String {
    r#"PROVIDER
resource "vault_mount" "db" {
  path = "MOUNT"
  type = "database"
}

resource "vault_database_secret_backend_connection" "postgres" {
  backend       = vault_mount.db.path
  name          = "postgres"
  allowed_roles = ["app"]

  postgresql {
    connection_url = "URL"
    username       = "USER"
    password       = env("KF_DB_PASSWORD")
  }
}

resource "vault_database_secret_backend_role" "app" {
  backend             = vault_mount.db.path
  name                = "app"
  db_name             = vault_database_secret_backend_connection.postgres.name
  creation_statements = ["CREATION"]
  default_ttl         = "1h"
  max_ttl             = 86400
}
"#
    .replace("PROVIDER", &token_provider_block())
    .replace("MOUNT", mount)
    .replace("URL", &connection_url())
    .replace("USER", user)
    .replace("CREATION", &CREATION.replace('"', "\\\""))
}

/// Runs keyform with the Vault token and the connection password in its environment; every
/// output is kept for the final scan.
struct Runner<'a> {
    workspace: &'a Workspace,
    outputs: Vec<Output>,
}

impl Runner<'_> {
    fn keyform(&mut self, arguments: &[&str], password: &str) -> Output {
        let output = keyform_command(self.workspace, arguments)
            .env("KF_VAULT_TEST_TOKEN", vault_token())
            .env("KF_DB_PASSWORD", password)
            .output()
            .expect("run keyform");
        self.outputs.push(output.clone());
        output
    }
}

/// Every file under `folder`, recursively.
fn files_under(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(current) = folders.pop() {
        for entry in std::fs::read_dir(&current).expect("read a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The connection's password version as Vault stores it (keyform's own connection field).
fn password_version(mount: &str) -> String {
    let (status, body) = root("GET", &format!("{mount}/config/postgres"), None);
    assert_eq!(status, 200, "{body}");
    body["data"]["connection_details"][keyform::providers::vault::DATABASE_PASSWORD_VERSION_KEY]
        .as_str()
        .expect("a password version")
        .to_string()
}

/// Fails unless the lease is revoked and its user dropped from PostgreSQL (not orphaned there).
#[track_caller]
pub fn assert_revoked(lease: &str, user: &str, password: &str) {
    let (status, body) = root(
        "PUT",
        "sys/leases/lookup",
        Some(serde_json::json!({ "lease_id": lease })),
    );
    assert!(status >= 400, "the lease is revoked: {body}");
    logs_in(user, password).expect_err("the leased user is dropped");
}

/// Reads `MOUNT/creds/app` with the root token, as any Vault client would: (lease id, lease seconds, user, password).
pub fn credentials(mount: &str) -> (String, u64, String, String) {
    let (status, body) = root("GET", &format!("{mount}/creds/app"), None);
    assert_eq!(status, 200, "read {mount}/creds/app: {body}");
    let text = |value: &serde_json::Value| value.as_str().expect("a string").to_string();
    (
        text(&body["lease_id"]),
        body["lease_duration"].as_u64().expect("a lease duration"),
        text(&body["data"]["username"]),
        text(&body["data"]["password"]),
    )
}

#[tokio::test]
async fn dynamic_postgres_credentials_work_end_to_end_and_drift_is_restored() {
    let mount = unique("e2e-db");
    let (user, password) = connection_user("kf_vault_conn");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&mount, &user));
    let mut runner = Runner {
        workspace: &workspace,
        outputs: Vec::new(),
    };
    assert_exit(&runner.keyform(&["init"], &password), 0);
    assert_exit(&runner.keyform(&["apply", "--auto-approve"], &password), 0);

    // What keyform wrote, read back through Vault's API.
    let (status, body) = root("GET", &format!("{mount}/config/postgres"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["plugin_name"], "postgresql-database-plugin");
    assert_eq!(body["data"]["allowed_roles"], serde_json::json!(["app"]));
    assert_eq!(body["data"]["connection_details"]["username"], user.as_str());
    let (status, body) = root("GET", &format!("{mount}/roles/app"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["default_ttl"], 3600);
    assert_eq!(body["data"]["max_ttl"], 86400);

    // A client that is not keyform gets a user that lives one hour and really logs in.
    let (lease, lease_seconds, generated_user, generated_password) = credentials(&mount);
    assert_eq!(lease_seconds, 3600);
    logs_in(&generated_user, &generated_password).unwrap_or_else(|error| panic!("the new user logs in: {error}"));
    let refused = logs_in(&generated_user, &format!("{generated_password}-wrong")).expect_err("a wrong password");
    assert!(refused.contains("password authentication failed"), "{refused}");
    let (status, body) = root(
        "PUT",
        "sys/leases/revoke",
        Some(serde_json::json!({ "lease_id": lease })),
    );
    assert!(status < 300, "revoke: {status} {body}");
    let after = logs_in(&generated_user, &generated_password).expect_err("the revoked user is gone");
    assert!(after.contains("password authentication failed"), "{after}");

    // No perpetual diff: not the TTL written as "1h", not the password Vault never returns.
    let plan = runner.keyform(&["plan", "--detailed-exitcode"], &password);
    assert_plan_empty(&plan, "no change");

    // Drift: the role's TTL and the connection's allowed roles changed outside keyform.
    let version = password_version(&mount);
    let (status, body) = root(
        "POST",
        &format!("{mount}/roles/app"),
        Some(serde_json::json!({ "default_ttl": "30m" })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        &format!("{mount}/config/postgres"),
        Some(serde_json::json!({
            "allowed_roles": ["app", "intruder"],
            "connection_url": format!("{}?sslmode=disable", connection_url()),
            "verify_connection": false,
        })),
    );
    assert!(status < 300, "{status} {body}");
    let plan = runner.keyform(&["plan", "--detailed-exitcode"], &password);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    let shown = stdout(&plan);
    assert!(mentions(&shown, "default_ttl"), "{shown}");
    assert!(mentions(&shown, "30m"), "{shown}");
    assert!(mentions(&shown, "intruder"), "{shown}");
    assert!(mentions(&shown, "sslmode=disable"), "{shown}");
    assert!(
        !mentions(&shown, "postgresql.password"),
        "the password is unchanged: {shown}"
    );
    assert_exit(&runner.keyform(&["apply", "--auto-approve"], &password), 0);
    let (_, body) = root("GET", &format!("{mount}/roles/app"), None);
    assert_eq!(body["data"]["default_ttl"], 3600);
    assert_eq!(
        body["data"]["creation_statements"],
        serde_json::json!([CREATION]),
        "the whole role was sent"
    );
    let (_, body) = root("GET", &format!("{mount}/config/postgres"), None);
    assert_eq!(body["data"]["allowed_roles"], serde_json::json!(["app"]));
    assert_eq!(body["data"]["connection_details"]["connection_url"], connection_url());
    assert_eq!(
        password_version(&mount),
        version,
        "an unchanged password is not sent again"
    );
    let plan = runner.keyform(&["plan", "--detailed-exitcode"], &password);
    assert_plan_empty(&plan, "no change");

    // The password changes at its source (and in PostgreSQL): the plan says so, apply sends it.
    let new_password = unique("pw");
    as_admin(&format!("ALTER ROLE \"{user}\" PASSWORD '{new_password}'"));
    let plan = runner.keyform(&["plan", "--detailed-exitcode"], &new_password);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(mentions(&stdout(&plan), "postgresql.password"), "{}", stdout(&plan));
    assert!(mentions(&stdout(&plan), "(sensitive, changes)"), "{}", stdout(&plan));
    assert_exit(&runner.keyform(&["apply", "--auto-approve"], &new_password), 0);
    assert_ne!(password_version(&mount), version, "the new password was written");
    let (lease, _, generated_user, generated_password) = credentials(&mount);
    logs_in(&generated_user, &generated_password)
        .unwrap_or_else(|error| panic!("users are made with the new password: {error}"));
    let plan = runner.keyform(&["plan", "--detailed-exitcode"], &new_password);
    assert_plan_empty(&plan, "no change");

    // The lease is still open: destroy revokes it through the connection before deleting the connection, so
    // the user is dropped from PostgreSQL and disabling the mount succeeds.
    assert_exit(&runner.keyform(&["destroy", "--auto-approve"], &new_password), 0);
    let (status, _) = root("GET", &format!("sys/mounts/{mount}"), None);
    assert!(status >= 400, "the mount is gone");
    assert_revoked(&lease, &generated_user, &generated_password);

    // Neither password is in any file of the workspace (state, journal, plan) or any output.
    for secret in [&password, &new_password] {
        for file in files_under(workspace.path()) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret.as_str()),
                "{} holds the connection password",
                file.display()
            );
        }
        for output in &runner.outputs {
            assert!(
                !stdout(output).contains(secret.as_str()) && !stderr(output).contains(secret.as_str()),
                "keyform printed the connection password"
            );
        }
    }
    as_admin(&format!("DROP ROLE IF EXISTS \"{user}\""));
}

#[test]
fn a_connection_password_must_come_from_a_value_source_and_taints_it() {
    let connection = |allowed_roles: &str, password: &str| {
        format!(
            "provider \"vault\" {{}}\n\nresource \"vault_database_secret_backend_connection\" \"pg\" {{\n  backend       = \"db\"\n  name          = \"pg\"\n  allowed_roles = {allowed_roles}\n\n  postgresql {{\n    connection_url = \"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:5432/postgres\"\n    password       = {password}\n  }}\n}}\n"
        )
    };
    let validate = |text: &str| {
        let workspace = Workspace::new();
        workspace.write("main.hcl", text);
        workspace
            .command(&["validate"])
            .env("KF_DB_PASSWORD", "tainted-value-1234")
            .output()
            .expect("run keyform")
    };
    let literal = validate(&connection("[\"app\"]", "\"literal-hunter2\""));
    assert_exit(&literal, 1);
    assert!(
        mentions(&stderr(&literal), "a secret must come from a value source"),
        "{}",
        stderr(&literal)
    );
    assert!(!stderr(&literal).contains("literal-hunter2"), "the literal is masked");

    // The env() source of the block's password is sensitive wherever it flows.
    let leaked = validate(&connection("[env(\"KF_DB_PASSWORD\")]", "env(\"KF_DB_PASSWORD\")"));
    assert_exit(&leaked, 1);
    assert!(
        mentions(
            &stderr(&leaked),
            "`allowed_roles` is not a secret attribute, but it was given a sensitive value"
        ),
        "{}",
        stderr(&leaked)
    );
    assert!(!stderr(&leaked).contains("tainted-value-1234"));

    let valid = validate(&connection("[\"app\"]", "env(\"KF_DB_PASSWORD\")"));
    assert_exit(&valid, 0);
    assert!(!stdout(&valid).contains("tainted-value-1234"));
}

/// `examples/vault/main.hcl` with every name Vault shares between tests (mount and auth paths,
/// policy names) made unique; each replaced line must still be in the example.
fn example_with_unique_names() -> (String, [String; 5]) {
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/vault/main.hcl"))
        .expect("read the example");
    let names = [
        unique("example-apps"),
        unique("example-database"),
        unique("example-approle"),
        unique("example-app-read"),
        unique("example-app-database"),
    ];
    let [apps, database, approle, app_read, app_database] = &names;
    let mut text = example;
    for (line, replacement) in [
        (
            "path                      = \"apps\"",
            format!("path                      = \"{apps}\""),
        ),
        ("\"apps/data/app/*\"", format!("\"{apps}/data/app/*\"")),
        ("\"apps/metadata/app/*\"", format!("\"{apps}/metadata/app/*\"")),
        ("path        = \"database\"", format!("path        = \"{database}\"")),
        (
            "type        = \"approle\"",
            format!("type        = \"approle\"\n  path        = \"{approle}\""),
        ),
        ("name   = \"app-read\"", format!("name   = \"{app_read}\"")),
        ("name   = \"app-database\"", format!("name   = \"{app_database}\"")),
    ] {
        assert_eq!(text.matches(line).count(), 1, "the example has `{line}` once");
        text = text.replace(line, &replacement);
    }
    (text, names)
}

#[tokio::test]
async fn the_example_applies_and_its_ci_approle_reads_database_credentials() {
    let (text, [apps, database, approle, _, _]) = example_with_unique_names();
    let (user, password) = connection_user("kf_example");
    let server = postgres();
    let workspace = Workspace::new();
    workspace.write("main.hcl", &text);
    let run = |arguments: &[&str]| {
        let output = workspace
            .command(arguments)
            .env("VAULT_ADDR", vault_address())
            .env("VAULT_TOKEN", vault_token())
            .env("APP_DB_PASSWORD", &password)
            .env(
                "KEYFORM_VAR_postgres_address",
                format!("{}:{}", server.host, server.port),
            )
            .env("KEYFORM_VAR_postgres_admin_user", &user)
            .output()
            .expect("run keyform");
        assert!(!stdout(&output).contains(&password) && !stderr(&output).contains(&password));
        output
    };
    assert_exit(&run(&["init"]), 0);
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "no change");

    // The CI system logs in with the AppRole, as the example says, and reads its credentials.
    let (status, body) = root("GET", &format!("auth/{approle}/role/ci/role-id"), None);
    assert_eq!(status, 200, "{body}");
    let role_id = body["data"]["role_id"].as_str().expect("a role_id").to_string();
    let (status, body) = root("POST", &format!("auth/{approle}/role/ci/secret-id"), None);
    assert!(status < 300, "{status} {body}");
    let secret_id = body["data"]["secret_id"].as_str().expect("a secret_id").to_string();
    let (status, body) = crate::vault_support::vault(
        "POST",
        &format!("auth/{approle}/login"),
        Some(serde_json::json!({ "role_id": role_id, "secret_id": secret_id })),
        None,
    );
    assert!(status < 300, "login: {status} {body}");
    let ci_token = body["auth"]["client_token"].as_str().expect("a token").to_string();
    let (status, body) = crate::vault_support::vault("GET", &format!("{database}/creds/app"), None, Some(&ci_token));
    assert_eq!(status, 200, "the CI token reads the credentials: {body}");
    assert_eq!(body["lease_duration"], 3600);
    let generated_user = body["data"]["username"].as_str().expect("a user").to_string();
    let generated_password = body["data"]["password"].as_str().expect("a password").to_string();
    logs_in(&generated_user, &generated_password).unwrap_or_else(|error| panic!("the user logs in: {error}"));
    let lease = body["lease_id"].clone();
    let (status, _) = crate::vault_support::vault("GET", &format!("{database}/config/postgres"), None, Some(&ci_token));
    assert_eq!(status, 403, "the CI token may read credentials, not the connection");
    let (status, body) = crate::vault_support::vault("GET", &format!("{apps}/data/app/session"), None, Some(&ci_token));
    assert_eq!(status, 200, "{body}");
    let signing_key = body["data"]["data"]["signing_key"]
        .as_str()
        .expect("the generated value");
    assert_eq!(signing_key.len(), 48);

    // Destroy revokes the open lease through the connection before deleting it, then disables the mount.
    assert_exit(&run(&["destroy", "--auto-approve"]), 0);
    let (status, _) = root("GET", &format!("sys/mounts/{database}"), None);
    assert!(status >= 400, "the database mount is gone");
    assert_revoked(
        lease.as_str().expect("a lease id"),
        &generated_user,
        &generated_password,
    );
    for file in files_under(workspace.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&password),
            "{} holds the connection password",
            file.display()
        );
    }
    as_admin(&format!("DROP ROLE IF EXISTS \"{user}\""));
}

#[test]
fn existing_connections_and_roles_are_imported_by_id_and_the_rest_is_listed_as_unmanaged() {
    let mount = database_mount("import-db");
    admin_connection(&mount, "pg");
    let (user, _) = connection_user("kf_import_static");
    for (path, body) in [
        (
            "roles/app",
            serde_json::json!({ "db_name": "pg", "creation_statements": [CREATION], "default_ttl": "1h" }),
        ),
        (
            "static-roles/reporting",
            serde_json::json!({ "db_name": "pg", "username": user, "rotation_period": "24h" }),
        ),
        (
            "roles/stray",
            serde_json::json!({ "db_name": "pg", "creation_statements": [CREATION] }),
        ),
    ] {
        let (status, answer) = root("POST", &format!("{mount}/{path}"), Some(body));
        assert!(status < 300, "{path}: {status} {answer}");
    }
    let server = postgres();
    let configuration = r#"PROVIDER
resource "vault_database_secret_backend_connection" "pg" {
  backend       = "MOUNT"
  name          = "pg"
  allowed_roles = ["*"]

  postgresql {
    connection_url = "URL"
    username       = "ADMIN"
    password       = env("KF_DB_PASSWORD")
  }
}

resource "vault_database_secret_backend_role" "app" {
  backend             = "MOUNT"
  name                = "app"
  db_name             = "pg"
  creation_statements = ["CREATION"]
  default_ttl         = 3600
}

resource "vault_database_secret_backend_static_role" "reporting" {
  backend         = "MOUNT"
  name            = "reporting"
  db_name         = "pg"
  username        = "USER"
  rotation_period = "24h"
}
"#
    .replace("PROVIDER", &token_provider_block())
    .replace("MOUNT", &mount)
    .replace("URL", &connection_url())
    .replace("ADMIN", &server.user)
    .replace("USER", &user)
    .replace("CREATION", &CREATION.replace('"', "\\\""));
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration);
    let run = |arguments: &[&str]| {
        let output = workspace
            .command(arguments)
            .env("KF_VAULT_TEST_TOKEN", vault_token())
            .env("KF_DB_PASSWORD", &server.password)
            .output()
            .expect("run keyform");
        assert!(!stdout(&output).contains(&server.password) && !stderr(&output).contains(&server.password));
        output
    };
    assert_exit(&run(&["init"]), 0);
    for (address, id) in [
        (
            "vault_database_secret_backend_connection.pg",
            format!("{mount}/config/pg"),
        ),
        ("vault_database_secret_backend_role.app", format!("{mount}/roles/app")),
        (
            "vault_database_secret_backend_static_role.reporting",
            format!("{mount}/static-roles/reporting"),
        ),
    ] {
        assert_exit(&run(&["import", address, &id]), 0);
    }
    // keyform cannot know the imported connection's password: the plan sends the configured one.
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    let shown = stdout(&plan);
    assert!(mentions(&shown, "postgresql.password"), "{shown}");
    assert!(!mentions(&shown, "vault_database_secret_backend_role.app"), "{shown}");
    assert!(
        !mentions(&shown, "vault_database_secret_backend_static_role.reporting"),
        "{shown}"
    );
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "no change");

    // The role keyform does not manage is listed; the imported ones are not.
    let drift = run(&["drift", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&drift)).expect("drift as JSON");
    let unmanaged: Vec<String> = report["unmanaged"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|entry| entry["id"].as_str())
        .filter(|id| id.starts_with(&format!("{mount}/")))
        .map(str::to_string)
        .collect();
    assert_eq!(unmanaged, vec![format!("{mount}/roles/stray")], "{report}");
    root("DELETE", &format!("sys/mounts/{mount}"), None);
    as_admin(&format!("DROP ROLE IF EXISTS \"{user}\""));
}
