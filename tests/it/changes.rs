//! What a change to an applied configuration plans: an update in place, a
//! replacement, a move, and a recoverable destroy.

use crate::support::{Workspace, assert_exit, stdout};

const KEY: &str = "resource \"local_key\" \"main\" {\n  description = \"k\"\n}\n";

fn secret(label: &str, name: &str, description: &str) -> String {
    format!(
        "\nresource \"local_secret\" \"{label}\" {{\n  name        = \"{name}\"\n  description = \"{description}\"\n  value       = generate({{ length = 24 }})\n  key         = local_key.main.id\n}}\n"
    )
}

fn applied(label: &str, name: &str, description: &str) -> Workspace {
    let workspace = Workspace::initialized(&format!("{KEY}{}", secret(label, name, description)));
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    workspace
}

fn secret_value(workspace: &Workspace, address: &str) -> String {
    let output = workspace.run(&["secret", "get", address]);
    assert_exit(&output, 0);
    let value = stdout(&output).trim_end_matches('\n').to_string();
    assert_eq!(value.chars().count(), 24, "a generated value");
    value
}

#[test]
fn a_new_description_is_an_update_in_place() {
    let workspace = applied("a", "alpha", "one");
    let before = secret_value(&workspace, "local_secret.a");
    workspace.write("main.hcl", &format!("{KEY}{}", secret("a", "alpha", "two")));
    let plan = workspace.run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let text = stdout(&plan);
    assert!(
        text.contains("local_secret.a") && text.contains("update in place"),
        "{text}"
    );
    assert!(text.contains(r#""one" -> "two""#), "{text}");
    assert!(
        !text.contains("replace (") && text.contains("1 to change, 0 to replace"),
        "{text}"
    );
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
    assert_eq!(
        secret_value(&workspace, "local_secret.a"),
        before,
        "an update keeps the value"
    );
}

#[test]
fn a_new_name_forces_a_replacement() {
    let workspace = applied("a", "alpha", "one");
    workspace.write("main.hcl", &format!("{KEY}{}", secret("a", "beta", "one")));
    let plan = workspace.run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let text = stdout(&plan);
    assert!(text.contains("replace"), "{text}");
    assert!(text.contains("name forces replacement"), "{text}");
    assert!(text.contains("1 to replace"), "{text}");
}

#[test]
fn a_moved_block_moves_without_destroying_or_creating() {
    let workspace = applied("a", "alpha", "one");
    let before = secret_value(&workspace, "local_secret.a");
    let moved = "\nmoved {\n  from = local_secret.a\n  to   = local_secret.b\n}\n";
    workspace.write("main.hcl", &format!("{KEY}{}{moved}", secret("b", "alpha", "one")));
    let plan = workspace.run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let text = stdout(&plan);
    assert!(text.contains("local_secret.a has moved to local_secret.b"), "{text}");
    assert!(
        text.contains("0 to add, 0 to change, 0 to replace, 0 to destroy"),
        "{text}"
    );
    assert!(!text.contains("create") && !text.contains("destroy:"), "{text}");
    let apply = workspace.run(&["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    assert!(stdout(&apply).contains("0 added"), "{}", stdout(&apply));
    assert_eq!(
        secret_value(&workspace, "local_secret.b"),
        before,
        "the moved secret keeps its value"
    );
    let old = workspace.run(&["secret", "get", "local_secret.a"]);
    assert_exit(&old, 1);
    let list = workspace.run(&["state", "list"]);
    assert_exit(&list, 0);
    assert!(stdout(&list).contains("local_secret.b") && !stdout(&list).contains("local_secret.a"));
}

#[test]
fn destroy_is_recoverable_and_empties_the_state() {
    let workspace = applied("a", "alpha", "one");
    let destroy = workspace.run(&["destroy", "--auto-approve"]);
    assert_exit(&destroy, 0);
    let file = workspace.path().join(".keyform/local-store/secrets/alpha.json");
    let object: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the secret stays in the store")).expect("json");
    let deletion_date = object["deletion_date"].as_str().expect("a deletion date");
    let deletion = humantime::parse_rfc3339(deletion_date).expect("an RFC 3339 deletion date");
    let in_29_days = std::time::SystemTime::now() + std::time::Duration::from_secs(29 * 86_400);
    assert!(
        deletion > in_29_days,
        "recoverable for the 30-day window: {deletion_date}"
    );
    let state = keyform::state::StateStore::read(&workspace.path().join(".keyform")).expect("read the state");
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    assert!(state.pending_creates.is_empty());
    let list = workspace.run(&["state", "list"]);
    assert_exit(&list, 0);
    assert_eq!(stdout(&list).trim(), "");
}

#[test]
fn show_lists_each_attribute_once() {
    let workspace = applied("a", "alpha", "one");
    let show = workspace.run(&["show"]);
    assert_exit(&show, 0);
    let text = stdout(&show);
    for address in ["local_key.main", "local_secret.a"] {
        let section = text
            .split(&format!("# {address}:"))
            .nth(1)
            .expect("the resource is shown")
            .split("\n# ")
            .next()
            .expect("its section");
        assert_eq!(section.matches("\n  id = ").count(), 1, "{address}:\n{section}");
    }
    assert!(text.contains("  name = \"alpha\""), "{text}");
    assert!(text.contains("value = (sensitive, version 1)"), "{text}");
}

#[test]
fn a_saved_plan_is_refused_when_a_value_source_changed() {
    let workspace = Workspace::initialized(&format!(
        "{KEY}\nresource \"local_secret\" \"from_file\" {{\n  name  = \"from-file\"\n  value = file(\"value.txt\")\n  key   = local_key.main.id\n}}\n"
    ));
    workspace.write("value.txt", "first");
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    workspace.write("value.txt", "second");
    assert_exit(&workspace.run(&["plan", "--out", "change.kfplan"]), 0);
    workspace.write("value.txt", "third");
    let stale = workspace.run(&["apply", "change.kfplan"]);
    assert_exit(&stale, 1);
    assert!(
        crate::support::stderr(&stale).contains("KF3006"),
        "{}",
        crate::support::stderr(&stale)
    );
    let value = workspace.run(&["secret", "get", "local_secret.from_file"]);
    assert_exit(&value, 0);
    assert_eq!(stdout(&value).trim_end(), "first", "nothing was applied");
    workspace.write("value.txt", "second");
    assert_exit(&workspace.run(&["apply", "change.kfplan"]), 0);
    let value = workspace.run(&["secret", "get", "local_secret.from_file"]);
    assert_eq!(stdout(&value).trim_end(), "second");
    // The plan was used: applying it again is refused, the state moved on.
    assert_exit(&workspace.run(&["apply", "change.kfplan"]), 1);
}

#[test]
fn a_value_from_an_indexed_resource_created_in_the_same_run_is_written_in_that_run() {
    let workspace = Workspace::initialized(
        r#"
resource "local_key" "main" {
  description = "k"
}

resource "local_secret" "source" {
  count = 3
  name  = "source-${count.index}"
  value = generate({ length = 24 })
  key   = local_key.main.id
}

resource "local_secret" "copy" {
  count = 3
  name  = "copy-${count.index}"
  value = local_secret.source[count.index].value
  key   = local_key.main.id
}
"#,
    );
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    for index in 0..3 {
        assert_eq!(
            secret_value(&workspace, &format!("local_secret.copy[{index}]")),
            secret_value(&workspace, &format!("local_secret.source[{index}]"))
        );
    }
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
}
