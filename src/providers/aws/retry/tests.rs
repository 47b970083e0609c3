//! The retry on a principal that is not visible yet, through the driver's real
//! create path, against the SDK's replay client (moto neither throttles nor
//! rejects principals). Time is paused: the backoff costs no real time.

use crate::provider::{ApplyAction, ApplyRequest};
use crate::providers::aws::kms_key::TokenIndex;
use crate::providers::aws::kms_key_apply;
use crate::providers::aws::rate_limit::{RateLimits, paced_http_client};
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const INVALID_PRINCIPALS: &str = "Policy contains a statement with one or more invalid principals.";

fn event(operation: &str, status: u16, body: serde_json::Value) -> ReplayEvent {
    let request = http::Request::builder()
        .uri("https://kms.us-east-1.amazonaws.com/")
        .header("x-amz-target", format!("TrentService.{operation}"))
        .body(SdkBody::empty())
        .expect("a request");
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(body.to_string()))
        .expect("a response");
    ReplayEvent::new(request, response)
}

fn refused(message: &str) -> ReplayEvent {
    event(
        "CreateKey",
        400,
        serde_json::json!({ "__type": "MalformedPolicyDocumentException", "message": message }),
    )
}

fn key_metadata() -> serde_json::Value {
    serde_json::json!({
        "KeyId": KEY_ID,
        "Arn": format!("arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"),
        "AWSAccountId": "123456789012",
        "CreationDate": 1_700_000_000.0,
        "Description": "payments",
        "Enabled": true,
        "KeyState": "Enabled",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyManager": "CUSTOMER",
        "MultiRegion": false
    })
}

/// What AWS answers to the reads that follow a successful create.
fn read_back(token: &str) -> Vec<ReplayEvent> {
    vec![
        event("DescribeKey", 200, serde_json::json!({ "KeyMetadata": key_metadata() })),
        event(
            "GetKeyRotationStatus",
            200,
            serde_json::json!({ "KeyRotationEnabled": false }),
        ),
        event(
            "GetKeyPolicy",
            200,
            serde_json::json!({ "Policy": policy(), "PolicyName": "default" }),
        ),
        event(
            "ListResourceTags",
            200,
            serde_json::json!({ "Tags": [{ "TagKey": "keyform:create-token", "TagValue": token }], "Truncated": false }),
        ),
        event(
            "ListKeyRotations",
            200,
            serde_json::json!({ "Rotations": [], "Truncated": false }),
        ),
    ]
}

fn policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::123456789012:role/created-a-moment-ago" },
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// A KMS client answering from `events`, paced like the driver's, without the SDK's own retries.
fn client(events: Vec<ReplayEvent>) -> (aws_sdk_kms::Client, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "replay-tests"))
        .retry_config(RetryConfig::disabled())
        .http_client(paced_http_client(
            SharedHttpClient::new(replay.clone()),
            RateLimits::default(),
        ))
        .build();
    (aws_sdk_kms::Client::from_conf(config), replay)
}

fn create_request(token: &str) -> ApplyRequest {
    let mut attributes = serde_json::Map::new();
    attributes.insert("description".into(), "payments".into());
    attributes.insert("policy".into(), policy().into());
    ApplyRequest {
        resource_type: "aws_kms_key".into(),
        action: ApplyAction::Create { token: token.into() },
        id: None,
        attributes,
        secrets: BTreeMap::new(),
        changed: Vec::new(),
    }
}

/// The operations the client sent, in order.
fn operations(replay: &StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .filter_map(|request| request.headers().get("x-amz-target"))
        .map(|target| target.trim_start_matches("TrentService.").to_string())
        .collect()
}

fn no_keys_yet() -> ReplayEvent {
    event("ListKeys", 200, serde_json::json!({ "Keys": [], "Truncated": false }))
}

#[tokio::test(start_paused = true)]
async fn create_retries_until_the_principal_is_visible() {
    let token = "token-visible-later";
    let mut events = vec![
        no_keys_yet(),
        refused(INVALID_PRINCIPALS),
        event("CreateKey", 200, serde_json::json!({ "KeyMetadata": key_metadata() })),
    ];
    events.extend(read_back(token));
    let (kms, replay) = client(events);
    let start = Instant::now();
    let created = kms_key_apply::apply(&kms, &TokenIndex::default(), &create_request(token))
        .await
        .expect("the create succeeds on the second attempt")
        .expect("a key");
    assert_eq!(created.id, KEY_ID);
    let sent = operations(&replay);
    assert_eq!(
        sent.iter().filter(|operation| *operation == "CreateKey").count(),
        2,
        "{sent:?}"
    );
    assert_eq!(&sent[..3], ["ListKeys", "CreateKey", "CreateKey"]);
    // One backoff of one second, in virtual time.
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_principal_fails_after_the_limit_with_help() {
    let mut events = vec![no_keys_yet()];
    events.extend((0..6).map(|_| refused(INVALID_PRINCIPALS)));
    let (kms, replay) = client(events);
    let start = Instant::now();
    let error = kms_key_apply::apply(&kms, &TokenIndex::default(), &create_request("token-never-visible"))
        .await
        .expect_err("the principal never appears");
    assert_eq!(error.code, "MalformedPolicyDocumentException");
    assert!(error.message.contains(INVALID_PRINCIPALS), "{}", error.message);
    assert!(error.message.contains("kms:CreateKey"), "{}", error.message);
    let help = error.help.unwrap_or_default();
    assert!(help.contains("may not exist"), "{help}");
    // Waits of 1, 2, 4, 8 and 15 seconds: 30 s in all, six attempts.
    assert_eq!(start.elapsed(), super::PRINCIPAL_RETRY_LIMIT);
    assert_eq!(
        operations(&replay),
        [
            "ListKeys",
            "CreateKey",
            "CreateKey",
            "CreateKey",
            "CreateKey",
            "CreateKey",
            "CreateKey"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn another_malformed_policy_is_not_retried() {
    let events = vec![no_keys_yet(), refused("The policy has a syntax error at Statement[0].")];
    let (kms, replay) = client(events);
    let start = Instant::now();
    let error = kms_key_apply::apply(&kms, &TokenIndex::default(), &create_request("token-bad-policy"))
        .await
        .expect_err("a malformed policy");
    assert_eq!(error.code, "MalformedPolicyDocumentException");
    assert!(!error.help.unwrap_or_default().contains("may not exist"));
    assert_eq!(operations(&replay), ["ListKeys", "CreateKey"]);
    assert_eq!(start.elapsed(), Duration::ZERO);
}
