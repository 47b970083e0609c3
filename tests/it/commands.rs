//! The commands beyond plan and apply: fmt, validate, graph, output, import
//! (command and block), state list/mv/rm, modules, rotation, drift.

use crate::support::{Workspace, assert_exit, stderr, stdout};

const KEY_AND_SECRET: &str = r#"
resource "local_key" "main" {
  description = "test key"
}

resource "local_secret" "db" {
  name  = "db"
  value = generate({ length = 20 })
  key   = local_key.main.id
}

output "key_id" {
  value = local_key.main.id
}

output "db_value" {
  value     = local_secret.db.value
  sensitive = true
}
"#;

#[test]
fn fmt_check_lists_files_and_exits_3_then_fmt_rewrites_them() {
    let workspace = Workspace::new();
    workspace.write(
        "main.hcl",
        "resource \"local_key\" \"main\" {\ndescription=\"x\" # kept\n}\n",
    );
    let check = workspace.run(&["fmt", "--check"]);
    assert_exit(&check, 3);
    assert!(stdout(&check).contains("main.hcl"));
    let unchanged = std::fs::read_to_string(workspace.path().join("main.hcl")).expect("read");
    assert!(unchanged.contains("description=\"x\""), "--check changes nothing");
    assert_exit(&workspace.run(&["fmt"]), 0);
    let formatted = std::fs::read_to_string(workspace.path().join("main.hcl")).expect("read");
    assert_eq!(
        formatted,
        "resource \"local_key\" \"main\" {\n  description = \"x\" # kept\n}\n"
    );
    assert_exit(&workspace.run(&["fmt", "--check"]), 0);
}

#[test]
fn validate_needs_no_init_and_graph_prints_edges() {
    let workspace = Workspace::new();
    workspace.write("main.hcl", KEY_AND_SECRET);
    let validate = workspace.run(&["validate"]);
    assert_exit(&validate, 0);
    assert!(stdout(&validate).contains("valid"));
    let graph = workspace.run(&["graph"]);
    assert_exit(&graph, 0);
    let dot = stdout(&graph);
    assert!(dot.starts_with("digraph keyform {"), "{dot}");
    assert!(dot.contains("\"local_secret.db\" -> \"local_key.main\""), "{dot}");
    assert!(dot.contains("\"local_key.main\" -> \"provider.local\""), "{dot}");
}

#[test]
fn outputs_show_values_and_hide_sensitive_ones() {
    let workspace = Workspace::initialized(KEY_AND_SECRET);
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    let key_id = stdout(&workspace.run(&["output", "key_id"])).trim().to_string();
    assert_eq!(key_id.len(), 32, "a key id: {key_id}");
    let sensitive = workspace.run(&["output", "db_value"]);
    assert_exit(&sensitive, 0);
    assert_eq!(stdout(&sensitive).trim(), "(sensitive)");
    let all = stdout(&workspace.run(&["output"]));
    assert!(all.contains(&format!("key_id = {key_id}")), "{all}");
    assert!(all.contains("db_value = (sensitive)"), "{all}");
    let secret = stdout(&workspace.run(&["secret", "get", "local_secret.db"]))
        .trim()
        .to_string();
    assert!(!all.contains(&secret), "a sensitive output never prints its value");
}

#[test]
fn state_list_mv_and_rm() {
    let workspace = Workspace::initialized(KEY_AND_SECRET);
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    let list = stdout(&workspace.run(&["state", "list"]));
    assert_eq!(list, "local_key.main\nlocal_secret.db\n");
    let show = workspace.run(&["state", "show", "local_secret.db"]);
    assert_exit(&show, 0);
    assert!(
        stdout(&show).contains("value = (sensitive, version 1)"),
        "{}",
        stdout(&show)
    );
    assert_exit(
        &workspace.run(&["state", "mv", "local_secret.db", "local_secret.renamed"]),
        0,
    );
    assert_eq!(
        stdout(&workspace.run(&["state", "list"])),
        "local_key.main\nlocal_secret.renamed\n"
    );
    let missing = workspace.run(&["state", "rm", "local_secret.nothing"]);
    assert_exit(&missing, 1);
    assert!(stderr(&missing).contains("KF3005"), "{}", stderr(&missing));
    assert_exit(&workspace.run(&["state", "rm", "local_secret.renamed"]), 0);
    assert_eq!(stdout(&workspace.run(&["state", "list"])), "local_key.main\n");
    // The object was left alone: the secret still exists in the store.
    assert!(workspace.state_folder().join("local-store/secrets/db.json").exists());
}

#[test]
fn import_command_and_import_block_adopt_existing_objects() {
    let workspace = Workspace::initialized(KEY_AND_SECRET);
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    // Forget the secret, then adopt it again with the command.
    assert_exit(&workspace.run(&["state", "rm", "local_secret.db"]), 0);
    let imported = workspace.run(&["import", "local_secret.db", "db"]);
    assert_exit(&imported, 0);
    assert!(stdout(&workspace.run(&["state", "list"])).contains("local_secret.db"));
    let state = workspace.state_json();
    assert_eq!(
        state["resources"]["local_secret.db"]["dependencies"],
        serde_json::json!(["local_key.main"]),
        "an import records what the configuration says the object depends on, for the destroy order"
    );
    let plan = workspace.run(&["plan"]);
    assert!(
        stdout(&plan).contains("value:"),
        "an imported value is overwritten only when said: {}",
        stdout(&plan)
    );
    // Forget it again, and adopt it with an import block.
    assert_exit(&workspace.run(&["state", "rm", "local_secret.db"]), 0);
    let mut text = KEY_AND_SECRET.to_string();
    text.push_str("\nimport {\n  to = local_secret.db\n  id = \"db\"\n}\n");
    workspace.write("main.hcl", &text);
    let plan = workspace.run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(stdout(&plan).contains("local_secret.db"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("import"), "{}", stdout(&plan));
    assert!(
        stdout(&plan).contains("will overwrite the imported value"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
    let secrets = std::fs::read_dir(workspace.state_folder().join("local-store/secrets"))
        .expect("store")
        .count();
    assert_eq!(secrets, 1, "imported, not created twice");
}

#[test]
fn modules_with_local_sources_prefix_addresses_and_pass_outputs() {
    let workspace = Workspace::new();
    std::fs::create_dir_all(workspace.path().join("modules/vault")).expect("module folder");
    workspace.write(
        "modules/vault/main.hcl",
        r#"
variable "prefix" {
  type = string
}

resource "local_key" "key" {
  description = "${var.prefix} key"
}

resource "local_secret" "token" {
  name  = "${var.prefix}-token"
  value = generate({ length = 16 })
  key   = local_key.key.id
}

output "key_id" {
  value = local_key.key.id
}
"#,
    );
    workspace.write(
        "main.hcl",
        r#"
module "payments" {
  source = "./modules/vault"
  prefix = "payments"
}

resource "local_secret" "uses_module" {
  name  = "uses-module"
  value = generate({ length = 16 })
  key   = module.payments.key_id
}

output "payments_key" {
  value = module.payments.key_id
}
"#,
    );
    assert_exit(&workspace.run(&["init"]), 0);
    let apply = workspace.run(&["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    let list = stdout(&workspace.run(&["state", "list"]));
    assert_eq!(
        list,
        "local_secret.uses_module\nmodule.payments.local_key.key\nmodule.payments.local_secret.token\n"
    );
    assert!(
        workspace
            .state_folder()
            .join("local-store/secrets/payments-token.json")
            .exists()
    );
    let key = stdout(&workspace.run(&["output", "payments_key"])).trim().to_string();
    let show = stdout(&workspace.run(&["state", "show", "local_secret.uses_module"]));
    assert!(show.contains(&key), "the module's output reached the root: {show}");
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
}

#[test]
fn a_due_rotation_is_planned_and_rotate_performs_it() {
    let workspace = Workspace::initialized(
        r#"
resource "local_key" "main" {
  rotation {
    every = 1
  }
}

resource "local_secret" "token" {
  name  = "token"
  value = generate({ length = 24 })
  key   = local_key.main.id
  rotation {
    every = "1s"
  }
}
"#,
    );
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    let before = stdout(&workspace.run(&["secret", "get", "local_secret.token"]));
    // Rotation is due one second after creation; state records times in whole seconds.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let plan = workspace.run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(stdout(&plan).contains("⟳"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("rotation due"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("2 to rotate"), "{}", stdout(&plan));
    let drift = workspace.run(&["drift"]);
    assert_exit(&drift, 2);
    assert!(stdout(&drift).contains("rotation overdue"), "{}", stdout(&drift));
    let rotate = workspace.run(&["rotate", "--auto-approve"]);
    assert_exit(&rotate, 0);
    assert!(stdout(&rotate).contains("2 rotated"), "{}", stdout(&rotate));
    let after = stdout(&workspace.run(&["secret", "get", "local_secret.token"]));
    assert_ne!(before, after, "the value was rotated");
    let show = stdout(&workspace.run(&["state", "show", "local_key.main"]));
    assert!(show.contains("current_version = 2"), "{show}");
}

#[test]
fn drift_reports_unmanaged_objects_and_changes_made_outside() {
    let workspace = Workspace::initialized(KEY_AND_SECRET);
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    assert_exit(&workspace.run(&["drift"]), 0);
    // An object keyform does not manage: forget the secret, so it is unmanaged.
    assert_exit(&workspace.run(&["state", "rm", "local_secret.db"]), 0);
    let drift = workspace.run(&["drift", "--format", "json"]);
    assert_exit(&drift, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout(&drift)).expect("json report");
    assert_eq!(report["unmanaged"][0]["id"], "db", "{report}");
    assert_eq!(report["unmanaged"][0]["type"], "local_secret", "{report}");
    // Adopt it again, then change it behind keyform's back.
    assert_exit(&workspace.run(&["import", "local_secret.db", "db"]), 0);
    let path = workspace.state_folder().join("local-store/secrets/db.json");
    let text = std::fs::read_to_string(&path).expect("store file");
    std::fs::write(
        &path,
        text.replace("\"description\": null", "\"description\": \"edited\""),
    )
    .expect("edit");
    let drift = workspace.run(&["drift"]);
    assert_exit(&drift, 2);
    assert!(
        stdout(&drift).contains("local_secret.db   changed outside keyform"),
        "{}",
        stdout(&drift)
    );
    assert!(
        stdout(&drift).contains("description: null -> \"edited\""),
        "{}",
        stdout(&drift)
    );
}

#[test]
fn a_secret_pending_deletion_is_restored_not_created_again() {
    let workspace = Workspace::initialized(KEY_AND_SECRET);
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    assert_exit(&workspace.run(&["destroy", "--auto-approve"]), 0);
    let plan = workspace.run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(
        stdout(&plan).contains("local_secret.db   recover from pending deletion"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    let text =
        std::fs::read_to_string(workspace.state_folder().join("local-store/secrets/db.json")).expect("the secret");
    let object: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(object["deletion_date"].is_null(), "restored: {object}");
    assert_eq!(
        object["versions"].as_array().map(Vec::len),
        Some(2),
        "the old version kept as previous, a new current: {object}"
    );
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
}

#[test]
fn a_data_source_reads_at_plan_time_or_at_apply_when_its_arguments_are_unknown() {
    let workspace = Workspace::initialized(
        r#"
resource "local_key" "main" {
  description = "looked up"
}

data "local_key" "same" {
  id = local_key.main.id
}

resource "local_secret" "uses_lookup" {
  name        = "uses-lookup"
  description = "protected by ${data.local_key.same.description}"
  value       = generate({ length = 16 })
  key         = data.local_key.same.id
}

output "looked_up" {
  value = data.local_key.same.current_version
}
"#,
    );
    // The key does not exist yet: the data source is read during apply.
    let plan = workspace.run(&["plan"]);
    assert_exit(&plan, 0);
    assert!(
        stdout(&plan).contains("description: (known after apply)"),
        "{}",
        stdout(&plan)
    );
    assert_exit(&workspace.run(&["apply", "--auto-approve"]), 0);
    assert_eq!(stdout(&workspace.run(&["output", "looked_up"])).trim(), "1");
    let show = stdout(&workspace.run(&["state", "show", "local_secret.uses_lookup"]));
    assert!(show.contains("protected by looked up"), "{show}");
    assert!(
        !stdout(&workspace.run(&["state", "list"])).contains("data."),
        "data sources are not kept in state"
    );
    // Now the key exists: the data source is read at plan time and nothing changes.
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
    // A data source of a type no provider offers is refused with a did-you-mean.
    workspace.write("main.hcl", "data \"local_kye\" \"x\" {\n  id = \"y\"\n}\n");
    let refused = workspace.run(&["validate"]);
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains("unknown data source `local_kye`"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("did you mean `local_key`?"),
        "{}",
        stderr(&refused)
    );
}
