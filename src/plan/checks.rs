//! Checks of a loaded configuration that need the providers' schemas but no
//! evaluation: secret literals are masked, resource types and attribute
//! names are checked. **This runs before anything can render a source line,
//! so a secret literal is masked in every diagnostic of the run.**

use super::desired::mask_literals;
use crate::addr::ResourceMode;
use crate::config::model::{ModuleConfig, ResourceConfig};
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap, did_you_mean};
use crate::provider::ResourceSchema;
use crate::providers::{PROVIDER_NAMES, registry};
use std::collections::HashMap;

/// Schemas of every resource type this build offers, by type name.
pub fn known_schemas() -> HashMap<String, ResourceSchema> {
    let mut schemas = HashMap::new();
    for name in PROVIDER_NAMES {
        if let Some(provider) = registry(name) {
            for schema in provider.schema() {
                schemas.insert(schema.type_name.to_string(), schema);
            }
        }
    }
    schemas
}

/// Masks secret literals and reports unknown types, attributes and blocks in every module.
pub fn check_configuration(root: &ModuleConfig, sources: &SourceMap) -> Diagnostics {
    let schemas = known_schemas();
    let mut diagnostics = Diagnostics::new();
    let mut stack = vec![root];
    while let Some(module) = stack.pop() {
        for resource in module.resources.values() {
            match schemas.get(&resource.resource_type) {
                _ if resource.mode == ResourceMode::Data => diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownResourceType,
                        format!("unknown data source `{}`", resource.resource_type),
                    )
                    .with_optional_label(resource.span.clone(), "no provider in this build offers data sources")
                    .with_help("data sources arrive with the cloud providers; use a resource's attributes instead"),
                ),
                Some(schema) => check_resource(resource, schema, sources, &mut diagnostics),
                None => diagnostics.push(unknown_type(resource, &schemas)),
            }
        }
        stack.extend(module.module_calls.values().map(|call| call.child.as_ref()));
    }
    diagnostics
}

/// Terraform resource types keyform folds into one of its own, with the type to use.
const FOLDED_TYPES: &[(&str, &str)] = &[
    ("random_password", "a `generate({ length = 32 })` value source"),
    ("local_sensitive_file", "local_secret"),
];

fn unknown_type(resource: &ResourceConfig, schemas: &HashMap<String, ResourceSchema>) -> Diagnostic {
    let what = if resource.mode == ResourceMode::Data {
        "data source"
    } else {
        "resource type"
    };
    let mut known: Vec<&str> = schemas.keys().map(String::as_str).collect();
    known.sort_unstable();
    let help = if let Some((_, instead)) = FOLDED_TYPES.iter().find(|(name, _)| *name == resource.resource_type) {
        format!("keyform folds this into {instead}")
    } else if !PROVIDER_NAMES.contains(&resource.provider_name()) {
        format!(
            "no provider `{}` in this build; it has: {}",
            resource.provider_name(),
            PROVIDER_NAMES.join(", ")
        )
    } else {
        match did_you_mean(&resource.resource_type, known.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("the known types are: {}", known.join(", ")),
        }
    };
    Diagnostic::error(
        Code::UnknownResourceType,
        format!("unknown {what} `{}`", resource.resource_type),
    )
    .with_optional_label(resource.span.clone(), "no provider offers this type")
    .with_help(help)
}

fn check_resource(
    resource: &ResourceConfig,
    schema: &ResourceSchema,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) {
    for attribute in resource.body.attributes.values() {
        match schema.attribute(&attribute.name) {
            Some(found) if found.is_secret() => mask_literals(&attribute.value, sources),
            Some(_) => {}
            None => {
                let mut names: Vec<&str> = schema
                    .attributes
                    .iter()
                    .filter(|candidate| !candidate.computed)
                    .map(|candidate| candidate.name)
                    .collect();
                names.extend(schema.blocks.iter().map(|block| block.name));
                let help = match did_you_mean(&attribute.name, names.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("{} takes: {}", schema.type_name, names.join(", ")),
                };
                diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownAttribute,
                        format!("{} has no attribute `{}`", schema.type_name, attribute.name),
                    )
                    .with_optional_label(attribute.name_span.clone(), "unknown attribute")
                    .with_help(help),
                );
            }
        }
    }
    for block in &resource.body.blocks {
        let Some(block_schema) = schema.block(&block.block_type) else {
            let names: Vec<&str> = schema.blocks.iter().map(|block| block.name).collect();
            let help = match did_you_mean(&block.block_type, names.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None if names.is_empty() => format!("{} takes no nested blocks", schema.type_name),
                None => format!("{} takes the blocks: {}", schema.type_name, names.join(", ")),
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::UnknownBlock,
                    format!("{} has no block `{}`", schema.type_name, block.block_type),
                )
                .with_optional_label(block.span.clone(), "unknown block")
                .with_help(help),
            );
            continue;
        };
        for attribute in block.body.attributes.values() {
            if !block_schema
                .attributes
                .iter()
                .any(|candidate| candidate.name == attribute.name)
            {
                let names: Vec<&str> = block_schema.attributes.iter().map(|candidate| candidate.name).collect();
                let help = match did_you_mean(&attribute.name, names.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("a {} block takes: {}", block_schema.name, names.join(", ")),
                };
                diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownAttribute,
                        format!("a {} block has no attribute `{}`", block_schema.name, attribute.name),
                    )
                    .with_optional_label(attribute.name_span.clone(), "unknown attribute")
                    .with_help(help),
                );
            }
        }
    }
}
