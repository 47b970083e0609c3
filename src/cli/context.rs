//! Loading what a command needs: configuration, variables, graph, engine,
//! fingerprint key and the state folder.

use super::arguments::RunArguments;
use crate::addr::{InstanceAddress, parse_instance_address};
use crate::config::duration::parse_duration;
use crate::config::load::load_configuration;
use crate::config::model::ModuleConfig;
use crate::config::variables::{VariableArguments, collect_inputs};
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap};
use crate::graph::build_graph;
use crate::plan::checks::check_configuration;
use crate::plan::engine::{Engine, PlanOptions};
use crate::secret::{FingerprintKey, KeyFileError, load_key};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable that may hold the fingerprint key.
pub const FINGERPRINT_KEY_VARIABLE: &str = "KEYFORM_FINGERPRINT_KEY";
/// The fingerprint key file `keyform init` creates.
pub const FINGERPRINT_KEY_FILE: &str = ".keyform/fingerprint.key";
/// The default state folder.
pub const DEFAULT_STATE_FOLDER: &str = ".keyform";

/// The configuration folder (the current folder, after --chdir).
pub fn configuration_folder() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// Where state lives: the backend's path, or `.keyform` beside the configuration.
pub fn state_folder(folder: &Path, root: Option<&ModuleConfig>) -> PathBuf {
    match root
        .and_then(|root| root.backend.as_ref())
        .and_then(|backend| backend.path.clone())
    {
        Some(path) => folder.join(path),
        None => folder.join(DEFAULT_STATE_FOLDER),
    }
}

/// The state folder without loading the configuration fully (for state commands).
pub fn state_folder_quick(folder: &Path) -> PathBuf {
    let sources = SourceMap::new();
    let (root, _) = load_configuration(folder, &sources);
    state_folder(folder, Some(&root))
}

pub fn fingerprint_key(folder: &Path) -> Result<FingerprintKey, Diagnostic> {
    load_key(FINGERPRINT_KEY_VARIABLE, &folder.join(FINGERPRINT_KEY_FILE)).map(|(key, _)| FingerprintKey::new(key)).map_err(|error| {
        let help = match &error {
            KeyFileError::Missing { .. } => format!("run `keyform init` to create {FINGERPRINT_KEY_FILE}, or set ${FINGERPRINT_KEY_VARIABLE} (a CI system keeps it as a secret; see docs/value-sources.md)"),
            KeyFileError::Permissions { path, .. } => format!("run chmod 600 {}", path.display()),
            _ => format!("check {FINGERPRINT_KEY_FILE} or ${FINGERPRINT_KEY_VARIABLE} (base64 of 32 bytes)"),
        };
        Diagnostic::error(Code::FingerprintKey, format!("the fingerprint key is unusable: {error}")).with_help(help)
    })
}

pub fn lock_timeout(text: &str) -> Result<Duration, Diagnostic> {
    parse_duration(text).map(Duration::from_secs).map_err(|message| {
        Diagnostic::error(Code::InvalidDuration, format!("--lock-timeout: {message}"))
            .with_help("write --lock-timeout 30s or --lock-timeout 2m")
    })
}

pub fn addresses(texts: &[String], flag: &str) -> Result<Vec<InstanceAddress>, Diagnostic> {
    texts
        .iter()
        .map(|text| {
            parse_instance_address(text).map_err(|error| {
                Diagnostic::error(Code::InvalidAddress, format!("{flag}: {error}"))
                    .with_help("write an address such as local_secret.db or local_secret.db[\"a\"]")
            })
        })
        .collect()
}

/// Loads the configuration and builds the engine.
/// How a command gets the fingerprint key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// The configuration's key: fingerprints are compared with state.
    Configured,
    /// A random key for this run only (`validate` compares nothing with state).
    Ephemeral,
}

pub fn prepare(run: &RunArguments, sources: &SourceMap, destroy: bool, key_use: KeyUse) -> Result<Engine, Diagnostics> {
    let folder = configuration_folder();
    let mut diagnostics = Diagnostics::new();
    let (root, found) = load_configuration(&folder, sources);
    let loaded = !found.has_errors();
    diagnostics.extend(found);
    // Before anything can show a source line: mask secret literals, check names against the schemas.
    diagnostics.extend(check_configuration(&root, sources));
    let root = loaded.then_some(root);
    let targets = addresses(&run.targets, "--target")
        .map_err(|diagnostic| diagnostics.push(diagnostic))
        .ok();
    let rotate_now = addresses(&run.rotate_now, "--now")
        .map_err(|diagnostic| diagnostics.push(diagnostic))
        .ok();
    let import = match &run.import {
        Some((address, id)) => addresses(std::slice::from_ref(address), "import")
            .ok()
            .and_then(|found| found.into_iter().next())
            .map(|address| (address, id.clone())),
        None => None,
    };
    let replace = addresses(&run.replace, "--replace")
        .map_err(|diagnostic| diagnostics.push(diagnostic))
        .ok();
    let key = match key_use {
        KeyUse::Configured => fingerprint_key(&folder)
            .map_err(|diagnostic| diagnostics.push(diagnostic))
            .ok(),
        KeyUse::Ephemeral => crate::secret::SecretKey::generate().ok().map(FingerprintKey::new),
    };
    let Some(root) = root else { return Err(diagnostics) };
    let inputs = collect_inputs(
        &VariableArguments {
            assignments: run.variables.clone(),
            files: run.variable_files.clone(),
        },
        &root,
        sources,
    )
    .map_err(|found| diagnostics.extend(found))
    .ok();
    // A partly loaded configuration would report references to what did not load as undeclared.
    let graph = if loaded {
        build_graph(&root).map_err(|found| diagnostics.extend(found)).ok()
    } else {
        None
    };
    let (Some(inputs), Some(graph), Some(key), Some(targets), Some(replace), Some(rotate_now)) =
        (inputs, graph, key, targets, replace, rotate_now)
    else {
        return Err(diagnostics);
    };
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let options = PlanOptions {
        destroy,
        targets,
        replace,
        rotate_now,
        import,
        parallelism: run.parallelism,
    };
    let engine = Engine::new(root, sources.clone(), graph, inputs, key, options)?;
    // Warnings collected while loading are shown with the run's other diagnostics.
    engine.report_all(diagnostics);
    Ok(engine)
}
