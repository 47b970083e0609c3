//! The `vault` provider's Kubernetes auth against OpenBao, without a
//! cluster: the test serves a minimal TokenReview endpoint on loopback
//! (`POST /apis/authentication.k8s.io/v1/tokenreviews`) that approves one
//! service account's token. keyform configures the auth method
//! (`vault_kubernetes_auth_backend_config`, with the reviewer token a value
//! source, and `vault_kubernetes_auth_backend_role`); a login through
//! Vault's API (`curl`) with the approved account's token gets the role's
//! policies and TTL, one with another account's token is refused; and a
//! provider that logs in through `kubernetes { role, jwt_file }` applies a
//! policy. Changing the reviewer token's source writes it again. A
//! configuration and a role made outside keyform are imported, and a
//! reviewer token removed outside keyform is drift. A pod token rotated in
//! its file during a long apply is read again at the next login. Also the
//! compliance suite for both types. No token appears in any file of the
//! workspaces or in any output.

use crate::canary::{Scanner, canary};
use crate::services::{vault_address, vault_token};
use crate::support::{Workspace, assert_exit, code, stderr, stdout};
use crate::vault_jwt::{assert_outlasted, made_policy, managing_policy, now, outlasting, sign_es256};
use crate::vault_support::{
    assert_plan_empty, check_compliance, enable_auth, keyform_command, login_policies, root, token_provider_block,
    unique, vault,
};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

/// A service account: its namespace, name and uid.
#[derive(Debug, Clone)]
struct Account {
    namespace: String,
    name: String,
    uid: String,
}

impl Account {
    fn new(namespace: &str, name: &str) -> Account {
        Account {
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// A service-account token as the API server issues it (ES256; Vault reads its claims).
    fn token(&self, key: &rcgen::KeyPair) -> String {
        let issued = now();
        sign_es256(
            key,
            &serde_json::json!({
                "iss": "kubernetes/serviceaccount",
                "sub": format!("system:serviceaccount:{}:{}", self.namespace, self.name),
                "aud": ["vault"],
                "iat": issued,
                "nbf": issued - 5,
                "exp": issued + 600,
                "kubernetes.io/serviceaccount/namespace": self.namespace,
                "kubernetes.io/serviceaccount/service-account.name": self.name,
                "kubernetes.io/serviceaccount/service-account.uid": self.uid,
                "kubernetes.io/serviceaccount/secret.name": format!("{}-token", self.name),
                "jti": uuid::Uuid::new_v4().to_string(),
            }),
        )
    }
}

/// What the TokenReview endpoint knows and saw.
#[derive(Default)]
struct Reviews {
    approved: BTreeMap<String, Account>,
    /// The reviewer tokens Vault sent, in order.
    reviewers: Vec<String>,
    /// The service-account tokens reviewed, in order.
    reviewed: Vec<String>,
    /// Tokens rotated at their first review, as the kubelet rotates a pod's token: the file
    /// that holds it and the token that replaces it there (the old one is refused from then on).
    rotations: BTreeMap<String, (PathBuf, String)>,
}

impl Reviews {
    /// Whether `token` is approved now, rotating it if it is due.
    fn review(&mut self, token: &str) -> Option<Account> {
        self.reviewed.push(token.to_string());
        let account = self.approved.get(token).cloned();
        if let Some((file, next)) = self.rotations.remove(token) {
            self.approved.remove(token);
            let staged = file.with_extension("next");
            std::fs::write(&staged, &next).expect("write the rotated token");
            std::fs::rename(&staged, &file).expect("replace the token file");
        }
        account
    }
}

/// The TokenReview endpoint: approves the tokens it was given, records what it saw.
struct TokenReviewer {
    address: String,
    reviews: Arc<Mutex<Reviews>>,
}

impl TokenReviewer {
    fn start() -> TokenReviewer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let reviews: Arc<Mutex<Reviews>> = Arc::default();
        let shared = reviews.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // A connection that fails mid-way fails only the login that made it.
                let _ = answer(stream, &shared);
            }
        });
        TokenReviewer { address, reviews }
    }

    fn reviews(&self) -> std::sync::MutexGuard<'_, Reviews> {
        self.reviews.lock().expect("the reviews")
    }

    fn approve(&self, token: &str, account: &Account) {
        self.reviews().approved.insert(token.to_string(), account.clone());
    }

    fn reviewers(&self) -> Vec<String> {
        self.reviews().reviewers.clone()
    }
}

/// Answers one TokenReview request and closes the connection.
fn answer(stream: TcpStream, reviews: &Mutex<Reviews>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "authorization" => reviews
                .lock()
                .expect("the reviews")
                .reviewers
                .push(value.trim().trim_start_matches("Bearer ").to_string()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let review: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let status = if !request_line.starts_with("POST /apis/authentication.k8s.io/v1/tokenreviews") {
        serde_json::json!({ "authenticated": false, "error": format!("unexpected request {request_line}") })
    } else {
        match review["spec"]["token"]
            .as_str()
            .and_then(|token| reviews.lock().expect("the reviews").review(token))
        {
            Some(account) => serde_json::json!({
                "authenticated": true,
                "user": {
                    "username": format!("system:serviceaccount:{}:{}", account.namespace, account.name),
                    "uid": account.uid,
                    "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{}", account.namespace)],
                },
                "audiences": review["spec"]["audiences"].clone(),
            }),
            None => serde_json::json!({ "authenticated": false, "error": "the token is not valid" }),
        }
    };
    let text = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "status": status,
    })
    .to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()
}

/// A PEM certificate for `kubernetes_ca_cert` (Vault wants one; the http:// host never uses it).
fn ca_certificate() -> String {
    rcgen::generate_simple_self_signed(vec!["kubernetes.test".to_string()])
        .expect("a self-signed certificate")
        .cert
        .pem()
}

#[tokio::test]
async fn vault_kubernetes_auth_backend_config_passes_the_compliance_suite() {
    let backend = enable_auth("kubernetes", "compliance-k8s-config");
    check_compliance(
        "vault_kubernetes_auth_backend_config",
        serde_json::json!({
            "backend": backend,
            "kubernetes_host": "http://127.0.0.1:1",
            "kubernetes_ca_cert": ca_certificate(),
            "disable_local_ca_jwt": true,
        }),
        None,
        format!("auth/{}/config", unique("no-such-k8s")),
    )
    .await;
    // Vault cannot delete a configuration: the one left is inert.
    let (_, body) = root("GET", &format!("auth/{backend}/config"), None);
    assert_eq!(
        body["data"]["kubernetes_host"], "https://keyform-deleted.invalid",
        "{body}"
    );
    assert_eq!(body["data"]["token_reviewer_jwt_set"], false, "{body}");
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

#[tokio::test]
async fn vault_kubernetes_auth_backend_role_passes_the_compliance_suite() {
    let backend = enable_auth("kubernetes", "compliance-k8s-role");
    check_compliance(
        "vault_kubernetes_auth_backend_role",
        serde_json::json!({
            "backend": backend,
            "role_name": "app",
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": ["prod", "staging"],
            "audience": "vault",
            "token_policies": ["default", "app"],
            "token_ttl": 3600,
        }),
        Some(("token_ttl".into(), 7200.into())),
        format!("auth/{backend}/role/no-such-role"),
    )
    .await;
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

fn admin_configuration(backend: &str, host: &str, namespace: &str, policy_name: &str, token_ttl: &str) -> String {
    format!(
        r#"{provider}
resource "vault_auth_backend" "k8s" {{
  type = "kubernetes"
  path = "{backend}"
}}

resource "vault_kubernetes_auth_backend_config" "k8s" {{
  backend              = vault_auth_backend.k8s.path
  kubernetes_host      = "{host}"
  kubernetes_ca_cert   = file("ca.pem")
  token_reviewer_jwt   = env("KF_TEST_REVIEWER_JWT")
  disable_local_ca_jwt = true
}}

{manager}
resource "vault_kubernetes_auth_backend_role" "app" {{
  backend                          = vault_auth_backend.k8s.path
  role_name                        = "app"
  bound_service_account_names      = ["app"]
  bound_service_account_namespaces = ["{namespace}"]
  audience                         = "vault"
  token_ttl                        = "{token_ttl}"
  token_policies                   = [vault_policy.app.name, "default"]
}}
"#,
        provider = token_provider_block(),
        manager = managing_policy("app", policy_name),
    )
}

fn pod_configuration(backend: &str, jwt_file: &std::path::Path, policy_name: &str) -> String {
    format!(
        r#"provider "vault" {{
  address = "{address}"

  kubernetes {{
    role     = "app"
    jwt_file = "{jwt_file}"
    mount    = "{backend}"
  }}
}}

{made}"#,
        address = vault_address(),
        jwt_file = jwt_file.display(),
        made = made_policy("made_by_pod", &format!("{policy_name}-made-by-pod")),
    )
}

/// Runs keyform with the root token and a reviewer token (admin), or with no token at all (the pod).
fn keyform(workspace: &Workspace, arguments: &[&str], reviewer: Option<&str>) -> Output {
    let mut command = keyform_command(workspace, arguments);
    command.env("RUST_LOG", "trace");
    if let Some(reviewer) = reviewer {
        command
            .env("KF_VAULT_TEST_TOKEN", vault_token())
            .env("KF_TEST_REVIEWER_JWT", reviewer);
    }
    command.output().expect("run keyform")
}

#[tokio::test]
async fn a_kubernetes_service_account_logs_in_and_the_provider_applies_with_it() {
    let reviewers = TokenReviewer::start();
    let backend = unique("e2e-k8s");
    let namespace = unique("ns");
    let policy_name = unique("e2e-k8s-app");
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    let app = Account::new(&namespace, "app");
    let app_token = app.token(&key);
    reviewers.approve(&app_token, &app);
    let intruder_token = Account::new(&namespace, "intruder").token(&key);
    let (first_reviewer, second_reviewer) = (canary(), canary());
    let scanner = Scanner::new(&[
        first_reviewer.clone(),
        second_reviewer.clone(),
        app_token.clone(),
        intruder_token.clone(),
    ]);
    let mut leaks = Vec::new();

    let admin = Workspace::new();
    admin.write("ca.pem", &ca_certificate());
    admin.write(
        "main.hcl",
        &admin_configuration(&backend, &reviewers.address, &namespace, &policy_name, "1h"),
    );
    assert_exit(&keyform(&admin, &["init"], Some(&first_reviewer)), 0);
    let applied = keyform(&admin, &["apply", "--auto-approve"], Some(&first_reviewer));
    leaks.extend(scanner.scan_output("admin apply", &applied));
    assert_exit(&applied, 0);
    let plan = keyform(&admin, &["plan", "--detailed-exitcode"], Some(&first_reviewer));
    leaks.extend(scanner.scan_output("admin plan", &plan));
    assert_plan_empty(&plan, "a second plan is empty");
    let (_, body) = root("GET", &format!("auth/{backend}/config"), None);
    assert_eq!(body["data"]["kubernetes_host"], reviewers.address.as_str(), "{body}");
    assert_eq!(body["data"]["token_reviewer_jwt_set"], true, "{body}");

    // The approved account logs in (through Vault's API, not keyform) with the role's policies and TTL;
    // Vault reviewed its token with the configured reviewer token.
    let login = |token: &str| {
        vault(
            "POST",
            &format!("auth/{backend}/login"),
            Some(serde_json::json!({ "role": "app", "jwt": token })),
            None,
        )
    };
    let (status, body) = login(&app_token);
    assert_eq!(status, 200, "login: {body}");
    assert_eq!(body["auth"]["lease_duration"], 3600, "{body}");
    let policies = login_policies(&body);
    assert!(policies.contains(&policy_name), "{policies:?}");
    assert_eq!(body["auth"]["metadata"]["service_account_name"], "app", "{body}");
    assert!(
        reviewers.reviewers().contains(&first_reviewer),
        "Vault reviewed with the configured token"
    );
    let (status, body) = login(&intruder_token);
    assert!(status >= 400, "another account is refused: {status} {body}");

    // A pod's provider logs in with its service-account token file and applies.
    let pod_files = tempfile::tempdir().expect("a folder outside the workspace");
    let jwt_file = pod_files.path().join("token");
    std::fs::write(&jwt_file, format!("{app_token}\n")).expect("write the token file");
    let pod = Workspace::new();
    pod.write("main.hcl", &pod_configuration(&backend, &jwt_file, &policy_name));
    assert_exit(&keyform(&pod, &["init"], None), 0);
    let applied = keyform(&pod, &["apply", "--auto-approve"], None);
    leaks.extend(scanner.scan_output("pod apply", &applied));
    assert_exit(&applied, 0);
    let (status, body) = root("GET", &format!("sys/policies/acl/{policy_name}-made-by-pod"), None);
    assert_eq!(status, 200, "the policy written through the Kubernetes login: {body}");

    // Another account's token in the file is refused with a diagnostic naming the login path.
    std::fs::write(&jwt_file, &intruder_token).expect("write the token file");
    let refused = keyform(&pod, &["plan"], None);
    leaks.extend(scanner.scan_output("pod refused", &refused));
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains(&format!("auth/{backend}/login")),
        "{}",
        stderr(&refused)
    );
    std::fs::write(&jwt_file, &app_token).expect("write the token file");

    // A new reviewer token from the same source name is a change, and is written.
    let plan = keyform(&admin, &["plan", "--detailed-exitcode"], Some(&second_reviewer));
    leaks.extend(scanner.scan_output("admin plan with a new reviewer", &plan));
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("token_reviewer_jwt"), "{}", stdout(&plan));
    let applied = keyform(&admin, &["apply", "--auto-approve"], Some(&second_reviewer));
    leaks.extend(scanner.scan_output("admin apply with a new reviewer", &applied));
    assert_exit(&applied, 0);
    let (status, body) = login(&app_token);
    assert_eq!(status, 200, "login: {body}");
    assert_eq!(
        reviewers.reviewers().last(),
        Some(&second_reviewer),
        "the new reviewer token was sent"
    );

    let destroyed = keyform(&pod, &["destroy", "--auto-approve"], None);
    leaks.extend(scanner.scan_output("pod destroy", &destroyed));
    assert_exit(&destroyed, 0);
    let destroyed = keyform(&admin, &["destroy", "--auto-approve"], Some(&second_reviewer));
    leaks.extend(scanner.scan_output("admin destroy", &destroyed));
    assert_exit(&destroyed, 0);
    leaks.extend(scanner.scan_folder(admin.path(), &[]));
    leaks.extend(scanner.scan_folder(pod.path(), &[]));
    assert!(leaks.is_empty(), "a token leaked: {leaks:?}");
    let (status, _) = root("GET", &format!("sys/auth/{backend}"), None);
    assert!(status >= 400, "the auth method is gone");
}

#[tokio::test]
async fn a_configuration_and_role_made_outside_keyform_are_imported_and_a_removed_reviewer_token_is_drift() {
    let backend = enable_auth("kubernetes", "import-k8s");
    let ca = ca_certificate();
    let (outside_reviewer, reviewer) = (canary(), canary());
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/config"),
        Some(serde_json::json!({
            "kubernetes_host": "http://127.0.0.1:1",
            "kubernetes_ca_cert": ca,
            "disable_local_ca_jwt": true,
            "token_reviewer_jwt": outside_reviewer,
        })),
    );
    assert!(status < 300, "{status} {body}");
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/role/app"),
        Some(serde_json::json!({
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": ["prod"],
            "token_ttl": "1h",
        })),
    );
    assert!(status < 300, "{status} {body}");

    let workspace = Workspace::new();
    workspace.write("ca.pem", &ca);
    workspace.write(
        "main.hcl",
        &format!(
            r#"{provider}
resource "vault_kubernetes_auth_backend_config" "k8s" {{
  backend              = "{backend}"
  kubernetes_host      = "http://127.0.0.1:1"
  kubernetes_ca_cert   = file("ca.pem")
  token_reviewer_jwt   = env("KF_TEST_REVIEWER_JWT")
  disable_local_ca_jwt = true
}}

resource "vault_kubernetes_auth_backend_role" "app" {{
  backend                          = "{backend}"
  role_name                        = "app"
  bound_service_account_names      = ["app"]
  bound_service_account_namespaces = ["prod"]
  token_ttl                        = 3600
}}
"#,
            provider = token_provider_block()
        ),
    );
    let scanner = Scanner::new(&[outside_reviewer.clone(), reviewer.clone()]);
    let mut leaks = Vec::new();
    let mut run = |arguments: &[&str]| {
        let output = keyform(&workspace, arguments, Some(&reviewer));
        leaks.extend(scanner.scan_output(&arguments.join(" "), &output));
        output
    };
    assert_exit(&run(&["init"]), 0);
    assert_exit(
        &run(&[
            "import",
            "vault_kubernetes_auth_backend_config.k8s",
            &format!("auth/{backend}/config"),
        ]),
        0,
    );
    assert_exit(
        &run(&[
            "import",
            "vault_kubernetes_auth_backend_role.app",
            &format!("auth/{backend}/role/app"),
        ]),
        0,
    );
    // Only the reviewer token differs: keyform cannot know the imported one, so it writes its own.
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("token_reviewer_jwt"), "{}", stdout(&plan));
    assert!(
        !stdout(&plan).contains("token_ttl"),
        "the role matches: {}",
        stdout(&plan)
    );
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_plan_empty(&plan, "no change");

    // The reviewer token removed outside keyform is drift, and apply writes it again.
    let (status, body) = root(
        "POST",
        &format!("auth/{backend}/config"),
        Some(
            serde_json::json!({ "kubernetes_host": "http://127.0.0.1:1", "kubernetes_ca_cert": ca, "disable_local_ca_jwt": true }),
        ),
    );
    assert!(status < 300, "{status} {body}");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("outside keyform"), "{}", stdout(&plan));
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let (_, body) = root("GET", &format!("auth/{backend}/config"), None);
    assert_eq!(body["data"]["token_reviewer_jwt_set"], true, "{body}");

    // Destroying leaves an inert configuration (Vault cannot delete one) and no role.
    assert_exit(&run(&["destroy", "--auto-approve"]), 0);
    let (_, body) = root("GET", &format!("auth/{backend}/config"), None);
    assert_eq!(
        body["data"]["kubernetes_host"], "https://keyform-deleted.invalid",
        "{body}"
    );
    assert_eq!(body["data"]["token_reviewer_jwt_set"], false, "{body}");
    let (status, _) = root("GET", &format!("auth/{backend}/role/app"), None);
    assert_eq!(status, 404, "the role is gone");
    leaks.extend(scanner.scan_folder(workspace.path(), &[]));
    assert!(leaks.is_empty(), "a reviewer token leaked: {leaks:?}");
    root("DELETE", &format!("sys/auth/{backend}"), None);
}

#[tokio::test]
async fn the_pod_token_file_is_read_again_at_each_login() {
    const TTL_SECONDS: u64 = 1;
    let reviewers = TokenReviewer::start();
    let backend = unique("renew-k8s");
    let namespace = unique("ns");
    let policy_name = unique("renew-k8s-app");
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    let app = Account::new(&namespace, "app");
    let (first, rotated) = (app.token(&key), app.token(&key));
    let pod_files = tempfile::tempdir().expect("a folder outside the workspace");
    let jwt_file = pod_files.path().join("token");
    std::fs::write(&jwt_file, &first).expect("write the token file");
    reviewers.approve(&first, &app);
    reviewers.approve(&rotated, &app);
    // The first review of the first token rotates it: the file then holds another token, and
    // the first is refused.
    reviewers
        .reviews()
        .rotations
        .insert(first.clone(), (jwt_file.clone(), rotated.clone()));

    let admin = Workspace::new();
    admin.write("ca.pem", &ca_certificate());
    admin.write(
        "main.hcl",
        &admin_configuration(
            &backend,
            &reviewers.address,
            &namespace,
            &policy_name,
            &format!("{TTL_SECONDS}s"),
        ),
    );
    let reviewer = canary();
    assert_exit(&keyform(&admin, &["init"], Some(&reviewer)), 0);
    assert_exit(&keyform(&admin, &["apply", "--auto-approve"], Some(&reviewer)), 0);

    let pod = Workspace::new();
    let mut configuration = pod_configuration(&backend, &jwt_file, &policy_name);
    configuration.push_str(&outlasting(&policy_name, TTL_SECONDS));
    pod.write("main.hcl", &configuration);
    assert_exit(&keyform(&pod, &["init"], None), 0);
    let started = std::time::Instant::now();
    assert_exit(&keyform(&pod, &["apply", "--auto-approve"], None), 0);
    assert_outlasted(started, TTL_SECONDS);
    let (status, body) = root("GET", &format!("sys/policies/acl/{policy_name}-late9"), None);
    assert_eq!(status, 200, "the last policy was written: {body}");
    let reviewed = reviewers.reviews().reviewed.clone();
    assert_eq!(
        reviewed.iter().filter(|token| **token == first).count(),
        1,
        "the first token was used once"
    );
    assert!(
        reviewed.contains(&rotated),
        "a later login read the rotated token from the file"
    );

    assert_exit(&keyform(&pod, &["destroy", "--auto-approve"], None), 0);
    assert_exit(&keyform(&admin, &["destroy", "--auto-approve"], Some(&reviewer)), 0);
}
