//! `vault_pki_secret_backend_root_cert`: a self-signed root CA generated
//! inside a PKI engine (`BACKEND/root/generate/internal`), id
//! `BACKEND/issuer/ISSUER_ID`.
//!
//! `type = "internal"` keeps the private key in Vault. `exported` also
//! returns it, once, in the answer to the create: the driver keeps it in
//! memory for the run ([`RunValues`]) as the secret attribute `private_key`,
//! so a resource applied after the root in the same run can take it as its
//! value (an HSM-backed store, a secret manager); it is never stored, and a
//! later run has none. Vault keeps no mark of which it was, so a read carries
//! `type` over from state.
//!
//! Every argument forces replacement (a certificate cannot change). A read
//! reports what Vault keeps of the issuer (`issuer_name`, `key_type`, the
//! certificate, its serial number and the ids) and the subject read from the
//! certificate ([`super::pki_subject`]: `common_name`, `organization`, ...);
//! the other arguments (`ttl`, `key_bits`, ...) are compared against state.
//!
//! A create names the generated key `keyform-TOKEN` (the journal's token),
//! so a create repeated after a crash finds its own issuer through that key.
//! Destroying deletes the issuer, then that key; it is irreversible, and
//! every certificate the root signed loses its issuer.

use super::client::{Method, VaultClient, api_error, clean_path, errors_of};
use super::engine_path::{EnginePath, list_ids};
use super::run_values::RunValues;
use crate::provider::{
    ApplyRequest, AttributeSchema, AttributeType, Attributes, LiveObject, LiveStatus, ProviderError, ResourceSchema,
};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;

/// The secret attribute of an exported root: its private key, PEM.
pub const PRIVATE_KEY: &str = "private_key";

/// The prefix of the name a create gives the root's key; the token follows.
pub const KEY_NAME_PREFIX: &str = "keyform-";

/// String arguments sent as they are.
const TEXTS: &[&str] = &[
    "common_name",
    "key_type",
    "issuer_name",
    "organization",
    "ou",
    "country",
    "locality",
    "province",
];

/// List arguments, sent comma-joined.
const LISTS: &[&str] = &["alt_names", "ip_sans"];

pub fn schema() -> ResourceSchema {
    let text = |name: &'static str, description: &'static str| {
        AttributeSchema::new(name, AttributeType::String, description).force_new()
    };
    ResourceSchema {
        type_name: super::schema::PKI_ROOT_CERT,
        description: "a self-signed root certificate authority generated in a PKI engine (the private key never leaves Vault); destroying it deletes the issuer and its key",
        attributes: vec![
            AttributeSchema::new("backend", AttributeType::String, "the path of the PKI engine")
                .required()
                .force_new(),
            AttributeSchema::new(
                "type",
                AttributeType::String,
                "`internal`: the private key stays in Vault; `exported`: it is also returned once, as `private_key`, for other resources in the run that creates it (never stored)",
            )
            .required()
            .force_new(),
            text("common_name", "the CA's common name").required(),
            AttributeSchema::new(
                "ttl",
                AttributeType::Duration,
                "the certificate's lifetime (\"87600h\"; capped by the mount's max_lease_ttl)",
            )
            .force_new(),
            text("key_type", "rsa (default), ec or ed25519"),
            AttributeSchema::new(
                "key_bits",
                AttributeType::Number,
                "the key size (0: the type's default)",
            )
            .force_new(),
            text("issuer_name", "a name for the issuer inside the engine"),
            text("organization", "the subject's O"),
            text("ou", "the subject's OU"),
            text("country", "the subject's C"),
            text("locality", "the subject's L"),
            text("province", "the subject's ST"),
            AttributeSchema::new(
                "alt_names",
                AttributeType::ListOfStrings,
                "DNS subject alternative names",
            )
            .force_new(),
            AttributeSchema::new("ip_sans", AttributeType::ListOfStrings, "IP subject alternative names").force_new(),
            AttributeSchema::new(
                "max_path_length",
                AttributeType::Number,
                "the longest chain below the CA (-1: unlimited)",
            )
            .force_new(),
            AttributeSchema::new(
                "exclude_cn_from_sans",
                AttributeType::Bool,
                "keep the common name out of the subject alternative names",
            )
            .force_new(),
            AttributeSchema::new("certificate", AttributeType::String, "the CA certificate, PEM").computed(),
            AttributeSchema::new("issuing_ca", AttributeType::String, "the issuing CA (itself), PEM").computed(),
            AttributeSchema::new(
                "serial_number",
                AttributeType::String,
                "the certificate's serial number",
            )
            .computed(),
            AttributeSchema::new("issuer_id", AttributeType::String, "the issuer's id in the engine").computed(),
            AttributeSchema::new("key_id", AttributeType::String, "the id of the CA's key in the engine").computed(),
            AttributeSchema::new(
                PRIVATE_KEY,
                AttributeType::Secret,
                "with type = \"exported\": the CA's private key, PEM, as a value for another resource in the run that creates it; never stored",
            )
            .computed(),
            AttributeSchema::new("id", AttributeType::String, "`BACKEND/issuer/ISSUER_ID`").computed(),
        ],
        blocks: Vec::new(),
        recoverable_deletion: false,
    }
}

/// The path segment of a root's id: `BACKEND/issuer/ISSUER_ID`.
const KIND: &str = "issuer";

fn issuer(backend: String, issuer_id: String) -> EnginePath {
    EnginePath {
        backend,
        kind: KIND,
        name: issuer_id,
    }
}

fn address_from_id(id: &str) -> Result<EnginePath, ProviderError> {
    EnginePath::from_id(id, KIND, "PKI root")
}

fn backend_of(attributes: &Attributes) -> Result<String, ProviderError> {
    clean_path(
        "backend",
        attributes
            .get("backend")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(""),
    )
}

/// Whether a failed answer says the issuer (or its engine) is not there.
fn is_missing(answer: &super::client::Answer) -> bool {
    answer.status == 404
        || (answer.status >= 400 && errors_of(answer).contains("unable to find PKI issuer"))
        || (answer.status == 400 && errors_of(answer).contains("no handler for route"))
}

/// The issuer's `data` as Vault reports it, or None when it (or its engine) is not there.
async fn fetch(client: &VaultClient, address: &EnginePath) -> Result<Option<serde_json::Value>, ProviderError> {
    let path = address.id();
    let answer = client.send(Method::Get, &path, None).await?;
    if is_missing(&answer) {
        return Ok(None);
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::Get, &path, &answer));
    }
    Ok(Some(answer.data().clone()))
}

/// Whether `attributes` (state, or the configuration of a create) ask for an exported root.
fn exported(attributes: &Attributes) -> bool {
    attributes.get("type").and_then(serde_json::Value::as_str) == Some("exported")
}

/// Reads the issuer at `address`; `known` (state, or the configuration of a create) says whether it was exported.
async fn read_address(
    client: &VaultClient,
    address: &EnginePath,
    known: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let Some(data) = fetch(client, address).await? else {
        return Ok(None);
    };
    let key_id = data["key_id"].as_str().unwrap_or_default().to_string();
    let listed = client
        .call(Method::List, &format!("{}/issuers", address.backend), None)
        .await?;
    let serial_number = listed.data()["key_info"][address.name.as_str()]["serial_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut attributes = Attributes::new();
    if !key_id.is_empty() {
        let key = client
            .call(Method::Get, &format!("{}/key/{key_id}", address.backend), None)
            .await?;
        if let Some(key_type) = key.data()["key_type"].as_str() {
            attributes.insert("key_type".into(), key_type.into());
        }
    }
    let certificate = data["certificate"].as_str().unwrap_or_default().trim().to_string();
    for (name, value) in super::pki_subject::subject_of(&certificate) {
        attributes.insert(name.into(), value.into());
    }
    let mut secret_versions = BTreeMap::new();
    if !key_id.is_empty() {
        // Vault holds the key: the root was generated (or imported) with its key inside, and returned it when
        // it was exported.
        let kind = if exported(known) { "exported" } else { "internal" };
        attributes.insert("type".into(), kind.into());
        if exported(known) {
            secret_versions.insert(PRIVATE_KEY.to_string(), key_id.clone());
        }
    }
    attributes.insert("backend".into(), address.backend.clone().into());
    if let Some(name) = data["issuer_name"].as_str().filter(|name| !name.is_empty()) {
        attributes.insert("issuer_name".into(), name.into());
    }
    attributes.insert("certificate".into(), certificate.clone().into());
    attributes.insert("issuing_ca".into(), certificate.into());
    attributes.insert("serial_number".into(), serial_number.into());
    attributes.insert("issuer_id".into(), address.name.clone().into());
    attributes.insert("key_id".into(), key_id.into());
    attributes.insert("id".into(), address.id().into());
    Ok(Some(LiveObject {
        id: address.id(),
        attributes,
        secret_versions,
        status: LiveStatus::Active,
        last_rotated: None,
    }))
}

/// Reads the root with id `BACKEND/issuer/ISSUER_ID`; `prior` is what state recorded.
pub async fn read(client: &VaultClient, id: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    read_address(client, &address_from_id(id)?, prior).await
}

/// The issuer a create with `token` made: the one whose key is named `keyform-TOKEN`.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let backend = backend_of(attributes)?;
    let keys_path = format!("{backend}/keys");
    let answer = client.send(Method::List, &keys_path, None).await?;
    if answer.status == 404 || answer.status == 400 {
        return Ok(None);
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::List, &keys_path, &answer));
    }
    let wanted = format!("{KEY_NAME_PREFIX}{token}");
    let Some(key_id) = answer.data()["key_info"]
        .as_object()
        .and_then(|keys| {
            keys.iter()
                .find(|(_, info)| info["key_name"].as_str() == Some(wanted.as_str()))
        })
        .map(|(key_id, _)| key_id.clone())
    else {
        return Ok(None);
    };
    let issuers = client.call(Method::List, &format!("{backend}/issuers"), None).await?;
    let issuer_id = issuers.data()["key_info"].as_object().and_then(|issuers| {
        issuers
            .iter()
            .find(|(_, info)| info["key_id"].as_str() == Some(key_id.as_str()))
            .map(|(issuer_id, _)| issuer_id.clone())
    });
    match issuer_id {
        Some(issuer_id) => read_address(client, &issuer(backend, issuer_id), attributes).await,
        None => Ok(None),
    }
}

/// Ids of every issuer of every PKI engine.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    list_ids(client, "pki", "issuers", KIND).await
}

/// The body of a generate call: the configured arguments and the key's name.
fn generate_body(attributes: &Attributes, token: &str) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    for name in TEXTS {
        if let Some(text) = attributes.get(*name).and_then(serde_json::Value::as_str) {
            body.insert((*name).into(), text.into());
        }
    }
    for name in LISTS {
        if let Some(items) = attributes.get(*name).and_then(serde_json::Value::as_array) {
            let joined: Vec<&str> = items.iter().filter_map(serde_json::Value::as_str).collect();
            body.insert((*name).into(), joined.join(",").into());
        }
    }
    for name in ["key_bits", "max_path_length"] {
        if let Some(number) = attributes.get(name).filter(|value| value.is_number()) {
            body.insert(name.into(), number.clone());
        }
    }
    if let Some(seconds) = attributes.get("ttl").and_then(serde_json::Value::as_u64) {
        body.insert("ttl".into(), format!("{seconds}s").into());
    }
    if let Some(flag) = attributes
        .get("exclude_cn_from_sans")
        .and_then(serde_json::Value::as_bool)
    {
        body.insert("exclude_cn_from_sans".into(), flag.into());
    }
    body.insert("key_name".into(), format!("{KEY_NAME_PREFIX}{token}").into());
    serde_json::Value::Object(body)
}

async fn create(
    client: &VaultClient,
    run_values: &RunValues,
    token: &str,
    attributes: &Attributes,
) -> Result<LiveObject, ProviderError> {
    let backend = backend_of(attributes)?;
    let kind = attributes.get("type").and_then(serde_json::Value::as_str).unwrap_or("");
    if kind != "internal" && kind != "exported" {
        return Err(ProviderError::new(
            "InvalidParameter",
            format!("type `{kind}` is not a root type: use `internal` or `exported`"),
        )
        .with_help(
            "`internal` keeps the private key in Vault; `exported` also hands it, once, to other resources in the same run",
        ));
    }
    if let Some(found) = find_by_token(client, token, attributes).await? {
        return Ok(found);
    }
    let path = format!("{backend}/root/generate/{kind}");
    let answer = client
        .call(Method::Post, &path, Some(generate_body(attributes, token)))
        .await?;
    let data = answer.data();
    let issuer_id = data["issuer_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::new("UnexpectedResponse", format!("POST {path} returned no issuer_id")))?;
    let address = issuer(backend, issuer_id.to_string());
    if kind == "exported" {
        let private_key = data["private_key"]
            .as_str()
            .filter(|key| !key.is_empty())
            .ok_or_else(|| ProviderError::new("UnexpectedResponse", format!("POST {path} returned no private key")))?;
        run_values.keep(
            &address.id(),
            PRIVATE_KEY,
            SensitiveString::new(private_key.to_string()),
        );
    }
    read_address(client, &address, attributes).await?.ok_or_else(|| {
        ProviderError::new(
            "NotFound",
            format!("the issuer `{issuer_id}` was not found after it was generated"),
        )
    })
}

/// Deletes the issuer, then its key when a create of keyform's named it.
async fn delete(client: &VaultClient, address: &EnginePath) -> Result<(), ProviderError> {
    let Some(data) = fetch(client, address).await? else {
        return Ok(());
    };
    let key_id = data["key_id"].as_str().unwrap_or_default().to_string();
    let path = address.id();
    let deleted = client.send(Method::Delete, &path, None).await?;
    if !(200..300).contains(&deleted.status) && !is_missing(&deleted) {
        return Err(api_error(Method::Delete, &path, &deleted));
    }
    if key_id.is_empty() {
        return Ok(());
    }
    let key_path = format!("{}/key/{key_id}", address.backend);
    let key = client.send(Method::Get, &key_path, None).await?;
    let ours = key.data()["key_name"]
        .as_str()
        .is_some_and(|name| name.starts_with(KEY_NAME_PREFIX));
    if (200..300).contains(&key.status) && ours {
        client.call(Method::Delete, &key_path, None).await?;
    }
    Ok(())
}

/// Carries out one apply request for a `vault_pki_secret_backend_root_cert`.
pub async fn apply(
    client: &VaultClient,
    run_values: &RunValues,
    request: &ApplyRequest,
) -> Result<Option<LiveObject>, ProviderError> {
    super::generated::apply(
        request,
        "the PKI root",
        async |token| create(client, run_values, token, &request.attributes).await,
        async |id| {
            run_values.forget(id);
            delete(client, &address_from_id(id)?).await
        },
        async |id| read(client, id, &request.attributes).await,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::generate_body;

    #[test]
    fn the_generate_body_names_the_key_after_the_token() {
        let attributes = serde_json::json!({
            "backend": "pki", "type": "internal", "common_name": "example.com", "ttl": 3600,
            "alt_names": ["a.example.com", "b.example.com"], "key_bits": 256, "key_type": "ec"
        });
        let body = generate_body(attributes.as_object().expect("object"), "abc");
        assert_eq!(body["key_name"], "keyform-abc");
        assert_eq!(body["ttl"], "3600s");
        assert_eq!(body["alt_names"], "a.example.com,b.example.com");
        assert_eq!(body["key_bits"], 256);
        assert_eq!(body["common_name"], "example.com");
        assert!(body.get("backend").is_none() && body.get("type").is_none());
    }
}
