//! `local_key`: versioned key-encryption keys, each version sealed under the
//! master key. A key's id is its create token, so a create is idempotent and
//! a crash after it is found again by that token.

use super::store::{Kind, Store, crypto_error, days_from_now, is_past, now};
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError};
use crate::secret::{SecretKey, open, seal};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyVersion {
    number: u64,
    created: String,
    /// The key material, sealed under the master key.
    sealed: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyObject {
    id: String,
    description: Option<String>,
    enabled: bool,
    deletion_window_in_days: u64,
    create_token: Option<String>,
    deletion_date: Option<String>,
    created: String,
    last_rotated: Option<String>,
    current_version: u64,
    versions: Vec<KeyVersion>,
}

fn associated_data(id: &str, version: u64) -> Vec<u8> {
    format!("local_key:{id}:{version}").into_bytes()
}

fn new_version(store: &Store, id: &str, number: u64) -> Result<KeyVersion, ProviderError> {
    let material = SecretKey::generate().map_err(crypto_error)?;
    let sealed = seal(store.master_key(), material.expose(), &associated_data(id, number)).map_err(crypto_error)?;
    Ok(KeyVersion {
        number,
        created: now(),
        sealed: STANDARD.encode(sealed),
    })
}

fn live(key: &KeyObject) -> LiveObject {
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), key.id.clone().into());
    attributes.insert(
        "description".into(),
        key.description.clone().map_or(serde_json::Value::Null, Into::into),
    );
    attributes.insert("enabled".into(), key.enabled.into());
    attributes.insert("deletion_window_in_days".into(), key.deletion_window_in_days.into());
    attributes.insert("current_version".into(), key.current_version.into());
    LiveObject {
        id: key.id.clone(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: match &key.deletion_date {
            Some(date) => LiveStatus::PendingDeletion {
                deletion_date: date.clone(),
            },
            None => LiveStatus::Active,
        },
        last_rotated: key.last_rotated.clone().or_else(|| Some(key.created.clone())),
    }
}

/// Loads a key, purging it if its deletion date has passed.
pub fn load(store: &Store, id: &str) -> Result<Option<KeyObject>, ProviderError> {
    let Some(key) = store.load::<KeyObject>(Kind::Key, id)? else {
        return Ok(None);
    };
    if key.deletion_date.as_deref().is_some_and(is_past) {
        store.remove(Kind::Key, id)?;
        return Ok(None);
    }
    Ok(Some(key))
}

pub fn read(store: &Store, id: &str) -> Result<Option<LiveObject>, ProviderError> {
    Ok(load(store, id)?.as_ref().map(live))
}

pub fn find_by_token(store: &Store, token: &str) -> Result<Option<LiveObject>, ProviderError> {
    Ok(load(store, token)?
        .filter(|key| key.create_token.as_deref() == Some(token))
        .as_ref()
        .map(live))
}

fn settings(key: &mut KeyObject, attributes: &Attributes) -> Result<(), ProviderError> {
    key.description = attributes
        .get("description")
        .and_then(|value| value.as_str())
        .map(str::to_string);
    key.enabled = attributes
        .get("enabled")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true);
    let window = attributes
        .get("deletion_window_in_days")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(30);
    if !(7..=30).contains(&window) {
        return Err(ProviderError::new(
            "InvalidParameter",
            format!("deletion_window_in_days must be from 7 to 30, not {window}"),
        ));
    }
    key.deletion_window_in_days = window;
    Ok(())
}

fn existing(store: &Store, request: &ApplyRequest) -> Result<KeyObject, ProviderError> {
    let id = request.id.as_deref().unwrap_or_default();
    load(store, id)?.ok_or_else(|| ProviderError::new("NotFound", format!("no local key `{id}`")))
}

pub fn apply(store: &Store, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    match &request.action {
        ApplyAction::Create { token } => {
            if let Some(found) = load(store, token)? {
                return Ok(Some(live(&found)));
            }
            let mut key = KeyObject {
                id: token.clone(),
                description: None,
                enabled: true,
                deletion_window_in_days: 30,
                create_token: Some(token.clone()),
                deletion_date: None,
                created: now(),
                last_rotated: None,
                current_version: 1,
                versions: vec![new_version(store, token, 1)?],
            };
            settings(&mut key, &request.attributes)?;
            store.save(Kind::Key, &key.id, &key)?;
            Ok(Some(live(&key)))
        }
        ApplyAction::Update | ApplyAction::Recover => {
            let mut key = existing(store, request)?;
            key.deletion_date = None;
            settings(&mut key, &request.attributes)?;
            store.save(Kind::Key, &key.id, &key)?;
            Ok(Some(live(&key)))
        }
        ApplyAction::Rotate => {
            let mut key = existing(store, request)?;
            let number = key.current_version + 1;
            key.versions.push(new_version(store, &key.id, number)?);
            key.current_version = number;
            key.last_rotated = Some(now());
            store.save(Kind::Key, &key.id, &key)?;
            Ok(Some(live(&key)))
        }
        ApplyAction::Delete { purge } => {
            let Some(mut key) = load(store, request.id.as_deref().unwrap_or_default())? else {
                return Ok(None);
            };
            if *purge {
                store.remove(Kind::Key, &key.id)?;
            } else {
                key.deletion_date = Some(days_from_now(key.deletion_window_in_days));
                store.save(Kind::Key, &key.id, &key)?;
            }
            Ok(None)
        }
    }
}

/// The material of one key version, for wrapping or unwrapping data keys.
/// `for_new_data` refuses a disabled key or one pending deletion.
pub fn material(
    store: &Store,
    id: &str,
    version: Option<u64>,
    for_new_data: bool,
) -> Result<(SecretKey, u64), ProviderError> {
    let key = load(store, id)?.ok_or_else(|| {
        ProviderError::new("KeyNotFound", format!("no local key `{id}`"))
            .with_help("the `key` attribute must be a local_key's id, such as local_key.main.id")
    })?;
    if for_new_data && (!key.enabled || key.deletion_date.is_some()) {
        return Err(ProviderError::new(
            "KeyUnavailable",
            format!("local key `{id}` is disabled or pending deletion and cannot protect new values"),
        ));
    }
    let number = version.unwrap_or(key.current_version);
    let entry = key
        .versions
        .iter()
        .find(|candidate| candidate.number == number)
        .ok_or_else(|| {
            ProviderError::new(
                "KeyVersionNotFound",
                format!("local key `{id}` has no version {number}"),
            )
        })?;
    let sealed = STANDARD
        .decode(entry.sealed.as_bytes())
        .map_err(|_| ProviderError::new("StoreCorrupt", format!("local key `{id}` version {number} is damaged")))?;
    let opened = open(store.master_key(), &sealed, &associated_data(id, number)).map_err(crypto_error)?;
    Ok((SecretKey::from_bytes(&opened).map_err(crypto_error)?, number))
}
