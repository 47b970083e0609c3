//! Checks of a loaded configuration that need the providers' schemas but no
//! evaluation: secret literals are masked (in resources, their blocks and
//! provider blocks), resource types and attribute
//! names are checked. **This runs before anything can render a source line,
//! so a secret literal is masked in every diagnostic of the run.**

use super::desired::mask_literals;
use crate::addr::ResourceMode;
use crate::config::model::{ModuleConfig, ProviderConfig, ResourceConfig};
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap, did_you_mean, unknown_attribute, unknown_block};
use crate::provider::{BlockSchema, ResourceSchema};
use crate::providers::{PROVIDER_NAMES, registry};
use std::collections::HashMap;

/// Schemas of every resource type (`ResourceMode::Managed`) or data source (`Data`) this build offers, by type name.
pub fn known_schemas(mode: ResourceMode) -> HashMap<String, ResourceSchema> {
    let mut schemas = HashMap::new();
    for name in PROVIDER_NAMES {
        if let Some(provider) = registry(name) {
            let offered = match mode {
                ResourceMode::Managed => provider.schema(),
                ResourceMode::Data => provider.data_schema(),
            };
            for schema in offered {
                schemas.insert(schema.type_name.to_string(), schema);
            }
        }
    }
    schemas
}

/// Masks secret literals and reports unknown types, attributes and blocks in every module.
pub fn check_configuration(root: &ModuleConfig, sources: &SourceMap) -> Diagnostics {
    let schemas = known_schemas(ResourceMode::Managed);
    let data_schemas = known_schemas(ResourceMode::Data);
    let mut diagnostics = Diagnostics::new();
    let mut stack = vec![root];
    while let Some(module) = stack.pop() {
        for resource in module.resources.values() {
            let offered = if resource.mode == ResourceMode::Data {
                &data_schemas
            } else {
                &schemas
            };
            match offered.get(&resource.resource_type) {
                Some(schema) => check_resource(resource, schema, sources, &mut diagnostics),
                None => diagnostics.push(unknown_type(resource, offered)),
            }
        }
        for provider_config in &module.providers {
            mask_provider_secrets(provider_config, sources);
        }
        stack.extend(module.module_calls.values().map(|call| call.child.as_ref()));
    }
    diagnostics
}

/// Masks literals given to a provider's secret attributes, in its nested blocks too (they are refused when the
/// provider is configured, and that diagnostic must not show them).
fn mask_provider_secrets(provider_config: &ProviderConfig, sources: &SourceMap) {
    let Some(provider) = registry(&provider_config.name) else {
        return;
    };
    let schema = provider.provider_schema();
    for attribute in provider_config.body.attributes.values() {
        if schema
            .iter()
            .any(|candidate| candidate.name == attribute.name && candidate.is_secret())
        {
            mask_literals(&attribute.value, sources);
        }
    }
    let blocks = provider.provider_blocks();
    for block in &provider_config.body.blocks {
        let Some(block_schema) = blocks.iter().find(|candidate| candidate.name == block.block_type) else {
            continue;
        };
        for attribute in block.body.attributes.values() {
            if block_schema.is_secret_attribute(&attribute.name) {
                mask_literals(&attribute.value, sources);
            }
        }
    }
}

/// Terraform resource types keyform folds into one of its own, with the type to use.
const FOLDED_TYPES: &[(&str, &str)] = &[
    ("random_password", "a `generate({ length = 32 })` value source"),
    ("local_sensitive_file", "local_secret"),
    (
        "aws_secretsmanager_secret_version",
        "the `value` of aws_secretsmanager_secret",
    ),
    (
        "aws_secretsmanager_secret_rotation",
        "the `rotation` block of aws_secretsmanager_secret",
    ),
    (
        "aws_secretsmanager_secret_policy",
        "the `policy` of aws_secretsmanager_secret",
    ),
    ("aws_kms_key_policy", "the `policy` of aws_kms_key"),
    ("vault_generic_secret", "vault_kv_secret_v2"),
    (
        "azurerm_key_vault_access_policy",
        "azurerm_key_vault (access policies arrive with the Azure work)",
    ),
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

/// The names of a block's attributes.
pub fn attribute_names(block: &BlockSchema) -> Vec<&'static str> {
    block.attributes.iter().map(|attribute| attribute.name).collect()
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
                diagnostics.push(unknown_attribute(
                    schema.type_name,
                    &attribute.name,
                    attribute.name_span.clone(),
                    &names,
                ));
            }
        }
    }
    for block in &resource.body.blocks {
        let Some(block_schema) = schema.block(&block.block_type) else {
            let names: Vec<&str> = schema
                .blocks
                .iter()
                .map(|block| block.name)
                .filter(|name| !name.contains('.'))
                .collect();
            diagnostics.push(unknown_block(
                schema.type_name,
                &block.block_type,
                block.span.clone(),
                &names,
            ));
            continue;
        };
        let owner = format!("a {} block", block_schema.name);
        // A block inside a block is declared under its dotted path (`rotation_policy.automatic`).
        for nested in &block.body.blocks {
            let path = format!("{}.{}", block_schema.name, nested.block_type);
            let Some(nested_schema) = schema.block(&path) else {
                let prefix = format!("{}.", block_schema.name);
                let names: Vec<&str> = schema
                    .blocks
                    .iter()
                    .filter_map(|candidate| candidate.name.strip_prefix(&prefix))
                    .collect();
                diagnostics.push(unknown_block(&owner, &nested.block_type, nested.span.clone(), &names));
                continue;
            };
            for attribute in nested.body.attributes.values() {
                if !nested_schema
                    .attributes
                    .iter()
                    .any(|candidate| candidate.name == attribute.name)
                {
                    diagnostics.push(unknown_attribute(
                        &format!("a {path} block"),
                        &attribute.name,
                        attribute.name_span.clone(),
                        &attribute_names(nested_schema),
                    ));
                }
            }
        }
        for attribute in block.body.attributes.values() {
            if block_schema.is_secret_attribute(&attribute.name) {
                mask_literals(&attribute.value, sources);
            }
            if !block_schema
                .attributes
                .iter()
                .any(|candidate| candidate.name == attribute.name)
            {
                diagnostics.push(unknown_attribute(
                    &owner,
                    &attribute.name,
                    attribute.name_span.clone(),
                    &attribute_names(block_schema),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_configuration;
    use crate::config::load::load_configuration;
    use crate::diag::SourceMap;

    fn diagnostics_of(text: &str) -> Vec<String> {
        let folder = tempfile::tempdir().expect("folder");
        std::fs::write(folder.path().join("main.hcl"), text).expect("write");
        let sources = SourceMap::new();
        let (root, loaded) = load_configuration(folder.path(), &sources);
        assert!(!loaded.has_errors());
        check_configuration(&root, &sources)
            .into_iter()
            .map(|diagnostic| {
                format!(
                    "{} {} / {}",
                    diagnostic.code,
                    diagnostic.message,
                    diagnostic.help.unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn terraform_types_keyform_folds_point_to_the_keyform_way() {
        let found = diagnostics_of("resource \"aws_secretsmanager_secret_version\" \"v\" {}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("KF1016") && found[0].contains("the `value` of aws_secretsmanager_secret"),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_attributes_and_blocks_get_did_you_mean_and_secret_literals_are_masked() {
        let folder = tempfile::tempdir().expect("folder");
        let text = "resource \"local_secret\" \"s\" {\n  nmae  = \"x\"\n  value = \"hunter2\"\n  rotaton {}\n}\n";
        std::fs::write(folder.path().join("main.hcl"), text).expect("write");
        let sources = SourceMap::new();
        let (root, _) = load_configuration(folder.path(), &sources);
        let found: Vec<String> = check_configuration(&root, &sources)
            .into_iter()
            .filter_map(|diagnostic| diagnostic.help)
            .collect();
        assert!(
            found.iter().any(|help| help.contains("did you mean `name`?")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|help| help.contains("did you mean `rotation`?")),
            "{found:?}"
        );
        let masked = sources.masked_text(crate::diag::FileId(0)).expect("the file");
        assert!(!masked.contains("hunter2"), "{masked}");
    }
}
