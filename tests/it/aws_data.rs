//! The AWS data sources against moto: `aws_caller_identity` and `aws_kms_key`
//! (read at apply when its key is created in the same run, at plan time after).

use crate::aws_support::{keyform, with_provider};
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit, stdout};

#[test]
fn caller_identity_and_a_key_looked_up_by_arn_feed_other_attributes() {
    let endpoint = aws_endpoint();
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let workspace = Workspace::initialized(&with_provider(
        &endpoint,
        &format!(
            r#"data "aws_caller_identity" "current" {{}}

resource "aws_kms_key" "main" {{
  description = "data source test {marker}"
}}

data "aws_kms_key" "main" {{
  key_id = aws_kms_key.main.arn
}}

output "account_id" {{
  value = data.aws_caller_identity.current.account_id
}}

output "looked_up" {{
  value = "${{data.aws_kms_key.main.description}} / ${{data.aws_kms_key.main.key_state}}"
}}
"#
        ),
    ));
    assert_exit(&keyform(&workspace, &["apply", "--auto-approve"]), 0);
    let account = stdout(&keyform(&workspace, &["output", "account_id"]))
        .trim()
        .to_string();
    assert_eq!(account.len(), 12, "an account id: {account}");
    assert!(account.chars().all(|character| character.is_ascii_digit()), "{account}");
    let looked_up = stdout(&keyform(&workspace, &["output", "looked_up"]))
        .trim()
        .to_string();
    assert_eq!(looked_up, format!("data source test {marker} / Enabled"));
    assert!(
        !stdout(&keyform(&workspace, &["state", "list"])).contains("data."),
        "data sources are not kept in state"
    );
    assert_exit(&keyform(&workspace, &["plan", "--detailed-exitcode"]), 0);
    assert_exit(&keyform(&workspace, &["destroy", "--auto-approve"]), 0);
}
