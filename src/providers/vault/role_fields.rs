//! The settings of a Vault object declared as a table of [`Field`]s (name,
//! type, Vault's default) and read back in one normalised form; and
//! [`WholeRole`], the one implementation of a role written whole, which the
//! AppRole, JWT, Kubernetes, database and PKI roles share.
//!
//! Every write of a role sends the whole role: a setting the configuration
//! leaves out is sent with Vault's default, never left as it was, so removing
//! a line resets the setting. Sets compare sorted and without repeats. A role
//! has nowhere to carry a create token, so a create adopts a role already at
//! the name only when its settings are exactly the ones the create would
//! write (a create repeated after a crash); any other role there fails the
//! create instead of being overwritten.

use super::client::{Method, VaultClient, already_exists, missing_after_write};
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError};
use std::collections::BTreeMap;

/// Settings by name, as configured or as Vault reports them.
pub type Map = serde_json::Map<String, serde_json::Value>;

/// One setting: its name (the attribute and Vault's field), how it is compared and sent, its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A string with Vault's default (an empty string reads as the default).
    Text(&'static str, &'static str),
    /// A boolean with Vault's default.
    Bool(&'static str, bool),
    /// A whole number with Vault's default.
    Number(&'static str, u64),
    /// Seconds; sent as `"Ns"`, reported by Vault as a number; default 0.
    Duration(&'static str),
    /// An ordered list of strings (SQL statements run in order); default empty.
    List(&'static str),
    /// A list of strings compared as a set; default empty.
    Set(&'static str),
    /// A map of strings; default empty.
    Map(&'static str),
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Text(name, _)
            | Field::Bool(name, _)
            | Field::Number(name, _)
            | Field::Duration(name)
            | Field::List(name)
            | Field::Set(name)
            | Field::Map(name) => name,
        }
    }
}

/// The strings of a JSON list (none when it is not a list).
pub fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    value
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Every setting of `fields` from `source` (configuration or Vault's answer), with its default where
/// it is absent, sets sorted: the form settings are compared in.
pub fn settings_of(fields: &[Field], source: &Map) -> Map {
    let mut settings = Map::new();
    for field in fields {
        let value = source.get(field.name());
        let normalised: serde_json::Value = match *field {
            Field::Text(_, default) => value
                .and_then(serde_json::Value::as_str)
                .filter(|text| !text.is_empty())
                .unwrap_or(default)
                .into(),
            Field::Bool(_, default) => value.and_then(serde_json::Value::as_bool).unwrap_or(default).into(),
            Field::Number(_, default) => value.and_then(serde_json::Value::as_u64).unwrap_or(default).into(),
            Field::Duration(_) => value.and_then(serde_json::Value::as_u64).unwrap_or(0).into(),
            Field::List(_) => strings(value).into(),
            Field::Set(_) => {
                let mut items = strings(value);
                items.sort();
                items.dedup();
                items.into()
            }
            Field::Map(_) => serde_json::Value::Object(
                value
                    .and_then(serde_json::Value::as_object)
                    .map(|entries| {
                        entries
                            .iter()
                            .map(|(key, value)| {
                                let text = match value {
                                    serde_json::Value::String(text) => text.clone(),
                                    other => other.to_string(),
                                };
                                (key.clone(), text.into())
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        };
        settings.insert(field.name().into(), normalised);
    }
    settings
}

/// `settings` as a write sends them: durations as `"Ns"`.
pub fn write_body(fields: &[Field], mut settings: Map) -> serde_json::Value {
    for field in fields {
        if let Field::Duration(name) = *field {
            let seconds = settings.get(name).and_then(serde_json::Value::as_u64).unwrap_or(0);
            settings.insert(name.into(), format!("{seconds}s").into());
        }
    }
    serde_json::Value::Object(settings)
}

/// Where a role lives: the path of its backend, its name, and its id (the path Vault serves it at).
pub trait RoleAddress {
    fn backend(&self) -> &str;
    fn name(&self) -> &str;
    fn id(&self) -> String;
}

/// A kind of role written whole: its fields and how messages and attributes name it.
#[derive(Debug, Clone, Copy)]
pub struct WholeRole {
    /// How messages name it: "PKI role".
    pub label: &'static str,
    /// The attribute that holds the role's name (`name`, `role_name`).
    pub name_field: &'static str,
    pub fields: &'static [Field],
    /// What the table cannot say, applied after it: a setting whose default depends on another.
    pub adjust: Option<fn(&mut Map)>,
}

impl WholeRole {
    /// The role's settings from a configuration or from Vault's answer.
    pub fn settings_of(&self, source: &Map) -> Map {
        let mut settings = settings_of(self.fields, source);
        if let Some(adjust) = self.adjust {
            adjust(&mut settings);
        }
        settings
    }

    /// The role's settings as Vault stores them, or None when there is no role.
    pub async fn fetch(&self, client: &VaultClient, address: &impl RoleAddress) -> Result<Option<Map>, ProviderError> {
        Ok(client
            .read_data(&address.id())
            .await?
            .map(|data| self.settings_of(&data.as_object().cloned().unwrap_or_default())))
    }

    /// The live object of a role with `settings`.
    pub fn live(&self, address: &impl RoleAddress, settings: Map) -> LiveObject {
        let mut attributes = settings;
        attributes.insert("backend".into(), address.backend().into());
        attributes.insert(self.name_field.into(), address.name().into());
        attributes.insert("id".into(), address.id().into());
        LiveObject {
            id: address.id(),
            attributes,
            secret_versions: BTreeMap::new(),
            status: LiveStatus::Active,
            last_rotated: None,
        }
    }

    /// Reads the role at `address`.
    pub async fn read_at(
        &self,
        client: &VaultClient,
        address: &impl RoleAddress,
    ) -> Result<Option<LiveObject>, ProviderError> {
        Ok(self
            .fetch(client, address)
            .await?
            .map(|settings| self.live(address, settings)))
    }

    /// The settings of the role at `address` when they are exactly the ones a create of `attributes` writes.
    pub async fn made_by(
        &self,
        client: &VaultClient,
        address: &impl RoleAddress,
        attributes: &Attributes,
    ) -> Result<Option<Map>, ProviderError> {
        Ok(self
            .fetch(client, address)
            .await?
            .filter(|settings| *settings == self.settings_of(attributes)))
    }

    /// The role a create of `attributes` made: one at `address` with exactly its settings.
    pub async fn find_at(
        &self,
        client: &VaultClient,
        address: &impl RoleAddress,
        attributes: &Attributes,
    ) -> Result<Option<LiveObject>, ProviderError> {
        Ok(self
            .made_by(client, address, attributes)
            .await?
            .map(|settings| self.live(address, settings)))
    }

    /// Writes the whole role.
    async fn write(
        &self,
        client: &VaultClient,
        address: &impl RoleAddress,
        attributes: &Attributes,
    ) -> Result<(), ProviderError> {
        let body = write_body(self.fields, self.settings_of(attributes));
        client.call(Method::Post, &address.id(), Some(body)).await?;
        Ok(())
    }

    /// The writes of one apply request at `address`: a delete deletes (a role already gone is no
    /// error), a create writes unless its own role is there (and fails over another), any other
    /// action writes the whole role.
    pub async fn change(
        &self,
        client: &VaultClient,
        address: &impl RoleAddress,
        request: &ApplyRequest,
    ) -> Result<(), ProviderError> {
        match &request.action {
            ApplyAction::Delete { .. } => client.delete(&address.id()).await,
            ApplyAction::Create { .. } => match self.fetch(client, address).await? {
                Some(settings) if settings == self.settings_of(&request.attributes) => Ok(()),
                Some(_) => Err(already_exists(self.label, &address.id(), self.name_field)),
                None => self.write(client, address, &request.attributes).await,
            },
            _ => self.write(client, address, &request.attributes).await,
        }
    }

    /// The error of a role that a write did not leave behind.
    pub fn missing_after_write(&self, address: &impl RoleAddress) -> ProviderError {
        missing_after_write(self.label, &address.id())
    }

    /// Carries out one apply request at `address` ([`WholeRole::change`]) and reads the role back.
    pub async fn apply_at(
        &self,
        client: &VaultClient,
        address: &impl RoleAddress,
        request: &ApplyRequest,
    ) -> Result<Option<LiveObject>, ProviderError> {
        self.change(client, address, request).await?;
        if matches!(request.action, ApplyAction::Delete { .. }) {
            return Ok(None);
        }
        self.read_at(client, address)
            .await?
            .ok_or_else(|| self.missing_after_write(address))
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::{Field, settings_of, write_body};

    const FIELDS: &[Field] = &[
        Field::Text("role_type", "oidc"),
        Field::Bool("allow_localhost", true),
        Field::Number("num_uses", 0),
        Field::Duration("token_ttl"),
        Field::List("revocation_statements"),
        Field::Set("token_policies"),
        Field::Map("bound_claims"),
    ];

    fn object(json: serde_json::Value) -> super::Map {
        json.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn every_field_is_present_with_its_default() {
        let configured = object(serde_json::json!({
            "token_policies": ["b", "a", "b"],
            "revocation_statements": ["second", "first"],
            "bound_claims": { "n": 1 },
            "token_ttl": 3600,
            "other": "ignored"
        }));
        let settings = settings_of(FIELDS, &configured);
        assert_eq!(
            serde_json::Value::Object(settings.clone()),
            serde_json::json!({
                "role_type": "oidc",
                "allow_localhost": true,
                "num_uses": 0,
                "token_ttl": 3600,
                "revocation_statements": ["second", "first"],
                "token_policies": ["a", "b"],
                "bound_claims": { "n": "1" }
            })
        );
        let body = write_body(FIELDS, settings);
        assert_eq!(body["token_ttl"], "3600s");
        let empty = settings_of(FIELDS, &object(serde_json::json!({ "role_type": "" })));
        assert_eq!(empty["role_type"], "oidc");
        assert_eq!(empty["bound_claims"], serde_json::json!({}));
    }
}
