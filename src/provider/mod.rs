//! The provider interface: what a driver offers and how the core calls it.
//!
//! Requests and responses are plain structs; a driver returns a
//! [`ProviderError`] with its own code and message, and the core turns it into
//! a diagnostic naming the resource address. **Secret material crosses this
//! boundary only as [`SensitiveString`]; [`LiveObject`] holds no secret
//! value, only version ids.** The core checks what a driver returns
//! ([`check`]) before trusting it.

pub mod check;
pub mod compliance;

pub mod schema;

pub use schema::{AttributeSchema, AttributeType, BlockSchema, ResourceSchema, normalize_json};

use crate::secret::SensitiveString;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Plain (non-secret) attributes as JSON.
pub type Attributes = serde_json::Map<String, serde_json::Value>;

/// Whether an object at a provider is usable or waiting to be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStatus {
    Active,
    /// Scheduled for deletion; recoverable until the given RFC 3339 time.
    PendingDeletion {
        deletion_date: String,
    },
}

/// What a provider reports of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub id: String,
    pub attributes: Attributes,
    /// For each secret attribute, the provider's id of its current version.
    pub secret_versions: BTreeMap<String, String>,
    pub status: LiveStatus,
    /// When the provider last rotated the object (RFC 3339), if it tracks that.
    pub last_rotated: Option<String>,
}

/// The error code of a `read_secret` for a value the provider was given once and keeps no copy of (an AppRole
/// secret_id after the run that generated it). The core then leaves the resources that took the value as they
/// are, instead of failing: see `Engine::keep_retained_secrets`.
pub const VALUE_NOT_RETAINED: &str = "ValueNotRetained";

/// A provider's failure, before the core adds the resource address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    /// The provider's own error code (`NotFound`, `AccessDenied`, `KF_LOCAL_STORE`...).
    pub code: String,
    pub message: String,
    pub help: Option<String>,
    /// True when retrying the same call may succeed.
    pub retryable: bool,
}

impl ProviderError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            code: code.into(),
            message: message.into(),
            help: None,
            retryable: false,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A JSON object as attributes (tests build requests this way; anything else is no attributes).
#[cfg(test)]
pub fn attributes_from_json(json: serde_json::Value) -> Attributes {
    json.as_object().cloned().unwrap_or_default()
}

/// A string attribute as the configuration gave it (None when absent or not a string).
pub fn text_attribute(attributes: &Attributes, name: &str) -> Option<String> {
    attributes
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// An error and its causes, each once, as `outer: inner: innermost` (drivers
/// use it to say why a request could not be sent or read).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(cause) = current {
        let text = cause.to_string();
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    parts.join(": ")
}

/// `configure`: the evaluated provider block.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// The configuration folder (for relative paths such as a local store).
    pub folder: std::path::PathBuf,
    pub attributes: Attributes,
    /// Sensitive provider settings (tokens, client secrets).
    pub secrets: BTreeMap<String, SensitiveString>,
}

/// `read`: refresh one object.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub resource_type: String,
    pub id: String,
    /// What state last recorded, for providers that need more than the id.
    pub prior: Attributes,
}

/// What `apply` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyAction {
    /// Create; the token makes the call idempotent and lets `find_by_token` adopt the object after a crash.
    Create {
        token: String,
    },
    Update,
    /// Delete recoverably (scheduled deletion, soft delete) unless `purge`.
    Delete {
        purge: bool,
    },
    /// Restore an object that is pending deletion, then update it.
    Recover,
    /// Make a new version of the object's key or secret material.
    Rotate,
}

/// `apply`: make one change.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub resource_type: String,
    pub action: ApplyAction,
    /// The object's id (None for a create).
    pub id: Option<String>,
    /// Desired plain attributes (for delete: the prior ones).
    pub attributes: Attributes,
    /// Secret values to write: only those that are new or changed.
    pub secrets: BTreeMap<String, SensitiveString>,
    /// Plain attributes whose change the provider must act on (for an update).
    pub changed: Vec<String>,
}

/// `import`: adopt an existing object by its provider id.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub resource_type: String,
    pub id: String,
}

/// `find_by_token`: after a crash, find what a create with this token made.
#[derive(Debug, Clone)]
pub struct FindRequest {
    pub resource_type: String,
    pub token: String,
    /// The desired attributes of the create (some providers look up by name).
    pub attributes: Attributes,
}

/// `read_secret`: the current value of one secret attribute, only on a user's explicit request.
#[derive(Debug, Clone)]
pub struct ReadSecretRequest {
    pub resource_type: String,
    pub id: String,
    pub attribute: String,
}

/// `read_data`: a data source's configured arguments; the answer is its attributes.
#[derive(Debug, Clone)]
pub struct ReadDataRequest {
    pub data_type: String,
    pub arguments: Attributes,
}

/// `check_change`: an update or replacement the plan is about to propose, before anything is applied.
#[derive(Debug, Clone)]
pub struct CheckChangeRequest {
    pub resource_type: String,
    pub id: String,
    /// What the refresh read (or state recorded, when the refresh had nothing).
    pub current: Attributes,
    /// The configured attributes.
    pub desired: Attributes,
}

/// `validate_arguments`: an instance's configured arguments (those known at plan time), before any provider
/// call and without a configured provider.
/// It borrows the instance's arguments: it is built for every instance of every plan.
#[derive(Debug, Clone, Copy)]
pub struct ValidateRequest<'a> {
    pub resource_type: &'a str,
    pub arguments: &'a Attributes,
    /// Arguments (dotted inside a block: `rotation.lambda_arn`) whose values are known only at apply; they are
    /// absent from `arguments`, so a check that needs one is skipped.
    pub unknown: &'a [String],
}

/// An argument the provider can never accept, and why: the error's message is a sentence naming the argument
/// (`the key policy is not valid: ...`), shown at the argument in the configuration.
#[derive(Debug, Clone)]
pub struct InvalidArgument {
    /// The attribute the problem is in.
    pub attribute: String,
    pub error: ProviderError,
}

/// A driver. One instance serves one provider configuration.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name (`local`, `aws`...).
    fn name(&self) -> &str;
    /// The resource types it offers.
    fn schema(&self) -> Vec<ResourceSchema>;
    /// The data sources it offers (read-only lookups, never in state).
    fn data_schema(&self) -> Vec<ResourceSchema> {
        Vec::new()
    }
    /// Reads a data source. Its answer holds no secret value.
    async fn read_data(&self, request: ReadDataRequest) -> Result<Attributes, ProviderError> {
        Err(ProviderError::new(
            "UnknownType",
            format!(
                "the {} provider has no data source `{}`",
                self.name(),
                request.data_type
            ),
        ))
    }
    /// The provider block's own attributes.
    fn provider_schema(&self) -> Vec<AttributeSchema>;
    /// The provider block's nested blocks (`assume_role`); the core passes each as a JSON
    /// object under its name in `ConfigureRequest.attributes`.
    fn provider_blocks(&self) -> Vec<BlockSchema> {
        Vec::new()
    }
    async fn configure(&self, request: ConfigureRequest) -> Result<(), ProviderError>;
    /// Ok(None) when the object no longer exists.
    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError>;
    async fn apply(&self, request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError>;
    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError>;
    async fn find_by_token(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError>;
    /// Before a create: an object the create would collide with (a name-addressed secret that
    /// exists, or is pending deletion and would be restored). `request.token` is empty.
    /// Types whose objects get ids from the provider have nothing to collide with.
    async fn lookup_existing(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        let _ = request;
        Ok(None)
    }
    /// A change the provider can never make (a setting fixed at creation, a protection that cannot be
    /// turned off) is refused here, so the plan fails instead of the apply. No provider call: it judges
    /// from the attributes. The default accepts every change.
    fn check_change(&self, request: &CheckChangeRequest) -> Result<(), ProviderError> {
        let _ = request;
        Ok(())
    }
    /// Arguments the provider can never accept (a key policy whose statement has no Effect), found from the
    /// arguments alone, so `validate` and `plan` report them before anything is sent. Needs no configuration.
    /// The default accepts everything.
    fn validate_arguments(&self, request: &ValidateRequest<'_>) -> Vec<InvalidArgument> {
        let _ = request;
        Vec::new()
    }
    /// Ids of every active object of a type, not those pending deletion (for finding unmanaged objects).
    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError>;
    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError>;
}
