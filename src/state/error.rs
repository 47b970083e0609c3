//! [`StateError`]: everything that can go wrong reading, writing or locking the
//! state. The CLI maps each variant to a stable diagnostic code; this module only
//! says what happened, to which file.

use std::io;
use std::path::PathBuf;

use super::lock::LockInfo;

/// An error from the state module. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading, writing, syncing, renaming or locking a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A state or journal file is not valid: bad JSON, a missing or mistyped
    /// field, or a journal that does not belong to the snapshot beside it.
    /// `line` and `column` are 1-based; 0 when the error has no position.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// The file was written by a newer keyform, in a format this one cannot read.
    #[error(
        "{}: written in state format version {found}, but this keyform reads only up to version {supported}; upgrade keyform",
        path.display()
    )]
    NewerVersion { path: PathBuf, found: u64, supported: u32 },

    /// Another process holds the state lock. `holder` is `None` when its lock
    /// information could not be read (it may be writing it at this moment).
    #[error("{}", locked_message(path, holder.as_deref()))]
    Locked {
        path: PathBuf,
        holder: Option<Box<LockInfo>>,
    },

    /// `state unlock` was given `expected`, but the lock has id `found`.
    #[error(
        "{}: the state lock has id {found}, not {expected}; nothing was unlocked",
        path.display()
    )]
    LockIdMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// `state unlock` found no lock.
    #[error("{}: the state is not locked", path.display())]
    NotLocked { path: PathBuf },
}

impl StateError {
    /// An [`StateError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> StateError {
        StateError::Io {
            path: path.into(),
            source,
        }
    }

    /// A [`StateError::Syntax`] from a serde_json error, without the
    /// " at line L column C" suffix serde_json puts in its message.
    pub(crate) fn syntax(path: impl Into<PathBuf>, error: &serde_json::Error) -> StateError {
        let (line, column) = (error.line(), error.column());
        let text = error.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
        StateError::Syntax {
            path: path.into(),
            line,
            column,
            message,
        }
    }
}

/// The message of [`StateError::Locked`]: who holds the lock, their pid, host and
/// operation, since when, and the lock id to give `keyform state unlock`.
fn locked_message(path: &std::path::Path, holder: Option<&LockInfo>) -> String {
    match holder {
        Some(info) => format!(
            "{}: the state is locked by {} (pid {} on {}), running `{}` since {}; lock id {}",
            path.display(),
            info.who,
            info.pid,
            info.host,
            info.operation,
            info.created,
            info.id
        ),
        None => format!(
            "{}: the state is locked by another process whose lock information could not be read",
            path.display()
        ),
    }
}
