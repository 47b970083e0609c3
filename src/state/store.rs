//! Snapshot I/O (`state.json`: read, validate, write atomically) and
//! [`StateStore`], the locked, journaled state of one run.
//!
//! A [`StateStore`] holds the lock for its whole life. Each change goes to the
//! journal (fsynced) before it is applied in memory; compaction writes the whole
//! state as a new snapshot (temporary file, fsync, rename, fsync the folder) and
//! only then empties the journal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::StateError;
use super::journal::{JOURNAL_FILE_NAME, Journal, JournalContents, JournalEntry, read_journal};
use super::lock::{LockInfo, StateLock};
use super::model::{FORMAT_VERSION, KEYFORM_VERSION, State};

/// The snapshot's file name inside the state folder.
pub(crate) const SNAPSHOT_FILE_NAME: &str = "state.json";

/// Where a new snapshot is written before it is renamed over the old one.
/// [`StateStore::record`] compacts when the journal holds this many entries.
pub const JOURNAL_COMPACTION_THRESHOLD: usize = 1_000;

/// How often, and how many times, [`StateStore::read`] reads again when it
/// catches a compaction between reading the snapshot and reading the journal.
const READ_ATTEMPTS: usize = 5;
const READ_RETRY_INTERVAL: Duration = Duration::from_millis(20);

/// How to open a [`StateStore`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// What the run is doing (`plan`, `apply`, …), recorded in the lock.
    pub operation: String,
    /// How long to wait for another run's lock before giving up.
    pub lock_timeout: Duration,
}

/// The state of a folder, locked for one run.
#[derive(Debug)]
pub struct StateStore {
    folder: PathBuf,
    /// The current state: the snapshot plus every journaled entry.
    state: State,
    /// The serial of the snapshot on disk (what the journal extends).
    persisted_serial: u64,
    /// True when the state differs from the snapshot on disk.
    changed: bool,
    journal: Journal,
    /// `None` only while dropping.
    lock: Option<StateLock>,
}

impl StateStore {
    /// Locks the state in `folder` (waiting up to `lock_timeout`, trying every
    /// 100 ms), reads `state.json` (none means [`State::new`]; the folder is
    /// created with mode 0700) and replays `state.journal`. A journal left with
    /// anything in it by a run that crashed is compacted at once.
    pub fn open(folder: &Path, options: &OpenOptions) -> Result<StateStore, StateError> {
        create_folder(folder)?;
        let lock = StateLock::acquire(folder, &options.operation, options.lock_timeout)?;
        let snapshot = read_snapshot(&folder.join(SNAPSHOT_FILE_NAME))?;
        let (journal, contents) = Journal::open(folder)?;
        let (persisted, state) = replay(folder, snapshot, contents).map_err(Mismatch::into_error)?;
        remove_temporary_file(folder);
        let changed = state != persisted;
        let persisted_serial = persisted.serial;
        drop(persisted);
        let mut store = StateStore {
            folder: folder.to_path_buf(),
            state,
            persisted_serial,
            changed,
            journal,
            lock: Some(lock),
        };
        if store.journal.has_bytes() {
            tracing::info!(
                folder = %folder.display(),
                entries = store.journal.len(),
                "a previous run left a journal; recovering it into the snapshot"
            );
            store.compact()?;
        }
        Ok(store)
    }

    /// The current state (snapshot plus journal) of `folder`, without locking and
    /// without writing anything; a folder without state gives [`State::new`].
    pub fn read(folder: &Path) -> Result<State, StateError> {
        let mut attempt = 1;
        loop {
            let snapshot = read_snapshot(&folder.join(SNAPSHOT_FILE_NAME))?;
            let contents = read_journal(folder)?;
            match replay(folder, snapshot, contents) {
                Ok((_, state)) => return Ok(state),
                Err(mismatch) if mismatch.may_be_a_race && attempt < READ_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(READ_RETRY_INTERVAL);
                }
                Err(mismatch) => return Err(mismatch.into_error()),
            }
        }
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The folder this state lives in.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The lock this store holds.
    pub fn lock_info(&self) -> Option<&LockInfo> {
        self.lock.as_ref().map(StateLock::info)
    }

    /// Appends `entry` to the journal and fsyncs, then applies it to the state.
    /// When this returns `Ok` the change is durable. Sensitive output values are
    /// dropped first. At [`JOURNAL_COMPACTION_THRESHOLD`] entries (or as many as the state has resources, if more) the journal is
    /// compacted; if that fails the entry is still durable, so this logs a warning
    /// and returns `Ok` (the next record, or the run's final compaction, retries).
    pub fn record(&mut self, entry: JournalEntry) -> Result<(), StateError> {
        let entry = entry.without_sensitive_values();
        self.journal
            .append(&entry, &self.state.lineage, self.persisted_serial)?;
        // A Put of exactly what state holds changes nothing (no new serial for it).
        let unchanged = matches!(&entry, JournalEntry::Put(record) if self.state.resources.get(&record.address) == Some(record) && !self.state.pending_creates.contains_key(&record.address));
        entry.apply_to(&mut self.state);
        self.changed |= !unchanged;
        // Compaction rewrites the whole snapshot: doing it once per state-sized batch of
        // entries keeps its total cost linear in the number of changes.
        if self.journal.len() >= JOURNAL_COMPACTION_THRESHOLD.max(self.state.resources.len())
            && let Err(error) = self.compact()
        {
            tracing::warn!(%error, "could not compact the state journal; it keeps growing");
        }
        Ok(())
    }

    /// If the state changed since the last snapshot, writes it atomically as the
    /// new snapshot with serial + 1 (mode 0600); then empties the journal (fsync).
    /// Does nothing when nothing changed and the journal is empty.
    pub fn compact(&mut self) -> Result<(), StateError> {
        if self.changed {
            // Written from the state itself: a large state is never copied to be saved.
            let previous = (
                self.state.format_version,
                self.state.serial,
                self.state.keyform_version.clone(),
            );
            self.state.format_version = FORMAT_VERSION;
            self.state.serial = self.persisted_serial + 1;
            self.state.keyform_version = KEYFORM_VERSION.to_string();
            if let Err(error) = write_snapshot(&self.folder, &self.state) {
                (self.state.format_version, self.state.serial, self.state.keyform_version) = previous;
                return Err(error);
            }
            tracing::debug!(serial = self.state.serial, "state snapshot written");
            self.persisted_serial = self.state.serial;
            self.changed = false;
        }
        if self.journal.has_bytes() {
            self.journal.truncate()?;
        }
        Ok(())
    }

    /// Entries now in the journal.
    pub fn journal_len(&self) -> usize {
        self.journal.len()
    }
}

impl Drop for StateStore {
    /// Releases the lock. Never compacts: the journal already holds every change.
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take()
            && let Err(error) = lock.release()
        {
            tracing::warn!(%error, "could not release the state lock");
        }
    }
}

/// Why a journal cannot extend the snapshot beside it.
struct Mismatch {
    path: PathBuf,
    message: String,
    /// The journal is newer than the snapshot: a reader without the lock may have
    /// read the snapshot just before a compaction and the journal just after.
    may_be_a_race: bool,
}

impl Mismatch {
    fn into_error(self) -> StateError {
        StateError::Syntax {
            path: self.path,
            line: 1,
            column: 1,
            message: self.message,
        }
    }
}

/// The snapshot's state, and that state with the journal applied. A journal
/// whose header names an older serial than the snapshot's was already compacted
/// into it (a crash between the rename and the truncation) and is skipped.
fn replay(folder: &Path, snapshot: Option<State>, contents: JournalContents) -> Result<(State, State), Mismatch> {
    let mismatch = |message: String, may_be_a_race: bool| Mismatch {
        path: folder.join(JOURNAL_FILE_NAME),
        message,
        may_be_a_race,
    };
    let persisted = match (snapshot, &contents.header) {
        (Some(snapshot), Some(header)) => {
            if header.lineage != snapshot.lineage {
                return Err(mismatch(
                    format!(
                        "the journal belongs to state lineage {}, but {SNAPSHOT_FILE_NAME} has lineage {}",
                        header.lineage, snapshot.lineage
                    ),
                    false,
                ));
            }
            if header.base_serial > snapshot.serial {
                return Err(mismatch(
                    format!(
                        "the journal extends serial {}, but {SNAPSHOT_FILE_NAME} has the older serial {}",
                        header.base_serial, snapshot.serial
                    ),
                    true,
                ));
            }
            if header.base_serial < snapshot.serial {
                tracing::info!(
                    journal_serial = header.base_serial,
                    snapshot_serial = snapshot.serial,
                    "skipping a journal already compacted into the snapshot"
                );
                return Ok((snapshot.clone(), snapshot));
            }
            snapshot
        }
        (Some(snapshot), None) => snapshot,
        (None, Some(header)) => {
            if header.base_serial != 0 {
                return Err(mismatch(
                    format!(
                        "the journal extends serial {} of lineage {}, but {SNAPSHOT_FILE_NAME} is missing",
                        header.base_serial, header.lineage
                    ),
                    false,
                ));
            }
            // The first run on this folder crashed before its first snapshot.
            State {
                lineage: header.lineage.clone(),
                ..State::new()
            }
        }
        (None, None) => State::new(),
    };
    let mut state = persisted.clone();
    for entry in &contents.entries {
        entry.apply_to(&mut state);
    }
    Ok((persisted, state))
}

/// Reads the snapshot at `path`; `None` when there is none.
fn read_snapshot(path: &Path) -> Result<Option<State>, StateError> {
    match std::fs::read(path) {
        Ok(bytes) => parse_snapshot(path, &bytes).map(Some),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(StateError::io(path, error)),
    }
}

/// Parses a snapshot; `path` is for messages. The format version is checked on
/// the bare JSON first, so a newer layout reports its version, not a syntax error.
pub(crate) fn parse_snapshot(path: &Path, bytes: &[u8]) -> Result<State, StateError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| StateError::syntax(path, &error))?;
    match value.get("format_version").and_then(serde_json::Value::as_u64) {
        Some(found) if found > u64::from(FORMAT_VERSION) => {
            return Err(StateError::NewerVersion {
                path: path.to_path_buf(),
                found,
                supported: FORMAT_VERSION,
            });
        }
        Some(0) => {
            return Err(StateError::Syntax {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: "format_version 0 is not a state format".to_string(),
            });
        }
        _ => {}
    }
    serde_json::from_slice(bytes).map_err(|error| StateError::syntax(path, &error))
}

/// Writes `state` as the snapshot in `folder`: pretty JSON with a trailing
/// newline into a temporary file (mode 0600), fsync, rename, fsync the folder.
fn write_snapshot(folder: &Path, state: &State) -> Result<(), StateError> {
    let final_path = folder.join(SNAPSHOT_FILE_NAME);
    let mut text =
        serde_json::to_vec_pretty(state).map_err(|error| StateError::io(&final_path, std::io::Error::other(error)))?;
    text.push(b'\n');
    crate::durable::write_atomically(&final_path, &text).map_err(|error| StateError::io(&final_path, error))
}

/// Removes a temporary snapshot left by a crash mid-write (it never replaced
/// the snapshot, so it holds nothing the snapshot and journal lack).
fn remove_temporary_file(folder: &Path) {
    crate::durable::remove_partial_files(folder);
}

/// Creates `folder` (and its parents) with mode 0700 if it does not exist, and
/// makes its entry in its parent durable.
fn create_folder(folder: &Path) -> Result<(), StateError> {
    if folder.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder).map_err(|error| StateError::io(folder, error))?;
    match folder.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_folder(parent),
        _ => Ok(()),
    }
}

/// Makes the entries of `folder` (created, renamed, removed files) durable.
pub(crate) fn sync_folder(folder: &Path) -> Result<(), StateError> {
    crate::durable::sync_folder(folder).map_err(|error| StateError::io(folder, error))
}
