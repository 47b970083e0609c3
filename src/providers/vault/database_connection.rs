//! `vault_database_secret_backend_connection`: a PostgreSQL connection of a
//! database secrets engine at `BACKEND/config/NAME` (the id, as in
//! Terraform), written with the plugin `postgresql-database-plugin`.
//!
//! The `postgresql` block's `password` is a value source. The core delivers
//! it as the secret `postgresql.password`, only on a create and when its
//! source's fingerprint changed, so a write without it leaves the password
//! Vault holds as it is (Vault keeps the connection fields an update leaves
//! out) and a stale value is never sent again. Vault never returns it.
//!
//! Vault keeps every connection field it is given, and returns those it does
//! not know in `connection_details`. keyform uses that for two of its own:
//! [`TOKEN_KEY`], the journal's token of the create (a create repeated after
//! a crash finds its own connection, and one at a name someone else used
//! fails), and [`PASSWORD_VERSION_KEY`], a fresh id each time keyform writes
//! the password, reported as the password's version id. A read hides both.
//! A password changed outside keyform (by `rotate-root` or a write that
//! keeps that key) cannot be seen: Vault has no version of it to report.
//!
//! A read reports `connection_url` and the `postgresql` keys that state (or
//! the configuration) holds, so `connection_url`, `username` and
//! `allowed_roles` changed outside keyform show as drift. `verify_connection`
//! only decides whether a write first logs in to the database; where Vault
//! does not report it (OpenBao), a read reports what state holds.

use super::client::{Method, VaultClient};
use super::database::{Address, CONNECTION, attributes_of, fetch};
use crate::provider::{
    ApplyAction, ApplyRequest, AttributeSchema, AttributeType, Attributes, BlockSchema, LiveObject, LiveStatus,
    ProviderError, ResourceSchema, text_attribute,
};
use std::collections::BTreeMap;

/// The connection field that carries a create's token.
pub const TOKEN_KEY: &str = "keyform_create_token";
/// The connection field that carries the id of the password keyform last wrote.
pub const PASSWORD_VERSION_KEY: &str = "keyform_password_version";
/// The secret the core delivers: the `password` of the `postgresql` block.
pub const PASSWORD: &str = "postgresql.password";
/// The block that describes the PostgreSQL server.
const BLOCK: &str = "postgresql";
/// The plugin keyform writes connections with.
const PLUGIN: &str = "postgresql-database-plugin";
/// The plain fields of the `postgresql` block.
const BLOCK_FIELDS: &[&str] = &["connection_url", "username"];

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: super::schema::DATABASE_CONNECTION,
        description: "a PostgreSQL connection of a database secrets engine, which its roles make users through",
        attributes: attributes_of(
            CONNECTION,
            vec![
                AttributeSchema::new(
                    "allowed_roles",
                    AttributeType::ListOfStrings,
                    "the roles that may use the connection ([\"*\"]: all; default: none)",
                )
                .unordered(),
                AttributeSchema::new(
                    "verify_connection",
                    AttributeType::Bool,
                    "whether Vault connects to the database before saving (default: true)",
                ),
                AttributeSchema::new("plugin_name", AttributeType::String, "the database plugin").computed(),
            ],
        ),
        blocks: vec![BlockSchema {
            name: BLOCK,
            attributes: vec![
                AttributeSchema::new(
                    "connection_url",
                    AttributeType::String,
                    "postgresql://{{username}}:{{password}}@HOST:PORT/DATABASE (Vault fills in the templates)",
                )
                .required(),
                AttributeSchema::new(
                    "username",
                    AttributeType::String,
                    "the user Vault connects as; it must be allowed to create roles",
                ),
                AttributeSchema::new(
                    "password",
                    AttributeType::Secret,
                    "that user's password: a value source such as env(\"...\"); sent when it changes, never read back",
                ),
            ],
            description: "the PostgreSQL server (the only database plugin keyform writes)",
        }],
        recoverable_deletion: false,
    }
}

/// The configured `postgresql` block, if any.
fn configured_block(attributes: &Attributes) -> Option<&serde_json::Map<String, serde_json::Value>> {
    attributes.get(BLOCK).and_then(serde_json::Value::as_object)
}

/// What keyform reports of a stored connection. `known` (state or configuration) says which
/// `postgresql` keys to report: `connection_url` always, `username` when known holds it (or,
/// with no known block, as after an import, when Vault has one).
fn live(address: &Address, data: &serde_json::Map<String, serde_json::Value>, known: &Attributes) -> LiveObject {
    let details = data
        .get("connection_details")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default();
    let known_block = configured_block(known);
    let mut block = serde_json::Map::new();
    for field in BLOCK_FIELDS {
        let value = details
            .get(*field)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let reported = match known_block {
            Some(known_block) => *field == "connection_url" || known_block.contains_key(*field),
            None => *field == "connection_url" || !value.is_empty(),
        };
        if reported {
            block.insert((*field).into(), value.into());
        }
    }
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), address.id().into());
    attributes.insert("backend".into(), address.backend.clone().into());
    attributes.insert("name".into(), address.name.clone().into());
    attributes.insert(
        "allowed_roles".into(),
        data.get("allowed_roles")
            .filter(|roles| roles.is_array())
            .cloned()
            .unwrap_or_else(|| serde_json::json!([])),
    );
    attributes.insert(
        "plugin_name".into(),
        data.get("plugin_name").cloned().unwrap_or_default(),
    );
    // A write-time setting: Vault releases that report it are believed; OpenBao does not, and then
    // the setting state (or the configuration) holds is reported, as it was last written.
    if let Some(verify) = data
        .get("verify_connection")
        .or_else(|| known.get("verify_connection"))
        .filter(|verify| verify.is_boolean())
    {
        attributes.insert("verify_connection".into(), verify.clone());
    }
    attributes.insert(BLOCK.into(), serde_json::Value::Object(block));
    let secret_versions = details
        .get(PASSWORD_VERSION_KEY)
        .and_then(serde_json::Value::as_str)
        .map(|version| BTreeMap::from([(PASSWORD.to_string(), version.to_string())]))
        .unwrap_or_default();
    LiveObject {
        id: address.id(),
        attributes,
        secret_versions,
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

/// The token of the create that made a stored connection, if any.
fn token_of(data: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    data.get("connection_details")
        .and_then(|details| details.get(TOKEN_KEY))
        .and_then(serde_json::Value::as_str)
}

/// Reads a connection; `known` is what state (or the configuration) holds.
pub async fn read_address(
    client: &VaultClient,
    address: &Address,
    known: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    Ok(fetch(client, address).await?.map(|data| live(address, &data, known)))
}

/// Reads the connection with id `BACKEND/config/NAME`.
pub async fn read(client: &VaultClient, id: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    read_address(client, &CONNECTION.address_of_id(id)?, prior).await
}

/// The connection a create of these attributes would collide with.
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    read_address(client, &CONNECTION.address(attributes)?, attributes).await
}

/// The connection a create with `token` made.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let address = CONNECTION.address(attributes)?;
    Ok(fetch(client, &address)
        .await?
        .filter(|data| token_of(data) == Some(token))
        .map(|data| live(&address, &data, attributes)))
}

/// The body of a write: the whole configuration, the password only when the request carries it
/// (with a fresh version id), and the create token on a create.
fn write_body(request: &ApplyRequest, token: Option<&str>) -> Result<serde_json::Value, ProviderError> {
    let block = configured_block(&request.attributes).ok_or_else(|| {
        ProviderError::new(
            "InvalidParameter",
            "a vault_database_secret_backend_connection needs a `postgresql { connection_url = ... }` block",
        )
    })?;
    // An imported connection of another database keeps its plugin: keyform never rewrites it as PostgreSQL.
    if let Some(other) =
        text_attribute(&request.attributes, "plugin_name").filter(|name| !name.is_empty() && name != PLUGIN)
    {
        return Err(ProviderError::new(
            "InvalidParameter",
            format!("the connection uses the plugin `{other}`; keyform writes only `{PLUGIN}` connections"),
        )
        .with_help("manage this connection outside keyform, or remove it from state (`keyform state rm ADDRESS`)"));
    }
    let mut body = serde_json::Map::new();
    body.insert("plugin_name".into(), PLUGIN.into());
    for field in BLOCK_FIELDS {
        if let Some(value) = block.get(*field).and_then(serde_json::Value::as_str) {
            body.insert((*field).into(), value.into());
        }
    }
    body.insert(
        "allowed_roles".into(),
        request
            .attributes
            .get("allowed_roles")
            .filter(|roles| roles.is_array())
            .cloned()
            .unwrap_or_else(|| serde_json::json!([])),
    );
    if let Some(verify) = request
        .attributes
        .get("verify_connection")
        .filter(|verify| verify.is_boolean())
    {
        body.insert("verify_connection".into(), verify.clone());
    }
    if let Some(password) = request.secrets.get(PASSWORD) {
        body.insert("password".into(), password.expose().into());
        body.insert(
            PASSWORD_VERSION_KEY.into(),
            uuid::Uuid::new_v4().simple().to_string().into(),
        );
    }
    if let Some(token) = token {
        body.insert(TOKEN_KEY.into(), token.into());
    }
    Ok(serde_json::Value::Object(body))
}

/// Carries out one apply request for a `vault_database_secret_backend_connection`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let address = CONNECTION.address_of(request)?;
    let token = match &request.action {
        ApplyAction::Delete { .. } => {
            super::database_leases::revoke_before_delete(client, &address).await?;
            client.delete(&address.id()).await?;
            return Ok(None);
        }
        ApplyAction::Create { token } => {
            if let Some(data) = fetch(client, &address).await?
                && token_of(&data) != Some(token.as_str())
            {
                return Err(CONNECTION.already_exists(&address));
            }
            Some(token.as_str())
        }
        _ => None,
    };
    // Vault's errors name the connection, never the password: it masks it in the URL and never echoes it.
    client
        .call(Method::Post, &address.id(), Some(write_body(request, token)?))
        .await?;
    read_address(client, &address, &request.attributes)
        .await?
        .ok_or_else(|| CONNECTION.missing_after_write(&address))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::{PASSWORD, PASSWORD_VERSION_KEY, TOKEN_KEY, live, write_body};
    use crate::provider::{ApplyAction, ApplyRequest, Attributes};
    use crate::secret::SensitiveString;
    use std::collections::BTreeMap;

    fn map(json: serde_json::Value) -> Attributes {
        json.as_object().cloned().unwrap_or_default()
    }

    fn address() -> super::Address {
        super::CONNECTION.address_of_id("db/config/pg").expect("an id")
    }

    #[test]
    fn a_read_hides_keyforms_fields_and_reports_the_known_block_keys() {
        let data = map(serde_json::json!({
            "allowed_roles": ["app"],
            "plugin_name": "postgresql-database-plugin",
            "connection_details": {
                "connection_url": "postgresql://{{username}}:{{password}}@h:5432/postgres",
                "username": "admin",
                TOKEN_KEY: "t",
                PASSWORD_VERSION_KEY: "v1",
            }
        }));
        let known = map(serde_json::json!({ "postgresql": { "connection_url": "x" } }));
        let found = live(&address(), &data, &known);
        assert_eq!(
            found.attributes["postgresql"],
            serde_json::json!({ "connection_url": "postgresql://{{username}}:{{password}}@h:5432/postgres" })
        );
        assert_eq!(found.secret_versions.get(PASSWORD).map(String::as_str), Some("v1"));
        let text = serde_json::Value::Object(found.attributes.clone()).to_string();
        assert!(
            !text.contains(TOKEN_KEY) && !text.contains(PASSWORD_VERSION_KEY),
            "{text}"
        );
        let imported = live(&address(), &data, &Attributes::new());
        assert_eq!(imported.attributes["postgresql"]["username"], "admin");
    }

    #[test]
    fn the_password_is_sent_only_when_the_request_carries_it() {
        let mut request = ApplyRequest {
            resource_type: "vault_database_secret_backend_connection".into(),
            action: ApplyAction::Update,
            id: Some("db/config/pg".into()),
            attributes: map(serde_json::json!({
                "backend": "db", "name": "pg",
                "postgresql": { "connection_url": "postgresql://h/postgres", "username": "admin" }
            })),
            secrets: BTreeMap::new(),
            changed: Vec::new(),
        };
        let body = write_body(&request, None).expect("a body");
        assert!(body.get("password").is_none() && body.get(PASSWORD_VERSION_KEY).is_none());
        assert_eq!(body["allowed_roles"], serde_json::json!([]));
        assert_eq!(body["plugin_name"], "postgresql-database-plugin");
        request
            .secrets
            .insert(PASSWORD.to_string(), SensitiveString::new("hunter2-value"));
        let body = write_body(&request, Some("token")).expect("a body");
        assert_eq!(body["password"], "hunter2-value");
        assert!(body[PASSWORD_VERSION_KEY].is_string());
        assert_eq!(body[TOKEN_KEY], "token");
        request
            .attributes
            .insert("plugin_name".into(), "mysql-database-plugin".into());
        let error = write_body(&request, None).expect_err("another database's connection");
        assert!(error.message.contains("mysql-database-plugin"), "{}", error.message);
        request.attributes.remove("plugin_name");
        request.attributes.remove("postgresql");
        assert!(write_body(&request, None).is_err());
    }
}
