//! Nested blocks of a provider block, such as `assume_role { role_arn = ... }`
//! in `provider "aws"`.
//!
//! Each nested block is checked against the blocks the driver declares
//! ([`Provider::provider_blocks`]) and evaluated into a JSON object under the
//! block's name in `ConfigureRequest.attributes`, with its attributes
//! converted to their declared types. **A nested block the driver does not
//! declare is an error, never silently dropped** (a dropped `assume_role`
//! would act in the wrong account). A block may appear once. A block inside
//! a block (`features { key_vault { ... } }` of `azurerm`) is declared under
//! its dotted path (`features.key_vault`) and evaluated into the outer
//! block's object under its own name (one level deep).
//!
//! A secret attribute of a block (`approle { secret_id = env("...") }`) is
//! delivered in `ConfigureRequest.secrets` under `BLOCK.ATTRIBUTE`
//! (`approle.secret_id`), never in the attributes. **A provider secret, in a
//! block or not, must come from a value source: a literal is refused
//! ([`provider_secret`]), as it is in a resource.**

use super::checks::attribute_names;
use crate::config::eval::{Scope, evaluate};
use crate::config::model::{BlockConfig, BodyConfig};
use crate::config::value::Value;
use crate::diag::Span;
use crate::diag::{Code, Diagnostic, unknown_attribute, unknown_block};
use crate::provider::{Attributes, BlockSchema, Provider};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;

/// A provider secret's value, or the diagnostic for a literal or a non-text value.
pub fn provider_secret(name: &str, value: &Value, span: Option<Span>) -> Result<SensitiveString, Diagnostic> {
    if value.deep_literal() {
        return Err(Diagnostic::error(
            Code::HardcodedSecret,
            format!("`{name}` is a secret and must come from a value source, not a literal"),
        )
        .with_optional_label(span, "this literal would be committed to version control")
        .with_help("use env(\"NAME\"), file(\"path\") or a sensitive variable"));
    }
    match value.to_plain_string() {
        Some(text) => Ok(SensitiveString::new(text)),
        None => Err(Diagnostic::error(
            Code::TypeMismatch,
            format!("`{name}` must be a string, got a {}", value.type_name()),
        )
        .with_optional_label(span, "not a string")
        .with_help("give the secret as a string value source")),
    }
}

/// Evaluates the nested blocks of a provider block into `attributes` and `secrets`; the diagnostics of what failed.
pub fn evaluate_provider_blocks(
    provider: &dyn Provider,
    body: &BodyConfig,
    scope: &Scope<'_>,
    attributes: &mut Attributes,
    secrets: &mut BTreeMap<String, SensitiveString>,
) -> Vec<Diagnostic> {
    let schemas = provider.provider_blocks();
    let mut diagnostics = Vec::new();
    for block in &body.blocks {
        let Some(block_schema) = schemas.iter().find(|schema| schema.name == block.block_type) else {
            let names: Vec<&str> = schemas
                .iter()
                .map(|schema| schema.name)
                .filter(|name| !name.contains('.'))
                .collect();
            diagnostics.push(unknown_block(
                &format!("provider \"{}\"", provider.name()),
                &block.block_type,
                block.span.clone(),
                &names,
            ));
            continue;
        };
        if attributes.contains_key(block_schema.name) {
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
        let mut object = Attributes::new();
        evaluate_block_attributes(block_schema, block, scope, &mut object, secrets, &mut diagnostics);
        // A block inside a block (`features { key_vault { ... } }`) is declared by the driver under its
        // dotted path (`features.key_vault`) and lands in the outer object under its own name.
        for inner in &block.body.blocks {
            let path = format!("{}.{}", block_schema.name, inner.block_type);
            let Some(inner_schema) = schemas.iter().find(|schema| schema.name == path) else {
                let prefix = format!("{}.", block_schema.name);
                let names: Vec<&str> = schemas
                    .iter()
                    .filter_map(|schema| schema.name.strip_prefix(&prefix))
                    .collect();
                diagnostics.push(unknown_block(
                    &format!("block `{}`", block_schema.name),
                    &inner.block_type,
                    inner.span.clone(),
                    &names,
                ));
                continue;
            };
            if object.contains_key(&inner.block_type) {
                diagnostics.push(
                    Diagnostic::error(Code::DuplicateDeclaration, format!("`{path}` may appear once"))
                        .with_optional_label(inner.span.clone(), "second block")
                        .with_help("merge the two blocks"),
                );
                continue;
            }
            let mut inner_object = Attributes::new();
            evaluate_block_attributes(inner_schema, inner, scope, &mut inner_object, secrets, &mut diagnostics);
            object.insert(inner.block_type.clone(), serde_json::Value::Object(inner_object));
        }
        attributes.insert(block_schema.name.to_string(), serde_json::Value::Object(object));
    }
    diagnostics
}

/// Evaluates the attributes of one block into `object` (secrets into `secrets` as `BLOCK.ATTRIBUTE`).
fn evaluate_block_attributes(
    block_schema: &BlockSchema,
    block: &BlockConfig,
    scope: &Scope<'_>,
    object: &mut Attributes,
    secrets: &mut BTreeMap<String, SensitiveString>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for attribute in block.body.attributes.values() {
        let Some(attribute_schema) = block_schema
            .attributes
            .iter()
            .find(|candidate| candidate.name == attribute.name)
        else {
            diagnostics.push(unknown_attribute(
                &format!("block `{}`", block_schema.name),
                &attribute.name,
                attribute.name_span.clone(),
                &attribute_names(block_schema),
            ));
            continue;
        };
        let secret_name = format!("{}.{}", block_schema.name, attribute.name);
        match evaluate(&attribute.value, scope) {
            Ok(value) if attribute_schema.is_secret() => {
                match provider_secret(&secret_name, &value, attribute.value.span()) {
                    Ok(secret) => {
                        secrets.insert(secret_name, secret);
                    }
                    Err(diagnostic) => diagnostics.push(diagnostic),
                }
            }
            Ok(value) => match super::desired::convert(&value, attribute_schema.attribute_type) {
                Ok(json) => {
                    object.insert(attribute.name.clone(), json);
                }
                Err(wanted) => diagnostics.push(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("`{}.{}` must be {wanted}", block_schema.name, attribute.name),
                    )
                    .with_optional_label(attribute.value.span(), format!("this is a {}", value.type_name()))
                    .with_help(attribute_schema.description),
                ),
            },
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    for missing in block_schema.attributes.iter().filter(|attribute| {
        attribute.required
            && !object.contains_key(attribute.name)
            && !secrets.contains_key(&format!("{}.{}", block_schema.name, attribute.name))
    }) {
        diagnostics.push(
            Diagnostic::error(
                Code::MissingAttribute,
                format!("block `{}` needs `{}`", block_schema.name, missing.name),
            )
            .with_optional_label(block.span.clone(), "in this block")
            .with_help(missing.description),
        );
    }
}
