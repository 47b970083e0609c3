//! Crash recovery: an apply of 500 secrets killed with SIGKILL at several points
//! of its journal, then run again to completion, leaves exactly one stored
//! object per resource in state: nothing duplicated, nothing orphaned.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{Workspace, assert_exit};

const COUNT: usize = 500;

const CONFIG: &str = r#"
provider "local" {
  simulated_latency_ms = 10
}

resource "local_key" "main" {
  description = "protects the many"
}

resource "local_secret" "many" {
  count = 500
  name  = "s-${count.index}"
  value = generate({ length = 16 })
  key   = local_key.main.id
}
"#;

fn journal_text(workspace: &Workspace) -> String {
    std::fs::read_to_string(workspace.state_folder().join("state.journal")).unwrap_or_default()
}

/// Starts an apply and kills it (SIGKILL) once the journal holds `lines` lines.
/// Fails when the apply finishes first: such a kill point proves nothing.
fn kill_when_the_journal_has(workspace: &Workspace, lines: usize) -> usize {
    kill_run_when_the_journal_has(workspace, "apply", lines);
    let journal = journal_text(workspace);
    let puts = journal.lines().filter(|line| line.contains(r#""op":"put""#)).count();
    let secret_puts = journal
        .lines()
        .filter(|line| line.contains(r#""op":"put""#) && line.contains(r#""type":"local_secret""#))
        .count();
    assert!(
        (1..COUNT).contains(&puts) && secret_puts < COUNT,
        "killed at {lines} journal lines: {puts} puts ({secret_puts} of secrets) journaled; the kill must land mid-apply"
    );
    let secrets = secrets_in_state(workspace).len();
    assert!(
        secrets < COUNT,
        "killed at {lines} journal lines: {secrets} secrets in state; the kill must land mid-apply"
    );
    secret_puts
}

/// Starts `keyform COMMAND --auto-approve` and kills it (SIGKILL) once the
/// journal holds `lines` lines; fails when it finishes first.
fn kill_run_when_the_journal_has(workspace: &Workspace, command: &str, lines: usize) {
    kill_when_the_journal_reaches(
        workspace,
        workspace.command(&[command, "--auto-approve", "--parallelism", "8"]),
        lines,
    );
}

/// Starts `command` (a keyform run in `workspace`) and kills it (SIGKILL) once
/// the journal holds `lines` lines; fails when it finishes first. Shared with
/// the providers' crash tests.
pub(crate) fn kill_when_the_journal_reaches(workspace: &Workspace, mut command: std::process::Command, lines: usize) {
    let command_line = format!("{command:?}");
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyform");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("poll apply") {
            panic!(
                "{command_line} finished ({status}) before its journal reached {lines} lines: the kill point proves nothing"
            );
        }
        if journal_text(workspace).lines().count() >= lines {
            child.kill().expect("kill the run");
            child.wait().expect("reap the run");
            break;
        }
        if Instant::now() > deadline {
            child.kill().expect("kill the run");
            panic!("the journal never reached {lines} lines");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Ids of the resources of `resource_type` in state (snapshot plus journal).
pub(crate) fn ids_in_state(workspace: &Workspace, resource_type: &str) -> Vec<String> {
    let state = keyform::state::StateStore::read(&workspace.state_folder()).expect("read the state");
    let state = serde_json::to_value(&state).expect("state as JSON");
    state["resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|resource| resource["type"] == resource_type)
        .map(|resource| resource["id"].as_str().expect("an id").to_string())
        .collect()
}

fn secrets_in_state(workspace: &Workspace) -> Vec<String> {
    ids_in_state(workspace, "local_secret")
}

/// The names of the objects in one folder of the local store. A write killed
/// midway leaves a hidden `.NAME.json.RANDOM.partial` file, which the store
/// does not list as an object; anything else must be an object.
fn stored(folder: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder).expect("a store folder") {
        let path = entry.expect("store entry").path();
        let file_name = path.file_name().expect("a name").to_string_lossy().into_owned();
        if file_name.starts_with('.') && file_name.ends_with(".partial") {
            continue;
        }
        assert_eq!(
            path.extension().and_then(|extension| extension.to_str()),
            Some("json"),
            "only objects in the store: {}",
            path.display()
        );
        names.push(path.file_stem().expect("a name").to_string_lossy().into_owned());
    }
    names
}

fn apply_to_completion_and_check(workspace: &Workspace) {
    let apply = workspace.run(&["apply", "--auto-approve", "--parallelism", "8"]);
    assert_exit(&apply, 0);

    let in_state = secrets_in_state(workspace);
    let state_set: BTreeSet<String> = in_state.iter().cloned().collect();
    assert_eq!(state_set.len(), in_state.len(), "an id twice in state");
    assert_eq!(in_state.len(), COUNT);
    let expected: BTreeSet<String> = (0..COUNT).map(|index| format!("s-{index}")).collect();
    assert_eq!(state_set, expected);

    let store = workspace.state_folder().join("local-store");
    let stored_secrets: BTreeSet<String> = stored(&store.join("secrets")).into_iter().collect();
    let orphans: Vec<&String> = stored_secrets.difference(&state_set).collect();
    let missing: Vec<&String> = state_set.difference(&stored_secrets).collect();
    assert!(
        orphans.is_empty() && missing.is_empty(),
        "store and state differ: orphaned {orphans:?}, missing {missing:?}"
    );
    for name in &stored_secrets {
        let text = std::fs::read_to_string(store.join("secrets").join(format!("{name}.json"))).expect("a secret");
        let object: serde_json::Value = serde_json::from_str(&text).expect("a secret object");
        assert!(object["deletion_date"].is_null(), "{name} is scheduled for deletion");
    }

    let keys_in_state: BTreeSet<String> = ids_in_state(workspace, "local_key").into_iter().collect();
    let stored_keys: BTreeSet<String> = stored(&store.join("keys")).into_iter().collect();
    assert_eq!(keys_in_state.len(), 1);
    assert_eq!(stored_keys, keys_in_state, "keys in the store and in state differ");

    let plan = workspace.run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
}

#[test]
fn an_apply_killed_while_journaling_intents_recovers() {
    let workspace = Workspace::initialized(CONFIG);
    // Intents come first: creates are in flight, few or none recorded.
    kill_when_the_journal_has(&workspace, 50);
    // The run that recovers is killed too, once creates are being recorded.
    let secret_puts = kill_when_the_journal_has(&workspace, 700);
    assert!(secret_puts >= 1, "no create had been recorded at the second kill point");
    apply_to_completion_and_check(&workspace);
}

#[test]
fn an_apply_killed_midway_recovers() {
    let workspace = Workspace::initialized(CONFIG);
    kill_when_the_journal_has(&workspace, 300);
    apply_to_completion_and_check(&workspace);
}

#[test]
fn an_apply_killed_late_recovers() {
    let workspace = Workspace::initialized(CONFIG);
    let secret_puts = kill_when_the_journal_has(&workspace, 700);
    assert!(secret_puts >= 1, "no create had been recorded at the kill point");
    apply_to_completion_and_check(&workspace);
}

#[test]
fn a_destroy_killed_midway_finishes_on_the_next_run() {
    let workspace = Workspace::initialized(CONFIG);
    assert_exit(&workspace.run(&["apply", "--auto-approve", "--parallelism", "8"]), 0);
    kill_run_when_the_journal_has(&workspace, "destroy", 100);
    let left = secrets_in_state(&workspace).len();
    assert!(
        (1..COUNT).contains(&left),
        "killed at 100 journal lines: {left} secrets left in state; the kill must land mid-destroy"
    );
    assert_exit(&workspace.run(&["destroy", "--auto-approve", "--parallelism", "8"]), 0);
    let state = keyform::state::StateStore::read(&workspace.state_folder()).expect("read the state");
    assert!(state.resources.is_empty() && state.pending_creates.is_empty());
    let secrets = workspace.state_folder().join("local-store/secrets");
    let stored_secrets = stored(&secrets);
    assert_eq!(stored_secrets.len(), COUNT, "destroyed secrets stay recoverable");
    for name in stored_secrets {
        let text = std::fs::read_to_string(secrets.join(format!("{name}.json"))).expect("a secret");
        let object: serde_json::Value = serde_json::from_str(&text).expect("a secret object");
        assert!(
            object["deletion_date"].is_string(),
            "{name} is not scheduled for deletion"
        );
    }
    assert_exit(&workspace.run(&["plan", "--destroy", "--detailed-exitcode"]), 0);
}

#[test]
fn a_replacement_killed_midway_finishes_on_the_next_run() {
    let workspace = Workspace::initialized(CONFIG);
    assert_exit(&workspace.run(&["apply", "--auto-approve", "--parallelism", "8"]), 0);
    // A new name forces the replacement of all 500.
    workspace.write(
        "main.hcl",
        &CONFIG.replace("\"s-${count.index}\"", "\"t-${count.index}\""),
    );
    kill_run_when_the_journal_has(&workspace, "apply", 400);
    let in_state = secrets_in_state(&workspace);
    let replaced = in_state.iter().filter(|id| id.starts_with("t-")).count();
    assert!(
        in_state.len() < COUNT || replaced < COUNT,
        "killed at 400 journal lines: every secret was already replaced; the kill must land mid-apply"
    );
    assert!(
        journal_text(&workspace).contains(r#""op":"remove""#) || replaced > 0,
        "killed at 400 journal lines: nothing was replaced yet"
    );

    assert_exit(&workspace.run(&["apply", "--auto-approve", "--parallelism", "8"]), 0);
    let in_state: BTreeSet<String> = secrets_in_state(&workspace).into_iter().collect();
    let expected: BTreeSet<String> = (0..COUNT).map(|index| format!("t-{index}")).collect();
    assert_eq!(in_state, expected);
    let secrets = workspace.state_folder().join("local-store/secrets");
    let mut live = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    for name in stored(&secrets) {
        let text = std::fs::read_to_string(secrets.join(format!("{name}.json"))).expect("a secret");
        let object: serde_json::Value = serde_json::from_str(&text).expect("a secret object");
        if object["deletion_date"].is_null() {
            live.insert(name);
        } else {
            deleted.insert(name);
        }
    }
    assert_eq!(live, expected, "the live secrets in the store are the ones in state");
    let old: BTreeSet<String> = (0..COUNT).map(|index| format!("s-{index}")).collect();
    assert_eq!(deleted, old, "every old secret is recoverable, none is live");
    assert_exit(&workspace.run(&["plan", "--detailed-exitcode"]), 0);
}
