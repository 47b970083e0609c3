//! Durable file writes, the one way keyform replaces a file.
//!
//! **A file is replaced whole or not at all: the bytes go to a temporary
//! file in the same folder (mode 0600), which is fsynced, renamed over the
//! target, and the folder is fsynced. A crash leaves the old file or the new
//! one, never a mix, and at worst a `.partial` file that readers ignore.**

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The suffix of temporary files; a name starting with `.` and ending with it is never read as data.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// The temporary path used while replacing `path`.
fn temporary_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = parent_folder(path);
    folder.join(format!(".{name}.{}{PARTIAL_SUFFIX}", uuid::Uuid::new_v4().simple()))
}

fn parent_folder(path: &Path) -> &Path {
    path.parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Replaces `path` with `bytes`, durably and atomically, with mode 0600.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, bytes, 0o600)
}

/// Replaces an existing file durably and atomically, keeping its mode (`fmt` rewriting a source file).
pub fn replace_keeping_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    write_with_mode(path, bytes, mode)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let temporary_path = temporary_path_for(path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary_path)?;
        // The process umask may have narrowed the mode at creation.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary_path, path)?;
        sync_folder(parent_folder(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary_path);
    }
    result
}

/// Makes a folder's entries (a rename, a removal) durable.
pub fn sync_folder(folder: &Path) -> std::io::Result<()> {
    std::fs::File::open(folder)?.sync_all()
}

/// Removes the temporary files a killed write left in `folder`.
pub fn remove_partial_files(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(PARTIAL_SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_with_private_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("file.json");
        write_atomically(&path, b"first").expect("write");
        write_atomically(&path, b"second").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(folder.path().join(".file.json.abc.partial"), b"x").expect("write");
        remove_partial_files(folder.path());
        let names: Vec<String> = std::fs::read_dir(folder.path())
            .expect("list")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["file.json".to_string()]);
    }
}
