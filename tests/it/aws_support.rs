//! What every AWS test shares: moto's region and credentials, unique names,
//! SDK clients of the test's own, the driver configured as the core does it,
//! and running the binary with nothing of the caller's AWS environment.

use crate::support::{Workspace, assert_exit, code, stderr, stdout};
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use keyform::provider::{ConfigureRequest, Provider};
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

fn credentials() -> Credentials {
    Credentials::new(TEST_KEY, TEST_KEY, None, None, "keyform-tests")
}

/// A KMS client of the test's own, to look at what keyform did.
pub fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// A Secrets Manager client of the test's own.
pub fn secrets_manager_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The driver, configured through `Provider::configure` as the core does it.
pub async fn configured_provider(endpoint: &str) -> Arc<dyn Provider> {
    let provider = keyform::providers::registry("aws").expect("the aws provider is registered");
    let mut attributes = serde_json::Map::new();
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
    let plan = keyform(workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "the plan is empty:\n{}{}", stdout(&plan), stderr(&plan));
}
