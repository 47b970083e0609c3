//! `init` (key files and .gitignore entries) and `fmt`.

use super::context::{FINGERPRINT_KEY_FILE, configuration_folder};
use super::printer::Printer;
use super::{EXIT_ERROR, EXIT_FORMAT, EXIT_OK};
use crate::config::format::format_source;
use crate::config::load::{configuration_files, display_path, syntax_diagnostic};
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap};
use crate::providers::local::DEFAULT_MASTER_KEY_FILE;
use crate::secret::create_key_file;
use std::path::{Path, PathBuf};

const GITIGNORE_ENTRIES: &[&str] = &["/.keyform/", "*.kfplan"];

pub fn init(printer: Printer) -> i32 {
    let folder = configuration_folder();
    for (file, purpose) in [
        (FINGERPRINT_KEY_FILE, "fingerprint key"),
        (DEFAULT_MASTER_KEY_FILE, "local master key"),
    ] {
        let path = folder.join(file);
        match create_key_file(&path) {
            Ok(true) => printer.out(&format!(
                "Created the {purpose} {file} (mode 0600). Back it up: without it, keyform cannot {}.",
                if file == FINGERPRINT_KEY_FILE {
                    "tell whether a secret's source changed"
                } else {
                    "decrypt the local store"
                }
            )),
            Ok(false) => printer.out(&format!("Kept the existing {purpose} {file}.")),
            Err(error) => {
                let diagnostic = Diagnostic::error(Code::StateIo, format!("cannot create {file}: {error}"))
                    .with_help("check the folder is writable");
                printer.diagnostics(&diagnostic.into(), &SourceMap::new());
                return EXIT_ERROR;
            }
        }
    }
    let gitignore = folder.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    let missing: Vec<&str> = GITIGNORE_ENTRIES
        .iter()
        .copied()
        .filter(|entry| !existing.lines().any(|line| line.trim() == *entry))
        .collect();
    if !missing.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# keyform: state, local store and key files never go to version control\n");
        for entry in &missing {
            text.push_str(entry);
            text.push('\n');
        }
        if let Err(error) = std::fs::write(&gitignore, text) {
            printer.err(&format!("warning: cannot update .gitignore: {error}"));
        } else {
            printer.out(&format!("Added {} to .gitignore.", missing.join(", ")));
        }
    }
    printer.out("keyform is ready: run `keyform plan`.");
    EXIT_OK
}

fn files_to_format(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let paths = if paths.is_empty() {
        vec![configuration_folder()]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(configuration_files(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

pub fn format(printer: Printer, check: bool, paths: &[PathBuf]) -> i32 {
    let files = match files_to_format(paths) {
        Ok(files) => files,
        Err(error) => {
            printer.err(&format!("error: cannot list the files to format: {error}"));
            return EXIT_ERROR;
        }
    };
    let sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let mut changed = Vec::new();
    for file in files {
        match format_file(&file, check, &sources) {
            Ok(true) => changed.push(display_path(&file)),
            Ok(false) => {}
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    for file in &changed {
        printer.out(file);
    }
    if diagnostics.has_errors() {
        printer.diagnostics(&diagnostics, &sources);
        return EXIT_ERROR;
    }
    if check && !changed.is_empty() {
        EXIT_FORMAT
    } else {
        EXIT_OK
    }
}

/// Formats one file; true when it changed (or would, with `check`). Writes atomically.
fn format_file(path: &Path, check: bool, sources: &SourceMap) -> Result<bool, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Diagnostic::error(Code::Syntax, format!("cannot read {}: {error}", display_path(path)))
            .with_help("check the path")
    })?;
    let formatted = match format_source(&text) {
        Ok(formatted) => formatted,
        Err(error) => {
            let file = sources.add(path, display_path(path), text.clone());
            return Err(syntax_diagnostic(file, &text, &error));
        }
    };
    if formatted == text {
        return Ok(false);
    }
    if !check && let Err(error) = crate::durable::replace_keeping_mode(path, formatted.as_bytes()) {
        return Err(
            Diagnostic::error(Code::Syntax, format!("cannot write {}: {error}", display_path(path)))
                .with_help("check the file is writable"),
        );
    }
    Ok(true)
}
