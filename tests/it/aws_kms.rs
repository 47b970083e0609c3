//! `aws_kms_alias` and `aws_kms_grant` against moto server: the shared
//! compliance suite for both, a named grant's idempotent create, and an
//! alias and a cross-account grant through the `keyform` binary (apply,
//! retarget, a grant revoked behind keyform's back, destroy), read back with
//! the AWS SDK directly; import of both, and recovery of both after an apply
//! interrupted between the create calls and the journal.
//!
//! Tests run in parallel against one moto server, so none resets it: each
//! makes its own keys and names.

use crate::aws_support::{
    applied, apply_request, assert_compliance, assert_plan_is_empty, configured_provider, keyform, kms_client, output,
    planned_changes, unique, with_provider,
};
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit, mentions, stderr, stdout};
use aws_sdk_kms::types::{GrantListEntry, KeyState};
use keyform::provider::compliance::Subject;
use keyform::provider::{ApplyAction, Attributes};
use std::collections::BTreeMap;

/// The audit account of the cross-account grant.
const AUDIT_PRINCIPAL: &str = "arn:aws:iam::111122223333:root";

/// A key made with the SDK, for the driver-level tests.
async fn new_key(client: &aws_sdk_kms::Client, description: &str) -> String {
    client
        .create_key()
        .description(description)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("key metadata")
        .key_id()
        .to_string()
}

async fn schedule_deletion(client: &aws_sdk_kms::Client, key_id: &str) {
    client
        .schedule_key_deletion()
        .key_id(key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
}

fn object(json: serde_json::Value) -> Attributes {
    json.as_object().cloned().expect("a JSON object")
}

#[tokio::test]
async fn aws_kms_alias_passes_the_compliance_suite() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let first = new_key(&client, "alias compliance, first target").await;
    let second = new_key(&client, "alias compliance, second target").await;
    let subject = Subject {
        provider: configured_provider(&endpoint).await,
        resource_type: "aws_kms_alias".into(),
        attributes: object(serde_json::json!({
            "name": format!("alias/{}", unique("compliance")),
            "target_key_id": first,
        })),
        secrets: BTreeMap::new(),
        update: Some(("target_key_id".into(), second.clone().into())),
        missing_id: format!("alias/{}", unique("missing")),
    };
    assert_compliance(&subject).await;
    schedule_deletion(&client, &first).await;
    schedule_deletion(&client, &second).await;
}

#[tokio::test]
async fn aws_kms_grant_passes_the_compliance_suite() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let key_id = new_key(&client, "grant compliance").await;
    let subject = Subject {
        provider: configured_provider(&endpoint).await,
        resource_type: "aws_kms_grant".into(),
        attributes: object(serde_json::json!({
            "key_id": key_id,
            "grantee_principal": AUDIT_PRINCIPAL,
            "operations": ["Encrypt", "Decrypt"],
            "constraints": { "encryption_context_subset": { "team": "payments" } },
        })),
        secrets: BTreeMap::new(),
        // Every argument AWS holds forces a new grant; `retire_on_delete` is keyform's own.
        update: Some(("retire_on_delete".into(), true.into())),
        missing_id: format!("{key_id}:{}", uuid::Uuid::new_v4().simple()),
    };
    assert_compliance(&subject).await;
    schedule_deletion(&client, &key_id).await;
}

#[tokio::test]
async fn a_named_grant_is_created_once_and_found_by_its_name() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let provider = configured_provider(&endpoint).await;
    let key_id = new_key(&client, "named grant").await;
    let attributes = object(serde_json::json!({
        "name": unique("audit"),
        "key_id": key_id,
        "grantee_principal": AUDIT_PRINCIPAL,
        "operations": ["Decrypt"],
    }));
    let create = |token: &str| {
        apply_request(
            "aws_kms_grant",
            ApplyAction::Create { token: token.into() },
            None,
            attributes.clone(),
        )
    };
    let first = provider.apply(create("first")).await.expect("create").expect("a grant");
    // A second create of the same name and parameters (another run's token) is the same grant.
    let second = provider
        .apply(create("second"))
        .await
        .expect("create")
        .expect("a grant");
    assert_eq!(first.id, second.id);
    assert_eq!(grants_of(&client, &key_id).await.len(), 1);
    let found = provider
        .find_by_token(keyform::provider::FindRequest {
            resource_type: "aws_kms_grant".into(),
            token: "a token no create used".into(),
            attributes: attributes.clone(),
        })
        .await
        .expect("find");
    assert_eq!(found.map(|live| live.id), Some(first.id.clone()));
    // The grant token is never exported.
    assert!(!first.attributes.contains_key("grant_token"));
    schedule_deletion(&client, &key_id).await;
}

#[tokio::test]
async fn reserved_and_malformed_alias_names_are_refused() {
    let endpoint = aws_endpoint();
    let provider = configured_provider(&endpoint).await;
    for name in ["alias/aws/s3", "payments"] {
        let error = provider
            .apply(apply_request(
                "aws_kms_alias",
                ApplyAction::Create { token: "t".into() },
                None,
                object(serde_json::json!({ "name": name, "target_key_id": "k" })),
            ))
            .await
            .expect_err(name);
        assert_eq!(error.code, "InvalidParameter", "{name}");
    }
}

async fn grants_of(client: &aws_sdk_kms::Client, key_id: &str) -> Vec<GrantListEntry> {
    client
        .list_grants()
        .key_id(key_id)
        .send()
        .await
        .expect("ListGrants")
        .grants()
        .to_vec()
}

/// The key id an alias points at, as ListAliases reports it.
async fn alias_target(client: &aws_sdk_kms::Client, name: &str) -> Option<String> {
    client
        .list_aliases()
        .send()
        .await
        .expect("ListAliases")
        .aliases()
        .iter()
        .find(|alias| alias.alias_name() == Some(name))
        .and_then(|alias| alias.target_key_id().map(str::to_string))
}

fn configuration(endpoint: &str, run_tag: &str, alias_target: &str) -> String {
    with_provider(
        endpoint,
        &format!(
            r#"resource "aws_kms_key" "payments" {{
  description             = "payments {run_tag}"
  deletion_window_in_days = 7
}}

resource "aws_kms_key" "spare" {{
  description             = "spare {run_tag}"
  deletion_window_in_days = 7
}}

resource "aws_kms_alias" "payments" {{
  name          = "alias/{run_tag}"
  target_key_id = aws_kms_key.{alias_target}.key_id
}}

resource "aws_kms_grant" "audit" {{
  key_id            = aws_kms_key.payments.key_id
  grantee_principal = "{AUDIT_PRINCIPAL}"
  operations        = ["Encrypt", "Decrypt", "GenerateDataKey"]

  constraints {{
    encryption_context_subset = {{ team = "payments" }}
  }}
}}

output "payments_key_id" {{
  value = aws_kms_key.payments.key_id
}}

output "spare_key_id" {{
  value = aws_kms_key.spare.key_id
}}

output "grant_id" {{
  value = aws_kms_grant.audit.grant_id
}}
"#
        ),
    )
}

#[tokio::test]
async fn an_alias_and_a_cross_account_grant_live_through_apply_drift_and_destroy() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let run_tag = unique("kms");
    let alias = format!("alias/{run_tag}");
    let workspace = applied(&configuration(&endpoint, &run_tag, "payments"));
    let payments = output(&workspace, "payments_key_id");
    let spare = output(&workspace, "spare_key_id");

    // Read back through the SDK, not through keyform.
    assert_eq!(alias_target(&client, &alias).await, Some(payments.clone()));
    let grants = grants_of(&client, &payments).await;
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].grantee_principal(), Some(AUDIT_PRINCIPAL));
    assert!(
        grants[0]
            .grantee_principal()
            .is_some_and(|principal| principal.contains("111122223333"))
    );
    let mut operations: Vec<&str> = grants[0]
        .operations()
        .iter()
        .map(|operation| operation.as_str())
        .collect();
    operations.sort_unstable();
    assert_eq!(operations, ["Decrypt", "Encrypt", "GenerateDataKey"]);
    let subset = grants[0]
        .constraints()
        .and_then(|constraints| constraints.encryption_context_subset())
        .expect("the constraint");
    assert_eq!(subset.get("team").map(String::as_str), Some("payments"));
    let grant_id = output(&workspace, "grant_id");
    assert_eq!(grants[0].grant_id(), Some(grant_id.as_str()));
    assert_plan_is_empty(&workspace);

    // Retargeting the alias is an update in place.
    workspace.write("main.hcl", &configuration(&endpoint, &run_tag, "spare"));
    let plan = planned_changes(&workspace);
    assert!(mentions(&plan, "aws_kms_alias.payments   update in place"), "{plan}");
    assert!(mentions(&plan, "0 to add, 1 to change, 0 to replace"), "{plan}");
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    assert_eq!(alias_target(&client, &alias).await, Some(spare.clone()));
    assert_plan_is_empty(&workspace);

    // Operations compare as a set; a new constraint replaces the grant (AWS cannot change one).
    let configured = configuration(&endpoint, &run_tag, "spare");
    let reordered = configured.replace(
        r#"["Encrypt", "Decrypt", "GenerateDataKey"]"#,
        r#"["GenerateDataKey", "Decrypt", "Encrypt"]"#,
    );
    assert_ne!(reordered, configured);
    workspace.write("main.hcl", &reordered);
    assert_plan_is_empty(&workspace);
    workspace.write(
        "main.hcl",
        &configured.replace(r#"team = "payments""#, r#"team = "audit""#),
    );
    let plan = planned_changes(&workspace);
    assert!(
        mentions(&plan, "aws_kms_grant.audit   replace (constraints forces replacement)"),
        "{plan}"
    );
    workspace.write("main.hcl", &configured);

    // A grant revoked behind keyform's back is planned again, and apply restores it.
    client
        .revoke_grant()
        .key_id(&payments)
        .grant_id(&grant_id)
        .send()
        .await
        .expect("RevokeGrant");
    let plan = planned_changes(&workspace);
    assert!(mentions(&plan, "deleted outside keyform"), "{plan}");
    assert!(mentions(&plan, "aws_kms_grant.audit   create"), "{plan}");
    assert!(mentions(&plan, "1 to add, 0 to change"), "{plan}");
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let grants = grants_of(&client, &payments).await;
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].grantee_principal(), Some(AUDIT_PRINCIPAL));
    assert_ne!(grants[0].grant_id(), Some(grant_id.as_str()), "a new grant");
    assert_plan_is_empty(&workspace);

    // Destroy: the alias and the grant are gone at once, the keys wait for deletion.
    let plan = keyform(&workspace, &["plan", "--destroy"]);
    assert!(
        mentions(&stdout(&plan), "aws_kms_alias.payments   destroy: irreversible"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
    assert_eq!(alias_target(&client, &alias).await, None);
    assert!(grants_of(&client, &payments).await.is_empty());
    for key_id in [&payments, &spare] {
        let described = client.describe_key().key_id(key_id).send().await.expect("DescribeKey");
        assert_eq!(
            described.key_metadata().and_then(|metadata| metadata.key_state()),
            Some(&KeyState::PendingDeletion)
        );
    }
}

#[tokio::test]
async fn an_alias_and_a_grant_made_outside_keyform_are_imported() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let key_id = new_key(&client, "imported alias and grant").await;
    let alias = format!("alias/{}", unique("imported"));
    client
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id)
        .send()
        .await
        .expect("CreateAlias");
    let grant_name = unique("imported");
    let grant_id = client
        .create_grant()
        .key_id(&key_id)
        .grantee_principal(AUDIT_PRINCIPAL)
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .name(&grant_name)
        .send()
        .await
        .expect("CreateGrant")
        .grant_id()
        .expect("a grant id")
        .to_string();
    let workspace = Workspace::initialized(&with_provider(
        &endpoint,
        &format!(
            r#"resource "aws_kms_alias" "imported" {{
  name          = "{alias}"
  target_key_id = "{key_id}"
}}

resource "aws_kms_grant" "imported" {{
  name              = "{grant_name}"
  key_id            = "{key_id}"
  grantee_principal = "{AUDIT_PRINCIPAL}"
  operations        = ["Encrypt", "Decrypt"]
}}
"#
        ),
    ));
    let plan = keyform(&workspace, &["plan"]);
    let shown = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(
        mentions(&shown, "already exists and keyform does not manage it"),
        "{shown}"
    );
    assert_exit(&keyform(&workspace, &["import", "aws_kms_alias.imported", &alias]), 0);
    let grant = format!("{key_id}:{grant_id}");
    assert_exit(&keyform(&workspace, &["import", "aws_kms_grant.imported", &grant]), 0);
    assert_plan_is_empty(&workspace);
    let shown = keyform(&workspace, &["state", "show", "aws_kms_grant.imported"]);
    assert!(mentions(&stdout(&shown), &grant), "{}", stdout(&shown));
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
    assert_eq!(alias_target(&client, &alias).await, None);
    assert!(grants_of(&client, &key_id).await.is_empty());
    schedule_deletion(&client, &key_id).await;
}

#[tokio::test]
async fn an_alias_given_a_key_arn_reports_the_arn() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let provider = configured_provider(&endpoint).await;
    let key_id = new_key(&client, "alias by arn").await;
    let key_arn = client
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .and_then(|metadata| metadata.arn().map(str::to_string))
        .expect("an ARN");
    let attributes = object(serde_json::json!({
        "name": format!("alias/{}", unique("arn")),
        "target_key_id": key_arn,
    }));
    let created = provider
        .apply(apply_request(
            "aws_kms_alias",
            ApplyAction::Create { token: "t".into() },
            None,
            attributes.clone(),
        ))
        .await
        .expect("create")
        .expect("an alias");
    assert_eq!(created.attributes.get("target_key_id"), attributes.get("target_key_id"));
    assert_eq!(
        created.attributes.get("target_key_arn"),
        attributes.get("target_key_id")
    );
    let read = provider
        .read(keyform::provider::ReadRequest {
            resource_type: "aws_kms_alias".into(),
            id: created.id.clone(),
            prior: created.attributes.clone(),
        })
        .await
        .expect("read")
        .expect("the alias");
    assert_eq!(read.attributes.get("target_key_id"), attributes.get("target_key_id"));
    provider
        .apply(apply_request(
            "aws_kms_alias",
            ApplyAction::Delete { purge: false },
            Some(created.id),
            created.attributes,
        ))
        .await
        .expect("delete");
    schedule_deletion(&client, &key_id).await;
}

/// A journal intent as `keyform apply` writes it before a create call.
fn intent(address: &str, resource_type: &str, token: &str, attributes: &Attributes) -> String {
    serde_json::json!({
        "op": "intent",
        "address": address,
        "type": resource_type,
        "provider": "provider.aws",
        "token": token,
        "started_at": "2026-01-01T00:00:00Z",
        "attributes": attributes,
    })
    .to_string()
}

#[tokio::test]
async fn an_alias_and_a_grant_made_by_a_killed_apply_are_adopted_not_made_twice() {
    let endpoint = aws_endpoint();
    let client = kms_client(&endpoint);
    let run_tag = unique("crash");
    let configuration = configuration(&endpoint, &run_tag, "payments");
    // First only the keys, as an apply that was killed later would have recorded them.
    let keys_only = configuration
        .split("resource \"aws_kms_alias\"")
        .next()
        .expect("the key blocks");
    let workspace = applied(keys_only);
    let payments = recorded_id(&workspace, "aws_kms_key.payments");

    // What an apply killed between the create calls and the journal leaves (made here, not
    // with SIGKILL, so the kill point is exact): the intents journaled, the objects made,
    // their results not recorded.
    let provider = configured_provider(&endpoint).await;
    let alias_attributes = object(serde_json::json!({
        "name": format!("alias/{run_tag}"),
        "target_key_id": payments,
    }));
    let grant_attributes = object(serde_json::json!({
        "key_id": payments,
        "grantee_principal": AUDIT_PRINCIPAL,
        "operations": ["Encrypt", "Decrypt", "GenerateDataKey"],
        "constraints": { "encryption_context_subset": { "team": "payments" } },
    }));
    let mut journal = String::new();
    let mut made = Vec::new();
    for (address, resource_type, attributes) in [
        ("aws_kms_alias.payments", "aws_kms_alias", &alias_attributes),
        ("aws_kms_grant.audit", "aws_kms_grant", &grant_attributes),
    ] {
        let token = uuid::Uuid::new_v4().simple().to_string();
        journal.push_str(&intent(address, resource_type, &token, attributes));
        journal.push('\n');
        let live = provider
            .apply(apply_request(
                resource_type,
                ApplyAction::Create { token },
                None,
                attributes.clone(),
            ))
            .await
            .expect("create")
            .expect("an object");
        made.push(live.id);
    }
    let journal_path = workspace.state_folder().join("state.journal");
    let mut text = std::fs::read_to_string(&journal_path).expect("the journal");
    text.push_str(&journal);
    std::fs::write(&journal_path, text).expect("write the journal");

    workspace.write("main.hcl", &configuration);
    let plan = keyform(&workspace, &["plan"]);
    assert_exit(&plan, 0);
    // Both are found by their tokens: nothing to create.
    assert!(mentions(&stdout(&plan), "0 to add"), "{}", stdout(&plan));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let grants = grants_of(&client, &payments).await;
    assert_eq!(grants.len(), 1, "one grant, not two: {grants:?}");
    assert_eq!(
        output(&workspace, "grant_id"),
        made[1].rsplit(':').next().expect("a grant id")
    );
    assert_eq!(
        alias_target(&client, &format!("alias/{run_tag}")).await,
        Some(payments.clone())
    );
    assert_plan_is_empty(&workspace);
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
    assert!(grants_of(&client, &payments).await.is_empty());
}

/// The id state records for `address`.
fn recorded_id(workspace: &Workspace, address: &str) -> String {
    let state = workspace.state_json();
    state["resources"][address]["id"]
        .as_str()
        .expect("a recorded id")
        .to_string()
}
