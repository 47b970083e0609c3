//! The `vault` provider's JWT auth against OpenBao: the compliance suite for
//! `vault_jwt_auth_backend` and `vault_jwt_auth_backend_role`; and end to
//! end, a backend that trusts a public key the test generates and a role
//! bound to an audience and a claim, applied with the root token, then a
//! second configuration whose provider logs in with `jwt { role, jwt }` (a
//! token the test signs) and applies a policy. A token for another audience
//! is refused with a diagnostic naming the login path, and no token appears
//! in any file or stream. An apply that outlasts the Vault token the JWT
//! login gave logs in again. A role Vault refuses is a diagnostic naming
//! the resource, the path and Vault's reason.
//!
//! [`sign_es256`], the policy snippets and [`outlasting`]
//! are shared with the Kubernetes tests (service-account tokens are JWTs too).

use crate::canary::Scanner;
use crate::services::{vault_address, vault_token};
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{
    assert_plan_empty, check_compliance, configured_provider, enable_auth, keyform_command, root, token_provider_block,
    unique,
};
use base64::Engine;
use rcgen::SigningKey;
use std::process::Output;

/// An ES256 JWT of `claims`, signed with `key` (a P-256 key).
pub fn sign_es256(key: &rcgen::KeyPair, claims: &serde_json::Value) -> String {
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = serde_json::json!({ "alg": "ES256", "typ": "JWT" });
    let signed = format!(
        "{}.{}",
        encode(header.to_string().as_bytes()),
        encode(claims.to_string().as_bytes())
    );
    let der = key.sign(signed.as_bytes()).expect("sign");
    format!("{signed}.{}", encode(&raw_signature(&der)))
}

/// An ECDSA signature as JWS wants it (r and s, 32 bytes each) from its DER form.
fn raw_signature(der: &[u8]) -> Vec<u8> {
    // SEQUENCE { INTEGER r, INTEGER s }; a P-256 signature is short enough for one-byte lengths.
    assert_eq!(der[0], 0x30, "a DER sequence");
    let mut index = 2;
    let mut raw = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[index], 0x02, "a DER integer");
        let length = der[index + 1] as usize;
        let integer = &der[index + 2..index + 2 + length];
        let trimmed: Vec<u8> = integer.iter().copied().skip_while(|byte| *byte == 0).collect();
        raw.extend(std::iter::repeat_n(0u8, 32 - trimmed.len()));
        raw.extend(trimmed);
        index += 2 + length;
    }
    raw
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

fn public_key() -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    let pem = key.public_key_pem();
    (key, pem)
}

#[tokio::test]
async fn vault_jwt_auth_backend_passes_the_compliance_suite() {
    let path = unique("compliance-jwt");
    let (_, pem) = public_key();
    check_compliance(
        "vault_jwt_auth_backend",
        serde_json::json!({
            "path": path,
            "description": "compliance",
            "jwt_validation_pubkeys": [pem],
            "bound_issuer": "https://ci.example",
        }),
        Some(("bound_issuer".into(), "https://other.example".into())),
        unique("no-such-jwt"),
    )
    .await;
    let (status, _) = root("GET", &format!("sys/auth/{path}"), None);
    assert!(status >= 400, "the auth method is disabled after the suite");
}

#[tokio::test]
async fn vault_jwt_auth_backend_role_passes_the_compliance_suite() {
    let backend = enable_auth("jwt", "compliance-jwt-role");
    check_compliance(
        "vault_jwt_auth_backend_role",
        serde_json::json!({
            "backend": backend,
            "role_name": "ci",
            "role_type": "jwt",
            "user_claim": "sub",
            "bound_audiences": ["keyform"],
            "bound_claims": { "repository": "org/app" },
            "token_policies": ["default", "app"],
            "token_ttl": 3600,
        }),
        Some(("token_ttl".into(), 7200.into())),
        format!("auth/{backend}/role/no-such-role"),
    )
    .await;
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

/// The backend, a policy that lets its tokens manage policies named `{policy_name}*`, and the role.
fn backend_configuration(backend: &str, policy_name: &str, token_ttl: &str) -> String {
    format!(
        r#"{provider}
resource "vault_jwt_auth_backend" "ci" {{
  path                   = "{backend}"
  description            = "keyform JWT test"
  jwt_validation_pubkeys = [file("ci.pub")]
  bound_issuer           = "https://ci.example"
  jwt_supported_algs     = ["ES256"]
}}

{manager}
resource "vault_jwt_auth_backend_role" "ci" {{
  backend         = vault_jwt_auth_backend.ci.path
  role_name       = "ci"
  role_type       = "jwt"
  user_claim      = "sub"
  bound_audiences = ["keyform-test"]
  bound_claims    = {{ repository = "org/app" }}
  token_policies  = [vault_policy.ci.name, "default"]
  token_ttl       = "{token_ttl}"
}}
"#,
        provider = token_provider_block(),
        manager = managing_policy("ci", policy_name),
    )
}

/// A configuration whose provider logs in with the JWT in TEST_JWT and manages one policy.
fn ci_configuration(backend: &str, policy_name: &str) -> String {
    format!(
        r#"provider "vault" {{
  address = "{address}"

  jwt {{
    role  = "ci"
    jwt   = env("TEST_JWT")
    mount = "{backend}"
  }}
}}

{made}"#,
        address = vault_address(),
        made = made_policy("made_by_ci", &format!("{policy_name}-made-by-ci")),
    )
}

/// Runs keyform with only the root token (`jwt` None) or only a JWT in its environment.
fn keyform(workspace: &Workspace, arguments: &[&str], jwt: Option<&str>) -> Output {
    let mut command = keyform_command(workspace, arguments);
    command.env("RUST_LOG", "trace");
    match jwt {
        Some(jwt) => command.env("TEST_JWT", jwt),
        None => command.env("KF_VAULT_TEST_TOKEN", vault_token()),
    };
    command.output().expect("run keyform")
}

fn claims(audience: &str) -> serde_json::Value {
    let issued = now();
    serde_json::json!({
        "iss": "https://ci.example",
        "sub": "repo:org/app:ref:refs/heads/main",
        "aud": audience,
        "repository": "org/app",
        "iat": issued,
        "nbf": issued - 5,
        "exp": issued + 600,
    })
}

#[tokio::test]
async fn a_provider_logs_in_with_a_signed_jwt_and_applies() {
    let backend = unique("e2e-jwt");
    let policy_name = unique("e2e-jwt-ci");
    let (key, pem) = public_key();
    let admin = Workspace::new();
    admin.write("ci.pub", &pem);
    admin.write("main.hcl", &backend_configuration(&backend, &policy_name, "1h"));
    assert_exit(&keyform(&admin, &["init"], None), 0);
    assert_exit(&keyform(&admin, &["apply", "--auto-approve"], None), 0);
    let plan = keyform(&admin, &["plan", "--detailed-exitcode"], None);
    assert_plan_empty(&plan, "a second plan is empty");

    let (status, body) = root("GET", &format!("auth/{backend}/config"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["bound_issuer"], "https://ci.example", "{body}");
    assert_eq!(body["data"]["jwt_validation_pubkeys"][0], pem.trim(), "{body}");
    let (status, body) = root("GET", &format!("auth/{backend}/role/ci"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["token_ttl"], 3600, "{body}");
    assert_eq!(body["data"]["bound_claims"]["repository"], "org/app", "{body}");

    // Listed once, as a JWT method, with its role.
    let provider = configured_provider(&vault_token()).await;
    let jwt_methods = provider.list("vault_jwt_auth_backend").await.expect("list JWT methods");
    assert!(jwt_methods.contains(&backend), "{jwt_methods:?}");
    let methods = provider.list("vault_auth_backend").await.expect("list auth methods");
    assert!(!methods.contains(&backend), "not listed twice: {methods:?}");
    let roles = provider
        .list("vault_jwt_auth_backend_role")
        .await
        .expect("list JWT roles");
    assert!(roles.contains(&format!("auth/{backend}/role/ci")), "{roles:?}");

    // A role changed outside keyform shows in the plan, and apply restores the whole role.
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/ci"),
        Some(
            serde_json::json!({ "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["other"], "token_ttl": "5m" }),
        ),
    );
    assert!(status < 300, "{status} {body}");
    let plan = keyform(&admin, &["plan", "--detailed-exitcode"], None);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("token_ttl"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("bound_audiences"), "{}", stdout(&plan));
    assert_exit(&keyform(&admin, &["apply", "--auto-approve"], None), 0);
    let (_, body) = root("GET", &format!("auth/{backend}/role/ci"), None);
    assert_eq!(body["data"]["token_ttl"], 3600, "{body}");
    assert_eq!(
        body["data"]["bound_audiences"],
        serde_json::json!(["keyform-test"]),
        "{body}"
    );
    assert_eq!(
        body["data"]["token_policies"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );

    // The CI system's configuration: the provider logs in with the signed token, nothing else.
    let jwt = sign_es256(&key, &claims("keyform-test"));
    let wrong_audience = sign_es256(&key, &claims("someone-else"));
    let scanner = Scanner::new(&[jwt.clone(), wrong_audience.clone()]);
    let mut leaks = Vec::new();
    let ci = Workspace::new();
    ci.write("main.hcl", &ci_configuration(&backend, &policy_name));
    let init = keyform(&ci, &["init"], Some(&jwt));
    assert_exit(&init, 0);
    let applied = keyform(&ci, &["apply", "--auto-approve"], Some(&jwt));
    leaks.extend(scanner.scan_output("apply", &applied));
    assert_exit(&applied, 0);
    let (status, body) = root("GET", &format!("sys/policies/acl/{policy_name}-made-by-ci"), None);
    assert_eq!(status, 200, "the policy written through the JWT login: {body}");
    let plan = keyform(&ci, &["plan", "--detailed-exitcode"], Some(&jwt));
    leaks.extend(scanner.scan_output("plan", &plan));
    assert_plan_empty(&plan, "no change");

    // A token for another audience is refused; the diagnostic names the login path.
    let refused = keyform(&ci, &["plan"], Some(&wrong_audience));
    leaks.extend(scanner.scan_output("refused plan", &refused));
    assert_exit(&refused, 1);
    let message = stderr(&refused);
    assert!(message.contains(&format!("auth/{backend}/login")), "{message}");
    assert!(message.contains("aud"), "Vault's reason is shown: {message}");
    assert!(message.contains("audience"), "{message}");

    let destroyed = keyform(&ci, &["destroy", "--auto-approve"], Some(&jwt));
    leaks.extend(scanner.scan_output("destroy", &destroyed));
    assert_exit(&destroyed, 0);
    leaks.extend(scanner.scan_folder(ci.path(), &[]));
    leaks.extend(scanner.scan_folder(admin.path(), &[]));
    assert!(leaks.is_empty(), "a JWT leaked: {leaks:?}");

    assert_exit(&keyform(&admin, &["destroy", "--auto-approve"], None), 0);
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
}

/// A `vault_policy` named `policy_name` whose tokens may manage the policies named `{policy_name}*`.
pub fn managing_policy(resource_name: &str, policy_name: &str) -> String {
    format!(
        r#"resource "vault_policy" "{resource_name}" {{
  name   = "{policy_name}"
  policy = <<-EOT
    path "sys/policies/acl/{policy_name}*" {{
      capabilities = ["create", "read", "update", "delete", "list"]
    }}
  EOT
}}
"#
    )
}

/// A `vault_policy` named `name` that a logged-in provider writes.
pub fn made_policy(resource_name: &str, name: &str) -> String {
    format!(
        r#"resource "vault_policy" "{resource_name}" {{
  name   = "{name}"
  policy = <<-EOT
    path "secret/data/app/*" {{
      capabilities = ["read"]
    }}
  EOT
}}
"#
    )
}

/// A local key whose every call takes longer than a Vault token of `ttl_seconds` lives, and ten
/// policies `{prefix}-late0..9` written after it, so the token a run logged in with first has
/// expired when they are written.
pub fn outlasting(prefix: &str, ttl_seconds: u64) -> String {
    let mut text = format!(
        "\nprovider \"local\" {{\n  simulated_latency_ms = {}\n}}\n\nresource \"local_key\" \"pause\" {{\n  description = \"outlasts the token\"\n}}\n",
        ttl_seconds * 1500
    );
    for index in 0..10 {
        text.push_str(&format!(
            "\nresource \"vault_policy\" \"late{index}\" {{\n  depends_on = [local_key.pause]\n  name       = \"{prefix}-late{index}\"\n  policy     = \"path \\\"secret/data/{index}\\\" {{ capabilities = [\\\"read\\\"] }}\"\n}}\n"
        ));
    }
    text
}

/// Fails unless the run that started at `started` took longer than a token of `ttl_seconds` lives.
pub fn assert_outlasted(started: std::time::Instant, ttl_seconds: u64) {
    let elapsed = started.elapsed();
    assert!(
        elapsed > std::time::Duration::from_millis(ttl_seconds * 1500),
        "the apply took {elapsed:?}: too short to outlast a {ttl_seconds}s token"
    );
}

#[tokio::test]
async fn an_apply_that_outlasts_the_jwt_login_token_logs_in_again() {
    const TTL_SECONDS: u64 = 1;
    let backend = unique("renew-jwt");
    let policy_name = unique("renew-jwt-ci");
    let (key, pem) = public_key();
    let admin = Workspace::new();
    admin.write("ci.pub", &pem);
    admin.write(
        "main.hcl",
        &backend_configuration(&backend, &policy_name, &format!("{TTL_SECONDS}s")),
    );
    assert_exit(&keyform(&admin, &["init"], None), 0);
    assert_exit(&keyform(&admin, &["apply", "--auto-approve"], None), 0);

    // The policies wait for a local key whose every call takes longer than the Vault token lives,
    // so the token the run logged in with first has expired when they are written.
    let jwt = sign_es256(&key, &claims("keyform-test"));
    let ci = Workspace::new();
    let mut configuration = ci_configuration(&backend, &policy_name);
    configuration.push_str(&outlasting(&policy_name, TTL_SECONDS));
    ci.write("main.hcl", &configuration);
    assert_exit(&keyform(&ci, &["init"], Some(&jwt)), 0);
    let started = std::time::Instant::now();
    let applied = keyform(&ci, &["apply", "--auto-approve"], Some(&jwt));
    assert_exit(&applied, 0);
    assert_outlasted(started, TTL_SECONDS);
    let (status, body) = root("GET", &format!("sys/policies/acl/{policy_name}-late9"), None);
    assert_eq!(status, 200, "the last policy was written: {body}");

    assert_exit(&keyform(&ci, &["destroy", "--auto-approve"], Some(&jwt)), 0);
    assert_exit(&keyform(&admin, &["destroy", "--auto-approve"], None), 0);
}

#[tokio::test]
async fn a_role_vault_refuses_is_a_diagnostic_naming_the_resource_the_path_and_the_reason() {
    let backend = unique("refused-jwt");
    let (_, pem) = public_key();
    let workspace = Workspace::new();
    workspace.write("ci.pub", &pem);
    workspace.write(
        "main.hcl",
        &format!(
            r#"{provider}
resource "vault_jwt_auth_backend" "ci" {{
  path                   = "{backend}"
  jwt_validation_pubkeys = [file("ci.pub")]
}}

# No role_type: Vault's default is an OIDC role, which needs redirect URIs.
resource "vault_jwt_auth_backend_role" "web" {{
  backend         = vault_jwt_auth_backend.ci.path
  role_name       = "web"
  user_claim      = "sub"
  bound_audiences = ["web"]
}}
"#,
            provider = token_provider_block()
        ),
    );
    assert_exit(&keyform(&workspace, &["init"], None), 0);
    let applied = keyform(&workspace, &["apply", "--auto-approve"], None);
    assert_exit(&applied, 1);
    let message = stderr(&applied);
    for phrase in [
        "vault_jwt_auth_backend_role.web",
        &format!("auth/{backend}/role/web"),
        "allowed_redirect_uris",
    ] {
        assert!(mentions(&message, phrase), "{phrase}: {message}");
    }
    // The backend it depends on was made and stays recorded; destroy removes it.
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"], None), 0);
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
}
