//! The `aws` provider against moto server: the shared compliance suite for
//! `aws_kms_key`, and a key's whole life through the `keyform` binary, read
//! back with the AWS SDK directly (not through keyform).
//!
//! Tests run in parallel against one moto server, so none resets it: each
//! uses its own description and tags.

use crate::aws_support::{
    applied, apply_request, assert_compliance, assert_plan_is_empty, assert_plan_is_empty_with, configured_provider,
    keyform, keyform_with, kms_client, output, planned_changes, unique, with_provider,
};
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit, code, mentions, stderr, stdout};
use keyform::provider::compliance::Subject;
use keyform::provider::{ApplyAction, ApplyRequest};
use std::collections::{BTreeMap, HashMap};

#[tokio::test]
async fn aws_kms_key_passes_the_compliance_suite() {
    let endpoint = aws_endpoint();
    let provider = configured_provider(&endpoint).await;
    let label = unique("compliance");
    let mut attributes = serde_json::Map::new();
    attributes.insert("description".into(), label.clone().into());
    attributes.insert("deletion_window_in_days".into(), 7.into());
    attributes.insert("enable_key_rotation".into(), true.into());
    attributes.insert("tags".into(), serde_json::json!({ "suite": label }));
    let subject = Subject {
        provider,
        resource_type: "aws_kms_key".into(),
        attributes,
        secrets: BTreeMap::new(),
        update: Some(("description".into(), format!("{label} changed").into())),
        missing_id: uuid::Uuid::new_v4().to_string(),
    };
    assert_compliance(&subject).await;
}

#[tokio::test]
async fn a_create_token_tag_is_hidden_and_reserved() {
    let endpoint = aws_endpoint();
    let provider = configured_provider(&endpoint).await;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut attributes = serde_json::Map::new();
    attributes.insert("description".into(), unique("token").into());
    attributes.insert("tags".into(), serde_json::json!({ "team": "payments" }));
    let created = provider
        .apply(apply_request(
            "aws_kms_key",
            ApplyAction::Create { token: token.clone() },
            None,
            attributes.clone(),
        ))
        .await
        .expect("create")
        .expect("a key");
    assert_eq!(
        created.attributes.get("tags"),
        Some(&serde_json::json!({ "team": "payments" })),
        "the token tag is not one of the key's tags"
    );
    let at_aws = tags_of(&kms_client(&endpoint), &created.id).await;
    assert_eq!(at_aws.get(keyform::providers::aws::TOKEN_TAG), Some(&token));

    attributes.insert(
        "tags".into(),
        serde_json::json!({ keyform::providers::aws::TOKEN_TAG: "mine" }),
    );
    let refused = provider
        .apply(ApplyRequest {
            changed: vec!["tags".into()],
            ..apply_request("aws_kms_key", ApplyAction::Update, Some(created.id.clone()), attributes)
        })
        .await
        .expect_err("the token tag is reserved");
    assert_eq!(refused.code, "ReservedTag");
    provider
        .apply(apply_request(
            "aws_kms_key",
            ApplyAction::Delete { purge: false },
            Some(created.id.clone()),
            created.attributes.clone(),
        ))
        .await
        .expect("delete");
}

async fn tags_of(client: &aws_sdk_kms::Client, key_id: &str) -> HashMap<String, String> {
    client
        .list_resource_tags()
        .key_id(key_id)
        .send()
        .await
        .expect("ListResourceTags")
        .tags()
        .iter()
        .map(|tag| (tag.tag_key().to_string(), tag.tag_value().to_string()))
        .collect()
}

fn configuration(endpoint: &str, description: &str, run_tag: &str) -> String {
    with_provider(
        endpoint,
        &format!(
            r#"resource "aws_kms_key" "payments" {{
  description             = "{description}"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 7
  tags = {{
    team = "payments"
    run  = "{run_tag}"
  }}
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = {{ AWS = "arn:aws:iam::123456789012:root" }}
        Action    = "kms:*"
        Resource  = "*"
      }},
    ]
  }})
}}

output "key_id" {{
  value = aws_kms_key.payments.key_id
}}
"#
        ),
    )
}

#[tokio::test]
async fn a_kms_key_lives_through_apply_plan_update_and_destroy() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let run_tag = unique("run");
    let description = format!("payments key {run_tag}");
    let workspace = applied(&configuration(&endpoint, &description, &run_tag));
    let key_id = output(&workspace, "key_id");
    assert!(!key_id.is_empty(), "apply recorded the key id");

    // Read back through the SDK, not through keyform.
    let described = client.describe_key().key_id(&key_id).send().await.expect("DescribeKey");
    let metadata = described.key_metadata().expect("key metadata");
    assert_eq!(metadata.description(), Some(description.as_str()));
    assert!(metadata.enabled());
    let rotation = client
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .expect("GetKeyRotationStatus");
    assert!(rotation.key_rotation_enabled());
    // moto 5.2 accepts RotationPeriodInDays but does not report it; AWS does.
    if let Some(period) = rotation.rotation_period_in_days() {
        assert_eq!(period, 365);
    }
    let tags = tags_of(&client, &key_id).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"));
    assert_eq!(tags.get("run"), Some(&run_tag));
    assert!(tags.contains_key(keyform::providers::aws::TOKEN_TAG));
    let policy = client
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
        .expect("GetKeyPolicy");
    let policy: serde_json::Value = serde_json::from_str(policy.policy().expect("a policy")).expect("JSON policy");
    assert_eq!(policy["Statement"][0]["Sid"], "AccountAdministers");

    // No perpetual diff, the policy included.
    assert_plan_is_empty(&workspace);

    // A new description is an update in place of the same key.
    let changed = format!("{description} (renamed)");
    workspace.write("main.hcl", &configuration(&endpoint, &changed, &run_tag));
    let plan = planned_changes(&workspace);
    assert!(mentions(&plan, "update in place"), "{plan}");
    assert!(!mentions(&plan, "forces replacement"), "{plan}");
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let described = client.describe_key().key_id(&key_id).send().await.expect("DescribeKey");
    assert_eq!(
        described.key_metadata().and_then(|metadata| metadata.description()),
        Some(changed.as_str())
    );
    assert_plan_is_empty(&workspace);

    // Destroy schedules the deletion.
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
    let described = client.describe_key().key_id(&key_id).send().await.expect("DescribeKey");
    let metadata = described.key_metadata().expect("key metadata");
    assert_eq!(
        metadata.key_state(),
        Some(&aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    assert!(metadata.deletion_date().is_some());
}

#[test]
fn an_unreachable_endpoint_is_reported_with_help() {
    // A provider block that points at nothing answers with keyform's own message, not a panic.
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        r#"provider "aws" {
  region       = "us-east-1"
  endpoint_url = "http://127.0.0.1:9"
}

resource "aws_kms_key" "unreachable" {
  description = "never created"
}
"#,
    );
    assert_exit(&keyform(&workspace, &["init"]), 0);
    let plan = keyform(&workspace, &["plan"]);
    assert_eq!(
        code(&plan),
        0,
        "a plan of a new key calls no AWS API: {}",
        stderr(&plan)
    );
    let apply = keyform(&workspace, &["apply", "--auto-approve"]);
    assert_eq!(code(&apply), 1, "{}", stdout(&apply));
    assert!(mentions(&stderr(&apply), "kms:"), "{}", stderr(&apply));
    assert!(mentions(&stderr(&apply), "endpoint_url"), "{}", stderr(&apply));
}

#[tokio::test]
async fn a_key_scheduled_for_deletion_behind_keyforms_back_is_recovered_not_recreated() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let run_tag = unique("recover");
    let workspace = applied(&configuration(&endpoint, &format!("recovered {run_tag}"), &run_tag));
    let key_id = output(&workspace, "key_id");

    client
        .schedule_key_deletion()
        .key_id(&key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    let plan = planned_changes(&workspace);
    assert!(mentions(&plan, "recover from pending deletion"), "{plan}");
    assert!(mentions(&plan, "0 to add"), "{plan}");
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);

    let described = client.describe_key().key_id(&key_id).send().await.expect("DescribeKey");
    let metadata = described.key_metadata().expect("key metadata");
    assert_eq!(metadata.key_state(), Some(&aws_sdk_kms::types::KeyState::Enabled));
    assert_eq!(output(&workspace, "key_id"), key_id, "the same key, not a new one");
    assert_plan_is_empty(&workspace);

    // `rotate --now` rotates the key material on demand.
    assert_exit(
        &keyform(
            &workspace,
            &["rotate", "--now", "aws_kms_key.payments", "--auto-approve"],
        ),
        0,
    );
    let rotations = client
        .list_key_rotations()
        .key_id(&key_id)
        .send()
        .await
        .expect("ListKeyRotations");
    assert_eq!(rotations.rotations().len(), 1);
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
}

#[tokio::test]
async fn the_example_applies_against_moto_through_aws_endpoint_url() {
    let endpoint = aws_endpoint();
    let workspace = Workspace::copy_of("examples/aws");
    let environment = [("AWS_ENDPOINT_URL", endpoint.as_str())];
    let run = |arguments: &[&str]| keyform_with(&workspace, arguments, &environment);
    assert_exit(&run(&["init"]), 0);
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let output = run(&["output", "payments_key_arn"]);
    assert_exit(&output, 0);
    let arn = stdout(&output).trim().to_string();
    assert!(arn.starts_with("arn:aws:kms:us-east-1:"), "{arn}");
    let rotation = kms_client(&endpoint)
        .get_key_rotation_status()
        .key_id(&arn)
        .send()
        .await
        .expect("GetKeyRotationStatus");
    assert!(rotation.key_rotation_enabled());
    assert_plan_is_empty_with(&workspace, &environment);
    assert_exit(&run(&["destroy", "--auto-approve"]), 0);
}
