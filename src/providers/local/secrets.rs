//! `local_secret`: named secrets whose versions are envelope-encrypted under
//! a `local_key` version, labelled current / previous as Secrets Manager's
//! AWSCURRENT / AWSPREVIOUS. A secret is addressed by its name, so a create
//! is idempotent and found again by its token after a crash.

use super::keys;
use super::store::{Kind, Store, crypto_error, days_from_now, is_past, now};
use crate::provider::text_attribute as text;
use crate::provider::{ApplyAction, ApplyRequest, Attributes, FindRequest, LiveObject, LiveStatus, ProviderError};
use crate::secret::{Envelope, SensitiveString, open_envelope, seal_envelope};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SecretVersion {
    version_id: String,
    created: String,
    stages: Vec<String>,
    key_id: String,
    key_version: u64,
    envelope: Envelope,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SecretObject {
    name: String,
    description: Option<String>,
    key_id: String,
    recovery_window_in_days: u64,
    create_token: Option<String>,
    deletion_date: Option<String>,
    created: String,
    last_rotated: Option<String>,
    next_version: u64,
    versions: Vec<SecretVersion>,
}

impl SecretObject {
    fn current(&self) -> Option<&SecretVersion> {
        self.versions
            .iter()
            .find(|version| version.stages.iter().any(|stage| stage == CURRENT))
    }
}

fn associated_data(name: &str, version_id: &str) -> Vec<u8> {
    format!("local_secret:{name}:{version_id}").into_bytes()
}

fn live(secret: &SecretObject) -> LiveObject {
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), secret.name.clone().into());
    attributes.insert("name".into(), secret.name.clone().into());
    attributes.insert(
        "description".into(),
        secret.description.clone().map_or(serde_json::Value::Null, Into::into),
    );
    attributes.insert("key".into(), secret.key_id.clone().into());
    attributes.insert("recovery_window_in_days".into(), secret.recovery_window_in_days.into());
    let mut secret_versions = BTreeMap::new();
    if let Some(current) = secret.current() {
        attributes.insert("version_id".into(), current.version_id.clone().into());
        secret_versions.insert("value".to_string(), current.version_id.clone());
    }
    LiveObject {
        id: secret.name.clone(),
        attributes,
        secret_versions,
        status: match &secret.deletion_date {
            Some(date) => LiveStatus::PendingDeletion {
                deletion_date: date.clone(),
            },
            None => LiveStatus::Active,
        },
        last_rotated: secret.last_rotated.clone().or_else(|| Some(secret.created.clone())),
    }
}

fn load(store: &Store, name: &str) -> Result<Option<SecretObject>, ProviderError> {
    let Some(secret) = store.load::<SecretObject>(Kind::Secret, name)? else {
        return Ok(None);
    };
    if secret.deletion_date.as_deref().is_some_and(is_past) {
        store.remove(Kind::Secret, name)?;
        return Ok(None);
    }
    Ok(Some(secret))
}

pub fn read(store: &Store, name: &str) -> Result<Option<LiveObject>, ProviderError> {
    Ok(load(store, name)?.as_ref().map(live))
}

pub fn find_by_token(store: &Store, request: &FindRequest) -> Result<Option<LiveObject>, ProviderError> {
    let Some(name) = request.attributes.get("name").and_then(|value| value.as_str()) else {
        return Ok(None);
    };
    Ok(load(store, name)?
        .filter(|secret| secret.create_token.as_deref() == Some(request.token.as_str()))
        .as_ref()
        .map(live))
}

/// The secret a create of `request.attributes.name` would collide with.
pub fn lookup_by_name(store: &Store, request: &FindRequest) -> Result<Option<LiveObject>, ProviderError> {
    match request.attributes.get("name").and_then(|value| value.as_str()) {
        Some(name) => read(store, name),
        None => Ok(None),
    }
}

fn settings(secret: &mut SecretObject, attributes: &Attributes) -> Result<(), ProviderError> {
    secret.description = text(attributes, "description");
    let window = attributes
        .get("recovery_window_in_days")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(30);
    if window != 0 && !(7..=30).contains(&window) {
        return Err(ProviderError::new(
            "InvalidParameter",
            format!("recovery_window_in_days must be 0, or from 7 to 30, not {window}"),
        ));
    }
    secret.recovery_window_in_days = window;
    Ok(())
}

/// Adds a version holding `value` under the secret's key and makes it current.
fn add_version(store: &Store, secret: &mut SecretObject, value: &SensitiveString) -> Result<(), ProviderError> {
    let (key, key_version) = keys::material(store, &secret.key_id, None, true)?;
    let version_id = secret.next_version.to_string();
    secret.next_version += 1;
    let envelope =
        seal_envelope(&key, value.expose_bytes(), &associated_data(&secret.name, &version_id)).map_err(crypto_error)?;
    for version in &mut secret.versions {
        version.stages.retain(|stage| stage != PREVIOUS);
        for stage in &mut version.stages {
            if stage == CURRENT {
                *stage = PREVIOUS.to_string();
            }
        }
    }
    secret.versions.retain(|version| !version.stages.is_empty());
    secret.versions.push(SecretVersion {
        version_id,
        created: now(),
        stages: vec![CURRENT.to_string()],
        key_id: secret.key_id.clone(),
        key_version,
        envelope,
    });
    Ok(())
}

fn decrypt_current(store: &Store, secret: &SecretObject) -> Result<SensitiveString, ProviderError> {
    let current = secret
        .current()
        .ok_or_else(|| ProviderError::new("NoValue", format!("secret `{}` has no current version", secret.name)))?;
    let (key, _) = keys::material(store, &current.key_id, Some(current.key_version), false)?;
    let plaintext = open_envelope(
        &key,
        &current.envelope,
        &associated_data(&secret.name, &current.version_id),
    )
    .map_err(crypto_error)?;
    let text = String::from_utf8(plaintext.to_vec())
        .map_err(|_| ProviderError::new("NotText", format!("secret `{}` does not hold text", secret.name)))?;
    Ok(SensitiveString::new(text))
}

pub fn read_value(store: &Store, name: &str) -> Result<SensitiveString, ProviderError> {
    let secret =
        load(store, name)?.ok_or_else(|| ProviderError::new("NotFound", format!("no local secret `{name}`")))?;
    decrypt_current(store, &secret)
}

fn missing_value() -> ProviderError {
    ProviderError::new("MissingValue", "a new secret needs a value")
}

pub fn apply(store: &Store, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    match &request.action {
        ApplyAction::Create { token } => create(store, request, token),
        ApplyAction::Update | ApplyAction::Recover | ApplyAction::Rotate => {
            let name = request.id.as_deref().unwrap_or_default();
            let mut secret = load(store, name)?
                .ok_or_else(|| ProviderError::new("NotFound", format!("no local secret `{name}`")))?;
            secret.deletion_date = None;
            settings(&mut secret, &request.attributes)?;
            let key_id = text(&request.attributes, "key").unwrap_or_else(|| secret.key_id.clone());
            let value = match request.secrets.get("value") {
                Some(value) => Some(value.clone()),
                // A new key with the same value: re-encrypt the current value under the new key.
                None if key_id != secret.key_id => Some(decrypt_current(store, &secret)?),
                None => None,
            };
            secret.key_id = key_id;
            if let Some(value) = value {
                add_version(store, &mut secret, &value)?;
            }
            if request.action == ApplyAction::Rotate {
                secret.last_rotated = Some(now());
            }
            store.save(Kind::Secret, &secret.name, &secret)?;
            Ok(Some(live(&secret)))
        }
        ApplyAction::Delete { purge } => {
            let Some(mut secret) = load(store, request.id.as_deref().unwrap_or_default())? else {
                return Ok(None);
            };
            if *purge || secret.recovery_window_in_days == 0 {
                store.remove(Kind::Secret, &secret.name)?;
            } else {
                secret.deletion_date = Some(days_from_now(secret.recovery_window_in_days));
                store.save(Kind::Secret, &secret.name, &secret)?;
            }
            Ok(None)
        }
    }
}

fn create(store: &Store, request: &ApplyRequest, token: &str) -> Result<Option<LiveObject>, ProviderError> {
    let name =
        text(&request.attributes, "name").ok_or_else(|| ProviderError::new("MissingName", "a secret needs a name"))?;
    let key_id =
        text(&request.attributes, "key").ok_or_else(|| ProviderError::new("MissingKey", "a secret needs a key"))?;
    let value = request.secrets.get("value").ok_or_else(missing_value)?;
    if let Some(mut found) = load(store, &name)? {
        if found.create_token.as_deref() == Some(token) {
            // The same create ran before a crash: adopt it.
            return Ok(Some(live(&found)));
        }
        if found.deletion_date.is_none() {
            return Err(
                ProviderError::new("AlreadyExists", format!("a local secret named `{name}` already exists")).with_help(
                    format!("import it with `keyform import ADDRESS {name}`, or choose another name"),
                ),
            );
        }
        // Pending deletion: restore it instead of failing, then write the new value.
        found.deletion_date = None;
        found.key_id = key_id;
        found.create_token = Some(token.to_string());
        settings(&mut found, &request.attributes)?;
        add_version(store, &mut found, value)?;
        store.save(Kind::Secret, &name, &found)?;
        return Ok(Some(live(&found)));
    }
    let mut secret = SecretObject {
        name: name.clone(),
        description: None,
        key_id,
        recovery_window_in_days: 30,
        create_token: Some(token.to_string()),
        deletion_date: None,
        created: now(),
        last_rotated: None,
        next_version: 1,
        versions: Vec::new(),
    };
    settings(&mut secret, &request.attributes)?;
    add_version(store, &mut secret, value)?;
    // Validate the name before anything is written.
    store.path(Kind::Secret, &name)?;
    store.save(Kind::Secret, &name, &secret)?;
    Ok(Some(live(&secret)))
}
