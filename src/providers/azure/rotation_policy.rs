//! A key's rotation policy (`rotation_policy { expire_after,
//! notify_before_expiry, automatic = { ... } }`) and Key Vault's
//! `rotationpolicy` JSON (`attributes.expiryTime`, `lifetimeActions` with a
//! `Rotate` or `Notify` action and a `timeAfterCreate` or `timeBeforeExpiry`
//! trigger), both ways. Durations are ISO 8601 text, compared as written.

use crate::provider::ProviderError;

/// The keyform form of a policy, as a `rotation_policy` object.
pub fn from_azure(policy: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = serde_json::Map::new();
    if let Some(expiry) = policy
        .get("attributes")
        .and_then(|attributes| attributes.get("expiryTime"))
        .and_then(serde_json::Value::as_str)
    {
        fields.insert("expire_after".into(), expiry.into());
    }
    let actions = policy.get("lifetimeActions").and_then(serde_json::Value::as_array);
    for action in actions.into_iter().flatten() {
        let kind = action
            .get("action")
            .and_then(|action| action.get("type"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        let trigger = action.get("trigger").unwrap_or(&serde_json::Value::Null);
        let text = |name: &str| {
            trigger
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        match kind.as_str() {
            "notify" => {
                if let Some(before) = text("timeBeforeExpiry") {
                    fields.insert("notify_before_expiry".into(), before.into());
                }
            }
            "rotate" => {
                let mut automatic = serde_json::Map::new();
                if let Some(after) = text("timeAfterCreate") {
                    automatic.insert("time_after_creation".into(), after.into());
                }
                if let Some(before) = text("timeBeforeExpiry") {
                    automatic.insert("time_before_expiry".into(), before.into());
                }
                fields.insert("automatic".into(), serde_json::Value::Object(automatic));
            }
            _ => {}
        }
    }
    fields
}

/// Whether Azure's policy says anything beyond its default (a notification only).
pub fn is_configured(policy: &serde_json::Map<String, serde_json::Value>) -> bool {
    policy.contains_key("expire_after") || policy.contains_key("automatic")
}

/// Key Vault's JSON for a `rotation_policy` object.
pub fn to_azure(policy: &serde_json::Value) -> Result<serde_json::Value, ProviderError> {
    let text =
        |value: &serde_json::Value, name: &str| value.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
    let mut actions = Vec::new();
    if let Some(automatic) = policy.get("automatic").filter(|automatic| !automatic.is_null()) {
        let after = text(automatic, "time_after_creation");
        let before = text(automatic, "time_before_expiry");
        let trigger = match (after, before) {
            (Some(after), None) => serde_json::json!({ "timeAfterCreate": after }),
            (None, Some(before)) => serde_json::json!({ "timeBeforeExpiry": before }),
            _ => {
                return Err(ProviderError::new(
                    "InvalidRotationPolicy",
                    "rotation_policy.automatic takes one of time_after_creation or time_before_expiry",
                )
                .with_help("write automatic = { time_before_expiry = \"P30D\" } (or time_after_creation = \"P11M\")"));
            }
        };
        if let Some(unknown) = automatic.as_object().and_then(|fields| {
            fields
                .keys()
                .find(|key| *key != "time_after_creation" && *key != "time_before_expiry")
        }) {
            return Err(ProviderError::new(
                "InvalidRotationPolicy",
                format!(
                    "rotation_policy.automatic has no field `{unknown}`: it takes time_after_creation or time_before_expiry"
                ),
            ));
        }
        actions.push(serde_json::json!({ "trigger": trigger, "action": { "type": "Rotate" } }));
    }
    if let Some(before) = text(policy, "notify_before_expiry") {
        actions.push(serde_json::json!({ "trigger": { "timeBeforeExpiry": before }, "action": { "type": "Notify" } }));
    }
    let mut body = serde_json::json!({ "lifetimeActions": actions });
    if let Some(expiry) = text(policy, "expire_after") {
        body["attributes"] = serde_json::json!({ "expiryTime": expiry });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::{from_azure, is_configured, to_azure};

    #[test]
    fn a_policy_round_trips() {
        let configured = serde_json::json!({
            "expire_after": "P1Y",
            "notify_before_expiry": "P30D",
            "automatic": { "time_before_expiry": "P60D" }
        });
        let azure = to_azure(&configured).expect("valid");
        assert_eq!(azure["attributes"]["expiryTime"], "P1Y");
        let back = from_azure(&azure);
        assert_eq!(serde_json::Value::Object(back.clone()), configured);
        assert!(is_configured(&back));
    }

    #[test]
    fn automatic_needs_exactly_one_trigger() {
        let both = serde_json::json!({ "automatic": { "time_before_expiry": "P1D", "time_after_creation": "P1D" } });
        assert!(to_azure(&both).is_err());
        assert!(to_azure(&serde_json::json!({ "automatic": {} })).is_err());
        assert!(to_azure(&serde_json::json!({ "automatic": { "every": "P1D" } })).is_err());
    }
}
