//! `vault_kv_secret_v2`: secrets in a KV version 2 engine, id
//! `MOUNT/data/NAME` as in Terraform.
//!
//! A read uses only the metadata endpoint: the current version number is the
//! secret's version id (`secret_versions["data_json"]`), so keyform finds a
//! version written outside it without permission to read secret data. Only
//! [`read_value`] (for `keyform secret get` and value sources) reads data.
//!
//! A create first writes the metadata with the journal's token in the custom
//! metadata key [`TOKEN_KEY`] (hidden from reads), then the data with
//! check-and-set 0, so it never overwrites a secret someone else wrote, and a
//! create repeated after a crash finds its own secret. Destroying a secret
//! soft-deletes its current version (recoverable with `undelete`, which a
//! recover does); a purge deletes the metadata and every version.
//!
//! The `custom_metadata` block (`max_versions`, `cas_required`,
//! `delete_version_after`, `data`) is written to the metadata endpoint. A
//! read reports the keys of it that state (or the configuration) holds, so
//! a setting changed outside keyform shows as drift and one never
//! configured is no diff. Data writes after the create give check-and-set
//! with the current version, so `cas_required = true` works.

use super::client::{Method, VaultClient, clean_path};
use super::engine_path::address_of_request;
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;

/// The custom metadata key that carries a create's token.
pub const TOKEN_KEY: &str = "keyform-create-token";
/// The secret attribute.
pub const DATA_JSON: &str = "data_json";

/// A secret's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub mount: String,
    pub name: String,
}

impl Address {
    pub fn from_attributes(attributes: &Attributes) -> Result<Address, ProviderError> {
        let field = |name: &str| attributes.get(name).and_then(serde_json::Value::as_str).unwrap_or("");
        Ok(Address {
            mount: clean_path("mount", field("mount"))?,
            name: clean_path("name", field("name"))?,
        })
    }

    /// Parses `MOUNT/data/NAME`.
    pub fn from_id(id: &str) -> Result<Address, ProviderError> {
        let (mount, name) = id.split_once("/data/").ok_or_else(|| {
            ProviderError::new(
                "InvalidId",
                format!("`{id}` is not a KV v2 secret id: write it as MOUNT/data/NAME"),
            )
        })?;
        Ok(Address {
            mount: clean_path("mount", mount)?,
            name: clean_path("name", name)?,
        })
    }

    pub fn id(&self) -> String {
        format!("{}/data/{}", self.mount, self.name)
    }

    fn metadata_path(&self) -> String {
        format!("{}/metadata/{}", self.mount, self.name)
    }
}

/// The metadata of a secret: current version, whether it is deleted or destroyed, create token,
/// and the settings of the `custom_metadata` block.
#[derive(Debug)]
struct Metadata {
    current_version: u64,
    deletion_time: Option<String>,
    destroyed: bool,
    token: Option<String>,
    settings: serde_json::Map<String, serde_json::Value>,
}

/// Seconds of a Go duration as Vault writes it (`768h0m0s`, `90s`, `1m30.5s`); None when unreadable.
pub fn go_duration_seconds(text: &str) -> Option<u64> {
    let mut total = 0f64;
    let mut number = String::new();
    let mut characters = text.trim().chars().peekable();
    if text.trim() == "0" {
        return Some(0);
    }
    while let Some(character) = characters.next() {
        if character.is_ascii_digit() || character == '.' {
            number.push(character);
            continue;
        }
        let mut unit = character.to_string();
        while let Some(next) = characters
            .peek()
            .filter(|next| next.is_ascii_alphabetic() || **next == 'µ')
        {
            unit.push(*next);
            characters.next();
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        total += value
            * match unit.as_str() {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                "us" | "µs" => 0.000_001,
                "ns" => 0.000_000_001,
                _ => return None,
            };
    }
    number.is_empty().then_some(total as u64)
}

/// The `custom_metadata` settings Vault reports, in the block's terms.
fn settings_of(data: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut settings = serde_json::Map::new();
    settings.insert("max_versions".into(), data["max_versions"].as_u64().unwrap_or(0).into());
    settings.insert(
        "cas_required".into(),
        data["cas_required"].as_bool().unwrap_or(false).into(),
    );
    let after = data["delete_version_after"]
        .as_str()
        .and_then(go_duration_seconds)
        .unwrap_or(0);
    settings.insert("delete_version_after".into(), after.into());
    let mut custom = data["custom_metadata"].as_object().cloned().unwrap_or_default();
    custom.remove(TOKEN_KEY);
    settings.insert("data".into(), serde_json::Value::Object(custom));
    settings
}

/// The configured `custom_metadata` block, if any.
fn configured_settings(attributes: &Attributes) -> Option<&serde_json::Map<String, serde_json::Value>> {
    attributes.get("custom_metadata").and_then(serde_json::Value::as_object)
}

/// The body of a metadata write: the configured settings, and the create token kept.
fn metadata_body(
    configured: Option<&serde_json::Map<String, serde_json::Value>>,
    token: Option<&str>,
) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    let mut custom = serde_json::Map::new();
    if let Some(configured) = configured {
        for name in ["max_versions", "cas_required"] {
            if let Some(value) = configured.get(name) {
                body.insert(name.into(), value.clone());
            }
        }
        if let Some(seconds) = configured
            .get("delete_version_after")
            .and_then(serde_json::Value::as_u64)
        {
            body.insert("delete_version_after".into(), format!("{seconds}s").into());
        }
        if let Some(data) = configured.get("data").and_then(serde_json::Value::as_object) {
            custom.extend(data.clone());
        }
    }
    if let Some(token) = token {
        custom.insert(TOKEN_KEY.into(), token.into());
    }
    body.insert("custom_metadata".into(), serde_json::Value::Object(custom));
    serde_json::Value::Object(body)
}

async fn metadata(client: &VaultClient, address: &Address) -> Result<Option<Metadata>, ProviderError> {
    let Some(data) = client.read_data(&address.metadata_path()).await? else {
        return Ok(None);
    };
    let current_version = data["current_version"].as_u64().unwrap_or(0);
    let current = &data["versions"][current_version.to_string()];
    Ok(Some(Metadata {
        current_version,
        deletion_time: current["deletion_time"]
            .as_str()
            .filter(|time| !time.is_empty())
            .map(str::to_string),
        destroyed: current["destroyed"].as_bool().unwrap_or(false),
        token: data["custom_metadata"][TOKEN_KEY].as_str().map(str::to_string),
        settings: settings_of(&data),
    }))
}

/// The live object, or None when the secret has no readable current version (none written, or destroyed).
/// `known` (state or configuration) says which `custom_metadata` keys to report.
fn live(address: &Address, found: &Metadata, known: &Attributes) -> Option<LiveObject> {
    if found.current_version == 0 || found.destroyed {
        return None;
    }
    let id = address.id();
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), id.clone().into());
    attributes.insert("path".into(), id.clone().into());
    attributes.insert("mount".into(), address.mount.clone().into());
    attributes.insert("name".into(), address.name.clone().into());
    attributes.insert("version".into(), found.current_version.into());
    if let Some(configured) = configured_settings(known) {
        let reported: serde_json::Map<String, serde_json::Value> = configured
            .keys()
            .filter_map(|name| found.settings.get(name).map(|value| (name.clone(), value.clone())))
            .collect();
        attributes.insert("custom_metadata".into(), serde_json::Value::Object(reported));
    }
    Some(LiveObject {
        id,
        attributes,
        secret_versions: BTreeMap::from([(DATA_JSON.to_string(), found.current_version.to_string())]),
        status: match &found.deletion_time {
            Some(time) => LiveStatus::PendingDeletion {
                deletion_date: format!("it is destroyed (soft-deleted at {time}; undelete restores it)"),
            },
            None => LiveStatus::Active,
        },
        last_rotated: None,
    })
}

pub async fn read(
    client: &VaultClient,
    address: &Address,
    known: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    Ok(metadata(client, address)
        .await?
        .and_then(|found| live(address, &found, known)))
}

/// The secret a create with `token` made.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let address = Address::from_attributes(attributes)?;
    Ok(metadata(client, &address)
        .await?
        .filter(|found| found.token.as_deref() == Some(token))
        .and_then(|found| live(&address, &found, attributes)))
}

/// The data of a `data_json` value: a JSON object. The error never quotes the value.
fn parse_data(value: &SensitiveString) -> Result<serde_json::Value, ProviderError> {
    match serde_json::from_str::<serde_json::Value>(value.expose()) {
        Ok(data @ serde_json::Value::Object(_)) => Ok(data),
        Ok(_) => Err(ProviderError::new(
            "InvalidParameter",
            "data_json must be a JSON object (jsonencode({ key = value }))",
        )),
        Err(error) => Err(ProviderError::new(
            "InvalidParameter",
            format!(
                "data_json is not JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )),
    }
}

async fn write_data(
    client: &VaultClient,
    address: &Address,
    value: &SensitiveString,
    check_and_set: Option<u64>,
) -> Result<(), ProviderError> {
    let mut body = serde_json::json!({ "data": parse_data(value)? });
    if let Some(version) = check_and_set {
        body["options"] = serde_json::json!({ "cas": version });
    }
    let path = address.id();
    client.call(Method::Post, &path, Some(body)).await?;
    Ok(())
}

fn data_of(request: &ApplyRequest) -> Option<&SensitiveString> {
    request.secrets.get(DATA_JSON)
}

async fn create(
    client: &VaultClient,
    address: &Address,
    token: &str,
    request: &ApplyRequest,
) -> Result<(), ProviderError> {
    let existing = metadata(client, address).await?;
    match existing {
        Some(found) if found.token.as_deref() == Some(token) => {
            // A repeated create: write the data only if the first one stopped before it.
            if found.current_version == 0
                && let Some(value) = data_of(request)
            {
                write_data(client, address, value, Some(0)).await?;
            }
            return Ok(());
        }
        Some(found) if found.current_version > 0 && !found.destroyed => {
            return Err(ProviderError::new(
                "AlreadyExists",
                format!(
                    "a secret already exists at `{}` and keyform did not create it",
                    address.id()
                ),
            )
            .with_help(format!(
                "import it (`keyform import ADDRESS {}`) or choose another name",
                address.id()
            )));
        }
        _ => {}
    }
    let value = data_of(request).ok_or_else(|| {
        ProviderError::new(
            "InvalidParameter",
            "a vault_kv_secret_v2 needs `data_json` to be created",
        )
    })?;
    let check_and_set = existing.as_ref().map_or(0, |found| found.current_version);
    client
        .call(
            Method::Post,
            &address.metadata_path(),
            Some(metadata_body(configured_settings(&request.attributes), Some(token))),
        )
        .await?;
    write_data(client, address, value, Some(check_and_set)).await
}

/// Writes the configured metadata settings, then the data if the request carries it
/// (check-and-set with the current version, so `cas_required` never refuses keyform).
async fn update(client: &VaultClient, address: &Address, request: &ApplyRequest) -> Result<(), ProviderError> {
    let found = metadata(client, address).await?;
    if let Some(configured) = configured_settings(&request.attributes) {
        let token = found.as_ref().and_then(|found| found.token.clone());
        client
            .call(
                Method::Post,
                &address.metadata_path(),
                Some(metadata_body(Some(configured), token.as_deref())),
            )
            .await?;
    }
    if let Some(value) = data_of(request) {
        let current = found.map_or(0, |found| found.current_version);
        write_data(client, address, value, Some(current)).await?;
    }
    Ok(())
}

/// Carries out one apply request for a `vault_kv_secret_v2`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let address = address_of_request(request, Address::from_attributes, Address::from_id)?;
    match &request.action {
        ApplyAction::Create { token } => create(client, &address, token, request).await?,
        ApplyAction::Update | ApplyAction::Rotate => update(client, &address, request).await?,
        ApplyAction::Recover => {
            if let Some(found) = metadata(client, &address).await?
                && found.deletion_time.is_some()
            {
                client
                    .call(
                        Method::Post,
                        &format!("{}/undelete/{}", address.mount, address.name),
                        Some(serde_json::json!({ "versions": [found.current_version] })),
                    )
                    .await?;
            }
            update(client, &address, request).await?;
        }
        ApplyAction::Delete { purge } => {
            let path = if *purge { address.metadata_path() } else { address.id() };
            client.delete(&path).await?;
            return Ok(None);
        }
    }
    read(client, &address, &request.attributes)
        .await?
        .map(Some)
        .ok_or_else(|| {
            ProviderError::new(
                "NotFound",
                format!("the secret at `{}` was not found after it was written", address.id()),
            )
        })
}

/// The current data of a secret, as one JSON object.
pub async fn read_value(client: &VaultClient, id: &str) -> Result<SensitiveString, ProviderError> {
    let address = Address::from_id(id)?;
    let answer = client.call(Method::Get, &address.id(), None).await?;
    let data = &answer.data()["data"];
    if !data.is_object() {
        return Err(ProviderError::new(
            "NotFound",
            format!("the secret at `{id}` has no current data (deleted or destroyed)"),
        ));
    }
    Ok(SensitiveString::new(data.to_string()))
}

/// Ids of every active secret in every KV v2 mount.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    let mut ids = Vec::new();
    for (mount, engine, options) in super::mount::mounts(client).await? {
        let version_2 = engine == "kv" && options.get("version").and_then(serde_json::Value::as_str) == Some("2");
        if !version_2 {
            continue;
        }
        let mut folders = vec![String::new()];
        while let Some(folder) = folders.pop() {
            for key in client.list_keys(&format!("{mount}/metadata/{folder}")).await? {
                if key.ends_with('/') {
                    folders.push(format!("{folder}{key}"));
                    continue;
                }
                let address = Address {
                    mount: mount.clone(),
                    name: format!("{folder}{key}"),
                };
                if read(client, &address, &Attributes::new())
                    .await?
                    .is_some_and(|live| live.status == LiveStatus::Active)
                {
                    ids.push(address.id());
                }
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::{Address, go_duration_seconds, parse_data};

    #[test]
    fn go_durations_read_as_seconds() {
        assert_eq!(go_duration_seconds("0s"), Some(0));
        assert_eq!(go_duration_seconds("768h0m0s"), Some(768 * 3600));
        assert_eq!(go_duration_seconds("1h30m0s"), Some(5400));
        assert_eq!(go_duration_seconds("1m30.5s"), Some(90));
        assert_eq!(go_duration_seconds("3x"), None);
    }
    use crate::secret::SensitiveString;

    #[test]
    fn ids_are_mount_data_name() {
        let address = Address::from_id("kv/data/app/db").expect("valid");
        assert_eq!(address.mount, "kv");
        assert_eq!(address.name, "app/db");
        assert_eq!(address.id(), "kv/data/app/db");
        assert!(Address::from_id("kv/app").is_err());
    }

    #[test]
    fn data_must_be_an_object_and_errors_never_quote_it() {
        assert!(parse_data(&SensitiveString::new("{\"password\":\"x\"}")).is_ok());
        let error = parse_data(&SensitiveString::new("\"hunter2-value\"")).expect_err("not an object");
        assert!(!error.message.contains("hunter2"));
        let error = parse_data(&SensitiveString::new("{ hunter2-value")).expect_err("not JSON");
        assert!(!error.message.contains("hunter2"), "{}", error.message);
    }
}
