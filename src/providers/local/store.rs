//! The local store on disk: one JSON file per object, written atomically,
//! under a master key checked on open.
//!
//! Layout: `store.json` (a check value sealed under the master key, so a
//! wrong key is refused before anything is read or written), `keys/ID.json`,
//! `secrets/NAME.json`. **A wrong or missing master key fails `open`; no
//! object is ever overwritten by a run that could not decrypt it.**

use super::MASTER_KEY_VARIABLE;
use crate::provider::ProviderError;
use crate::secret::{KeyFileError, SecretKey, load_key, open, seal};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Serialize, de::DeserializeOwned};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const CHECK_PLAINTEXT: &[u8] = b"keyform local store v1";
const CHECK_CONTEXT: &[u8] = b"keyform-local-store-check";

/// The two kinds of object in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    Secret,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Kind::Key => "keys",
            Kind::Secret => "secrets",
        }
    }
}

/// An opened store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    folder: PathBuf,
    master_key: Arc<SecretKey>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoreHeader {
    format_version: u32,
    check: String,
}

impl Store {
    /// Loads the master key and checks it against the store's header (creating the header for a new store).
    pub fn open(folder: PathBuf, key_file: &Path) -> Result<Store, ProviderError> {
        let (master_key, source) = load_key(MASTER_KEY_VARIABLE, key_file).map_err(master_key_error)?;
        let header_path = folder.join("store.json");
        if header_path.exists() {
            let header: StoreHeader = read_json(&header_path)?;
            let sealed = STANDARD
                .decode(header.check.as_bytes())
                .map_err(|_| corrupt(&header_path))?;
            open(&master_key, &sealed, CHECK_CONTEXT).map_err(|_| {
                ProviderError::new(
                    "KF6001",
                    format!("the local master key from {source} does not open the store at {}", folder.display()),
                )
                .with_help(format!(
                    "use the key this store was created with (the file it came from, or ${MASTER_KEY_VARIABLE}); nothing was read or changed"
                ))
            })?;
        } else {
            for kind in [Kind::Key, Kind::Secret] {
                create_private_folder(&folder.join(kind.folder()))?;
            }
            let sealed = seal(&master_key, CHECK_PLAINTEXT, CHECK_CONTEXT).map_err(crypto_error)?;
            write_json_atomic(
                &header_path,
                &StoreHeader {
                    format_version: 1,
                    check: STANDARD.encode(sealed),
                },
            )?;
        }
        let store = Store {
            folder,
            master_key: Arc::new(master_key),
        };
        store.remove_partial_writes();
        Ok(store)
    }

    /// Removes temporary files a killed run left behind (a write is atomic: the object file
    /// itself is either the old or the new version, so these hold nothing anyone needs).
    fn remove_partial_writes(&self) {
        for kind in [Kind::Key, Kind::Secret] {
            let Ok(entries) = std::fs::read_dir(self.folder.join(kind.folder())) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".partial") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    pub fn master_key(&self) -> &SecretKey {
        &self.master_key
    }

    /// The file of one object. Ids are checked so they cannot leave the folder.
    pub fn path(&self, kind: Kind, id: &str) -> Result<PathBuf, ProviderError> {
        let valid = !id.is_empty()
            && id.len() <= 200
            && id
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character))
            && !id.starts_with('.');
        if !valid {
            return Err(
                ProviderError::new("InvalidName", format!("`{id}` is not a valid local object name"))
                    .with_help("use letters, digits, `-`, `_` and `.`, not starting with `.`, at most 200 characters"),
            );
        }
        Ok(self.folder.join(kind.folder()).join(format!("{id}.json")))
    }

    /// Reads an object; None when it does not exist.
    pub fn load<T: DeserializeOwned>(&self, kind: Kind, id: &str) -> Result<Option<T>, ProviderError> {
        let path = self.path(kind, id)?;
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| corrupt(&path)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(&path, &error)),
        }
    }

    /// Writes an object atomically.
    pub fn save<T: Serialize>(&self, kind: Kind, id: &str, object: &T) -> Result<(), ProviderError> {
        write_json_atomic(&self.path(kind, id)?, object)
    }

    /// Removes an object's file (a purge).
    pub fn remove(&self, kind: Kind, id: &str) -> Result<(), ProviderError> {
        let path = self.path(kind, id)?;
        match std::fs::remove_file(&path) {
            Ok(()) => sync_folder(path.parent().unwrap_or(&self.folder)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io_error(&path, &error)),
        }
    }

    /// Ids of every object of a kind, sorted.
    pub fn list(&self, kind: Kind) -> Result<Vec<String>, ProviderError> {
        let folder = self.folder.join(kind.folder());
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error(&folder, &error)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| io_error(&folder, &error))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json")
                && !id.starts_with('.')
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }
}

fn create_private_folder(folder: &Path) -> Result<(), ProviderError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
        .map_err(|error| io_error(folder, &error))
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ProviderError> {
    let bytes = std::fs::read(path).map_err(|error| io_error(path, &error))?;
    serde_json::from_slice(&bytes).map_err(|_| corrupt(path))
}

/// Writes an object file durably and atomically (see `crate::durable`).
fn write_json_atomic<T: Serialize>(path: &Path, object: &T) -> Result<(), ProviderError> {
    let bytes = serde_json::to_vec_pretty(object)
        .map_err(|error| ProviderError::new("Internal", format!("cannot encode {}: {error}", path.display())))?;
    crate::durable::write_atomically(path, &bytes).map_err(|error| io_error(path, &error))
}

fn sync_folder(folder: &Path) -> Result<(), ProviderError> {
    crate::durable::sync_folder(folder).map_err(|error| io_error(folder, &error))
}

pub fn io_error(path: &Path, error: &std::io::Error) -> ProviderError {
    ProviderError::new("StoreIo", format!("cannot access {}: {error}", path.display()))
}

pub fn corrupt(path: &Path) -> ProviderError {
    ProviderError::new(
        "StoreCorrupt",
        format!("{} is not a valid local store file", path.display()),
    )
    .with_help("restore the file from a backup of the store folder")
}

pub fn crypto_error(error: crate::secret::CryptoError) -> ProviderError {
    ProviderError::new("Crypto", error.to_string())
}

fn master_key_error(error: KeyFileError) -> ProviderError {
    let help = match &error {
        KeyFileError::Missing { .. } => {
            format!("run `keyform init` to create the key file, or set ${MASTER_KEY_VARIABLE}")
        }
        KeyFileError::Permissions { path, .. } => format!("run chmod 600 {}", path.display()),
        _ => format!("check the key file, or ${MASTER_KEY_VARIABLE} (base64 of 32 bytes)"),
    };
    ProviderError::new("KF6001", format!("the local master key is unusable: {error}")).with_help(help)
}

/// Now as RFC 3339 (seconds).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Now plus a number of days, as RFC 3339.
pub fn days_from_now(days: u64) -> String {
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(days.saturating_mul(86_400));
    humantime::format_rfc3339_seconds(later).to_string()
}

/// True when an RFC 3339 time is in the past.
pub fn is_past(time: &str) -> bool {
    humantime::parse_rfc3339(time).is_ok_and(|when| when <= std::time::SystemTime::now())
}
