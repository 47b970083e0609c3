//! The `aws` provider's `assume_role` block and `rate_limits` against moto
//! server: moto implements STS AssumeRole (any role ARN in its account
//! 123456789012 can be assumed) and answers GetCallerIdentity with the
//! assumed-role session, so the provider's report of the role it assumed is
//! checked for real. moto neither throttles nor rejects principals, so the
//! pacing and the principal retry are tested in the driver's unit tests.

use crate::aws_support::{configured_provider_with, keyform_with, unique};
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit, code, stderr, stdout};
use std::process::Output;

/// Runs keyform as the other AWS tests do, logging at info so the assumed role shows.
fn keyform(workspace: &Workspace, arguments: &[&str]) -> Output {
    keyform_with(workspace, arguments, &[("RUST_LOG", "keyform=info")])
}

#[tokio::test]
async fn the_driver_assumes_the_role_and_calls_kms_with_it() {
    let endpoint = aws_endpoint();
    let role_name = unique("keyform-bootstrap");
    let mut attributes = serde_json::Map::new();
    attributes.insert(
        "assume_role".into(),
        serde_json::json!({
            "role_arn": format!("arn:aws:iam::123456789012:role/{role_name}"),
            "session_name": "keyform-driver-test",
            "external_id": "bootstrap-7"
        }),
    );
    attributes.insert("rate_limits".into(), serde_json::json!({ "*": "1000" }));
    let provider = configured_provider_with(&endpoint, attributes).await;
    provider
        .list("aws_kms_key")
        .await
        .expect("ListKeys goes with the assumed role's credentials");
}

#[tokio::test]
async fn a_configuration_with_an_assume_role_block_applies_and_says_which_role() {
    let endpoint = aws_endpoint();
    let role_name = unique("keyform-central");
    let description = unique("assumed-role key");
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        &format!(
            r#"
variable "role_name" {{
  type    = string
  default = "{role_name}"
}}

provider "aws" {{
  region       = "us-east-1"
  endpoint_url = "{endpoint}"
  rate_limits  = {{ CreateKey = "50", "*" = "1000" }}

  assume_role {{
    role_arn     = "arn:aws:iam::123456789012:role/${{var.role_name}}"
    session_name = "keyform-it"
    external_id  = "central-7"
  }}
}}

resource "aws_kms_key" "bootstrap" {{
  description             = "{description}"
  deletion_window_in_days = 7
}}
"#
        ),
    );
    assert_exit(&keyform(&workspace, &["init"]), 0);
    let apply = keyform(&workspace, &["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    let log = stderr(&apply);
    let expected = format!(
        "assumed role arn:aws:iam::123456789012:role/{role_name} as arn:aws:sts::123456789012:assumed-role/{role_name}/keyform-it"
    );
    assert!(log.contains(&expected), "expected `{expected}` in:\n{log}");
    let plan = keyform(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}{}", stdout(&plan), stderr(&plan));
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
}

#[test]
fn a_misspelt_provider_block_or_rate_limit_is_an_error_not_ignored() {
    let endpoint = aws_endpoint();
    // What follows `endpoint_url` in the provider block, and what the refusal says.
    let cases: [(&str, &[&str]); 2] = [
        (
            "\n  asume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/keyform\"\n  }\n",
            &["KF1002", "has no block `asume_role`", "did you mean `assume_role`?"],
        ),
        (
            "  rate_limits  = { CreateKy = \"20\" }\n",
            &["`CreateKy`", "did you mean `CreateKey`?"],
        ),
    ];
    let workspace = Workspace::new();
    for (index, (misspelt, expected)) in cases.into_iter().enumerate() {
        workspace.write(
            "main.hcl",
            &format!(
                r#"
provider "aws" {{
  region       = "us-east-1"
  endpoint_url = "{endpoint}"
{misspelt}}}

resource "aws_kms_key" "a" {{
  description = "never made"
}}
"#
            ),
        );
        if index == 0 {
            assert_exit(&keyform(&workspace, &["init"]), 0);
        }
        let plan = keyform(&workspace, &["plan"]);
        let text = stderr(&plan);
        assert_eq!(code(&plan), 1, "{text}");
        for phrase in expected {
            assert!(text.contains(phrase), "{phrase} in {text}");
        }
    }
}
