//! The state: what keyform remembers about each managed resource instance (its
//! address, provider, id and non-secret attributes), the root outputs, and the
//! creates in flight, kept in a state folder:
//!
//! - `state.json`, the snapshot ([`model`], format in `state/schema/v1.json`);
//! - `state.journal`, the changes since the snapshot ([`journal`]);
//! - `state.lock`, the lock and who holds it ([`lock`]).
//!
//! [`StateStore`] ([`store`]) ties them together for one run.
//!
//! Invariants:
//!
//! - **State never holds a secret value.** A secret attribute keeps only a keyed
//!   fingerprint and the provider's version id; a sensitive output keeps no value
//!   (it is dropped before it reaches the journal).
//! - **Every change is durable before anything depends on it.** [`StateStore::record`]
//!   appends the entry to the journal and fsyncs before applying it in memory or
//!   returning, and an [`JournalEntry::Intent`] is recorded before each create call.
//! - **The snapshot is only ever replaced whole**: a temporary file in the same
//!   folder, fsync, rename, fsync the folder. A state file that failed to read is
//!   never written over.
//! - **Each journal entry is applied exactly once.** The journal's header names the
//!   snapshot serial it extends; the journal is emptied only after the new snapshot
//!   is durable, and a journal older than the snapshot is skipped.
//! - **The snapshot is rewritten at compaction only** (end of run, recovery, or
//!   when the journal holds 1,000 entries or as many as the state has resources,
//!   whichever is larger), never per change.
//! - **The lineage never changes; the serial grows by exactly one per compaction
//!   that changed something.**
//! - **Only the lock holder writes.** [`StateStore::read`] neither locks nor writes;
//!   dropping a [`StateStore`] releases the lock and never compacts.
//! - **Files are private**: the folder is created with mode 0700, the snapshot,
//!   journal and lock file have mode 0600.

pub mod error;
pub mod journal;
pub mod lock;
pub mod model;
pub mod store;

#[cfg(test)]
mod tests;

pub use error::StateError;
pub use journal::JournalEntry;
pub use lock::{LockInfo, StateLock, current_holder, force_unlock};
pub use model::{FORMAT_VERSION, OutputState, PendingCreate, ResourceState, SecretRecord, State, timestamp_now};
pub use store::{JOURNAL_COMPACTION_THRESHOLD, OpenOptions, StateStore};
