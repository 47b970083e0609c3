//! The `vault` provider against OpenBao: the shared compliance suite for
//! `vault_mount`, `vault_policy` and `vault_kv_secret_v2`, permission errors,
//! and a mount, a policy and a KV secret through the `keyform` binary, read
//! back and changed behind keyform's back with Vault's HTTP API directly
//! (`curl`, not keyform).
//!
//! Tests run in parallel against one OpenBao server: each uses its own paths.

use crate::services::{vault_address, vault_token};
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use crate::vault_support::{
    assert_plan_empty, attributes, check, configured_provider, keyform_command, mount_engine, root,
    token_provider_block, unique,
};
use keyform::provider::compliance::{Subject, run};
use keyform::provider::{
    ApplyAction, ApplyRequest, ConfigureRequest, FindRequest, ImportRequest, LiveObject, Provider, ProviderError,
    ReadRequest, ReadSecretRequest,
};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::process::Output;
use std::sync::Arc;

#[tokio::test]
async fn vault_mount_passes_the_compliance_suite() {
    let provider = configured_provider(&vault_token()).await;
    let path = unique("compliance-mount");
    let subject = Subject {
        provider,
        resource_type: "vault_mount".into(),
        attributes: attributes(serde_json::json!({
            "path": path, "type": "kv-v2", "description": "compliance", "default_lease_ttl_seconds": 3600
        })),
        secrets: BTreeMap::new(),
        update: Some(("description".into(), "changed".into())),
        missing_id: unique("no-such-mount"),
    };
    check("vault_mount", &run(&subject).await);
}

#[tokio::test]
async fn vault_policy_passes_the_compliance_suite() {
    let provider = configured_provider(&vault_token()).await;
    let subject = Subject {
        provider,
        resource_type: "vault_policy".into(),
        attributes: attributes(serde_json::json!({
            "name": unique("compliance-policy"),
            "policy": "path \"secret/data/a\" {\n  capabilities = [\"read\"]\n}\n"
        })),
        secrets: BTreeMap::new(),
        update: Some((
            "policy".into(),
            "path \"secret/data/b\" {\n  capabilities = [\"list\"]\n}\n".into(),
        )),
        missing_id: unique("no-such-policy"),
    };
    check("vault_policy", &run(&subject).await);
}

/// The compliance suite writes a random UUID as a new secret value; `data_json` must be a JSON
/// object, as `jsonencode({...})` makes it. This adapter wraps a value that is not one into
/// `{"value": ...}` before the driver sees it, as a configuration would, so the driver stays strict.
struct JsonObjectSecrets {
    inner: Arc<dyn Provider>,
}

#[async_trait::async_trait]
impl Provider for JsonObjectSecrets {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn schema(&self) -> Vec<keyform::provider::ResourceSchema> {
        self.inner.schema()
    }
    fn provider_schema(&self) -> Vec<keyform::provider::AttributeSchema> {
        self.inner.provider_schema()
    }
    async fn configure(&self, request: ConfigureRequest) -> Result<(), ProviderError> {
        self.inner.configure(request).await
    }
    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError> {
        self.inner.read(request).await
    }
    async fn apply(&self, mut request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
        for value in request.secrets.values_mut() {
            if !serde_json::from_str::<serde_json::Value>(value.expose()).is_ok_and(|json| json.is_object()) {
                *value = SensitiveString::new(serde_json::json!({ "value": value.expose() }).to_string());
            }
        }
        self.inner.apply(request).await
    }
    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError> {
        self.inner.import(request).await
    }
    async fn find_by_token(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        self.inner.find_by_token(request).await
    }
    async fn lookup_existing(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        self.inner.lookup_existing(request).await
    }
    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        self.inner.list(resource_type).await
    }
    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        self.inner.read_secret(request).await
    }
}

#[tokio::test]
async fn vault_kv_secret_v2_passes_the_compliance_suite() {
    let mount = mount_engine(serde_json::json!({ "type": "kv-v2" }), "compliance-kv");
    let provider = Arc::new(JsonObjectSecrets {
        inner: configured_provider(&vault_token()).await,
    });
    let subject = Subject {
        provider,
        resource_type: "vault_kv_secret_v2".into(),
        attributes: attributes(serde_json::json!({ "mount": mount, "name": "app/db" })),
        secrets: BTreeMap::from([(
            "data_json".to_string(),
            SensitiveString::new("{\"password\":\"first\"}"),
        )]),
        update: None,
        missing_id: format!("{mount}/data/no-such-secret"),
    };
    check("vault_kv_secret_v2", &run(&subject).await);
    root("DELETE", &format!("sys/mounts/{mount}"), None);
}

#[tokio::test]
async fn a_denied_request_names_the_capability_and_the_path() {
    let (status, body) = root(
        "POST",
        "auth/token/create",
        Some(serde_json::json!({ "policies": ["default"], "ttl": "10m" })),
    );
    assert!(status < 300, "token: {status} {body}");
    let token = body["auth"]["client_token"].as_str().expect("a token").to_string();
    let provider = configured_provider(&token).await;
    let name = unique("denied");
    let error = provider
        .apply(ApplyRequest {
            resource_type: "vault_policy".into(),
            action: ApplyAction::Create { token: "t".into() },
            id: None,
            attributes: attributes(serde_json::json!({ "name": name, "policy": "path \"a\" {}" })),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        })
        .await
        .expect_err("the default policy may not read policies");
    assert_eq!(error.code, "PermissionDenied", "{error:?}");
    assert!(
        error.message.contains(&format!("sys/policies/acl/{name}")),
        "{}",
        error.message
    );
    let help = error.help.unwrap_or_default();
    assert!(help.contains("`read` capability"), "{help}");
    assert!(help.contains(&format!("`sys/policies/acl/{name}`")), "{help}");
}

#[tokio::test]
async fn a_create_never_overwrites_what_keyform_did_not_make() {
    let mount = mount_engine(serde_json::json!({ "type": "kv-v2" }), "foreign-kv");
    let (status, body) = root(
        "POST",
        &format!("{mount}/data/app"),
        Some(serde_json::json!({ "data": { "owner": "someone else" } })),
    );
    assert!(status < 300, "secret: {status} {body}");
    let policy_name = unique("foreign-policy");
    let (status, body) = root(
        "PUT",
        &format!("sys/policies/acl/{policy_name}"),
        Some(serde_json::json!({ "policy": "path \"a\" { capabilities = [\"read\"] }" })),
    );
    assert!(status < 300, "policy: {status} {body}");
    let provider = configured_provider(&vault_token()).await;
    let create = |resource_type: &str, attributes: serde_json::Map<String, serde_json::Value>| ApplyRequest {
        resource_type: resource_type.into(),
        action: ApplyAction::Create {
            token: "a-new-token".into(),
        },
        id: None,
        attributes,
        secrets: BTreeMap::from([("data_json".to_string(), SensitiveString::new("{\"owner\":\"keyform\"}"))]),
        changed: Vec::new(),
    };
    for request in [
        create(
            "vault_mount",
            attributes(serde_json::json!({ "path": mount, "type": "kv-v2" })),
        ),
        create(
            "vault_kv_secret_v2",
            attributes(serde_json::json!({ "mount": mount, "name": "app" })),
        ),
        create(
            "vault_policy",
            attributes(serde_json::json!({ "name": policy_name, "policy": "path \"b\" {}" })),
        ),
    ] {
        let error = provider.apply(request.clone()).await.expect_err("the object exists");
        assert_eq!(error.code, "AlreadyExists", "{}: {error:?}", request.resource_type);
        let found = provider
            .lookup_existing(FindRequest {
                resource_type: request.resource_type.clone(),
                token: String::new(),
                attributes: request.attributes.clone(),
            })
            .await
            .expect("lookup");
        assert!(
            found.is_some(),
            "{} is found by name before a create",
            request.resource_type
        );
    }
    let (_, body) = root("GET", &format!("{mount}/data/app"), None);
    assert_eq!(body["data"]["data"]["owner"], "someone else");
    let (_, body) = root("GET", &format!("sys/policies/acl/{policy_name}"), None);
    assert!(
        body["data"]["policy"]
            .as_str()
            .is_some_and(|text| text.contains("\"a\""))
    );
    root("DELETE", &format!("sys/mounts/{mount}"), None);
    root("DELETE", &format!("sys/policies/acl/{policy_name}"), None);
}

#[tokio::test]
async fn a_create_token_survives_the_process_that_made_it() {
    let mount = unique("token-kv");
    let policy_name = unique("token-policy");
    let token = uuid::Uuid::new_v4().simple().to_string();
    let requests = [
        (
            "vault_mount",
            attributes(serde_json::json!({ "path": mount, "type": "kv-v2" })),
        ),
        (
            "vault_kv_secret_v2",
            attributes(serde_json::json!({ "mount": mount, "name": "db" })),
        ),
        (
            "vault_policy",
            attributes(
                serde_json::json!({ "name": policy_name, "policy": "path \"a\" {\n  capabilities = [\"read\"]\n}\n" }),
            ),
        ),
    ];
    let first = configured_provider(&vault_token()).await;
    for (resource_type, attributes) in &requests {
        first
            .apply(ApplyRequest {
                resource_type: resource_type.to_string(),
                action: ApplyAction::Create { token: token.clone() },
                id: None,
                attributes: attributes.clone(),
                secrets: BTreeMap::from([("data_json".to_string(), SensitiveString::new("{\"a\":\"b\"}"))]),
                changed: Vec::new(),
            })
            .await
            .unwrap_or_else(|error| panic!("create {resource_type}: {error}"));
    }
    // A fresh driver, as after a crash: the token is found on the objects themselves.
    let second = configured_provider(&vault_token()).await;
    for (resource_type, attributes) in &requests {
        let find = |token: String| FindRequest {
            resource_type: resource_type.to_string(),
            token,
            attributes: attributes.clone(),
        };
        let found = second.find_by_token(find(token.clone())).await.expect("find");
        assert!(found.is_some(), "{resource_type} is found by its token");
        let other = second.find_by_token(find("another".into())).await.expect("find");
        assert!(other.is_none(), "{resource_type} is not found by another token");
    }
    let (_, body) = root("GET", &format!("sys/mounts/{mount}"), None);
    assert_eq!(
        body["data"]["options"][keyform::providers::vault::MOUNT_TOKEN_OPTION],
        token.as_str()
    );
    let (_, body) = root("GET", &format!("{mount}/metadata/db"), None);
    assert_eq!(
        body["data"]["custom_metadata"][keyform::providers::vault::KV_TOKEN_KEY],
        token.as_str()
    );
    root("DELETE", &format!("sys/mounts/{mount}"), None);
    root("DELETE", &format!("sys/policies/acl/{policy_name}"), None);
}

fn configuration(mount: &str, policy_name: &str) -> String {
    format!(
        r#"{provider}
resource "vault_mount" "kv" {{
  path                      = "{mount}"
  type                      = "kv-v2"
  description               = "keyform end-to-end test"
  default_lease_ttl_seconds = "1h"
}}

resource "vault_policy" "app" {{
  name   = "{policy_name}"
  policy = <<-EOT
    path "{mount}/data/app/*" {{
      capabilities = ["read"]
    }}
  EOT
}}

resource "vault_kv_secret_v2" "db" {{
  mount     = vault_mount.kv.path
  name      = "app/db"
  data_json = jsonencode({{ user = "app", password = env("KF_VAULT_TEST_PASSWORD") }})

  custom_metadata {{
    max_versions = 5
    data = {{
      owner = "team-a"
    }}
  }}
}}
"#,
        provider = token_provider_block()
    )
}

/// Runs keyform with the test's Vault token and password in its environment.
fn keyform(workspace: &Workspace, arguments: &[&str], password: &str) -> Output {
    let output = keyform_command(workspace, arguments)
        .env("KF_VAULT_TEST_TOKEN", vault_token())
        .env("KF_VAULT_TEST_PASSWORD", password)
        .output()
        .expect("run keyform");
    assert!(
        !stdout(&output).contains(password) && !stderr(&output).contains(password),
        "keyform printed the secret"
    );
    output
}

fn current_version(mount: &str) -> u64 {
    let (status, body) = root("GET", &format!("{mount}/metadata/app/db"), None);
    assert_eq!(status, 200, "{body}");
    body["data"]["current_version"].as_u64().expect("a version")
}

#[tokio::test]
async fn a_mount_a_policy_and_a_kv_secret_live_through_drift_and_destroy() {
    let mount = unique("e2e-kv");
    let policy_name = unique("e2e-app");
    let password = unique("pw");
    let workspace = Workspace::new();
    workspace.write("main.hcl", &configuration(&mount, &policy_name));
    assert_exit(&keyform(&workspace, &["init"], &password), 0);
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"], &password), 0);

    // Read back through Vault's API, not through keyform.
    let (status, body) = root("GET", &format!("sys/mounts/{mount}"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["type"], "kv");
    assert_eq!(body["data"]["options"]["version"], "2");
    assert_eq!(body["data"]["config"]["default_lease_ttl"], 3600);
    let (status, body) = root("GET", &format!("sys/policies/acl/{policy_name}"), None);
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["policy"]
            .as_str()
            .is_some_and(|text| text.contains(&format!("{mount}/data/app/*"))),
        "{body}"
    );
    let (status, body) = root("GET", &format!("{mount}/data/app/db"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["password"], password.as_str());
    assert_eq!(body["data"]["data"]["user"], "app");
    assert_eq!(current_version(&mount), 1);
    let (_, body) = root("GET", &format!("{mount}/metadata/app/db"), None);
    assert_eq!(body["data"]["max_versions"], 5);
    assert_eq!(body["data"]["custom_metadata"]["owner"], "team-a");
    for file in ["state.json", "state.journal"] {
        let text = std::fs::read_to_string(workspace.state_folder().join(file)).unwrap_or_default();
        assert!(!text.contains(&password), "{file} holds the secret");
    }

    // `secret get` reads the data on explicit request (and only there is the value printed).
    let output = workspace
        .command(&["secret", "get", "vault_kv_secret_v2.db", "--attribute", "data_json"])
        .env("KF_VAULT_TEST_TOKEN", vault_token())
        .env("KF_VAULT_TEST_PASSWORD", &password)
        .output()
        .expect("run keyform");
    assert_exit(&output, 0);
    let printed: serde_json::Value = serde_json::from_str(stdout(&output).trim()).expect("the data as JSON");
    assert_eq!(printed["password"], password.as_str());

    // No perpetual diff: not the policy, not kv-v2 against kv version 2, not the TTL written as "1h".
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], &password);
    assert_plan_empty(&plan, "a second plan is empty");

    // A policy edited behind keyform's back shows in the plan, and apply restores it.
    let (status, body) = root(
        "PUT",
        &format!("sys/policies/acl/{policy_name}"),
        Some(serde_json::json!({ "policy": "path \"sys/*\" { capabilities = [\"sudo\", \"read\"] }" })),
    );
    assert!(status < 300, "{body}");
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], &password);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(mentions(&stdout(&plan), "vault_policy.app"), "{}", stdout(&plan));
    assert!(mentions(&stdout(&plan), "sudo"), "{}", stdout(&plan));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"], &password), 0);
    let (_, body) = root("GET", &format!("sys/policies/acl/{policy_name}"), None);
    let restored = body["data"]["policy"].as_str().unwrap_or_default().to_string();
    assert!(
        restored.contains(&format!("{mount}/data/app/*")) && !restored.contains("sudo"),
        "{restored}"
    );
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], &password);
    assert_plan_empty(&plan, "no change");

    // A version written behind keyform's back is found from the metadata alone, and apply restores the value.
    let (status, body) = root(
        "POST",
        &format!("{mount}/data/app/db"),
        Some(serde_json::json!({ "data": { "password": "changed-outside" } })),
    );
    assert!(status < 300, "{body}");
    assert_eq!(current_version(&mount), 2);
    let (status, body) = root(
        "POST",
        &format!("{mount}/metadata/app/db"),
        Some(serde_json::json!({ "max_versions": 7 })),
    );
    assert!(status < 300, "{body}");
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], &password);
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(mentions(&stdout(&plan), "written outside keyform"), "{}", stdout(&plan));
    assert!(mentions(&stdout(&plan), "max_versions"), "{}", stdout(&plan));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"], &password), 0);
    assert_eq!(current_version(&mount), 3);
    let (_, body) = root("GET", &format!("{mount}/metadata/app/db"), None);
    assert_eq!(body["data"]["max_versions"], 5);
    assert_eq!(body["data"]["custom_metadata"]["owner"], "team-a");
    let (_, body) = root("GET", &format!("{mount}/data/app/db"), None);
    assert_eq!(body["data"]["data"]["password"], password.as_str());
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"], &password);
    assert_plan_empty(&plan, "no change");

    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"], &password), 0);
    let (status, _) = root("GET", &format!("sys/mounts/{mount}"), None);
    assert!(status >= 400, "the mount is gone");
    let (status, _) = root("GET", &format!("sys/policies/acl/{policy_name}"), None);
    assert_eq!(status, 404, "the policy is gone");
}

#[test]
fn a_refused_or_unreachable_server_is_a_diagnostic() {
    let workspace = Workspace::new();
    let resource = "resource \"vault_policy\" \"p\" {\n  name   = \"p\"\n  policy = \"path \\\"a\\\" {}\"\n}\n";
    // Plans `provider_block` with the resource; the run's stderr.
    let plan_with = |provider_block: &str| {
        workspace.write("main.hcl", &format!("{provider_block}\n{resource}"));
        let output = workspace
            .command(&["plan"])
            .env("VAULT_TOKEN", "not-used")
            .output()
            .expect("run keyform");
        assert_exit(&output, 1);
        stderr(&output)
    };
    assert_exit(&workspace.run(&["init"]), 0);
    let refused = plan_with(
        "provider \"vault\" {\n  address         = \"https://vault.example.com:8200\"\n  skip_tls_verify = true\n}\n",
    );
    assert!(mentions(&refused, "skip_tls_verify is refused"), "{refused}");

    let unreachable = plan_with("provider \"vault\" {\n  address = \"http://127.0.0.1:9\"\n}\n");
    assert!(
        mentions(&unreachable, "could not be sent to http://127.0.0.1:9"),
        "{unreachable}"
    );
    assert!(!unreachable.contains("not-used"), "the token is never printed");
}

#[test]
fn the_example_validates() {
    let workspace = Workspace::copy_of("examples/vault");
    let output = workspace
        .command(&["validate"])
        .env("VAULT_ADDR", vault_address())
        .env("VAULT_TOKEN", vault_token())
        .env("APP_DB_PASSWORD", "example-value")
        .output()
        .expect("run keyform");
    assert_exit(&output, 0);
}
