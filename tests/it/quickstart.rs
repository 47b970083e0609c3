//! The quickstart, end to end: init, plan, apply, a no-op plan, secret get.

use crate::support::{Workspace, code, filtered, stdout};

#[test]
fn quickstart_applies_and_then_has_nothing_to_do() {
    let workspace = Workspace::copy_of("examples/quickstart");
    assert_eq!(code(&workspace.run(&["init"])), 0);
    let plan = workspace.run(&["plan"]);
    assert_eq!(code(&plan), 0);
    insta::assert_snapshot!("quickstart_plan", filtered(&stdout(&plan)));
    let apply = workspace.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&apply), 0, "{}", crate::support::stderr(&apply));
    // Changes finish concurrently: snapshot the lines in sorted order.
    let mut lines: Vec<String> = filtered(&stdout(&apply)).lines().map(str::to_string).collect();
    lines.sort();
    insta::assert_snapshot!("quickstart_apply", lines.join("\n"));
    let again = workspace.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&again), 0, "a second plan must be empty: {}", stdout(&again));
    let value = workspace.run(&["secret", "get", "local_secret.api_token"]);
    assert_eq!(code(&value), 0);
    let token = stdout(&value).trim().to_string();
    assert_eq!(token.len(), 40);
    assert!(token.chars().all(|character| character.is_ascii_alphanumeric()));
}
