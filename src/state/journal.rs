//! The journal: [`JournalEntry`], one change to the state, how it applies to a
//! [`State`], and the append-only file `state.journal` that makes each change
//! durable before anything depends on it.
//!
//! The file is JSON Lines. Its first line is a header naming the snapshot it
//! extends (`{"format_version":1,"lineage":"…","base_serial":3}`); every other
//! line is one entry. Each append is one write call followed by an fsync. A last
//! line that is not valid JSON (a crash mid-write) is ignored with a warning; an
//! invalid line anywhere else is a [`StateError::Syntax`].
//!
//! The header is what makes replay happen exactly once: a compaction writes the
//! new snapshot (serial + 1) before truncating the journal, so a crash between
//! the two leaves a journal whose `base_serial` is older than the snapshot, and
//! its entries, already in the snapshot, are not applied again.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::StateError;
use super::model::{FORMAT_VERSION, OutputState, PendingCreate, ResourceState, State};

/// The journal's file name inside the state folder.
pub(crate) const JOURNAL_FILE_NAME: &str = "state.journal";

/// One change to the state, journaled before anything depends on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum JournalEntry {
    /// Journaled before a create call, so a crash leaves the token to look for.
    Intent(PendingCreate),
    /// A create, update or import finished: replaces the resource at its
    /// address and clears the pending create there.
    Put(ResourceState),
    /// A delete finished; also clears a pending create at that address.
    Remove { address: String },
    /// A pending create was found to have made nothing.
    Abandon { address: String },
    /// A `moved` block or `state mv`: moves the resource instance at `from`, or
    /// every instance under it (`local_secret.db` moves `local_secret.db["a"]`,
    /// `module.app` moves `module.app.local_key.k`), to the same place under
    /// `to`. Dependencies naming a moved address are rewritten. The caller checks
    /// that `to` is free; an instance already there is replaced.
    Move { from: String, to: String },
    /// Replaces all root module outputs. Sensitive outputs lose their value.
    Outputs { outputs: BTreeMap<String, OutputState> },
}

impl JournalEntry {
    /// Applies this change to `state`. Replaying the same entries on the same
    /// state always gives the same result.
    pub fn apply_to(&self, state: &mut State) {
        match self {
            JournalEntry::Intent(pending) => {
                state.pending_creates.insert(pending.address.clone(), pending.clone());
            }
            JournalEntry::Put(resource) => {
                state.pending_creates.remove(&resource.address);
                state.resources.insert(resource.address.clone(), resource.clone());
            }
            JournalEntry::Remove { address } => {
                state.resources.remove(address);
                state.pending_creates.remove(address);
            }
            JournalEntry::Abandon { address } => {
                state.pending_creates.remove(address);
            }
            JournalEntry::Move { from, to } => move_addresses(state, from, to),
            JournalEntry::Outputs { outputs } => {
                state.outputs = outputs
                    .iter()
                    .map(|(name, output)| (name.clone(), without_sensitive_value(output)))
                    .collect();
            }
        }
    }

    /// This entry with the value of every sensitive output dropped, so that no
    /// secret value reaches the journal.
    pub(crate) fn without_sensitive_values(self) -> JournalEntry {
        match self {
            JournalEntry::Outputs { outputs } => JournalEntry::Outputs {
                outputs: outputs
                    .into_iter()
                    .map(|(name, output)| {
                        if output.sensitive && output.value.is_some() {
                            tracing::warn!(output = %name, "not recording the value of a sensitive output");
                        }
                        let output = without_sensitive_value(&output);
                        (name, output)
                    })
                    .collect(),
            },
            other => other,
        }
    }
}

fn without_sensitive_value(output: &OutputState) -> OutputState {
    OutputState {
        sensitive: output.sensitive,
        value: if output.sensitive { None } else { output.value.clone() },
    }
}

/// Whether `address` is `prefix` or an address inside it: a resource's
/// instances (`prefix[...]`) or a module's contents (`prefix.…`).
fn is_within(address: &str, prefix: &str) -> bool {
    match address.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

/// `address` with its leading `from` replaced by `to`, if it is within `from`.
fn moved_address(address: &str, from: &str, to: &str) -> Option<String> {
    if is_within(address, from) {
        Some(format!("{to}{}", &address[from.len()..]))
    } else {
        None
    }
}

fn move_addresses(state: &mut State, from: &str, to: &str) {
    if from == to {
        return;
    }
    // Take everything that moves out first, so that a destination inside the
    // source (or the other way round) cannot be moved twice.
    let moving: Vec<String> = state
        .resources
        .keys()
        .filter(|address| is_within(address, from))
        .cloned()
        .collect();
    let mut moved_resources = Vec::with_capacity(moving.len());
    for address in moving {
        if let Some(resource) = state.resources.remove(&address) {
            moved_resources.push(resource);
        }
    }
    for mut resource in moved_resources {
        if let Some(address) = moved_address(&resource.address, from, to) {
            resource.address = address;
        }
        state.resources.insert(resource.address.clone(), resource);
    }

    let moving: Vec<String> = state
        .pending_creates
        .keys()
        .filter(|address| is_within(address, from))
        .cloned()
        .collect();
    let mut moved_pending = Vec::with_capacity(moving.len());
    for address in moving {
        if let Some(pending) = state.pending_creates.remove(&address) {
            moved_pending.push(pending);
        }
    }
    for mut pending in moved_pending {
        if let Some(address) = moved_address(&pending.address, from, to) {
            pending.address = address;
        }
        state.pending_creates.insert(pending.address.clone(), pending);
    }

    for resource in state.resources.values_mut() {
        for dependency in &mut resource.dependencies {
            if let Some(address) = moved_address(dependency, from, to) {
                *dependency = address;
            }
        }
    }
}

/// The first line of a non-empty journal: the snapshot its entries extend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournalHeader {
    pub format_version: u32,
    pub lineage: String,
    pub base_serial: u64,
}

/// What a journal file holds.
#[derive(Debug, Default)]
pub(crate) struct JournalContents {
    /// `None` for an empty journal, or one whose header was torn.
    pub header: Option<JournalHeader>,
    pub entries: Vec<JournalEntry>,
    /// The size of the file in bytes, torn line included.
    pub length: u64,
}

/// Parses a journal file's bytes; `path` is for messages.
pub(crate) fn parse_journal(path: &Path, bytes: &[u8]) -> Result<JournalContents, StateError> {
    let mut contents = JournalContents {
        length: bytes.len() as u64,
        ..JournalContents::default()
    };
    let mut segments: Vec<&[u8]> = bytes.split(|byte| *byte == b'\n').collect();
    // What follows the last newline: empty when the file ends with one, else a
    // line whose write was interrupted.
    let torn = segments.pop().filter(|segment| !segment.is_empty());
    if let Some(segment) = torn {
        tracing::warn!(
            path = %path.display(),
            line = segments.len() + 1,
            bytes = segment.len(),
            "ignoring the incomplete last line of the state journal (a write was interrupted)"
        );
    }
    let last_line = segments.iter().rposition(|segment| !is_blank(segment));
    let first_line = segments.iter().position(|segment| !is_blank(segment));
    for (index, segment) in segments.iter().enumerate() {
        if is_blank(segment) {
            continue;
        }
        let line = index + 1;
        let value: serde_json::Value = match serde_json::from_slice(segment) {
            Ok(value) => value,
            Err(error) if torn.is_none() && Some(index) == last_line => {
                tracing::warn!(
                    path = %path.display(),
                    line,
                    %error,
                    "ignoring the invalid last line of the state journal (a write was interrupted)"
                );
                continue;
            }
            Err(error) => return Err(syntax_at_line(path, line, &error)),
        };
        let is_header = Some(index) == first_line && value.as_object().is_some_and(|object| !object.contains_key("op"));
        if is_header {
            contents.header = Some(parse_header(path, line, segment, &value)?);
        } else {
            let entry = serde_json::from_slice(segment).map_err(|error| syntax_at_line(path, line, &error))?;
            contents.entries.push(entry);
        }
    }
    Ok(contents)
}

fn parse_header(
    path: &Path,
    line: usize,
    segment: &[u8],
    value: &serde_json::Value,
) -> Result<JournalHeader, StateError> {
    if let Some(found) = value.get("format_version").and_then(serde_json::Value::as_u64)
        && found > u64::from(FORMAT_VERSION)
    {
        return Err(StateError::NewerVersion {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(segment).map_err(|error| syntax_at_line(path, line, &error))
}

fn is_blank(segment: &[u8]) -> bool {
    segment.iter().all(u8::is_ascii_whitespace)
}

/// A syntax error in one journal line: serde_json counts lines within the line.
fn syntax_at_line(path: &Path, line: usize, error: &serde_json::Error) -> StateError {
    match StateError::syntax(path, error) {
        StateError::Syntax {
            path, column, message, ..
        } => StateError::Syntax {
            path,
            line,
            column,
            message,
        },
        other => other,
    }
}

/// Reads and parses the journal in `folder` without opening it for writing; a
/// missing file is an empty journal.
pub(crate) fn read_journal(folder: &Path) -> Result<JournalContents, StateError> {
    let path = folder.join(JOURNAL_FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => parse_journal(&path, &bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(JournalContents::default()),
        Err(error) => Err(StateError::io(path, error)),
    }
}

/// The journal file, open for appending, of a locked state.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    /// Bytes known to be whole lines (or, right after opening, the file's size).
    length: u64,
    entries: usize,
    /// The `base_serial` of the header now in the file, if any.
    base_serial: Option<u64>,
}

impl Journal {
    /// Opens (creating, mode 0600) the journal in `folder` and reads what it holds.
    pub(crate) fn open(folder: &Path) -> Result<(Journal, JournalContents), StateError> {
        let path = folder.join(JOURNAL_FILE_NAME);
        let existed = path.exists();
        let mut options = std::fs::OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|error| StateError::io(&path, error))?;
        if !existed {
            super::store::sync_folder(folder)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|error| StateError::io(&path, error))?;
        let contents = parse_journal(&path, &bytes)?;
        let journal = Journal {
            path,
            file,
            length: contents.length,
            entries: contents.entries.len(),
            base_serial: contents.header.as_ref().map(|header| header.base_serial),
        };
        Ok((journal, contents))
    }

    /// Appends `entry` in one write and fsyncs. A journal that is empty, or whose
    /// entries extend an older snapshot (a truncation that failed), is started
    /// afresh with a header naming the snapshot `lineage`/`serial`.
    pub(crate) fn append(&mut self, entry: &JournalEntry, lineage: &str, serial: u64) -> Result<(), StateError> {
        if self.length > 0 && self.base_serial != Some(serial) {
            self.truncate()?;
        }
        // Drop the remains of an append that failed halfway.
        let actual = self
            .file
            .metadata()
            .map_err(|error| StateError::io(&self.path, error))?
            .len();
        if actual != self.length {
            self.file
                .set_len(self.length)
                .map_err(|error| StateError::io(&self.path, error))?;
        }
        let mut lines = Vec::new();
        let starts_file = self.length == 0;
        if starts_file {
            let header = JournalHeader {
                format_version: FORMAT_VERSION,
                lineage: lineage.to_string(),
                base_serial: serial,
            };
            serde_json::to_writer(&mut lines, &header)
                .map_err(|error| StateError::io(&self.path, std::io::Error::other(error)))?;
            lines.push(b'\n');
        }
        serde_json::to_writer(&mut lines, entry)
            .map_err(|error| StateError::io(&self.path, std::io::Error::other(error)))?;
        lines.push(b'\n');
        let written = self.file.write_all(&lines).and_then(|()| self.file.sync_data());
        if let Err(error) = written {
            // Best effort; the next append checks the length again.
            let _ = self.file.set_len(self.length);
            return Err(StateError::io(&self.path, error));
        }
        self.length += lines.len() as u64;
        self.entries += 1;
        if starts_file {
            self.base_serial = Some(serial);
        }
        Ok(())
    }

    /// Empties the file and fsyncs.
    pub(crate) fn truncate(&mut self) -> Result<(), StateError> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_all())
            .map_err(|error| StateError::io(&self.path, error))?;
        self.length = 0;
        self.entries = 0;
        self.base_serial = None;
        Ok(())
    }

    /// Entries in the file.
    pub(crate) fn len(&self) -> usize {
        self.entries
    }

    /// Whether the file holds anything at all, even a torn line.
    pub(crate) fn has_bytes(&self) -> bool {
        self.length > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::model::{SecretRecord, State};

    fn resource(address: &str) -> ResourceState {
        ResourceState {
            address: address.to_string(),
            resource_type: "local_secret".to_string(),
            provider: "provider.local".to_string(),
            id: format!("id-{address}"),
            attributes: serde_json::Map::new(),
            secrets: BTreeMap::from([(
                "value".to_string(),
                SecretRecord {
                    fingerprint: "hmac-sha256:00".to_string(),
                    version_id: None,
                },
            )]),
            dependencies: Vec::new(),
            last_rotated: None,
            create_token: None,
        }
    }

    fn pending(address: &str) -> PendingCreate {
        PendingCreate {
            address: address.to_string(),
            resource_type: "local_secret".to_string(),
            provider: "provider.local".to_string(),
            token: "token-1".to_string(),
            started_at: "2025-01-01T00:00:00Z".to_string(),
            attributes: Default::default(),
        }
    }

    #[test]
    fn entries_serialize_with_an_op_tag() {
        let entry = JournalEntry::Move {
            from: "a.b".to_string(),
            to: "a.c".to_string(),
        };
        let text = serde_json::to_string(&entry).unwrap();
        assert_eq!(text, r#"{"op":"move","from":"a.b","to":"a.c"}"#);
        let text = serde_json::to_string(&JournalEntry::Intent(pending("x.y"))).unwrap();
        assert!(text.starts_with(r#"{"op":"intent","address":"x.y","type":"local_secret""#));
        assert_eq!(
            serde_json::from_str::<JournalEntry>(&text).unwrap(),
            JournalEntry::Intent(pending("x.y"))
        );
    }

    #[test]
    fn put_clears_the_pending_create_and_remove_clears_both() {
        let mut state = State::new();
        JournalEntry::Intent(pending("local_secret.a")).apply_to(&mut state);
        assert!(state.pending_creates.contains_key("local_secret.a"));
        JournalEntry::Put(resource("local_secret.a")).apply_to(&mut state);
        assert!(state.pending_creates.is_empty());
        assert!(state.resources.contains_key("local_secret.a"));
        JournalEntry::Intent(pending("local_secret.a")).apply_to(&mut state);
        JournalEntry::Remove {
            address: "local_secret.a".to_string(),
        }
        .apply_to(&mut state);
        assert!(state.resources.is_empty() && state.pending_creates.is_empty());
        JournalEntry::Intent(pending("local_secret.b")).apply_to(&mut state);
        JournalEntry::Abandon {
            address: "local_secret.b".to_string(),
        }
        .apply_to(&mut state);
        assert!(state.pending_creates.is_empty());
    }

    #[test]
    fn move_takes_instances_and_module_contents_and_rewrites_dependencies() {
        let mut state = State::new();
        for address in [
            r#"local_secret.db["a"]"#,
            r#"local_secret.db["b.c"]"#,
            "local_secret.dbx",
            "module.app.local_key.k",
        ] {
            JournalEntry::Put(resource(address)).apply_to(&mut state);
        }
        let mut dependent = resource("local_key.user");
        dependent.dependencies = vec![r#"local_secret.db["a"]"#.to_string()];
        JournalEntry::Put(dependent).apply_to(&mut state);
        JournalEntry::Intent(pending("module.app.local_key.l")).apply_to(&mut state);

        JournalEntry::Move {
            from: "local_secret.db".to_string(),
            to: "local_secret.main".to_string(),
        }
        .apply_to(&mut state);
        JournalEntry::Move {
            from: "module.app".to_string(),
            to: r#"module.core["x"]"#.to_string(),
        }
        .apply_to(&mut state);

        let addresses: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        assert_eq!(
            addresses,
            [
                "local_key.user",
                "local_secret.dbx",
                r#"local_secret.main["a"]"#,
                r#"local_secret.main["b.c"]"#,
                r#"module.core["x"].local_key.k"#,
            ]
        );
        for (address, resource) in &state.resources {
            assert_eq!(address, &resource.address);
        }
        assert_eq!(
            state.resources["local_key.user"].dependencies,
            [r#"local_secret.main["a"]"#]
        );
        let pending = &state.pending_creates[r#"module.core["x"].local_key.l"#];
        assert_eq!(pending.address, r#"module.core["x"].local_key.l"#);
    }

    #[test]
    fn sensitive_outputs_lose_their_value() {
        let entry = JournalEntry::Outputs {
            outputs: BTreeMap::from([
                (
                    "password".to_string(),
                    OutputState {
                        sensitive: true,
                        value: Some(serde_json::json!("hunter2")),
                    },
                ),
                (
                    "name".to_string(),
                    OutputState {
                        sensitive: false,
                        value: Some(serde_json::json!("db")),
                    },
                ),
            ]),
        };
        let mut state = State::new();
        entry.apply_to(&mut state);
        assert_eq!(state.outputs["password"].value, None);
        assert_eq!(state.outputs["name"].value, Some(serde_json::json!("db")));
        let text = serde_json::to_string(&entry.without_sensitive_values()).unwrap();
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn parse_reads_the_header_and_entries() {
        let text = concat!(
            r#"{"format_version":1,"lineage":"l","base_serial":4}"#,
            "\n",
            r#"{"op":"abandon","address":"a.b"}"#,
            "\n",
        );
        let contents = parse_journal(Path::new("j"), text.as_bytes()).unwrap();
        assert_eq!(
            contents.header,
            Some(JournalHeader {
                format_version: 1,
                lineage: "l".to_string(),
                base_serial: 4
            })
        );
        assert_eq!(contents.entries.len(), 1);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let whole = r#"{"op":"abandon","address":"a.b"}"#;
        let without_newline = format!("{whole}\n{{\"op\":\"rem");
        let contents = parse_journal(Path::new("j"), without_newline.as_bytes()).unwrap();
        assert_eq!(contents.entries.len(), 1);
        let invalid_with_newline = format!("{whole}\n{{\"op\":\"rem\n");
        let contents = parse_journal(Path::new("j"), invalid_with_newline.as_bytes()).unwrap();
        assert_eq!(contents.entries.len(), 1);
    }

    #[test]
    fn an_invalid_middle_line_is_a_syntax_error() {
        let whole = r#"{"op":"abandon","address":"a.b"}"#;
        let text = format!("{whole}\n{{\"op\":\"rem\n{whole}\n");
        match parse_journal(Path::new("j"), text.as_bytes()) {
            Err(StateError::Syntax { line, column, .. }) => {
                assert_eq!(line, 2);
                assert!(column > 0);
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        // Valid JSON that is not an entry is never a torn write.
        let text = format!("{whole}\n{{\"op\":\"explode\"}}\n");
        assert!(matches!(
            parse_journal(Path::new("j"), text.as_bytes()),
            Err(StateError::Syntax { line: 2, .. })
        ));
    }

    #[test]
    fn a_newer_journal_header_is_a_newer_version() {
        let text = "{\"format_version\":9,\"lineage\":\"l\",\"base_serial\":0,\"more\":1}\n";
        assert!(matches!(
            parse_journal(Path::new("j"), text.as_bytes()),
            Err(StateError::NewerVersion { found: 9, .. })
        ));
    }
}
