//! `vault_policy`: ACL policies at `sys/policies/acl/NAME`.
//!
//! Vault returns a policy's text as it was written. keyform compares texts
//! after [`normalize_policy`] (the `keyform fmt` layout, then white space
//! collapsed), and a read reports the text state recorded when the two
//! normalise to the same, so a policy Vault returns reformatted is no diff
//! and only a real edit shows in a plan.
//!
//! A create appends one comment line carrying the journal's token
//! ([`TOKEN_MARKER`]); a read hides it. A create repeated after a crash
//! finds its own policy by that line, and a create over a policy someone
//! else wrote fails instead of overwriting it. The next update drops it. A
//! JSON policy cannot carry a comment: it is written as it is, and a policy
//! of that name whose text normalises to the same counts as the create's own.

use super::client::{Method, VaultClient, clean_name, clean_path, missing_after_write};
use super::engine_path::address_of_request;
use crate::provider::{ApplyAction, ApplyRequest, Attributes, LiveObject, LiveStatus, ProviderError, normalize_json};
use std::collections::BTreeMap;

/// The comment a create appends, followed by the token.
pub const TOKEN_MARKER: &str = "# keyform:create-token=";

/// Built-in policies: never reported as unmanaged.
const BUILT_IN: &[&str] = &["root", "default"];

/// The form policies are compared in: an HCL policy formatted as `keyform fmt` would, a JSON
/// policy (Vault takes both) in [`normalize_json`] form; then white space collapsed.
pub fn normalize_policy(text: &str) -> String {
    let formatted = crate::config::format::format_source(text)
        .or_else(|_| normalize_json(text))
        .unwrap_or_else(|_| text.to_string());
    formatted.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a policy is written in JSON (which takes no comment line).
pub fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Whether a stored policy is what a create with `token` of `text` wrote.
fn made_by(stored: &Stored, token: &str, text: &str) -> bool {
    stored.token.as_deref() == Some(token)
        || (is_json(text) && normalize_policy(&stored.policy) == normalize_policy(text))
}

/// Splits a stored text into the policy and the create token it carries.
fn split_marker(stored: &str) -> (String, Option<String>) {
    let mut policy_lines = Vec::new();
    let mut token = None;
    for line in stored.lines() {
        match line.trim().strip_prefix(TOKEN_MARKER) {
            Some(found) => token = Some(found.trim().to_string()),
            None => policy_lines.push(line),
        }
    }
    let mut policy = policy_lines.join("\n");
    if stored.ends_with('\n') && !policy.is_empty() {
        policy.push('\n');
    }
    (policy, token)
}

fn path_of(name: &str) -> String {
    format!("sys/policies/acl/{name}")
}

fn name_of(attributes: &Attributes) -> Result<String, ProviderError> {
    clean_name(
        "policy name",
        attributes.get("name").and_then(serde_json::Value::as_str).unwrap_or(""),
    )
}

/// A policy as Vault stores it: the text without the marker, and the create token.
struct Stored {
    policy: String,
    token: Option<String>,
}

async fn fetch(client: &VaultClient, name: &str) -> Result<Option<Stored>, ProviderError> {
    Ok(client.read_data(&path_of(name)).await?.map(|data| {
        let (policy, token) = split_marker(data["policy"].as_str().unwrap_or_default());
        Stored { policy, token }
    }))
}

/// What keyform reports for a stored policy: the text `known` holds when both normalise the same.
fn live(name: &str, stored: &Stored, known: Option<&str>) -> LiveObject {
    let policy = match known {
        Some(known) if normalize_policy(known) == normalize_policy(&stored.policy) => known.to_string(),
        _ => stored.policy.clone(),
    };
    let mut attributes = Attributes::new();
    attributes.insert("id".into(), name.into());
    attributes.insert("name".into(), name.into());
    attributes.insert("policy".into(), policy.into());
    LiveObject {
        id: name.to_string(),
        attributes,
        secret_versions: BTreeMap::new(),
        status: LiveStatus::Active,
        last_rotated: None,
    }
}

fn known_policy(attributes: &Attributes) -> Option<&str> {
    attributes.get("policy").and_then(serde_json::Value::as_str)
}

/// Reads a policy; `prior` is what state recorded.
pub async fn read(client: &VaultClient, id: &str, prior: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let name = clean_path("policy name", id)?;
    Ok(fetch(client, &name)
        .await?
        .map(|stored| live(&name, &stored, known_policy(prior))))
}

/// The policy a create of these attributes would collide with.
pub async fn lookup(client: &VaultClient, attributes: &Attributes) -> Result<Option<LiveObject>, ProviderError> {
    let name = name_of(attributes)?;
    Ok(fetch(client, &name)
        .await?
        .map(|stored| live(&name, &stored, known_policy(attributes))))
}

/// The policy a create with `token` made.
pub async fn find_by_token(
    client: &VaultClient,
    token: &str,
    attributes: &Attributes,
) -> Result<Option<LiveObject>, ProviderError> {
    let name = name_of(attributes)?;
    let text = known_policy(attributes).unwrap_or_default();
    Ok(fetch(client, &name)
        .await?
        .filter(|stored| made_by(stored, token, text))
        .map(|stored| live(&name, &stored, known_policy(attributes))))
}

/// Names of every policy but the built-in ones.
pub async fn list(client: &VaultClient) -> Result<Vec<String>, ProviderError> {
    Ok(client
        .list_keys("sys/policies/acl")
        .await?
        .into_iter()
        .filter(|name| !BUILT_IN.contains(&name.as_str()))
        .collect())
}

async fn write(client: &VaultClient, name: &str, text: &str) -> Result<(), ProviderError> {
    client
        .call(Method::Put, &path_of(name), Some(serde_json::json!({ "policy": text })))
        .await?;
    Ok(())
}

/// Carries out one apply request for a `vault_policy`.
pub async fn apply(client: &VaultClient, request: &ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
    let name = address_of_request(request, name_of, |id| clean_path("policy name", id))?;
    if let ApplyAction::Delete { .. } = request.action {
        client.delete(&path_of(&name)).await?;
        return Ok(None);
    }
    let text = known_policy(&request.attributes)
        .ok_or_else(|| ProviderError::new("InvalidParameter", "a vault_policy needs `policy`"))?;
    match &request.action {
        ApplyAction::Create { token } => match fetch(client, &name).await? {
            Some(stored) if made_by(&stored, token, text) => {}
            Some(_) => {
                return Err(ProviderError::new(
                    "AlreadyExists",
                    format!(
                        "policy `{name}` already exists at {} and keyform did not create it",
                        path_of(&name)
                    ),
                )
                .with_help(format!(
                    "import it (`keyform import ADDRESS {name}`) or choose another name"
                )));
            }
            None if is_json(text) => write(client, &name, text).await?,
            None => {
                let separator = if text.ends_with('\n') { "" } else { "\n" };
                write(client, &name, &format!("{text}{separator}{TOKEN_MARKER}{token}\n")).await?;
            }
        },
        _ => write(client, &name, text).await?,
    }
    let stored = fetch(client, &name)
        .await?
        .ok_or_else(|| missing_after_write("policy", &name))?;
    Ok(Some(live(&name, &stored, Some(text))))
}

#[cfg(test)]
mod tests {
    use super::{TOKEN_MARKER, normalize_policy, split_marker};

    #[test]
    fn formatting_is_no_difference() {
        let written = "path \"secret/data/app/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n";
        let reformatted = "path   \"secret/data/app/*\"   {\n\tcapabilities=[\"read\",\"list\"]\n\n}";
        assert_eq!(normalize_policy(written), normalize_policy(reformatted));
        let changed = "path \"secret/data/app/*\" {\n  capabilities = [\"read\"]\n}\n";
        assert_ne!(normalize_policy(written), normalize_policy(changed));
        let json = "{ \"path\": { \"a\": { \"capabilities\": [\"read\"] } } }";
        assert_eq!(
            normalize_policy(json),
            normalize_policy("{\"path\":{\"a\":{\"capabilities\":[\"read\"]}}}")
        );
    }

    #[test]
    fn the_create_marker_is_hidden() {
        let stored = format!("path \"a\" {{\n  capabilities = [\"read\"]\n}}\n{TOKEN_MARKER}abc\n");
        let (policy, token) = split_marker(&stored);
        assert_eq!(policy, "path \"a\" {\n  capabilities = [\"read\"]\n}\n");
        assert_eq!(token.as_deref(), Some("abc"));
        let (policy, token) = split_marker("path \"a\" {}");
        assert_eq!(policy, "path \"a\" {}");
        assert_eq!(token, None);
    }
}
