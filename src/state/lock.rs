//! The state lock: an exclusive `flock` on `<folder>/state.lock`, which holds a
//! [`LockInfo`] naming its holder while it is held.
//!
//! The kernel holds the lock, not the file: a process that dies releases it, so
//! a lock file left behind with its information in it is not a held lock, and the
//! next [`StateLock::acquire`] takes it and overwrites the information. `flock`
//! belongs to an open file description, so two opens in one process exclude each
//! other like two processes do.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::StateError;
use super::model::{KEYFORM_VERSION, timestamp_now};

/// The lock file's name inside the state folder.
pub(crate) const LOCK_FILE_NAME: &str = "state.lock";

/// How often [`StateLock::acquire`] tries again while another process holds the lock.
const RETRY_INTERVAL: Duration = Duration::from_millis(100);

/// Who holds the lock, written into the lock file while it is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A uuid; `keyform state unlock` takes it.
    pub id: String,
    /// `plan`, `apply`, …
    pub operation: String,
    /// `user@host`.
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// RFC 3339.
    pub created: String,
    /// The holder's keyform version.
    pub version: String,
}

impl LockInfo {
    fn for_this_process(operation: &str) -> LockInfo {
        let host = host_name();
        let user = std::env::var("USER")
            .ok()
            .filter(|user| !user.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            host,
            pid: std::process::id(),
            created: timestamp_now(),
            version: KEYFORM_VERSION.to_string(),
        }
    }
}

/// This machine's name, or `unknown`.
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| text.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A held state lock. Releasing it, or dropping it, empties the file and unlocks.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
    /// The open lock file, which holds the flock; `None` once released.
    file: Option<File>,
    info: LockInfo,
}

impl StateLock {
    /// Locks `<folder>/state.lock` (creating it, mode 0600) and writes this
    /// process's [`LockInfo`] into it. While another process holds the lock,
    /// tries again every 100 ms until `timeout` has passed, then fails with
    /// [`StateError::Locked`] naming the holder.
    pub fn acquire(folder: &Path, operation: &str, timeout: Duration) -> Result<StateLock, StateError> {
        let path = folder.join(LOCK_FILE_NAME);
        let deadline = Instant::now() + timeout;
        let mut announced = false;
        loop {
            let file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {
                    // `state unlock` may have removed the file between our open and
                    // our lock; a lock on a removed file excludes no one.
                    if !is_current_file(&file, &path)? {
                        continue;
                    }
                    let info = LockInfo::for_this_process(operation);
                    write_info(&file, &info).map_err(|error| StateError::io(&path, error))?;
                    tracing::debug!(path = %path.display(), id = %info.id, "state locked");
                    return Ok(StateLock {
                        path,
                        file: Some(file),
                        info,
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(StateError::Locked {
                            holder: read_info(&path).map(Box::new),
                            path,
                        });
                    }
                    if !announced {
                        announced = true;
                        match read_info(&path) {
                            Some(holder) => tracing::info!(
                                who = %holder.who,
                                pid = holder.pid,
                                operation = %holder.operation,
                                "waiting for the state lock"
                            ),
                            None => tracing::info!("waiting for the state lock"),
                        }
                    }
                    std::thread::sleep(RETRY_INTERVAL.min(deadline - now));
                }
                Err(TryLockError::Error(error)) => return Err(StateError::io(&path, error)),
            }
        }
    }

    /// This lock's information, as written into the lock file.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Empties the lock file and unlocks.
    pub fn release(mut self) -> Result<(), StateError> {
        match self.file.take() {
            Some(file) => release_file(&file).map_err(|error| StateError::io(&self.path, error)),
            None => Ok(()),
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take()
            && let Err(error) = release_file(&file)
        {
            tracing::warn!(path = %self.path.display(), %error, "could not release the state lock");
        }
    }
}

fn release_file(file: &File) -> std::io::Result<()> {
    let emptied = file.set_len(0).and_then(|()| file.sync_all());
    // Unlock even when emptying failed; closing the file would unlock anyway.
    let unlocked = file.unlock();
    emptied.and(unlocked)
}

fn open_lock_file(path: &Path) -> Result<File, StateError> {
    let mut options = std::fs::OpenOptions::new();
    // Never truncate on open: the file holds the current holder's information.
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|error| StateError::io(path, error))
}

/// Whether `path` still names the open `file`.
fn is_current_file(file: &File, path: &Path) -> Result<bool, StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let open = file.metadata().map_err(|error| StateError::io(path, error))?;
        match std::fs::metadata(path) {
            Ok(named) => Ok(open.dev() == named.dev() && open.ino() == named.ino()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(StateError::io(path, error)),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        Ok(true)
    }
}

fn write_info(mut file: &File, info: &LockInfo) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(info).map_err(std::io::Error::other)?;
    text.push(b'\n');
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&text)?;
    file.sync_all()
}

/// The information in the lock file, if it can be read and parsed.
fn read_info(path: &Path) -> Option<LockInfo> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Who holds the lock in `folder` right now, if anyone. A holder whose
/// information cannot be read (it may be writing it) has `unknown` fields.
pub fn current_holder(folder: &Path) -> Result<Option<LockInfo>, StateError> {
    let path = folder.join(LOCK_FILE_NAME);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StateError::io(&path, error)),
    };
    match file.try_lock() {
        Ok(()) => {
            file.unlock().map_err(|error| StateError::io(&path, error))?;
            Ok(None)
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = Vec::new();
            file.read_to_end(&mut text)
                .map_err(|error| StateError::io(&path, error))?;
            Ok(Some(serde_json::from_slice(&text).unwrap_or_else(|_| unknown_holder())))
        }
        Err(TryLockError::Error(error)) => Err(StateError::io(&path, error)),
    }
}

fn unknown_holder() -> LockInfo {
    let unknown = || "unknown".to_string();
    LockInfo {
        id: unknown(),
        operation: unknown(),
        who: unknown(),
        host: unknown(),
        pid: 0,
        created: unknown(),
        version: unknown(),
    }
}

/// `keyform state unlock LOCK_ID`: removes the lock file if its information has
/// id `lock_id`, and returns that information. Whoever held the lock is not told;
/// this is for a run that is stuck or a lock on a file system without `flock`.
pub fn force_unlock(folder: &Path, lock_id: &str) -> Result<LockInfo, StateError> {
    let path = folder.join(LOCK_FILE_NAME);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(StateError::NotLocked { path });
        }
        Err(error) => return Err(StateError::io(&path, error)),
    };
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(StateError::NotLocked { path });
    }
    let info: LockInfo = serde_json::from_slice(&text).map_err(|error| StateError::syntax(&path, &error))?;
    if info.id != lock_id {
        return Err(StateError::LockIdMismatch {
            path,
            expected: lock_id.to_string(),
            found: info.id,
        });
    }
    std::fs::remove_file(&path).map_err(|error| StateError::io(&path, error))?;
    super::store::sync_folder(folder)?;
    tracing::warn!(id = %info.id, who = %info.who, pid = info.pid, "state lock removed by force");
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_fails_while_the_first_holds_the_lock() {
        let folder = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(folder.path(), "apply", Duration::ZERO).unwrap();
        let error = StateLock::acquire(folder.path(), "plan", Duration::ZERO).unwrap_err();
        let StateError::Locked { holder, .. } = &error else {
            panic!("expected Locked, got {error:?}");
        };
        let holder = holder.as_deref().unwrap();
        assert_eq!(holder, first.info());
        let message = error.to_string();
        let info = first.info();
        let pid = info.pid.to_string();
        for part in [&info.who, &pid, &info.host, "apply", &info.created, &info.id] {
            assert!(message.contains(part), "{message:?} lacks {part:?}");
        }
        assert_eq!(current_holder(folder.path()).unwrap().as_ref(), Some(first.info()));
        first.release().unwrap();
        assert_eq!(current_holder(folder.path()).unwrap(), None);
        let again = StateLock::acquire(folder.path(), "plan", Duration::ZERO).unwrap();
        assert_eq!(again.info().operation, "plan");
    }

    #[test]
    fn acquire_waits_for_a_release_from_another_thread() {
        let folder = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(folder.path(), "apply", Duration::ZERO).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(first);
        });
        let started = Instant::now();
        let second = StateLock::acquire(folder.path(), "plan", Duration::from_secs(10)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(250));
        releaser.join().unwrap();
        assert_eq!(current_holder(folder.path()).unwrap().as_ref(), Some(second.info()));
    }

    #[test]
    fn acquire_gives_up_after_the_timeout() {
        let folder = tempfile::tempdir().unwrap();
        let _first = StateLock::acquire(folder.path(), "apply", Duration::ZERO).unwrap();
        let started = Instant::now();
        let result = StateLock::acquire(folder.path(), "plan", Duration::from_millis(250));
        assert!(matches!(result, Err(StateError::Locked { .. })));
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_not_a_held_lock() {
        let folder = tempfile::tempdir().unwrap();
        let mut stale = LockInfo::for_this_process("apply");
        stale.pid = 999_999;
        std::fs::write(folder.path().join(LOCK_FILE_NAME), serde_json::to_vec(&stale).unwrap()).unwrap();
        assert_eq!(current_holder(folder.path()).unwrap(), None);
        let lock = StateLock::acquire(folder.path(), "plan", Duration::ZERO).unwrap();
        assert_ne!(lock.info().id, stale.id);
        assert_eq!(
            read_info(&folder.path().join(LOCK_FILE_NAME)).as_ref(),
            Some(lock.info())
        );
    }

    #[test]
    fn release_empties_the_lock_file() {
        let folder = tempfile::tempdir().unwrap();
        let lock = StateLock::acquire(folder.path(), "apply", Duration::ZERO).unwrap();
        lock.release().unwrap();
        let text = std::fs::read(folder.path().join(LOCK_FILE_NAME)).unwrap();
        assert!(text.is_empty());
    }

    #[test]
    fn force_unlock_checks_the_id() {
        let folder = tempfile::tempdir().unwrap();
        assert!(matches!(
            force_unlock(folder.path(), "nope"),
            Err(StateError::NotLocked { .. })
        ));
        let lock = StateLock::acquire(folder.path(), "apply", Duration::ZERO).unwrap();
        let id = lock.info().id.clone();
        match force_unlock(folder.path(), "nope") {
            Err(StateError::LockIdMismatch { expected, found, .. }) => {
                assert_eq!(expected, "nope");
                assert_eq!(found, id);
            }
            other => panic!("expected LockIdMismatch, got {other:?}"),
        }
        let removed = force_unlock(folder.path(), &id).unwrap();
        assert_eq!(&removed, lock.info());
        assert!(!folder.path().join(LOCK_FILE_NAME).exists());
        // A new run can lock at once, even though the old one still has its file open.
        let next = StateLock::acquire(folder.path(), "plan", Duration::ZERO).unwrap();
        drop(lock);
        assert_eq!(current_holder(folder.path()).unwrap().as_ref(), Some(next.info()));
        next.release().unwrap();
        assert!(matches!(
            force_unlock(folder.path(), &id),
            Err(StateError::NotLocked { .. })
        ));
    }
}
