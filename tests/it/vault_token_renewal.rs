//! A configured Vault token that would expire during a long apply is renewed
//! (`auth/token/renew-self`), so the apply finishes; the same apply with a
//! token that cannot be renewed fails once it expires, which shows the
//! renewal is what kept the first one going.

use crate::support::{Workspace, assert_exit, code, stderr};
use crate::vault_support::{keyform_command, root, token_provider_block, unique};
use std::time::{Duration, Instant};

const TTL_SECONDS: u64 = 3;
const STEPS: usize = 12;

/// A token with the root policy that lives `TTL_SECONDS` unless renewed.
fn short_token(renewable: bool) -> String {
    let (status, body) = root(
        "POST",
        "auth/token/create",
        Some(serde_json::json!({
            "policies": ["root"],
            "ttl": format!("{TTL_SECONDS}s"),
            "explicit_max_ttl": "120s",
            "renewable": renewable,
        })),
    );
    assert_eq!(status, 200, "create a token: {body}");
    body["auth"]["client_token"]
        .as_str()
        .expect("a client token")
        .to_string()
}

/// A chain of KV writes, each waiting for a slow local secret, so Vault requests keep coming for
/// longer than the token lives, never more than half its TTL apart.
fn configuration(mount: &str) -> String {
    let mut text = format!(
        "{}\nprovider \"local\" {{\n  simulated_latency_ms = 400\n}}\n\nresource \"local_key\" \"pace\" {{\n  description = \"paces the run\"\n}}\n\nresource \"vault_mount\" \"kv\" {{\n  path = \"{mount}\"\n  type = \"kv-v2\"\n}}\n",
        token_provider_block()
    );
    for step in 0..STEPS {
        let after = if step == 0 {
            "vault_mount.kv".to_string()
        } else {
            format!("vault_kv_secret_v2.step{}", step - 1)
        };
        text.push_str(&format!(
            "\nresource \"local_secret\" \"pace{step}\" {{\n  name       = \"pace-{step}\"\n  value      = generate({{ length = 16 }})\n  key        = local_key.pace.id\n  depends_on = [{after}]\n}}\n\nresource \"vault_kv_secret_v2\" \"step{step}\" {{\n  mount     = vault_mount.kv.path\n  name      = \"step/{step}\"\n  data_json = jsonencode({{ value = local_secret.pace{step}.value }})\n}}\n"
        ));
    }
    text
}

fn apply_with(token: &str, mount: &str) -> (std::process::Output, Duration) {
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(mount));
    let init = keyform_command(&workspace, &["init"]).output().expect("run keyform");
    assert_exit(&init, 0);
    let started = Instant::now();
    let applied = keyform_command(&workspace, &["apply", "--auto-approve"])
        .env("KF_VAULT_TEST_TOKEN", token)
        .output()
        .expect("run keyform");
    (applied, started.elapsed())
}

#[test]
fn a_renewable_token_is_renewed_during_a_long_apply() {
    let mount = unique("renewal-kv");
    let (applied, elapsed) = apply_with(&short_token(true), &mount);
    assert_exit(&applied, 0);
    assert!(
        elapsed > Duration::from_secs(TTL_SECONDS + 1),
        "the apply took {elapsed:?}: too short to outlast a {TTL_SECONDS}s token"
    );
    let (status, body) = root("GET", &format!("{mount}/metadata/step/{}", STEPS - 1), None);
    assert_eq!(status, 200, "the last write went through: {body}");
    root("DELETE", &format!("sys/mounts/{mount}"), None);

    // The control: the same apply with a token Vault does not renew fails once it expires.
    let mount = unique("renewal-control-kv");
    let (applied, _) = apply_with(&short_token(false), &mount);
    assert_eq!(code(&applied), 1, "{}", stderr(&applied));
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}
