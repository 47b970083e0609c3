//! What keys and secrets share on the Key Vault data plane: reading an SDK
//! answer as Azure's JSON, a 404 as "not there", the object attributes
//! (`enabled`, `nbf`, `exp` as Unix times, `recoveryLevel`,
//! `recoverableDays`) as keyform attributes, and tags with the reserved
//! create-token tag kept out of what a user sees.

use super::errors::{AzureFailure, sdk_error};
use super::ids::parse_object_id;
use crate::provider::{Attributes, ProviderError};
use azure_core::http::Response;
use futures::{Stream, TryStreamExt};
use std::time::{Duration, UNIX_EPOCH};

/// The tag that carries the journal's create token (never shown in `tags`, refused in a configuration).
pub const TOKEN_TAG: &str = "keyform-create-token";

/// The date attributes and the Key Vault fields they stand for (Unix times).
pub const DATES: [(&str, &str); 2] = [("not_before_date", "nbf"), ("expiration_date", "exp")];

/// An SDK answer as JSON.
fn json<T, F>(response: Response<T, F>, operation: &str, object: &str) -> Result<serde_json::Value, ProviderError> {
    response.into_body().json::<serde_json::Value>().map_err(|error| {
        ProviderError::new(
            "ResponseNotJson",
            format!("{operation} on `{object}`: the answer is not JSON: {error}"),
        )
    })
}

/// An SDK call's JSON answer; Ok(None) for a 404.
pub fn found<T, F>(
    result: azure_core::Result<Response<T, F>>,
    operation: &str,
    object: &str,
) -> Result<Option<serde_json::Value>, ProviderError> {
    match result {
        Ok(response) => json(response, operation, object).map(Some),
        Err(error) if AzureFailure::from_sdk(&error).not_found() => Ok(None),
        Err(error) => Err(sdk_error(error, operation, object)),
    }
}

/// An SDK call's JSON answer, or its error.
pub fn answer<T, F>(
    result: azure_core::Result<Response<T, F>>,
    operation: &str,
    object: &str,
) -> Result<serde_json::Value, ProviderError> {
    match result {
        Ok(response) => json(response, operation, object),
        Err(error) => Err(sdk_error(error, operation, object)),
    }
}

/// An SDK call whose answer does not matter, where a 404 means it is done already (delete, purge).
pub fn done_or_gone<T, F>(
    result: azure_core::Result<Response<T, F>>,
    operation: &str,
    object: &str,
) -> Result<(), ProviderError> {
    match result {
        Ok(_) => Ok(()),
        Err(error) if AzureFailure::from_sdk(&error).not_found() => Ok(()),
        Err(error) => Err(sdk_error(error, operation, object)),
    }
}

/// The versionless ids of a vault's `collection` listing, each read from its item by `id_of`.
pub async fn versionless_ids<T>(
    listing: azure_core::Result<impl Stream<Item = azure_core::Result<T>>>,
    id_of: impl Fn(&T) -> Option<&str>,
    collection: &str,
    vault_uri: &str,
) -> Result<Vec<String>, ProviderError> {
    let operation = format!("{collection}:list");
    let pager = listing.map_err(|error| sdk_error(error, &operation, vault_uri))?;
    let mut pager = std::pin::pin!(pager);
    let mut ids = Vec::new();
    while let Some(item) = pager
        .try_next()
        .await
        .map_err(|error| sdk_error(error, &operation, vault_uri))?
    {
        if let Some(object) = id_of(&item).and_then(|id| parse_object_id(id, collection).ok()) {
            ids.push(object.versionless(collection));
        }
    }
    Ok(ids)
}

/// A request body for an SDK call.
pub fn body<T>(json: &serde_json::Value) -> azure_core::http::RequestContent<T> {
    azure_core::http::RequestContent::from(json.to_string().into_bytes())
}

/// A Unix time as RFC 3339 (`2030-01-01T00:00:00Z`).
pub fn rfc3339(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
}

/// An RFC 3339 time as Unix seconds.
pub fn unix_seconds(attribute: &str, text: &str) -> Result<u64, ProviderError> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|elapsed| elapsed.as_secs())
        .ok_or_else(|| {
            ProviderError::new(
                "InvalidDate",
                format!("`{attribute}` must be a UTC time in RFC 3339, such as \"2030-01-01T00:00:00Z\", not `{text}`"),
            )
        })
}

/// `nbf` / `exp` for a request, from `not_before_date` / `expiration_date`.
pub fn date_attributes(attributes: &Attributes) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
    let mut fields = serde_json::Map::new();
    for (name, field) in DATES {
        if let Some(text) = attributes.get(name).and_then(serde_json::Value::as_str) {
            fields.insert(field.into(), unix_seconds(name, text)?.into());
        }
    }
    Ok(fields)
}

/// Reports `nbf` / `exp` as the dates, in the form the configuration wrote when it is the same time.
pub fn report_dates(object_attributes: Option<&serde_json::Value>, prior: &Attributes, attributes: &mut Attributes) {
    for (name, field) in DATES {
        let live = object_attributes
            .and_then(|fields| fields.get(field))
            .and_then(serde_json::Value::as_u64);
        let Some(live) = live else {
            continue;
        };
        let recorded = prior
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|text| unix_seconds(name, text).ok() == Some(live));
        let shown = recorded.map(str::to_string).unwrap_or_else(|| rfc3339(live));
        attributes.insert(name.into(), shown.into());
    }
}

/// The days a deleted object stays recoverable, and whether it may be purged, from its attributes.
pub fn recovery(object_attributes: Option<&serde_json::Value>) -> (u64, bool) {
    let days = object_attributes
        .and_then(|fields| fields.get("recoverableDays"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(90);
    let level = object_attributes
        .and_then(|fields| fields.get("recoveryLevel"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("Recoverable+Purgeable");
    (days, level.contains("Purgeable"))
}

/// The tags a user sees: all but the token tag.
pub fn visible_tags(object: &serde_json::Value) -> serde_json::Value {
    let tags: serde_json::Map<String, serde_json::Value> = object
        .get("tags")
        .and_then(serde_json::Value::as_object)
        .map(|tags| {
            tags.iter()
                .filter(|(key, _)| key.as_str() != TOKEN_TAG)
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    serde_json::Value::Object(tags)
}

/// The configured tags as a request's JSON, refusing the reserved token tag; with `token`, the token tag too.
pub fn configured_tags(attributes: &Attributes, token: Option<&str>) -> Result<serde_json::Value, ProviderError> {
    let mut tags: serde_json::Map<String, serde_json::Value> = attributes
        .get("tags")
        .and_then(serde_json::Value::as_object)
        .map(|tags| {
            tags.iter()
                .filter(|(_, value)| value.is_string())
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    if tags.contains_key(TOKEN_TAG) {
        return Err(ProviderError::new(
            "ReservedTag",
            format!("the tag `{TOKEN_TAG}` is reserved: keyform uses it to find an object after an interrupted create"),
        )
        .with_help(format!("remove `{TOKEN_TAG}` from tags")));
    }
    if let Some(token) = token {
        tags.insert(TOKEN_TAG.into(), token.into());
    }
    Ok(serde_json::Value::Object(tags))
}

/// Whether an object carries the create token.
pub fn carries_token(object: &serde_json::Value, token: &str) -> bool {
    object
        .get("tags")
        .and_then(|tags| tags.get(TOKEN_TAG))
        .and_then(serde_json::Value::as_str)
        == Some(token)
}

#[cfg(test)]
mod tests {
    use super::{rfc3339, unix_seconds};

    #[test]
    fn dates_read_back() {
        assert_eq!(rfc3339(1_893_456_000), "2030-01-01T00:00:00Z");
        assert_eq!(unix_seconds("x", "2030-01-01T00:00:00Z").expect("valid"), 1_893_456_000);
        assert!(unix_seconds("x", "next tuesday").is_err());
    }
}
