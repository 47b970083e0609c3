//! `aws_secretsmanager_secret` against moto server: the shared compliance
//! suite, a secret's whole life through the `keyform` binary read back with
//! the AWS SDK directly (drift, restore, destroy, recover from pending
//! deletion), rotation through a Lambda (a version the rotation adds is not
//! drift), and a canary value from `env()` that never appears in any file or
//! output of a run.
//!
//! Tests run in parallel against one moto server, so none resets it: each
//! uses its own names.

use crate::aws_support::{
    REGION, TEST_KEY, applied, apply_request, assert_compliance, assert_plan_is_empty, assert_plan_is_empty_with,
    configured_provider, current_value, keyform, keyform_with, output, percent_encoded, planned_changes,
    secrets_manager_client, unique, with_provider,
};
use crate::canary::Scanner;
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::SecretVersionsListEntry;
use keyform::provider::compliance::Subject;
use keyform::provider::{ApplyAction, ApplyRequest};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

/// moto's account.
const ACCOUNT: &str = "123456789012";
/// A zip holding `index.py` with a handler that returns its event; moto does not run it.
const LAMBDA_ZIP: &str = "UEsDBBQAAAAAAEUVel20CHBpLgAAAC4AAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihldmVudCwgY29udGV4dCk6CiAgICByZXR1cm4gZXZlbnQKUEsBAhQDFAAAAAAARRV6XbQIcGkuAAAALgAAAAgAAAAAAAAAAAAAAIABAAAAAGluZGV4LnB5UEsFBgAAAAABAAEANgAAAFQAAAAAAA==";

#[tokio::test]
async fn aws_secretsmanager_secret_passes_the_compliance_suite() {
    let endpoint = aws_endpoint();
    let provider = configured_provider(&endpoint).await;
    let name = unique("compliance");
    let mut attributes = serde_json::Map::new();
    attributes.insert("name".into(), name.clone().into());
    attributes.insert("description".into(), "compliance".into());
    attributes.insert("recovery_window_in_days".into(), 7.into());
    attributes.insert("tags".into(), serde_json::json!({ "suite": name }));
    let subject = Subject {
        provider,
        resource_type: "aws_secretsmanager_secret".into(),
        attributes,
        secrets: BTreeMap::from([(
            "value".to_string(),
            SensitiveString::new(uuid::Uuid::new_v4().to_string()),
        )]),
        update: Some(("description".into(), "compliance, changed".into())),
        missing_id: unique("missing"),
    };
    let text = assert_compliance(&subject).await;
    assert!(
        !text.contains("not supported"),
        "every case applies to a secret:\n{text}"
    );
}

fn secret_configuration(endpoint: &str, name: &str, description: &str) -> String {
    with_provider(
        endpoint,
        &format!(
            r#"resource "aws_kms_key" "secrets" {{
  description             = "encrypts {name}"
  deletion_window_in_days = 7
}}

resource "aws_secretsmanager_secret" "db" {{
  name                    = "{name}"
  description             = "{description}"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = 7
  tags = {{
    team = "payments"
  }}
  value = generate({{ length = 32 }})
}}

output "secret_arn" {{
  value = aws_secretsmanager_secret.db.arn
}}

output "key_arn" {{
  value = aws_kms_key.secrets.arn
}}
"#
        ),
    )
}

fn secret_get(workspace: &Workspace, address: &str) -> String {
    let output = keyform(workspace, &["secret", "get", address]);
    assert_exit(&output, 0);
    stdout(&output).trim_end_matches('\n').to_string()
}

async fn describe(client: &aws_sdk_secretsmanager::Client, id: &str) -> DescribeSecretOutput {
    client
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .expect("DescribeSecret")
}

async fn versions_of(client: &aws_sdk_secretsmanager::Client, id: &str) -> Vec<SecretVersionsListEntry> {
    client
        .list_secret_version_ids()
        .secret_id(id)
        .send()
        .await
        .expect("ListSecretVersionIds")
        .versions()
        .to_vec()
}

#[tokio::test]
async fn a_secret_lives_through_apply_drift_destroy_and_recovery() {
    let endpoint = aws_endpoint();
    let client = secrets_manager_client(&endpoint);
    let name = unique("db-password");
    let workspace = applied(&secret_configuration(&endpoint, &name, "database password"));
    let arn = output(&workspace, "secret_arn");
    let key_arn = output(&workspace, "key_arn");
    assert!(arn.starts_with(&format!("arn:aws:secretsmanager:{REGION}:")), "{arn}");

    // Read back through the SDK, not through keyform.
    let described = describe(&client, &arn).await;
    assert_eq!(described.name(), Some(name.as_str()));
    assert_eq!(described.description(), Some("database password"));
    assert_eq!(described.kms_key_id(), Some(key_arn.as_str()));
    assert!(
        described
            .tags()
            .iter()
            .any(|tag| tag.key() == Some("team") && tag.value() == Some("payments"))
    );
    let (first_version, value) = current_value(&client, &arn).await;
    assert_eq!(value.chars().count(), 32, "a generated value of the configured length");
    assert_eq!(secret_get(&workspace, "aws_secretsmanager_secret.db"), value);
    assert_plan_is_empty(&workspace);

    // A value put behind keyform's back is drift; apply writes a new generated value.
    let outside = client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("written-outside-keyform")
        .send()
        .await
        .expect("PutSecretValue");
    let outside_version = outside.version_id().expect("a version id").to_string();
    let plan = planned_changes(&workspace);
    assert!(mentions(&plan, "written outside keyform"), "{plan}");
    assert!(
        !plan.contains("written-outside-keyform"),
        "the plan never shows a value"
    );
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let (restored_version, restored) = current_value(&client, &arn).await;
    assert_ne!(restored_version, outside_version);
    assert_ne!(restored_version, first_version);
    assert_ne!(restored, "written-outside-keyform");
    assert_eq!(restored.chars().count(), 32);
    assert_eq!(secret_get(&workspace, "aws_secretsmanager_secret.db"), restored);
    assert_plan_is_empty(&workspace);

    // A new description is an update in place.
    workspace.write(
        "main.hcl",
        &secret_configuration(&endpoint, &name, "database password, renamed"),
    );
    let plan = planned_changes(&workspace);
    assert!(mentions(&plan, "update in place"), "{plan}");
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let described = describe(&client, &arn).await;
    assert_eq!(described.description(), Some("database password, renamed"));
    assert_eq!(
        current_value(&client, &arn).await.0,
        restored_version,
        "the value was not rewritten"
    );
    assert_plan_is_empty(&workspace);

    // Destroy schedules the deletion.
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
    let described = describe(&client, &arn).await;
    assert!(
        described.deleted_date().is_some(),
        "the secret is scheduled for deletion"
    );

    // Applying again restores the same secret instead of failing on its name.
    let plan = keyform(&workspace, &["plan"]);
    assert_exit(&plan, 0);
    assert!(
        mentions(&stdout(&plan), "recover from pending deletion"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    assert_eq!(output(&workspace, "secret_arn"), arn, "the same secret, not a new one");
    let described = describe(&client, &arn).await;
    assert!(described.deleted_date().is_none(), "restored");
    assert_eq!(described.kms_key_id(), Some(output(&workspace, "key_arn").as_str()));
    assert_eq!(
        secret_get(&workspace, "aws_secretsmanager_secret.db"),
        current_value(&client, &arn).await.1
    );
    assert_plan_is_empty(&workspace);
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
}

/// One HTTP/1.1 POST to moto with a body; a fake SigV4 header names the service, which is how moto routes.
fn moto_post(endpoint: &str, service: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
    let authority = endpoint
        .strip_prefix("http://")
        .expect("an http:// endpoint")
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).expect("connect to moto");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Type: {content_type}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={TEST_KEY}/20250101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// Creates an IAM role and a Lambda function in moto; returns the function's ARN.
fn rotation_lambda(endpoint: &str) -> String {
    let role = unique("rotation-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let (status, body) = moto_post(
        endpoint,
        "iam",
        "/",
        "application/x-www-form-urlencoded",
        &format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={role}&AssumeRolePolicyDocument={}",
            percent_encoded(trust)
        ),
    );
    assert_eq!(status, 200, "CreateRole: {body}");
    let function = unique("rotate");
    let create = serde_json::json!({
        "FunctionName": function,
        "Runtime": "python3.12",
        "Role": format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
        "Handler": "index.handler",
        "Code": { "ZipFile": LAMBDA_ZIP },
    });
    let (status, body) = moto_post(
        endpoint,
        "lambda",
        "/2015-03-31/functions",
        "application/json",
        &create.to_string(),
    );
    assert!(status == 200 || status == 201, "CreateFunction: {body}");
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}")
}

#[tokio::test]
async fn a_secret_rotated_by_a_lambda_is_not_drift_and_its_value_never_leaks() {
    let endpoint = aws_endpoint();
    let client = secrets_manager_client(&endpoint);
    let lambda_arn = rotation_lambda(&endpoint);
    let name = unique("rotated");
    let canary = crate::canary::canary();
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &with_provider(
            &endpoint,
            &format!(
                r#"resource "aws_secretsmanager_secret" "rotated" {{
  name                    = "{name}"
  recovery_window_in_days = 0
  value                   = env("KF_ROTATION_CANARY")

  rotation {{
    lambda_arn = "{lambda_arn}"
    every      = "30d"
  }}
}}
"#
            ),
        ),
    );
    let environment = [("KF_ROTATION_CANARY", canary.as_str()), ("RUST_LOG", "trace")];
    let run = |arguments: &[&str]| keyform_with(&workspace, arguments, &environment);
    let mut outputs = Vec::new();
    for arguments in [
        &["init"][..],
        &["plan", "--out", "plan.kfplan"],
        &["apply", "plan.kfplan"],
        &["show"],
        &["state", "show", "aws_secretsmanager_secret.rotated"],
    ] {
        let output = run(arguments);
        assert_exit(&output, 0);
        outputs.push((arguments.join(" "), output));
    }

    let described = describe(&client, &name).await;
    assert_eq!(described.rotation_enabled(), Some(true));
    assert_eq!(described.rotation_lambda_arn(), Some(lambda_arn.as_str()));
    assert_eq!(
        described
            .rotation_rules()
            .and_then(|rules| rules.automatically_after_days()),
        Some(30)
    );
    // The first value was keyform's: the version the create wrote holds it.
    assert!(
        versions_of(&client, &name).await.len() >= 2,
        "the rotation added a version beside keyform's"
    );

    // A rotation is in progress (AWSPENDING beside keyform's AWSCURRENT): no drift.
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}{}", stdout(&plan), stderr(&plan));
    outputs.push(("plan after rotation".into(), plan));

    // The Lambda's last step moves AWSCURRENT to the version the rotation made (moto runs no
    // Lambda code, so the test does it): no drift. Then another rotation started outside keyform.
    for round in 0..2 {
        if round == 1 {
            // moto forgets the Lambda of a RotateSecret that names none (AWS keeps it): name it.
            client
                .rotate_secret()
                .secret_id(&name)
                .rotation_lambda_arn(&lambda_arn)
                .send()
                .await
                .expect("RotateSecret");
        }
        let (before, after) = finish_rotation(&client, &name).await;
        assert_ne!(before, after, "the rotation made a new AWSCURRENT");
        let plan = run(&["plan", "--detailed-exitcode"]);
        assert_eq!(code(&plan), 0, "round {round}: {}", stdout(&plan));
        outputs.push((format!("plan after rotation {round}"), plan));
    }

    // `rotate --now` starts a rotation through the Lambda (a new AWSPENDING version), not a new value of keyform's.
    let before = versions_of(&client, &name).await.len();
    let rotated = run(&["rotate", "--now", "aws_secretsmanager_secret.rotated", "--auto-approve"]);
    assert_exit(&rotated, 0);
    let rotated_text = format!("{}{}", stdout(&rotated), stderr(&rotated));
    outputs.push(("rotate --now".into(), rotated));
    let listed = versions_of(&client, &name).await;
    assert_eq!(
        listed.len(),
        before + 1,
        "the Lambda rotation added one version:\n{rotated_text}\n{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|version| version.version_stages().iter().any(|stage| stage == "AWSPENDING")),
        "the rotation is in progress: {listed:?}"
    );
    finish_rotation(&client, &name).await;
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "after rotate --now: {}", stdout(&plan));
    outputs.push(("plan after rotate --now".into(), plan));

    // Both `every` and `schedule_expression` is refused before any call.
    workspace.write(
        "both.hcl",
        &format!(
            r#"resource "aws_secretsmanager_secret" "both" {{
  name  = "{name}-both"
  value = env("KF_ROTATION_CANARY")

  rotation {{
    lambda_arn          = "{lambda_arn}"
    every               = "30d"
    schedule_expression = "rate(10 days)"
  }}
}}
"#
        ),
    );
    let refused = run(&["plan"]);
    assert_exit(&refused, 1);
    assert!(
        mentions(&stderr(&refused), "schedule_expression"),
        "{}",
        stderr(&refused)
    );
    outputs.push(("refused plan".into(), refused));
    std::fs::remove_file(workspace.path().join("both.hcl")).expect("remove both.hcl");

    // Removing the rotation block turns rotation off at AWS, so the Lambda stops changing the value.
    let main = std::fs::read_to_string(workspace.path().join("main.hcl")).expect("read main.hcl");
    let rotation_block = main.find("\n  rotation {").expect("the rotation block");
    let without_rotation = format!("{}\n}}\n", &main[..rotation_block]);
    workspace.write("main.hcl", &without_rotation);
    let plan = run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(mentions(&stdout(&plan), "rotation"), "{}", stdout(&plan));
    outputs.push(("plan without rotation".into(), plan));
    let apply = run(&["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    let apply_text = stdout(&apply);
    outputs.push(("apply without rotation".into(), apply));
    let described = describe(&client, &name).await;
    assert_ne!(
        described.rotation_enabled(),
        Some(true),
        "rotation is off: {described:?}\n{apply_text}"
    );
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "after removing rotation: {}", stdout(&plan));
    outputs.push(("plan after removing rotation".into(), plan));

    let destroy = run(&["destroy", "--auto-approve"]);
    assert_exit(&destroy, 0);
    outputs.push(("destroy".into(), destroy));
    let gone = client.describe_secret().secret_id(&name).send().await;
    assert!(gone.is_err(), "a recovery window of 0 deletes at once");

    // The canary never appears, in any encoding, in any output or file of the run.
    let scanner = Scanner::new(std::slice::from_ref(&canary));
    let found = scanner.scan_run(workspace.path(), &[], &outputs);
    assert!(found.is_empty(), "the canary leaked: {found:?}");
}

/// What a rotation Lambda's finishSecret step does: AWSCURRENT moves to the AWSPENDING version.
/// Returns the AWSCURRENT version before and after.
async fn finish_rotation(client: &aws_sdk_secretsmanager::Client, name: &str) -> (String, String) {
    let listed = versions_of(client, name).await;
    let labelled = |label: &str| {
        listed
            .iter()
            .find(|version| version.version_stages().iter().any(|stage| stage == label))
            .and_then(|version| version.version_id())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("a version labelled {label}"))
    };
    let (current, pending) = (labelled("AWSCURRENT"), labelled("AWSPENDING"));
    client
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&pending)
        .remove_from_version_id(&current)
        .send()
        .await
        .expect("UpdateSecretVersionStage");
    // moto takes an AWSPENDING left on the new AWSCURRENT for a rotation still in progress.
    client
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&pending)
        .send()
        .await
        .expect("UpdateSecretVersionStage");
    let described = describe(client, name).await;
    let after = described
        .version_ids_to_stages()
        .and_then(|stages| {
            stages
                .iter()
                .find(|(_, labels)| labels.iter().any(|label| label == "AWSCURRENT"))
                .map(|(version, _)| version.clone())
        })
        .expect("an AWSCURRENT version");
    (current, after)
}

#[tokio::test]
async fn a_secret_made_outside_keyform_is_imported_and_its_value_overwritten_only_when_configured() {
    let endpoint = aws_endpoint();
    let client = secrets_manager_client(&endpoint);
    let name = unique("imported");
    let created = client
        .create_secret()
        .name(&name)
        .description("made by hand")
        .secret_string("the-value-before-keyform")
        .send()
        .await
        .expect("CreateSecret");
    let arn = created.arn().expect("an ARN").to_string();
    let configuration = |value: &str| {
        with_provider(
            &endpoint,
            &format!(
                r#"import {{
  to = aws_secretsmanager_secret.imported
  id = "{name}"
}}

resource "aws_secretsmanager_secret" "imported" {{
  name                    = "{name}"
  description             = "made by hand"
  recovery_window_in_days = 0
  {value}
}}
"#
            ),
        )
    };
    let workspace = Workspace::new();
    let environment = [("KF_IMPORTED_VALUE", "the-value-keyform-writes")];
    let run = |arguments: &[&str]| keyform_with(&workspace, arguments, &environment);

    // Without a value source, the import leaves the value alone.
    workspace.write("main.hcl", &configuration(""));
    assert_exit(&run(&["init"]), 0);
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    assert_eq!(current_value(&client, &arn).await.1, "the-value-before-keyform");
    assert_plan_is_empty_with(&workspace, &environment);

    // A fresh state, and a value source: the plan says in words that it overwrites the value.
    std::fs::remove_dir_all(workspace.state_folder()).expect("remove the state");
    workspace.write("main.hcl", &configuration("value = env(\"KF_IMPORTED_VALUE\")"));
    assert_exit(&run(&["init"]), 0);
    let plan = run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(
        mentions(&stdout(&plan), "will overwrite the imported value"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    assert_eq!(current_value(&client, &arn).await.1, "the-value-keyform-writes");
    assert_plan_is_empty_with(&workspace, &environment);
    assert_exit(&run(&["destroy", "--auto-approve"]), 0);
}

#[tokio::test]
async fn a_create_interrupted_after_create_secret_is_adopted_by_its_token_not_made_twice() {
    let endpoint = aws_endpoint();
    let client = secrets_manager_client(&endpoint);
    let name = unique("crashed");
    let address = "aws_secretsmanager_secret.crashed";
    let workspace = Workspace::initialized(&with_provider(
        &endpoint,
        &format!(
            r#"resource "aws_secretsmanager_secret" "crashed" {{
  name                    = "{name}"
  recovery_window_in_days = 0
  value                   = env("KF_CRASH_VALUE")
}}
"#
        ),
    ));
    let environment = [("KF_CRASH_VALUE", "the-value-after-the-crash")];
    let run = |arguments: &[&str]| keyform_with(&workspace, arguments, &environment);

    // What a run killed right after CreateSecret leaves: the journaled intent, and the secret.
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut attributes = serde_json::Map::new();
    attributes.insert("name".into(), name.clone().into());
    attributes.insert("recovery_window_in_days".into(), 0.into());
    {
        let mut store = keyform::state::StateStore::open(
            &workspace.state_folder(),
            &keyform::state::OpenOptions {
                operation: "apply".into(),
                lock_timeout: std::time::Duration::from_secs(5),
            },
        )
        .expect("open the state");
        store
            .record(keyform::state::JournalEntry::Intent(keyform::state::PendingCreate {
                address: address.into(),
                resource_type: "aws_secretsmanager_secret".into(),
                provider: "provider.aws".into(),
                token: token.clone(),
                started_at: keyform::state::timestamp_now(),
                attributes: attributes.clone(),
            }))
            .expect("journal the intent");
    }
    let provider = configured_provider(&endpoint).await;
    let created = provider
        .apply(ApplyRequest {
            secrets: BTreeMap::from([("value".to_string(), SensitiveString::new("the-value-before-the-crash"))]),
            ..apply_request(
                "aws_secretsmanager_secret",
                ApplyAction::Create { token: token.clone() },
                None,
                attributes,
            )
        })
        .await
        .expect("CreateSecret")
        .expect("a secret");

    let plan = run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(mentions(&stdout(&plan), "adopted"), "{}", stdout(&plan));
    assert!(mentions(&stdout(&plan), "0 to add"), "{}", stdout(&plan));
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let listed = client.list_secrets().send().await.expect("ListSecrets");
    let same_name: Vec<_> = listed
        .secret_list()
        .iter()
        .filter(|entry| entry.name() == Some(name.as_str()))
        .collect();
    assert_eq!(same_name.len(), 1, "one secret, not two");
    assert_eq!(
        same_name[0].arn(),
        Some(created.id.as_str()),
        "the secret the interrupted create made"
    );
    assert_eq!(current_value(&client, &created.id).await.1, "the-value-after-the-crash");
    assert_plan_is_empty_with(&workspace, &environment);
    assert_exit(&run(&["destroy", "--auto-approve"]), 0);
}
