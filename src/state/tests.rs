//! Tests of the state as a whole: [`StateStore`] across runs and crashes, reading
//! snapshots, and the v1 fixture that every later format must keep reading.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::store::parse_snapshot;
use super::*;

const FIXTURE_V1_BASIC: &str = include_str!("../../state/fixtures/v1-basic.json");
const SCHEMA_V1: &str = include_str!("../../state/schema/v1.json");

fn options() -> OpenOptions {
    OpenOptions {
        operation: "apply".to_string(),
        lock_timeout: Duration::ZERO,
    }
}

fn open(folder: &Path) -> StateStore {
    StateStore::open(folder, &options()).unwrap()
}

fn resource(address: &str) -> ResourceState {
    ResourceState {
        address: address.to_string(),
        resource_type: "local_secret".to_string(),
        provider: "provider.local".to_string(),
        id: format!("id-of-{address}"),
        attributes: serde_json::Map::from_iter([("name".to_string(), serde_json::json!(address))]),
        secrets: BTreeMap::from([(
            "value".to_string(),
            SecretRecord {
                fingerprint: "hmac-sha256:ab12".to_string(),
                version_id: Some("1".to_string()),
            },
        )]),
        dependencies: Vec::new(),
        last_rotated: None,
        create_token: None,
    }
}

fn intent(address: &str, token: &str) -> JournalEntry {
    JournalEntry::Intent(PendingCreate {
        address: address.to_string(),
        resource_type: "local_secret".to_string(),
        provider: "provider.local".to_string(),
        token: token.to_string(),
        started_at: timestamp_now(),
        attributes: Default::default(),
    })
}

fn journal_path(folder: &Path) -> std::path::PathBuf {
    folder.join("state.journal")
}

fn snapshot_path(folder: &Path) -> std::path::PathBuf {
    folder.join("state.json")
}

fn append_to_journal(folder: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(journal_path(folder))
        .unwrap();
    file.write_all(bytes).unwrap();
}

#[test]
fn the_v1_fixture_still_reads() {
    let state = parse_snapshot(Path::new("v1-basic.json"), FIXTURE_V1_BASIC.as_bytes()).unwrap();
    assert_eq!(state.format_version, 1);
    assert_eq!(state.serial, 3);
    assert_eq!(state.resources.len(), 2);
    let key = &state.resources["local_key.main"];
    assert_eq!(key.resource_type, "local_key");
    assert!(key.secrets.is_empty());
    let secret = &state.resources[r#"module.app.local_secret.db["primary"]"#];
    assert_eq!(secret.resource_type, "local_secret");
    assert_eq!(secret.dependencies, ["local_key.main"]);
    let value = &secret.secrets["value"];
    assert!(value.fingerprint.starts_with("hmac-sha256:"));
    assert_eq!(value.version_id.as_deref(), Some("3"));
    assert_eq!(state.outputs.len(), 1);
    assert!(state.pending_creates.is_empty());
    for (address, resource) in &state.resources {
        assert_eq!(address, &resource.address);
    }
    // What this keyform writes reads back the same.
    let written = serde_json::to_vec_pretty(&state).unwrap();
    assert_eq!(parse_snapshot(Path::new("again"), &written).unwrap(), state);
}

#[test]
fn the_v1_schema_is_draft_2020_12_json() {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA_V1).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["properties"]["format_version"]["const"], FORMAT_VERSION);
    let secret_properties = schema["$defs"]["secret"]["properties"].as_object().unwrap();
    let names: Vec<&str> = secret_properties.keys().map(String::as_str).collect();
    assert_eq!(names, ["fingerprint", "version_id"]);
}

#[test]
fn a_new_folder_starts_empty_and_private() {
    let parent = tempfile::tempdir().unwrap();
    let folder = parent.path().join("nested").join(".keyform");
    let mut store = open(&folder);
    assert_eq!(store.state().serial, 0);
    assert!(store.state().resources.is_empty());
    assert!(!snapshot_path(&folder).exists());
    store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
    store.compact().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&snapshot_path(&folder)), 0o600);
        assert_eq!(mode(&journal_path(&folder)), 0o600);
        assert_eq!(mode(&folder.join("state.lock")), 0o600);
    }
    let text = std::fs::read_to_string(snapshot_path(&folder)).unwrap();
    assert!(text.starts_with("{\n  \"format_version\": 1,"));
    assert!(text.ends_with("}\n"));
}

#[test]
fn the_journal_is_replayed_after_a_crash() {
    let folder = tempfile::tempdir().unwrap();
    let lineage;
    let expected;
    {
        let mut store = open(folder.path());
        lineage = store.state().lineage.clone();
        store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
        store.record(JournalEntry::Put(resource("local_secret.b"))).unwrap();
        store.record(intent("local_secret.c", "token-c")).unwrap();
        store
            .record(JournalEntry::Move {
                from: "local_secret.b".to_string(),
                to: "local_secret.moved".to_string(),
            })
            .unwrap();
        store
            .record(JournalEntry::Outputs {
                outputs: BTreeMap::from([(
                    "name".to_string(),
                    OutputState {
                        sensitive: false,
                        value: Some(serde_json::json!("a")),
                    },
                )]),
            })
            .unwrap();
        assert_eq!(store.journal_len(), 5);
        expected = store.state().clone();
        // A crash: the store goes away without compacting.
    }
    assert!(!snapshot_path(folder.path()).exists());
    assert_eq!(StateStore::read(folder.path()).unwrap(), expected);

    let store = open(folder.path());
    assert_eq!(store.journal_len(), 0);
    assert_eq!(std::fs::metadata(journal_path(folder.path())).unwrap().len(), 0);
    let state = store.state();
    assert_eq!(state.lineage, lineage);
    assert_eq!(state.serial, 1);
    let addresses: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(addresses, ["local_secret.a", "local_secret.moved"]);
    assert_eq!(state.pending_creates["local_secret.c"].token, "token-c");
    assert_eq!(state.outputs["name"].value, Some(serde_json::json!("a")));
    let on_disk = parse_snapshot(
        &snapshot_path(folder.path()),
        &std::fs::read(snapshot_path(folder.path())).unwrap(),
    )
    .unwrap();
    assert_eq!(&on_disk, state);
}

#[test]
fn a_torn_last_line_is_ignored() {
    let folder = tempfile::tempdir().unwrap();
    {
        let mut store = open(folder.path());
        store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
    }
    append_to_journal(folder.path(), br#"{"op":"put","address":"local_secret.b","ty"#);
    let mut store = open(folder.path());
    assert_eq!(store.state().resources.keys().collect::<Vec<_>>(), ["local_secret.a"]);
    // The torn bytes are gone: new entries follow whole lines.
    assert_eq!(std::fs::metadata(journal_path(folder.path())).unwrap().len(), 0);
    store.record(JournalEntry::Put(resource("local_secret.c"))).unwrap();
    drop(store);
    assert_eq!(StateStore::read(folder.path()).unwrap().resources.len(), 2);
}

#[test]
fn a_corrupt_middle_line_is_an_error_and_nothing_is_written() {
    let folder = tempfile::tempdir().unwrap();
    {
        let mut store = open(folder.path());
        store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
        store.compact().unwrap();
        store.record(JournalEntry::Put(resource("local_secret.b"))).unwrap();
    }
    append_to_journal(folder.path(), b"{not json\n");
    append_to_journal(
        folder.path(),
        format!(
            "{}\n",
            serde_json::to_string(&JournalEntry::Remove {
                address: "local_secret.a".to_string()
            })
            .unwrap()
        )
        .as_bytes(),
    );
    let snapshot_before = std::fs::read(snapshot_path(folder.path())).unwrap();
    let journal_before = std::fs::read(journal_path(folder.path())).unwrap();
    match StateStore::open(folder.path(), &options()) {
        Err(StateError::Syntax { path, line, .. }) => {
            assert_eq!(path, journal_path(folder.path()));
            // The header, the put, then the bad line.
            assert_eq!(line, 3);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(
        StateStore::read(folder.path()),
        Err(StateError::Syntax { line: 3, .. })
    ));
    assert_eq!(std::fs::read(snapshot_path(folder.path())).unwrap(), snapshot_before);
    assert_eq!(std::fs::read(journal_path(folder.path())).unwrap(), journal_before);
    // The failed open released its lock.
    assert_eq!(current_holder(folder.path()).unwrap(), None);
}

#[test]
fn a_newer_format_version_is_reported_even_with_an_unknown_layout() {
    let folder = tempfile::tempdir().unwrap();
    let text = r#"{"format_version": 2, "resources": [1, 2, 3], "lineage": {"new": true}}"#;
    std::fs::write(snapshot_path(folder.path()), text).unwrap();
    match StateStore::read(folder.path()) {
        Err(StateError::NewerVersion { found, supported, .. }) => {
            assert_eq!(found, 2);
            assert_eq!(supported, FORMAT_VERSION);
        }
        other => panic!("expected NewerVersion, got {other:?}"),
    }
    let error = StateStore::open(folder.path(), &options()).unwrap_err();
    assert!(matches!(error, StateError::NewerVersion { found: 2, .. }));
    assert!(error.to_string().contains("version 2"));
    assert_eq!(std::fs::read_to_string(snapshot_path(folder.path())).unwrap(), text);
}

#[test]
fn a_syntax_error_carries_line_and_column() {
    let folder = tempfile::tempdir().unwrap();
    let text = "{\n  \"format_version\": 1,\n  \"lineage\": oops\n}\n";
    std::fs::write(snapshot_path(folder.path()), text).unwrap();
    match StateStore::open(folder.path(), &options()) {
        Err(error @ StateError::Syntax { .. }) => {
            let StateError::Syntax {
                path,
                line,
                column,
                message,
            } = &error
            else {
                unreachable!()
            };
            assert_eq!(path, &snapshot_path(folder.path()));
            assert_eq!((*line, *column), (3, 14));
            assert!(!message.contains("at line"), "{message}");
            assert!(error.to_string().ends_with(&format!(":3:14: {message}")));
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    // A structural error is a syntax error too.
    let text = "{\n  \"format_version\": 1,\n  \"lineage\": 7\n}\n";
    std::fs::write(snapshot_path(folder.path()), text).unwrap();
    assert!(matches!(
        StateStore::read(folder.path()),
        Err(StateError::Syntax { line: 3, .. })
    ));
    assert_eq!(std::fs::read_to_string(snapshot_path(folder.path())).unwrap(), text);
}

#[test]
fn compaction_bumps_the_serial_once_and_empties_the_journal() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(folder.path());
    store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
    store.record(JournalEntry::Put(resource("local_secret.b"))).unwrap();
    store.compact().unwrap();
    assert_eq!(store.state().serial, 1);
    assert_eq!(store.journal_len(), 0);
    assert_eq!(std::fs::metadata(journal_path(folder.path())).unwrap().len(), 0);
    let written = std::fs::read(snapshot_path(folder.path())).unwrap();

    store.compact().unwrap();
    assert_eq!(store.state().serial, 1);
    assert_eq!(std::fs::read(snapshot_path(folder.path())).unwrap(), written);

    // An entry that changes nothing does not bump the serial either.
    store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
    store.compact().unwrap();
    assert_eq!(store.state().serial, 1);
    assert_eq!(store.journal_len(), 0);

    store
        .record(JournalEntry::Remove {
            address: "local_secret.a".to_string(),
        })
        .unwrap();
    store.compact().unwrap();
    assert_eq!(store.state().serial, 2);
    drop(store);
    assert_eq!(StateStore::read(folder.path()).unwrap().serial, 2);
}

#[test]
fn the_journal_compacts_itself_at_the_threshold() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(folder.path());
    for index in 0..JOURNAL_COMPACTION_THRESHOLD {
        store
            .record(JournalEntry::Put(resource(&format!("local_secret.s{index}"))))
            .unwrap();
        let expected = (index + 1) % JOURNAL_COMPACTION_THRESHOLD;
        assert_eq!(store.journal_len(), expected);
    }
    assert_eq!(store.state().serial, 1);
    store.record(JournalEntry::Put(resource("local_secret.last"))).unwrap();
    assert_eq!(store.journal_len(), 1);
    drop(store);
    let state = StateStore::read(folder.path()).unwrap();
    assert_eq!(state.resources.len(), JOURNAL_COMPACTION_THRESHOLD + 1);
}

#[test]
fn an_intent_survives_a_crash_and_put_clears_it() {
    let folder = tempfile::tempdir().unwrap();
    {
        let mut store = open(folder.path());
        store.record(intent("local_secret.db", "token-db")).unwrap();
        // Crash during the create call.
    }
    let mut store = open(folder.path());
    let pending = &store.state().pending_creates["local_secret.db"];
    assert_eq!(pending.token, "token-db");
    let mut created = resource("local_secret.db");
    created.create_token = Some(pending.token.clone());
    store.record(JournalEntry::Put(created)).unwrap();
    assert!(store.state().pending_creates.is_empty());
    drop(store);

    let state = StateStore::read(folder.path()).unwrap();
    assert!(state.pending_creates.is_empty());
    assert_eq!(
        state.resources["local_secret.db"].create_token.as_deref(),
        Some("token-db")
    );
}

#[test]
fn a_crash_between_rename_and_truncation_does_not_replay_twice() {
    let folder = tempfile::tempdir().unwrap();
    let compacted;
    {
        let mut store = open(folder.path());
        store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
        store.record(JournalEntry::Put(resource("local_secret.c"))).unwrap();
        store.compact().unwrap();
        // Swap a and c through b: applying these twice would lose a resource.
        for (from, to) in [("a", "b"), ("c", "a"), ("b", "c")] {
            store
                .record(JournalEntry::Move {
                    from: format!("local_secret.{from}"),
                    to: format!("local_secret.{to}"),
                })
                .unwrap();
        }
        let journal = std::fs::read(journal_path(folder.path())).unwrap();
        store.compact().unwrap();
        compacted = store.state().clone();
        drop(store);
        // Put the journal back as if the truncation never happened.
        std::fs::write(journal_path(folder.path()), journal).unwrap();
    }
    assert_eq!(compacted.serial, 2);
    assert_eq!(compacted.resources["local_secret.a"].id, "id-of-local_secret.c");
    assert_eq!(compacted.resources["local_secret.c"].id, "id-of-local_secret.a");
    assert_eq!(StateStore::read(folder.path()).unwrap(), compacted);
    let store = open(folder.path());
    assert_eq!(store.state(), &compacted);
    assert_eq!(store.journal_len(), 0);
}

#[test]
fn a_journal_from_another_lineage_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    {
        let mut store = open(folder.path());
        store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
        store.compact().unwrap();
    }
    let other = tempfile::tempdir().unwrap();
    {
        let mut store = open(other.path());
        store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
        store.compact().unwrap();
        store.record(JournalEntry::Put(resource("local_secret.x"))).unwrap();
    }
    std::fs::copy(journal_path(other.path()), journal_path(folder.path())).unwrap();
    assert!(matches!(
        StateStore::open(folder.path(), &options()),
        Err(StateError::Syntax { .. })
    ));
}

#[test]
fn read_neither_locks_nor_writes() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(folder.path());
    store.record(JournalEntry::Put(resource("local_secret.a"))).unwrap();
    let journal_before = std::fs::read(journal_path(folder.path())).unwrap();
    let state = StateStore::read(folder.path()).unwrap();
    assert_eq!(&state, store.state());
    assert_eq!(std::fs::read(journal_path(folder.path())).unwrap(), journal_before);
    assert!(!snapshot_path(folder.path()).exists());
    assert_eq!(current_holder(folder.path()).unwrap().as_ref(), store.lock_info());

    let missing = folder.path().join("missing");
    assert!(StateStore::read(&missing).unwrap().resources.is_empty());
    assert!(!missing.exists());
}

#[test]
fn a_second_store_waits_for_the_lock() {
    let folder = tempfile::tempdir().unwrap();
    let store = open(folder.path());
    let holder = store.lock_info().cloned();
    match StateStore::open(folder.path(), &options()) {
        Err(StateError::Locked { holder: found, .. }) => {
            assert_eq!(found.map(|info| *info), holder);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(store);
    let store = open(folder.path());
    assert_eq!(store.lock_info().map(|info| info.operation.as_str()), Some("apply"));
}

#[test]
fn sensitive_output_values_never_reach_disk() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(folder.path());
    store
        .record(JournalEntry::Outputs {
            outputs: BTreeMap::from([(
                "password".to_string(),
                OutputState {
                    sensitive: true,
                    value: Some(serde_json::json!("hunter2")),
                },
            )]),
        })
        .unwrap();
    let journal = std::fs::read_to_string(journal_path(folder.path())).unwrap();
    assert!(!journal.contains("hunter2"));
    store.compact().unwrap();
    let snapshot = std::fs::read_to_string(snapshot_path(folder.path())).unwrap();
    assert!(!snapshot.contains("hunter2"));
    assert_eq!(store.state().outputs["password"].value, None);
}
