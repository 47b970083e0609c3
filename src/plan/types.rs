//! The plan's data: one [`InstanceChange`] per resource instance.

use super::desired::DesiredInstance;
use crate::addr::InstanceAddress;
use crate::provider::LiveObject;
use crate::state::ResourceState;
use std::collections::BTreeMap;

/// What keyform will do to one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
    /// Restore an object found pending deletion (then update it).
    Recover,
    /// Make a new version of the key or secret material.
    Rotate,
    /// Adopt an existing object (then update it if the configuration differs).
    Import,
}

impl Action {
    /// The symbol a plan shows before the address.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Recover => "↺",
            Action::Rotate => "⟳",
            Action::Import => "←",
        }
    }

    /// The words a plan shows after the address.
    pub fn words(self) -> &'static str {
        match self {
            Action::NoOp => "no change",
            Action::Create => "create",
            Action::Update => "update in place",
            Action::Replace => "replace",
            Action::Delete => "destroy",
            Action::Recover => "recover from pending deletion",
            Action::Rotate => "rotate",
            Action::Import => "import",
        }
    }
}

/// One attribute that changes, already rendered for display (sensitive values never).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttributeChange {
    pub name: String,
    pub before: String,
    pub after: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forces_replacement: bool,
}

/// The change to one resource instance.
#[derive(Debug, Clone)]
pub struct InstanceChange {
    pub address: InstanceAddress,
    pub resource_type: String,
    pub provider: String,
    pub action: Action,
    /// Also rotate after the main action.
    pub rotate: bool,
    pub changes: Vec<AttributeChange>,
    /// Changes found at the provider that keyform did not make.
    pub drift: Vec<AttributeChange>,
    /// Lines to show under the change (why, what is irreversible).
    pub notes: Vec<String>,
    /// Set when the change cannot be undone after a date or at all.
    pub irreversible: Option<String>,
    pub desired: Option<DesiredInstance>,
    pub prior: Option<ResourceState>,
    pub live: Option<LiveObject>,
    /// The provider id to import, for an import.
    pub import_id: Option<String>,
    /// A create interrupted by a crash, whose object was found again by its token.
    pub adopted: bool,
    pub create_before_destroy: bool,
    pub dependencies: Vec<String>,
}

impl InstanceChange {
    /// A change that does nothing yet: the planner fills in the action and details.
    pub fn new(address: InstanceAddress, resource_type: &str, provider: &str) -> InstanceChange {
        InstanceChange {
            address,
            resource_type: resource_type.to_string(),
            provider: provider.to_string(),
            action: Action::NoOp,
            rotate: false,
            changes: Vec::new(),
            drift: Vec::new(),
            notes: Vec::new(),
            irreversible: None,
            desired: None,
            prior: None,
            live: None,
            import_id: None,
            adopted: false,
            create_before_destroy: false,
            dependencies: Vec::new(),
        }
    }

    /// Fingerprints of the desired secret values (what a saved plan records).
    pub fn fingerprints(&self) -> BTreeMap<String, String> {
        self.desired
            .as_ref()
            .map(|desired| desired.fingerprints.clone())
            .unwrap_or_default()
    }
}

/// A whole plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub lineage: String,
    pub serial: u64,
    pub changes: Vec<InstanceChange>,
    /// `moved` blocks that apply: (from, to).
    pub moves: Vec<(String, String)>,
    /// Root outputs as they will be after apply.
    pub outputs: BTreeMap<String, crate::state::OutputState>,
    /// Rotations that are due but cannot be done by keyform (a value from env or file).
    pub warnings: Vec<String>,
    /// Resources read during refresh.
    pub refreshed: usize,
    /// True when a root output's value changes.
    pub outputs_changed: bool,
    /// Interrupted creates (no longer declared) that made nothing: their intents are dropped.
    pub abandon: Vec<String>,
}

impl Plan {
    /// True when applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
            && self.abandon.is_empty()
            && self
                .changes
                .iter()
                .all(|change| change.action == Action::NoOp && !change.rotate)
            && !self.outputs_changed
    }
}
