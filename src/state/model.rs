//! The state's data model: [`State`] and the records it keeps per resource
//! instance, per output and per create in flight. These types are the snapshot
//! format (`state.json`, described by `state/schema/v1.json`); none of them has a
//! place for a secret value.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The snapshot format this keyform writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The version of keyform, recorded in every snapshot it writes.
pub(crate) const KEYFORM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything keyform remembers about the objects it manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// A uuid v4 set once when the state is created; it never changes, so two
    /// states with different lineages are not versions of each other.
    pub lineage: String,
    /// Increases by one at each compaction that changed something.
    pub serial: u64,
    /// The version of the keyform that wrote this snapshot.
    pub keyform_version: String,
    /// Keyed by address.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// Creates that were started and not yet seen to finish; keyed by address.
    #[serde(default)]
    pub pending_creates: BTreeMap<String, PendingCreate>,
}

impl State {
    /// An empty state with a fresh lineage and serial 0.
    pub fn new() -> State {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            keyform_version: KEYFORM_VERSION.to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending_creates: BTreeMap::new(),
        }
    }
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

/// One managed resource instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// For example `module.app.local_secret.db["a"]`.
    pub address: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    /// For example `provider.local` or `provider.aws.audit`.
    pub provider: String,
    pub id: String,
    /// The non-secret attributes only.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// For each secret attribute, a fingerprint of its value, never the value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretRecord>,
    /// Addresses of the resources this one depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotated: Option<String>,
    /// The idempotency token the create call was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_token: Option<String>,
}

/// What state keeps of a secret attribute: enough to tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    /// A keyed fingerprint of the value, such as `hmac-sha256:…`.
    pub fingerprint: String,
    /// The provider's id for this version of the value, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// One root module output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub sensitive: bool,
    /// `None` when `sensitive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// A create that was journaled before its call to the provider; it lets the next
/// run find the object by `token` if the run crashed before recording the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCreate {
    pub address: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub provider: String,
    /// The idempotency token given to the provider.
    pub token: String,
    /// RFC 3339.
    pub started_at: String,
    /// The plain attributes of the create, so the object can be found by token even when
    /// the configuration no longer declares it (a secret is looked up by its name).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// The current time in RFC 3339 (UTC, whole seconds), as state records times.
pub fn timestamp_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
