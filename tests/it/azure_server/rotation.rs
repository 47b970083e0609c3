//! Key rotation policies: `GET`/`PUT {vaultBaseUrl}/keys/{key-name}/rotationpolicy`, with `lifetimeActions`
//! (trigger `timeAfterCreate` or `timeBeforeExpiry`, ISO 8601 durations; action `Rotate` or `Notify`) and
//! `attributes.expiryTime`; an empty `lifetimeActions` restores the default (notify 30 days before expiry). Also the
//! ISO 8601 duration reading that rotation uses.

use serde_json::{Map, Value, json};

use super::data_plane::{Context, bad_parameter};
use super::http::{Reply, Request};
use super::objects;
use super::state::{KeyData, Vault};

/// Serves `GET`/`PUT /keys/{key-name}/rotationpolicy` for a key that exists.
pub fn route(vault: &mut Vault, context: &Context, method: &str, name: &str, request: &Request) -> Reply {
    if let Err(reply) = objects::find_live::<KeyData>(&mut vault.keys, name) {
        return reply;
    }
    if method == "PUT" {
        update_key_rotation_policy(vault, context, name, request)
    } else {
        get_key_rotation_policy(vault, name)
    }
}

fn policy_identifier(context: &Context, name: &str) -> String {
    format!("{}/keys/{name}/rotationpolicy", context.base_url)
}

/// Keys - Get Key Rotation Policy: `GET {vaultBaseUrl}/keys/{key-name}/rotationpolicy?api-version=2025-07-01`.
/// A key without a policy has the default one, notify 30 days before expiry, with no `id` or dates (the SDKs
/// document them as undefined until a policy is set explicitly).
fn get_key_rotation_policy(vault: &Vault, name: &str) -> Reply {
    match vault.rotation_policies.get(&name.to_lowercase()) {
        Some(policy) => Reply::json(200, policy.clone()),
        None => Reply::json(200, json!({"lifetimeActions": default_actions(), "attributes": {}})),
    }
}

/// The lifetime actions of the default policy, which an empty `lifetimeActions` restores.
fn default_actions() -> Value {
    json!([{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}])
}

/// Keys - Update Key Rotation Policy: `PUT {vaultBaseUrl}/keys/{key-name}/rotationpolicy?api-version=2025-07-01`
/// (body `lifetimeActions`, `attributes.expiryTime`; answers the stored policy with `id`, `created`, `updated`).
fn update_key_rotation_policy(vault: &mut Vault, context: &Context, name: &str, request: &Request) -> Reply {
    let body = match objects::json_body(request) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let expiry_time = match body
        .get("attributes")
        .and_then(|attributes| attributes.get("expiryTime"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match duration_seconds(text) {
            Some(seconds) if seconds >= 28 * 24 * 3600 => Some((text.clone(), seconds)),
            Some(_) => return bad_parameter("expiryTime must be at least 28 days (P28D)."),
            None => return bad_parameter(&format!("expiryTime {text} is not an ISO 8601 duration.")),
        },
        Some(_) => return bad_parameter("expiryTime must be an ISO 8601 duration string."),
    };
    let actions = match body.get("lifetimeActions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(actions)) => actions.clone(),
        Some(_) => return bad_parameter("lifetimeActions must be an array."),
    };
    let mut lifetime_actions = Vec::new();
    for action in &actions {
        match lifetime_action(action, expiry_time.as_ref().map(|(_, seconds)| *seconds)) {
            Ok(action) => lifetime_actions.push(action),
            Err(reply) => return reply,
        }
    }
    let lifetime_actions = if lifetime_actions.is_empty() {
        default_actions()
    } else {
        Value::Array(lifetime_actions)
    };
    let key = name.to_lowercase();
    let created = vault
        .rotation_policies
        .get(&key)
        .and_then(|policy| policy.pointer("/attributes/created"))
        .and_then(Value::as_i64)
        .unwrap_or(context.now);
    let mut attributes = Map::new();
    if let Some((text, _)) = expiry_time {
        attributes.insert("expiryTime".to_string(), json!(text));
    }
    attributes.insert("created".to_string(), json!(created));
    attributes.insert("updated".to_string(), json!(context.now));
    let policy = json!({
        "id": policy_identifier(context, name),
        "lifetimeActions": lifetime_actions,
        "attributes": attributes,
    });
    vault.rotation_policies.insert(key, policy.clone());
    Reply::json(200, policy)
}

/// One lifetime action, checked: exactly one trigger, an action type of Rotate or Notify (case as Key Vault
/// answers it), and a `timeBeforeExpiry` shorter than the policy's expiry.
fn lifetime_action(action: &Value, expiry_seconds: Option<i64>) -> Result<Value, Reply> {
    let trigger = action.get("trigger").and_then(Value::as_object);
    let after_create = trigger
        .and_then(|trigger| trigger.get("timeAfterCreate"))
        .and_then(Value::as_str);
    let before_expiry = trigger
        .and_then(|trigger| trigger.get("timeBeforeExpiry"))
        .and_then(Value::as_str);
    let trigger = match (after_create, before_expiry) {
        (Some(after), None) => {
            duration_seconds(after)
                .ok_or_else(|| bad_parameter(&format!("timeAfterCreate {after} is not an ISO 8601 duration.")))?;
            json!({"timeAfterCreate": after})
        }
        (None, Some(before)) => {
            let seconds = duration_seconds(before)
                .ok_or_else(|| bad_parameter(&format!("timeBeforeExpiry {before} is not an ISO 8601 duration.")))?;
            if expiry_seconds.is_some_and(|expiry| seconds >= expiry) {
                return Err(bad_parameter(
                    "timeBeforeExpiry must be shorter than the policy's expiryTime.",
                ));
            }
            json!({"timeBeforeExpiry": before})
        }
        _ => {
            return Err(bad_parameter(
                "Each lifetime action needs exactly one trigger: timeAfterCreate or timeBeforeExpiry.",
            ));
        }
    };
    let action_type = match action
        .pointer("/action/type")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    {
        Some(kind) if kind == "rotate" => "Rotate",
        Some(kind) if kind == "notify" => "Notify",
        _ => return Err(bad_parameter("The lifetime action type must be Rotate or Notify.")),
    };
    Ok(json!({"trigger": trigger, "action": {"type": action_type}}))
}

/// Seconds in an ISO 8601 duration such as `P1Y`, `P90D`, `P2M`, `PT12H` (a year is 365 days, a month 30).
pub fn duration_seconds(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (rest, None),
    };
    let date_units = [
        ('Y', 365 * 86_400),
        ('M', 30 * 86_400),
        ('W', 7 * 86_400),
        ('D', 86_400),
    ];
    let time_units = [('H', 3_600), ('M', 60), ('S', 1)];
    let date_seconds = sum_units(date, &date_units)?;
    let time_seconds = match time {
        Some(time) => sum_units(time, &time_units)?,
        None => 0,
    };
    (!date.is_empty() || time.is_some()).then_some(date_seconds + time_seconds)
}

/// Sums `<number><unit>` parts, units in the given order.
fn sum_units(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let mut total = 0i64;
    let mut number = String::new();
    let mut next_unit = 0usize;
    for character in text.chars() {
        if character.is_ascii_digit() {
            number.push(character);
            continue;
        }
        let position = units[next_unit..].iter().position(|(unit, _)| *unit == character)? + next_unit;
        let value: i64 = number.parse().ok()?;
        total = total.checked_add(value.checked_mul(units[position].1)?)?;
        number.clear();
        next_unit = position + 1;
    }
    number.is_empty().then_some(total)
}
