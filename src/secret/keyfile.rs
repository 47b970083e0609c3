//! The local master key: where it comes from ([`KeySource`]), loading it from an
//! environment variable or a key file ([`load_key`]) and creating the key file
//! safely ([`create_key_file`]). A key file holds the standard base64 of a 32-byte
//! key and a newline, and is readable by its owner only.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::key::{CryptoError, SecretKey};

/// The most bytes read from a key file; a key file is 45 bytes.
const MAX_KEY_FILE_LENGTH: u64 = 4096;

/// Where a key was loaded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable, by name.
    Environment(String),
    /// A key file.
    File(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Environment(name) => write!(formatter, "${name}"),
            KeySource::File(path) => write!(formatter, "{}", path.display()),
        }
    }
}

/// Why a key could not be loaded or created. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error(
        "no key file at {path}; run `keyform init` to create one, or set \
         ${environment_variable} to a base64-encoded 32-byte key",
        path = path.display()
    )]
    Missing {
        path: PathBuf,
        environment_variable: String,
    },

    #[error(
        "the key in {source_description} is not valid: {reason}; a key is the standard \
         base64 encoding of 32 random bytes, as `keyform init` writes it"
    )]
    Invalid { source_description: String, reason: String },

    #[error(
        "key file {path} can be read or written by group or others (mode {mode:03o}); \
         run `chmod 600 {path}` so only its owner can read it",
        path = path.display()
    )]
    Permissions { path: PathBuf, mode: u32 },

    #[error("could not create a new key: {source}")]
    Generate {
        #[source]
        source: CryptoError,
    },

    #[error("could not access key file {path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl KeyFileError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> KeyFileError + '_ {
        move |source| KeyFileError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Loads the key from `environment_variable` when it is set and non-empty, and
/// otherwise from the key file at `path`.
pub fn load_key(environment_variable: &str, path: &Path) -> Result<(SecretKey, KeySource), KeyFileError> {
    let value = std::env::var_os(environment_variable).map(|value| Zeroizing::new(value.into_encoded_bytes()));
    load_key_from(environment_variable, value.as_deref().map(Vec::as_slice), path)
}

/// [`load_key`] with the variable's value given (as its encoded bytes), so tests
/// need not change the environment.
fn load_key_from(
    environment_variable: &str,
    value: Option<&[u8]>,
    path: &Path,
) -> Result<(SecretKey, KeySource), KeyFileError> {
    if let Some(value) = value.filter(|value| !value.is_empty()) {
        let invalid = |reason: String| KeyFileError::Invalid {
            source_description: format!("${environment_variable}"),
            reason,
        };
        let text = std::str::from_utf8(value).map_err(|_| invalid("it is not valid UTF-8".to_string()))?;
        let key = SecretKey::from_base64(text).map_err(|error| invalid(error.to_string()))?;
        return Ok((key, KeySource::Environment(environment_variable.to_string())));
    }
    let key = read_key_file(path, environment_variable)?;
    Ok((key, KeySource::File(path.to_path_buf())))
}

fn read_key_file(path: &Path, environment_variable: &str) -> Result<SecretKey, KeyFileError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(KeyFileError::Missing {
                path: path.to_path_buf(),
                environment_variable: environment_variable.to_string(),
            });
        }
        Err(error) => return Err(KeyFileError::io(path)(error)),
    };
    check_permissions(&file, path)?;
    let mut contents = Zeroizing::new(Vec::with_capacity(64));
    file.take(MAX_KEY_FILE_LENGTH)
        .read_to_end(&mut contents)
        .map_err(KeyFileError::io(path))?;
    let invalid = |reason: String| KeyFileError::Invalid {
        source_description: format!("key file {}", path.display()),
        reason,
    };
    let text = std::str::from_utf8(&contents).map_err(|_| invalid("it is not valid UTF-8".to_string()))?;
    SecretKey::from_base64(text).map_err(|error| invalid(error.to_string()))
}

#[cfg(unix)]
fn check_permissions(file: &File, path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata().map_err(KeyFileError::io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_file: &File, _path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

/// Creates a key file with a fresh key at `path`, readable by its owner only.
///
/// Returns `Ok(false)` and leaves the file alone when it already exists (also when
/// another process creates it meanwhile), `Ok(true)` when it was created. The key is
/// written and synced to a private file in the same folder first, then linked into
/// place without replacing anything, so a half-written key file is never seen.
pub fn create_key_file(path: &Path) -> Result<bool, KeyFileError> {
    match fs::symlink_metadata(path) {
        Ok(_) => return Ok(false),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(KeyFileError::io(path)(error)),
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    create_folder(folder)?;

    let key = SecretKey::generate().map_err(|source| KeyFileError::Generate { source })?;
    let mut contents = Zeroizing::new(key.to_base64().expose().to_string());
    contents.push('\n');

    let partial_path = partial_path(path, folder)?;
    let result = write_and_link(&partial_path, path, contents.as_bytes());
    // The partial file is only a second name for the key file by now, or junk.
    let _ = fs::remove_file(&partial_path);
    let created = result?;
    if created {
        sync_folder(folder)?;
    }
    Ok(created)
}

/// Writes `contents` to a new private file at `partial_path`, syncs it, then links
/// it to `path`. Returns false when `path` appeared meanwhile.
fn write_and_link(partial_path: &Path, path: &Path, contents: &[u8]) -> Result<bool, KeyFileError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(partial_path).map_err(KeyFileError::io(partial_path))?;
    file.write_all(contents).map_err(KeyFileError::io(partial_path))?;
    file.sync_all().map_err(KeyFileError::io(partial_path))?;
    drop(file);
    match fs::hard_link(partial_path, path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(KeyFileError::io(path)(error)),
    }
}

/// A fresh name beside `path` for the file being written.
fn partial_path(path: &Path, folder: &Path) -> Result<PathBuf, KeyFileError> {
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random).map_err(|error| KeyFileError::Generate {
        source: CryptoError::Random(error),
    })?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".to_string());
    Ok(folder.join(format!(".{name}.{}.partial", hex::encode(random))))
}

fn create_folder(folder: &Path) -> Result<(), KeyFileError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(folder).map_err(KeyFileError::io(folder))
}

/// Makes the new directory entry durable.
#[cfg(unix)]
fn sync_folder(folder: &Path) -> Result<(), KeyFileError> {
    File::open(folder)
        .and_then(|directory| directory.sync_all())
        .map_err(KeyFileError::io(folder))
}

#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIABLE: &str = "KEYFORM_LOCAL_MASTER_KEY";

    fn no_variable() -> Option<&'static [u8]> {
        None
    }

    #[test]
    fn create_then_load() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("nested/keys/master.key");
        assert!(create_key_file(&path).unwrap());
        let contents = fs::read_to_string(&path).unwrap();
        assert!(contents.ends_with('\n'));
        assert_eq!(contents.len(), 45);
        let (key, source) = load_key_from(VARIABLE, no_variable(), &path).unwrap();
        assert_eq!(key.to_base64().expose(), contents.trim_end());
        assert_eq!(source, KeySource::File(path.clone()));
        assert_eq!(source.to_string(), path.display().to_string());
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no partial file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn created_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master.key");
        create_key_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn create_twice_keeps_the_first() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master.key");
        assert!(create_key_file(&path).unwrap());
        let first = fs::read_to_string(&path).unwrap();
        assert!(!create_key_file(&path).unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), first);
    }

    #[test]
    fn environment_variable_wins() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master.key");
        create_key_file(&path).unwrap();
        let key = SecretKey::generate().unwrap();
        let value = format!("{}\n", key.to_base64().expose());
        let (loaded, source) = load_key_from(VARIABLE, Some(value.as_bytes()), &path).unwrap();
        assert_eq!(loaded.expose(), key.expose());
        assert_eq!(source, KeySource::Environment(VARIABLE.to_string()));
        assert_eq!(source.to_string(), "$KEYFORM_LOCAL_MASTER_KEY");

        let (_, source) = load_key_from(VARIABLE, Some(b""), &path).unwrap();
        assert_eq!(source, KeySource::File(path));
    }

    #[test]
    fn load_key_reads_the_real_environment() {
        let folder = tempfile::tempdir().unwrap();
        let missing = folder.path().join("absent.key");
        let variable = "KEYFORM_SECRET_MODULE_TEST_KEY";
        let key = SecretKey::generate().unwrap();
        // SAFETY: this variable is read and written by this test only, and std
        // serialises its own environment access.
        unsafe { std::env::set_var(variable, key.to_base64().expose()) };
        let result = load_key(variable, &missing);
        unsafe { std::env::remove_var(variable) };
        let (loaded, source) = result.unwrap();
        assert_eq!(loaded.expose(), key.expose());
        assert_eq!(source, KeySource::Environment(variable.to_string()));
        assert!(matches!(
            load_key(variable, &missing),
            Err(KeyFileError::Missing { .. })
        ));
    }

    #[test]
    fn bad_environment_value_is_an_error_without_the_value() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master.key");
        for value in ["supersecretvalue!", "c2hvcnRrZXlzZWNyZXQ="] {
            let error = load_key_from(VARIABLE, Some(value.as_bytes()), &path).unwrap_err();
            assert!(matches!(error, KeyFileError::Invalid { .. }));
            let message = format!("{error} {error:?}");
            assert!(message.contains("$KEYFORM_LOCAL_MASTER_KEY"), "{message}");
            assert!(!message.contains(value), "{message}");
            assert!(!message.contains("supersecret"), "{message}");
            assert!(!message.contains("shortkeysecret"), "{message}");
        }
        let not_unicode = [0x66, 0xff, 0x6f];
        let error = load_key_from(VARIABLE, Some(&not_unicode), &path).unwrap_err();
        assert!(error.to_string().contains("not valid UTF-8"));
    }

    #[test]
    fn invalid_key_file_is_an_error() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master.key");
        write_private(&path, b"too-short-secret\n");
        let error = load_key_from(VARIABLE, no_variable(), &path).unwrap_err();
        assert!(matches!(error, KeyFileError::Invalid { .. }));
        assert!(!format!("{error} {error:?}").contains("too-short-secret"));
        write_private(&path, &[0xff, 0xfe, 0x00]);
        assert!(matches!(
            load_key_from(VARIABLE, no_variable(), &path),
            Err(KeyFileError::Invalid { .. })
        ));
    }

    #[test]
    fn missing_file_says_to_run_init() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("absent.key");
        let error = load_key_from(VARIABLE, no_variable(), &path).unwrap_err();
        assert!(matches!(error, KeyFileError::Missing { .. }));
        let message = error.to_string();
        assert!(message.contains("keyform init"), "{message}");
        assert!(message.contains("$KEYFORM_LOCAL_MASTER_KEY"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master.key");
        create_key_file(&path).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let error = load_key_from(VARIABLE, no_variable(), &path).unwrap_err();
            assert!(matches!(error, KeyFileError::Permissions { mode: found, .. } if found == mode));
            assert!(error.to_string().contains("chmod 600"));
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load_key_from(VARIABLE, no_variable(), &path).is_ok());
    }

    fn write_private(path: &Path, contents: &[u8]) {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(path).unwrap().write_all(contents).unwrap();
    }
}
