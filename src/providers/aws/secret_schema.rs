//! `aws_secretsmanager_secret`: its schema, and the settings an apply request
//! asks for, checked before any call.
//!
//! keyform folds Terraform's `aws_secretsmanager_secret_version` (the `value`),
//! `aws_secretsmanager_secret_rotation` (the `rotation` block) and
//! `aws_secretsmanager_secret_policy` (`policy`) into this one resource.
//! `rotation.every` is a duration in keyform's one syntax (`"30d"`), sent as
//! whole days (`RotationRules.AutomaticallyAfterDays`); `rotation.duration` is
//! sent as whole hours (`"3h"`).

use crate::provider::text_attribute as text;
use crate::provider::{AttributeSchema, AttributeType, Attributes, BlockSchema, ProviderError, ResourceSchema};
use std::collections::BTreeMap;

/// The resource type of a Secrets Manager secret.
pub const SECRET: &str = "aws_secretsmanager_secret";

/// Days a destroyed secret stays recoverable when the configuration does not say.
pub const DEFAULT_RECOVERY_WINDOW: i64 = 30;

const DAY: u64 = 86_400;
const HOUR: u64 = 3_600;

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: SECRET,
        description: "an AWS Secrets Manager secret with its value and rotation; destroying it schedules its deletion",
        attributes: vec![
            AttributeSchema::new("name", AttributeType::String, "the secret's name")
                .required()
                .force_new(),
            AttributeSchema::new("description", AttributeType::String, "what the secret is for"),
            AttributeSchema::new(
                "kms_key_id",
                AttributeType::String,
                "the KMS key (ARN, id or alias) that encrypts the value (default: aws/secretsmanager)",
            ),
            AttributeSchema::new(
                "policy",
                AttributeType::Json,
                "the secret's resource policy, a JSON document (jsonencode({...}))",
            ),
            AttributeSchema::new(
                "recovery_window_in_days",
                AttributeType::Number,
                "days a destroyed secret stays recoverable: 0 (deleted at once), or 7 to 30 (default 30)",
            ),
            AttributeSchema::new("tags", AttributeType::MapOfStrings, "tags on the secret"),
            AttributeSchema::new(
                "value",
                AttributeType::Secret,
                "the secret value: a value source; written as a new version, never read back or stored",
            ),
            AttributeSchema::new("id", AttributeType::String, "the secret's ARN").computed(),
            AttributeSchema::new("arn", AttributeType::String, "the secret's ARN").computed(),
            AttributeSchema::new(
                "version_id",
                AttributeType::String,
                "the version keyform last wrote (AWSCURRENT without a rotation Lambda)",
            )
            .computed(),
        ],
        blocks: vec![rotation_block()],
        recoverable_deletion: true,
    }
}

fn rotation_block() -> BlockSchema {
    BlockSchema {
        name: "rotation",
        attributes: vec![
            AttributeSchema::new(
                "every",
                AttributeType::Duration,
                "how often the value is rotated (\"30d\"); with lambda_arn, sent as RotationRules.AutomaticallyAfterDays",
            ),
            AttributeSchema::new(
                "grace",
                AttributeType::Duration,
                "how long the previous version stays valid (Secrets Manager keeps it as AWSPREVIOUS until the next rotation)",
            ),
            AttributeSchema::new(
                "lambda_arn",
                AttributeType::String,
                "the rotation Lambda: Secrets Manager rotates the secret itself, and `value` is only the initial value",
            )
            .names_rotator(),
            AttributeSchema::new(
                "schedule_expression",
                AttributeType::String,
                "with lambda_arn, instead of every: a cron() or rate() expression",
            ),
            AttributeSchema::new(
                "duration",
                AttributeType::Duration,
                "with lambda_arn: the length of the rotation window, whole hours (\"3h\")",
            ),
            AttributeSchema::new(
                "rotate_immediately",
                AttributeType::Bool,
                "with lambda_arn: rotate as soon as rotation is configured (default true)",
            ),
        ],
        description: "a rotation schedule; with lambda_arn, Secrets Manager rotates through that Lambda",
    }
}

/// The `rotation` block as Secrets Manager takes it (only with a Lambda).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LambdaRotation {
    pub lambda_arn: String,
    pub every_days: Option<i64>,
    pub schedule_expression: Option<String>,
    /// AWS's `Duration`, such as `3h`.
    pub duration: Option<String>,
    pub rotate_immediately: bool,
}

/// What a configuration asks of a secret.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecretSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    /// Normalised JSON.
    pub policy: Option<String>,
    pub recovery_window_in_days: i64,
    pub tags: Option<BTreeMap<String, String>>,
    /// Set when Secrets Manager rotates the secret through a Lambda.
    pub rotation: Option<LambdaRotation>,
}

pub fn invalid(message: impl Into<String>) -> ProviderError {
    ProviderError::new("InvalidParameter", message)
}

fn whole_number(value: Option<&serde_json::Value>, name: &str) -> Result<Option<u64>, ProviderError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|number| number.fract() == 0.0 && *number >= 0.0)
            .map(|number| Some(number as u64))
            .ok_or_else(|| invalid(format!("{name} must be a whole number, not {value}"))),
    }
}

/// `recovery_window_in_days`: 0 (delete at once) or 7 to 30; AWS's default when not set.
pub fn recovery_window(attributes: &Attributes) -> Result<i64, ProviderError> {
    let window = whole_number(attributes.get("recovery_window_in_days"), "recovery_window_in_days")?
        .map_or(DEFAULT_RECOVERY_WINDOW, |days| days as i64);
    if window != 0 && !(7..=30).contains(&window) {
        return Err(invalid(format!(
            "recovery_window_in_days must be 0, or from 7 to 30, not {window}"
        )));
    }
    Ok(window)
}

/// Reads the `rotation` object of a request; Ok(None) without a Lambda (keyform runs the schedule).
pub fn lambda_rotation(rotation: Option<&serde_json::Value>) -> Result<Option<LambdaRotation>, ProviderError> {
    let Some(serde_json::Value::Object(fields)) = rotation else {
        return Ok(None);
    };
    let every = whole_number(fields.get("every"), "rotation.every")?;
    let schedule = fields
        .get("schedule_expression")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    if every.is_some() && schedule.is_some() {
        return Err(invalid(
            "rotation gives both `every` and `schedule_expression`: give one of them",
        ));
    }
    let Some(lambda_arn) = fields.get("lambda_arn").and_then(serde_json::Value::as_str) else {
        if schedule.is_some() || fields.contains_key("duration") || fields.contains_key("rotate_immediately") {
            return Err(invalid(
                "rotation.schedule_expression, duration and rotate_immediately need rotation.lambda_arn",
            )
            .with_help("without a Lambda, keyform rotates the value itself on `every`"));
        }
        return Ok(None);
    };
    let every_days = match every {
        None => None,
        Some(seconds) if seconds >= DAY && seconds % DAY == 0 && seconds / DAY <= 1000 => Some((seconds / DAY) as i64),
        Some(seconds) => {
            return Err(invalid(format!(
                "rotation.every must be whole days from 1 to 1000 with a rotation Lambda, not {seconds} seconds"
            ))
            .with_help("write every = \"30d\" (a bare number is seconds)"));
        }
    };
    if every_days.is_none() && schedule.is_none() {
        return Err(invalid(
            "a rotation Lambda needs a schedule: give rotation.every or rotation.schedule_expression",
        ));
    }
    let duration = match whole_number(fields.get("duration"), "rotation.duration")? {
        None => None,
        Some(seconds) if seconds >= HOUR && seconds % HOUR == 0 => Some(format!("{}h", seconds / HOUR)),
        Some(seconds) => {
            return Err(
                invalid(format!("rotation.duration must be whole hours, not {seconds} seconds"))
                    .with_help("write duration = \"3h\""),
            );
        }
    };
    Ok(Some(LambdaRotation {
        lambda_arn: lambda_arn.to_string(),
        every_days,
        schedule_expression: schedule,
        duration,
        rotate_immediately: fields
            .get("rotate_immediately")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true),
    }))
}

/// AWS's rotation window (`3h`) in seconds.
pub fn duration_seconds(duration: &str) -> Option<u64> {
    duration
        .strip_suffix('h')
        .and_then(|hours| hours.trim().parse::<u64>().ok())
        .map(|hours| hours * HOUR)
}

/// Seconds of a whole number of days.
pub fn days_seconds(days: i64) -> u64 {
    u64::try_from(days).unwrap_or(0) * DAY
}

impl SecretSettings {
    /// Reads and checks the attributes of an apply request.
    pub fn from_attributes(attributes: &Attributes) -> Result<SecretSettings, ProviderError> {
        let policy = match text(attributes, "policy") {
            Some(policy) => Some(
                crate::provider::normalize_json(&policy)
                    .map_err(|error| invalid(format!("policy is not a JSON document: {error}")))?,
            ),
            None => None,
        };
        let window = recovery_window(attributes)?;
        let tags = match attributes.get("tags") {
            Some(serde_json::Value::Object(entries)) => {
                let mut tags = BTreeMap::new();
                for (key, value) in entries {
                    let value = value
                        .as_str()
                        .ok_or_else(|| invalid(format!("tag `{key}` must be a string")))?;
                    tags.insert(key.clone(), value.to_string());
                }
                Some(tags)
            }
            None | Some(serde_json::Value::Null) => None,
            Some(other) => return Err(invalid(format!("tags must be a map of strings, not {other}"))),
        };
        Ok(SecretSettings {
            name: text(attributes, "name"),
            description: text(attributes, "description"),
            kms_key_id: text(attributes, "kms_key_id"),
            policy,
            recovery_window_in_days: window,
            tags,
            rotation: lambda_rotation(attributes.get("rotation"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{SecretSettings, lambda_rotation};
    use crate::provider::attributes_from_json as attributes;

    #[test]
    fn settings_are_checked() {
        let settings = SecretSettings::from_attributes(&attributes(serde_json::json!({
            "name": "db",
            "policy": "{ \"Version\": \"2012-10-17\", \"Statement\": [] }",
            "rotation": { "lambda_arn": "arn:aws:lambda:us-east-1:1:function:r", "every": 2_592_000, "duration": 10_800 }
        })))
        .expect("valid");
        assert_eq!(settings.recovery_window_in_days, 30);
        let rotation = settings.rotation.expect("a Lambda rotation");
        assert_eq!(rotation.every_days, Some(30));
        assert_eq!(rotation.duration.as_deref(), Some("3h"));
        assert!(rotation.rotate_immediately);
        for wrong in [
            serde_json::json!({ "recovery_window_in_days": 6 }),
            serde_json::json!({ "recovery_window_in_days": 31 }),
            serde_json::json!({ "policy": "{ not json" }),
            serde_json::json!({ "rotation": { "lambda_arn": "a", "every": 2_592_000, "schedule_expression": "rate(30 days)" } }),
            serde_json::json!({ "rotation": { "lambda_arn": "a", "every": 30 } }),
            serde_json::json!({ "rotation": { "lambda_arn": "a" } }),
            serde_json::json!({ "rotation": { "schedule_expression": "rate(30 days)" } }),
        ] {
            assert!(
                SecretSettings::from_attributes(&attributes(wrong.clone())).is_err(),
                "{wrong} must be refused"
            );
        }
        assert!(
            SecretSettings::from_attributes(&attributes(serde_json::json!({ "recovery_window_in_days": 0 }))).is_ok()
        );
    }

    #[test]
    fn a_schedule_keyform_runs_is_not_sent_to_aws() {
        let rotation = serde_json::json!({ "every": 2_592_000, "grace": 3600 });
        assert_eq!(lambda_rotation(Some(&rotation)).expect("valid"), None);
    }
}
