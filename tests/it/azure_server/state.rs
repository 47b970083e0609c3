//! The server's in-memory state, one per [`super::AzureTestServer`]: the one application identity the token endpoint
//! knows, the tokens it issued, and the vaults (live and soft-deleted) with their keys and secrets.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The state shared by every connection.
pub type Shared = Arc<Mutex<State>>;

/// Locks the state; a handler that panicked cannot leave it half-written in a way later tests rely on, so a poisoned
/// lock is taken over.
pub fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The tenant, subscription and service principal this server's Entra ID knows.
#[derive(Clone)]
pub struct Identity {
    pub tenant_id: String,
    pub subscription_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub federated_token: String,
    /// The `X-IDENTITY-HEADER` value the managed identity endpoint requires (`IDENTITY_HEADER`).
    pub identity_header: String,
    /// The client id of the host's system-assigned managed identity.
    pub system_assigned_client_id: String,
}

/// An access token the token endpoint issued.
pub struct IssuedToken {
    pub audience: String,
    pub tenant_id: String,
    pub expires_at: i64,
}

/// Everything the server remembers.
pub struct State {
    pub identity: Identity,
    pub tokens: HashMap<String, IssuedToken>,
    /// Live vaults by lowercase name.
    pub vaults: BTreeMap<String, Vault>,
    /// Soft-deleted vaults by lowercase name.
    pub deleted_vaults: BTreeMap<String, DeletedVault>,
    /// How long a recovered key or secret stays "being recovered" (404 on read, 409 on write).
    pub recovery_window: Duration,
}

impl State {
    pub fn new(identity: Identity) -> State {
        State {
            identity,
            tokens: HashMap::new(),
            vaults: BTreeMap::new(),
            deleted_vaults: BTreeMap::new(),
            recovery_window: Duration::from_secs(1),
        }
    }

    /// Permanently deletes every soft-deleted vault, key and secret, as Azure does once their retention ends.
    pub fn purge_soft_deleted(&mut self) {
        self.deleted_vaults.clear();
        for vault in self.vaults.values_mut() {
            vault.secrets.deleted.clear();
            vault.keys.deleted.clear();
            vault.forget_purged_rotation_policies();
        }
    }
}

/// A vault: its ARM resource and its data plane contents.
pub struct Vault {
    pub name: String,
    pub resource_group: String,
    pub location: String,
    pub tags: Value,
    /// The ARM `properties` object as last written, with the computed fields filled in.
    pub properties: Map<String, Value>,
    pub secrets: ObjectStore<SecretData>,
    pub keys: ObjectStore<KeyData>,
    /// Rotation policies by lowercase key name.
    pub rotation_policies: HashMap<String, Value>,
    /// This vault's own recovery window, when a test set one.
    pub recovery_window: Option<Duration>,
}

impl Vault {
    pub fn retention_days(&self) -> i64 {
        self.properties
            .get("softDeleteRetentionInDays")
            .and_then(Value::as_i64)
            .unwrap_or(90)
    }

    pub fn purge_protection(&self) -> bool {
        self.properties.get("enablePurgeProtection").and_then(Value::as_bool) == Some(true)
    }

    pub fn tenant_id(&self) -> String {
        self.properties
            .get("tenantId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// Drops the rotation policies of keys that were purged; a soft-deleted key keeps its policy for a recovery.
    pub fn forget_purged_rotation_policies(&mut self) {
        let keys = &self.keys;
        self.rotation_policies
            .retain(|name, _| keys.live.contains_key(name) || keys.deleted.contains_key(name));
    }

    /// The `recoveryLevel` Key Vault reports on objects in this vault.
    pub fn recovery_level(&self) -> &'static str {
        match (self.retention_days() < 90, self.purge_protection()) {
            (false, false) => "Recoverable+Purgeable",
            (false, true) => "Recoverable",
            (true, false) => "CustomizedRecoverable+Purgeable",
            (true, true) => "CustomizedRecoverable",
        }
    }
}

/// A soft-deleted vault, kept with its contents until it is purged or recovered.
pub struct DeletedVault {
    pub vault: Vault,
    pub deletion_date: i64,
}

/// When a vault, key or secret soft-deleted at `deleted` is purged: after the vault's retention.
pub fn scheduled_purge_date(deleted: i64, retention_days: i64) -> i64 {
    deleted + retention_days * 24 * 3600
}

/// Keys or secrets of one vault: live objects with their versions, soft-deleted ones, and those being recovered.
pub struct ObjectStore<V> {
    pub live: BTreeMap<String, Versioned<V>>,
    pub deleted: BTreeMap<String, DeletedObject<V>>,
    pub recovering_until: HashMap<String, Instant>,
}

impl<V> Default for ObjectStore<V> {
    fn default() -> Self {
        ObjectStore {
            live: BTreeMap::new(),
            deleted: BTreeMap::new(),
            recovering_until: HashMap::new(),
        }
    }
}

impl<V> ObjectStore<V> {
    /// Whether the name was recovered so recently that Key Vault still reports it as being recovered.
    pub fn is_being_recovered(&self, lowercase_name: &str) -> bool {
        self.recovering_until
            .get(lowercase_name)
            .is_some_and(|until| Instant::now() < *until)
    }
}

/// One named object and its versions, oldest first.
pub struct Versioned<D> {
    pub name: String,
    pub versions: Vec<Version<D>>,
}

/// A soft-deleted object.
pub struct DeletedObject<V> {
    pub object: Versioned<V>,
    pub deleted_date: i64,
}

/// The management attributes every key and secret version has.
#[derive(Clone)]
pub struct Attributes {
    pub enabled: bool,
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

impl Attributes {
    /// The attributes of a version created at `now`: enabled, without `nbf` or `exp`.
    pub fn created_at(now: i64) -> Attributes {
        Attributes {
            enabled: true,
            not_before: None,
            expires: None,
            created: now,
            updated: now,
        }
    }
}

/// One version of a key or secret: what every version has, and in `data` what only its kind has.
pub struct Version<D> {
    pub version: String,
    pub tags: Option<Value>,
    pub attributes: Attributes,
    pub data: D,
}

/// What a secret version has besides [`Version`]'s fields.
pub struct SecretData {
    pub value: String,
    pub content_type: Option<String>,
}

/// What a key version has besides [`Version`]'s fields: only its public part is kept.
pub struct KeyData {
    pub key_type: String,
    pub key_size: Option<u64>,
    pub curve: Option<String>,
    pub key_operations: Vec<String>,
    /// `n`/`e` or `crv`/`x`/`y`, base64url.
    pub public_key: Map<String, Value>,
}

/// The server's clock: wall time in Unix seconds, for the dates it reports, soft-delete retention and token lifetimes.
pub fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// A new 32-hex-digit object version, like Key Vault's.
pub fn new_version() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
