//! Evaluating one resource instance's body against its type's schema into
//! what the configuration wants: plain attributes, secret values (in memory
//! only) and their fingerprints, and the rotation schedule.
//!
//! A secret attribute of a nested block (`postgresql { password = env("...") }`)
//! is kept out of the block's plain object and delivered with the other
//! secrets under `BLOCK.ATTRIBUTE` (`postgresql.password`): the plan compares
//! its fingerprint and the driver receives it in `ApplyRequest.secrets`.

use crate::config::duration::parse_duration;
use crate::config::eval::{Scope, evaluate};
use crate::config::model::{BodyConfig, Expr, ResourceConfig};
use crate::config::value::{Kind, Value};
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap, Span};
use crate::provider::{AttributeSchema, AttributeType, ResourceSchema};
use crate::secret::FingerprintKey;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::template::Element;
use hcl_edit::visit::{Visit, visit_expr};
use std::collections::BTreeMap;

/// A rotation schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub every: u64,
    pub grace: Option<u64>,
}

/// What the configuration wants for one instance.
#[derive(Debug, Clone, Default)]
pub struct DesiredInstance {
    /// Configured plain attributes, normalised (durations in seconds).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Attributes known only after apply.
    pub unknown: Vec<String>,
    /// Secret values by attribute: a sensitive string or a `generate` source. Never written anywhere.
    pub secrets: BTreeMap<String, Value>,
    /// Keyed fingerprints of the secret values.
    pub fingerprints: BTreeMap<String, String>,
    pub rotation: Option<Rotation>,
    /// The rotation block names a function that makes new values itself (an attribute marked `names_rotator`,
    /// such as `lambda_arn`): a rotation asks the provider to run it, whatever the value's source.
    pub rotated_by_provider: bool,
}

impl DesiredInstance {
    /// True when the attribute's secret comes from `generate`, so keyform can make a new one.
    pub fn is_generated(&self, attribute: &str) -> bool {
        self.secrets
            .get(attribute)
            .is_some_and(|value| matches!(value.kind, Kind::Generated(_)))
    }
}

/// The fingerprint of a secret value for an attribute.
pub fn fingerprint(key: &FingerprintKey, context: &str, value: &Value) -> Option<String> {
    match &value.kind {
        Kind::String(text) => Some(key.fingerprint(context, text.as_bytes())),
        Kind::Generated(spec) => {
            let description = serde_json::to_string(spec).unwrap_or_default();
            Some(key.fingerprint(context, format!("generate:{description}").as_bytes()))
        }
        _ => None,
    }
}

/// Masks every string literal inside an expression (a secret attribute's), before anything can show it.
pub fn mask_literals(expr: &Expr, sources: &SourceMap) {
    struct Masker<'a> {
        expr: &'a Expr,
        sources: &'a SourceMap,
    }
    impl Visit for Masker<'_> {
        fn visit_expr(&mut self, expression: &Expression) {
            match expression {
                Expression::String(_) | Expression::HeredocTemplate(_) => {
                    if let Some(span) = Span::maybe(self.expr.file, expression.span()) {
                        self.sources.mask(&span);
                    }
                }
                Expression::StringTemplate(template) => {
                    for element in template.iter() {
                        if let Element::Literal(literal) = element
                            && let Some(span) = Span::maybe(self.expr.file, literal.span())
                        {
                            self.sources.mask(&span);
                        }
                    }
                    visit_expr(self, expression);
                }
                _ => visit_expr(self, expression),
            }
        }
    }
    Masker { expr, sources }.visit_expr(&expr.expression);
}

/// Evaluates one instance of `resource` in `scope`.
pub fn evaluate_instance(
    resource: &ResourceConfig,
    schema: &ResourceSchema,
    scope: &Scope<'_>,
    fingerprint_key: &FingerprintKey,
) -> Result<DesiredInstance, Diagnostics> {
    let mut desired = DesiredInstance::default();
    let mut diagnostics = Diagnostics::new();
    body_attributes(
        &resource.body,
        &schema.attributes,
        schema,
        scope,
        &mut desired,
        &mut diagnostics,
        resource.span.clone(),
    );
    for block in &resource.body.blocks {
        // Unknown names were reported by `checks::check_configuration`.
        let Some(block_schema) = schema.block(&block.block_type) else {
            continue;
        };
        if desired.attributes.contains_key(block_schema.name) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateDeclaration,
                    format!("`{}` may appear once", block_schema.name),
                )
                .with_optional_label(block.span.clone(), "second block")
                .with_help("merge the two blocks"),
            );
            continue;
        }
        let mut inner = DesiredInstance::default();
        body_attributes(
            &block.body,
            &block_schema.attributes,
            schema,
            scope,
            &mut inner,
            &mut diagnostics,
            block.span.clone(),
        );
        // A block inside a block (`rotation_policy { automatic { ... } }`) is declared under its dotted path
        // (`rotation_policy.automatic`) and lands in the outer block's object under its own name.
        for nested in &block.body.blocks {
            // Unknown names were reported by `checks::check_configuration`.
            let Some(nested_schema) = schema.block(&format!("{}.{}", block_schema.name, nested.block_type)) else {
                continue;
            };
            let mut nested_instance = DesiredInstance::default();
            body_attributes(
                &nested.body,
                &nested_schema.attributes,
                schema,
                scope,
                &mut nested_instance,
                &mut diagnostics,
                nested.span.clone(),
            );
            inner.attributes.insert(
                nested.block_type.clone(),
                serde_json::Value::Object(nested_instance.attributes),
            );
            inner.unknown.extend(
                nested_instance
                    .unknown
                    .into_iter()
                    .map(|name| format!("{}.{name}", nested.block_type)),
            );
        }
        // A value known only at apply inside a block makes the instance's arguments unknown under the block's
        // dotted name, so the instance is evaluated again at apply and the block is sent whole.
        for name in &inner.unknown {
            let key = format!("{}.{name}", block_schema.name);
            if !desired.unknown.contains(&key) {
                desired.unknown.push(key);
            }
        }
        if block_schema.name == "rotation" {
            let every = inner.attributes.get("every").and_then(serde_json::Value::as_u64);
            let grace = inner.attributes.get("grace").and_then(serde_json::Value::as_u64);
            desired.rotated_by_provider = block_schema
                .attributes
                .iter()
                .any(|attribute| attribute.names_rotator && inner.attributes.contains_key(attribute.name));
            // A provider that rotates by itself takes its own schedule instead of `every`.
            if every.is_some() && inner.attributes.contains_key("schedule_expression") {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidRotation,
                        "a rotation gives both `every` and `schedule_expression`",
                    )
                    .with_optional_label(block.span.clone(), "two schedules")
                    .with_help("give one of them: every = \"30d\", or schedule_expression = \"rate(30 days)\""),
                );
            }
            if let Some(every) = every {
                if every == 0 {
                    diagnostics.push(
                        Diagnostic::error(Code::InvalidRotation, "a rotation period must be longer than zero")
                            .with_optional_label(block.span.clone(), "here")
                            .with_help("write every = \"90d\""),
                    );
                } else if grace.is_some_and(|grace| grace >= every) {
                    diagnostics.push(
                        Diagnostic::error(Code::InvalidRotation, "the grace window must be shorter than the rotation period")
                            .with_optional_label(block.span.clone(), "grace is not shorter than every")
                            .with_help("the previous version stays valid for `grace` after each rotation: make it shorter than `every`"),
                    );
                }
                desired.rotation = Some(Rotation { every, grace });
            }
        }
        // A block's secret attribute is delivered beside the top-level ones, as `BLOCK.ATTRIBUTE`.
        for (name, value) in inner.secrets {
            let key = format!("{}.{name}", block_schema.name);
            if value.is_unknown() && !desired.unknown.contains(&key) {
                desired.unknown.push(key.clone());
            }
            desired.secrets.insert(key, value);
        }
        desired.attributes.insert(
            block_schema.name.to_string(),
            serde_json::Value::Object(inner.attributes),
        );
    }
    compute_fingerprints(&mut desired, schema.type_name, fingerprint_key);
    diagnostics.into_result(desired)
}

fn body_attributes(
    body: &BodyConfig,
    attributes: &[AttributeSchema],
    schema: &ResourceSchema,
    scope: &Scope<'_>,
    desired: &mut DesiredInstance,
    diagnostics: &mut Diagnostics,
    block_span: Option<Span>,
) {
    for attribute in body.attributes.values() {
        // Unknown names were reported by `checks::check_configuration`.
        let Some(attribute_schema) = attributes.iter().find(|candidate| candidate.name == attribute.name) else {
            continue;
        };
        if attribute_schema.computed {
            diagnostics.push(
                Diagnostic::error(
                    Code::UnknownAttribute,
                    format!("`{}` is set by the provider and cannot be configured", attribute.name),
                )
                .with_optional_label(attribute.name_span.clone(), "read-only")
                .with_help(format!(
                    "remove it; read it elsewhere as {}.NAME.{}",
                    schema.type_name, attribute.name
                )),
            );
            continue;
        }
        let value = match evaluate(&attribute.value, scope) {
            Ok(value) => value,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        if value.is_unknown() {
            desired.unknown.push(attribute.name.clone());
            if attribute_schema.is_secret() {
                desired.secrets.insert(attribute.name.clone(), value.into_sensitive());
            }
            continue;
        }
        let span = attribute.value.span();
        if attribute_schema.is_secret() {
            secret_attribute(attribute_schema, value, span, desired, diagnostics);
            continue;
        }
        if value.deep_sensitive() {
            diagnostics.push(
                Diagnostic::error(
                    Code::HardcodedSecret,
                    format!(
                        "`{}` is not a secret attribute, but it was given a sensitive value",
                        attribute.name
                    ),
                )
                .with_optional_label(span, "sensitive value")
                .with_help(
                    "a plain attribute is written to state; keep secret values in secret attributes such as `value`",
                ),
            );
            continue;
        }
        match convert(&value, attribute_schema.attribute_type) {
            Ok(json) => {
                desired.attributes.insert(attribute.name.clone(), json);
            }
            Err(_)
                if let (AttributeType::Json, Kind::String(text)) = (attribute_schema.attribute_type, &value.kind) =>
            {
                // A string that is not JSON: say where in the document it breaks.
                let problem = serde_json::from_str::<serde_json::Value>(text)
                    .err()
                    .map(|error| error.to_string())
                    .unwrap_or_default();
                diagnostics.push(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("`{}` is not a JSON document: {problem}", attribute.name),
                    )
                    .with_optional_label(span, "this text is not JSON")
                    .with_help(format!(
                        "write it with jsonencode({{...}}) or file(\"....json\"), which keyform checks as it reads: {}",
                        attribute_schema.description
                    )),
                );
            }
            Err(wanted) => diagnostics.push(
                Diagnostic::error(
                    Code::TypeMismatch,
                    format!("`{}` must be {wanted}, got a {}", attribute.name, value.type_name()),
                )
                .with_optional_label(span, format!("this is a {}", value.type_name()))
                .with_help(format!(
                    "give {} {wanted}: {}",
                    attribute.name, attribute_schema.description
                )),
            ),
        }
    }
    for required in attributes.iter().filter(|attribute| attribute.required) {
        if !body.attributes.contains_key(required.name) {
            diagnostics.push(
                Diagnostic::error(
                    Code::MissingAttribute,
                    format!("{} needs `{}`", schema.type_name, required.name),
                )
                .with_optional_label(block_span.clone(), format!("`{}` is missing", required.name))
                .with_help(format!("add {} = ... ({})", required.name, required.description)),
            );
        }
    }
}

fn secret_attribute(
    attribute_schema: &AttributeSchema,
    value: Value,
    span: Option<Span>,
    desired: &mut DesiredInstance,
    diagnostics: &mut Diagnostics,
) {
    let name = attribute_schema.name;
    if value.deep_literal() {
        diagnostics.push(
            Diagnostic::error(
                Code::HardcodedSecret,
                "a secret must come from a value source, not a literal",
            )
            .with_optional_label(span, "this literal would be committed to version control")
            .with_help("use generate({ length = 32 }), env(\"DB_PASSWORD\"), file(\"db.pw\") or a sensitive variable"),
        );
        return;
    }
    let value = match &value.kind {
        Kind::String(_) | Kind::Generated(_) => value.into_sensitive(),
        Kind::Number(_) | Kind::Bool(_) => Value::string(value.to_plain_string().unwrap_or_default()).into_sensitive(),
        _ => {
            diagnostics.push(
                Diagnostic::error(
                    Code::TypeMismatch,
                    format!("`{name}` must be a string, got a {}", value.type_name()),
                )
                .with_optional_label(span, "not a string")
                .with_help("use jsonencode(...) to store structured data as one secret string"),
            );
            return;
        }
    };
    desired.secrets.insert(name.to_string(), value);
}

/// Converts a value to the JSON an attribute type holds; Err names what was wanted.
pub fn convert(value: &Value, attribute_type: AttributeType) -> Result<serde_json::Value, &'static str> {
    match attribute_type {
        AttributeType::String => value.to_plain_string().map(serde_json::Value::String).ok_or("a string"),
        AttributeType::Number => match &value.kind {
            Kind::Number(_) => Ok(value.to_json()),
            Kind::String(text) => text
                .trim()
                .parse::<f64>()
                .map(|number| Value::number(number).to_json())
                .map_err(|_| "a number"),
            _ => Err("a number"),
        },
        AttributeType::Bool => match &value.kind {
            Kind::Bool(flag) => Ok(serde_json::Value::Bool(*flag)),
            Kind::String(text) if text == "true" || text == "false" => Ok(serde_json::Value::Bool(text == "true")),
            _ => Err("true or false"),
        },
        AttributeType::Duration => match &value.kind {
            Kind::Number(number) if *number >= 0.0 && number.fract() == 0.0 => {
                Ok(serde_json::Value::from(*number as u64))
            }
            Kind::String(text) => parse_duration(text)
                .map(serde_json::Value::from)
                .map_err(|_| "a duration (3600, \"90d\", \"PT1H\")"),
            _ => Err("a duration (3600, \"90d\", \"PT1H\")"),
        },
        AttributeType::ListOfStrings => match &value.kind {
            Kind::List(items) => items
                .iter()
                .map(|item| item.to_plain_string().map(serde_json::Value::String))
                .collect::<Option<Vec<_>>>()
                .map(serde_json::Value::Array)
                .ok_or("a list of strings"),
            _ => Err("a list of strings"),
        },
        AttributeType::MapOfStrings => match &value.kind {
            Kind::Map(entries) => entries
                .iter()
                .map(|(key, item)| {
                    item.to_plain_string()
                        .map(|text| (key.clone(), serde_json::Value::String(text)))
                })
                .collect::<Option<serde_json::Map<_, _>>>()
                .map(serde_json::Value::Object)
                .ok_or("a map of strings"),
            _ => Err("a map of strings"),
        },
        AttributeType::Json => match &value.kind {
            Kind::String(text) => crate::provider::normalize_json(text)
                .map(serde_json::Value::String)
                .map_err(|_| "a JSON document (use jsonencode({...}))"),
            Kind::Map(_) | Kind::List(_) => crate::provider::normalize_json(&value.to_json().to_string())
                .map(serde_json::Value::String)
                .map_err(|_| "a JSON document"),
            _ => Err("a JSON document (use jsonencode({...}))"),
        },
        AttributeType::Secret => Err("a value source"),
    }
}

/// Computes the fingerprints of every known secret value of an instance.
pub fn compute_fingerprints(desired: &mut DesiredInstance, resource_type: &str, key: &FingerprintKey) {
    for (attribute, value) in &desired.secrets {
        if let Some(fingerprint) = fingerprint(key, &format!("{resource_type}.{attribute}"), value) {
            desired.fingerprints.insert(attribute.clone(), fingerprint);
        }
    }
}
