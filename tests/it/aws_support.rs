//! What every AWS test shares: moto's region and credentials, unique names,
//! SDK clients of the test's own, the driver configured as the core does it,
//! and running the binary with nothing of the caller's AWS environment.

use crate::support::{Workspace, assert_exit, code, stderr, stdout};
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use keyform::provider::compliance::{Subject, report, run};
use keyform::provider::{ApplyAction, ApplyRequest, Attributes, ConfigureRequest, Provider};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;

pub const REGION: &str = "us-east-1";
/// moto accepts any credentials; these never reach AWS.
pub const TEST_KEY: &str = "testing";

/// `label` with a random suffix, so tests sharing one moto never collide.
pub fn unique(label: &str) -> String {
    format!("{label}-{}", uuid::Uuid::new_v4().simple())
}

/// A KMS client of the test's own, to look at what keyform did.
pub fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    kms_client_as(endpoint, TEST_KEY, TEST_KEY)
}

/// A KMS client that signs with the given access key.
pub fn kms_client_as(endpoint: &str, access_key: &str, secret_key: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "keyform-tests"))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// A Secrets Manager client of the test's own.
pub fn secrets_manager_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(TEST_KEY, TEST_KEY, None, None, "keyform-tests"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The driver, configured through `Provider::configure` as the core does it.
pub async fn configured_provider(endpoint: &str) -> Arc<dyn Provider> {
    configured_provider_with(endpoint, Attributes::new()).await
}

/// [`configured_provider`] with more provider attributes (`assume_role`, `rate_limits`).
pub async fn configured_provider_with(endpoint: &str, mut attributes: Attributes) -> Arc<dyn Provider> {
    let provider = keyform::providers::registry("aws").expect("the aws provider is registered");
    attributes.insert("region".into(), REGION.into());
    attributes.insert("endpoint_url".into(), endpoint.into());
    attributes.insert("access_key".into(), TEST_KEY.into());
    provider
        .configure(ConfigureRequest {
            folder: std::env::temp_dir(),
            attributes,
            secrets: BTreeMap::from([("secret_key".to_string(), SensitiveString::new(TEST_KEY))]),
        })
        .await
        .expect("configure the aws provider");
    provider
}

/// Runs keyform with the test credentials in its environment, and nothing else of AWS's.
pub fn keyform(workspace: &Workspace, arguments: &[&str]) -> Output {
    keyform_with(workspace, arguments, &[])
}

/// [`keyform`] with extra environment variables.
pub fn keyform_with(workspace: &Workspace, arguments: &[&str], environment: &[(&str, &str)]) -> Output {
    keyform_command(workspace, arguments, environment)
        .output()
        .expect("run keyform")
}

/// The keyform command [`keyform_with`] runs, to start it another way (spawn and kill it).
pub fn keyform_command(workspace: &Workspace, arguments: &[&str], environment: &[(&str, &str)]) -> Command {
    let mut command = workspace.command(arguments);
    for variable in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_STS",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ] {
        command.env_remove(variable);
    }
    command
        .env("AWS_ACCESS_KEY_ID", TEST_KEY)
        .env("AWS_SECRET_ACCESS_KEY", TEST_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(environment.iter().copied());
    command
}

/// The value of one root output, after checking the command succeeded.
pub fn output(workspace: &Workspace, name: &str) -> String {
    let shown = keyform(workspace, &["output", name]);
    assert_exit(&shown, 0);
    stdout(&shown).trim().to_string()
}

/// Fails with the plan when a `plan --detailed-exitcode` would change something.
#[track_caller]
pub fn assert_plan_is_empty(workspace: &Workspace) {
    assert_plan_is_empty_with(workspace, &[]);
}

/// [`assert_plan_is_empty`] with extra environment variables (the value sources of the configuration).
#[track_caller]
pub fn assert_plan_is_empty_with(workspace: &Workspace, environment: &[(&str, &str)]) {
    let plan = keyform_with(workspace, &["plan", "--detailed-exitcode"], environment);
    assert_eq!(code(&plan), 0, "the plan is empty:\n{}{}", stdout(&plan), stderr(&plan));
}

/// The text of a `plan --detailed-exitcode`, after checking it would change something.
#[track_caller]
pub fn planned_changes(workspace: &Workspace) -> String {
    let plan = keyform(workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        code(&plan),
        2,
        "the plan changes something:\n{}{}",
        stdout(&plan),
        stderr(&plan)
    );
    stdout(&plan)
}

/// `resources` after the provider block that points at moto.
pub fn with_provider(endpoint: &str, resources: &str) -> String {
    format!("provider \"aws\" {{\n  region       = \"{REGION}\"\n  endpoint_url = \"{endpoint}\"\n}}\n\n{resources}")
}

/// A workspace holding `configuration` as `main.hcl`, initialized and applied.
#[track_caller]
pub fn applied(configuration: &str) -> Workspace {
    let workspace = Workspace::initialized(configuration);
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    workspace
}

/// A driver-level apply of `resource_type` with no secrets and no changed attributes.
pub fn apply_request(
    resource_type: &str,
    action: ApplyAction,
    id: Option<String>,
    attributes: Attributes,
) -> ApplyRequest {
    ApplyRequest {
        resource_type: resource_type.into(),
        action,
        id,
        attributes,
        secrets: BTreeMap::new(),
        changed: Vec::new(),
    }
}

/// Runs the shared compliance suite on `subject`; fails unless every case ran and passed. Returns the report.
pub async fn assert_compliance(subject: &Subject) -> String {
    let results = run(subject).await;
    let (text, passed) = report(&subject.resource_type, &results);
    println!("{text}");
    assert!(passed, "{text}");
    assert!(results.len() >= 12, "every case ran:\n{text}");
    text
}

/// `text` percent-encoded for a form body.
pub fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The current version id and string of a secret, read with the SDK.
pub async fn current_value(client: &aws_sdk_secretsmanager::Client, id: &str) -> (String, String) {
    let value = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .expect("GetSecretValue");
    (
        value.version_id().expect("a version id").to_string(),
        value.secret_string().expect("a string").to_string(),
    )
}
