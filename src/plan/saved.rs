//! Saved plan files (`plan --out FILE`): what `apply FILE` checks before it
//! acts. **A saved plan holds addresses, actions, plain attribute changes
//! and fingerprints of secret values, never a secret value; it is written
//! atomically with mode 0600.**

use super::types::{Action, AttributeChange, Plan};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const PLAN_FORMAT_VERSION: u32 = 1;

/// One change as a saved plan records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedChange {
    pub address: String,
    pub action: Action,
    #[serde(default)]
    pub rotate: bool,
    #[serde(default)]
    pub changes: Vec<AttributeChange>,
    #[serde(default)]
    pub fingerprints: BTreeMap<String, String>,
}

/// The plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    pub keyform_version: String,
    pub created: String,
    pub lineage: String,
    pub serial: u64,
    /// The configuration folder the plan was made in.
    pub folder: PathBuf,
    pub variable_files: Vec<PathBuf>,
    /// `--var` values of non-sensitive variables.
    pub variables: Vec<String>,
    pub targets: Vec<String>,
    pub replace: Vec<String>,
    pub destroy: bool,
    pub moves: Vec<(String, String)>,
    pub changes: Vec<SavedChange>,
}

/// What a saved plan needs beyond the plan itself.
pub struct PlanContext {
    pub folder: PathBuf,
    pub variable_files: Vec<PathBuf>,
    pub variables: Vec<String>,
    pub targets: Vec<String>,
    pub replace: Vec<String>,
    pub destroy: bool,
}

/// The comparable part of a plan: what `apply FILE` checks against a fresh plan.
pub fn saved_changes(plan: &Plan) -> Vec<SavedChange> {
    plan.changes
        .iter()
        .filter(|change| change.action != Action::NoOp || change.rotate)
        .map(|change| SavedChange {
            address: change.address.to_string(),
            action: change.action,
            rotate: change.rotate,
            changes: change.changes.clone(),
            fingerprints: change.fingerprints(),
        })
        .collect()
}

impl SavedPlan {
    pub fn new(plan: &Plan, context: PlanContext) -> SavedPlan {
        SavedPlan {
            format_version: PLAN_FORMAT_VERSION,
            keyform_version: env!("CARGO_PKG_VERSION").to_string(),
            created: crate::state::timestamp_now(),
            lineage: plan.lineage.clone(),
            serial: plan.serial,
            folder: context.folder,
            variable_files: context.variable_files,
            variables: context.variables,
            targets: context.targets,
            replace: context.replace,
            destroy: context.destroy,
            moves: plan.moves.clone(),
            changes: saved_changes(plan),
        }
    }

    /// Writes the plan file atomically (see `crate::durable`), mode 0600.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        crate::durable::write_atomically(path, &bytes)
    }

    /// Reads a plan file; Err is a message for the user.
    pub fn read(path: &Path) -> Result<SavedPlan, String> {
        let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let plan: SavedPlan = serde_json::from_str(&text)
            .map_err(|error| format!("{} is not a keyform plan file: {error}", path.display()))?;
        if plan.format_version > PLAN_FORMAT_VERSION {
            return Err(format!(
                "{} was written by a newer keyform (plan format {})",
                path.display(),
                plan.format_version
            ));
        }
        Ok(plan)
    }
}
