//! Loading a configuration folder: files -> parsed HCL -> the raw model.
//!
//! Every `*.hcl` file of the folder is read (dotfiles and `*.lock.hcl`
//! excepted), in name order. **Every problem is collected as a diagnostic;
//! loading never stops at the first.**

use super::model::{
    AttributeConfig, BackendConfig, BlockConfig, BodyConfig, CheckConfig, DependsOn, Expr, ImportConfig, Lifecycle,
    LocalConfig, ModuleCall, ModuleConfig, MovedConfig, OutputConfig, ProviderConfig, ResourceConfig, TypeConstraint,
    ValidationConfig, VariableConfig,
};
use crate::addr::{ResourceAddress, ResourceMode};
use crate::diag::{
    Code, Diagnostic, Diagnostics, FileId, SourceMap, Span, did_you_mean, unknown_attribute, unknown_block,
};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body, Structure};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

const TOP_LEVEL_BLOCKS: &[&str] = &[
    "keyform", "provider", "variable", "locals", "resource", "data", "output", "module", "import", "moved", "policy",
    "check",
];

/// How deep module calls may nest before keyform assumes a loop.
const MAXIMUM_MODULE_DEPTH: usize = 16;

/// Loads the module in `folder` and every module it calls. The module is
/// returned even when there are errors (with what could be read), so later
/// checks can still mask secrets and report more problems in the same run.
pub fn load_configuration(folder: &Path, sources: &SourceMap) -> (ModuleConfig, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let module = load_module(folder, sources, &mut diagnostics, 0);
    (module, diagnostics)
}

/// Masks the contents of every quoted string and heredoc body of a file that
/// could not be parsed: without a syntax tree keyform cannot tell which
/// literal is a secret, so none is shown.
fn mask_all_strings(file: FileId, text: &str, sources: &SourceMap) {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'#' => {
                while index < bytes.len() && bytes[index] != b'\n' {
                    index += 1;
                }
            }
            b'"' => {
                let start = index + 1;
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
                    if bytes[index] == b'\\' {
                        index += 1;
                    }
                    index += 1;
                }
                let end = index.min(bytes.len());
                if end > start {
                    sources.mask(&Span::new(file, start..end));
                }
                index += 1;
            }
            b'<' if text[index..].starts_with("<<") => {
                // A heredoc: mask from the line after the marker to the end of the file's text.
                if let Some(line_end) = text[index..].find('\n') {
                    sources.mask(&Span::new(file, index + line_end + 1..text.len()));
                }
                return;
            }
            _ => index += 1,
        }
    }
}

/// Lists the configuration files of a folder, sorted.
pub fn configuration_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if name.starts_with('.') || !name.ends_with(".hcl") || name.ends_with(".lock.hcl") || !path.is_file() {
            continue;
        }
        files.push(path);
    }
    files.sort();
    Ok(files)
}

/// The path shown to a user: relative to the working folder when possible.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|current| path.strip_prefix(current).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

fn load_module(folder: &Path, sources: &SourceMap, diagnostics: &mut Diagnostics, depth: usize) -> ModuleConfig {
    let mut module = ModuleConfig {
        folder: folder.to_path_buf(),
        ..ModuleConfig::default()
    };
    let files = match configuration_files(folder) {
        Ok(files) => files,
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidModule,
                    format!("cannot read the folder {}: {error}", folder.display()),
                )
                .with_help("check the path given to --chdir or to a module's source"),
            );
            return module;
        }
    };
    if files.is_empty() && depth == 0 {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidModule,
                format!("no configuration files (*.hcl) in {}", display_path(folder)),
            )
            .with_help("run keyform in the folder holding your .hcl files, or pass --chdir FOLDER"),
        );
    }
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                diagnostics.push(Diagnostic::error(
                    Code::Syntax,
                    format!("cannot read {}: {error}", display_path(&path)),
                ));
                continue;
            }
        };
        let file = sources.add(&path, display_path(&path), text.clone());
        match hcl_edit::parser::parse_body(&text) {
            Ok(body) => {
                let mut loader = FileLoader {
                    file,
                    sources,
                    diagnostics: &mut *diagnostics,
                    depth,
                };
                loader.load_body(&body, &mut module);
            }
            Err(error) => {
                mask_all_strings(file, &text, sources);
                diagnostics.push(syntax_diagnostic(file, &text, &error));
            }
        }
    }
    module
}

/// A diagnostic for an HCL parse error.
pub fn syntax_diagnostic(file: FileId, text: &str, error: &hcl_edit::parser::Error) -> Diagnostic {
    let offset = error.location().offset().min(text.len());
    let end = text[offset..]
        .chars()
        .next()
        .map_or(offset, |character| offset + character.len_utf8());
    Diagnostic::error(Code::Syntax, "the file is not valid HCL")
        .with_label(Span::new(file, offset..end), error.message().to_string())
        .with_help("check for a missing quote, brace or `=` near this point")
}

struct FileLoader<'a> {
    file: FileId,
    sources: &'a SourceMap,
    diagnostics: &'a mut Diagnostics,
    depth: usize,
}

impl FileLoader<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Option<Span> {
        Span::maybe(self.file, range)
    }

    fn expr(&self, expression: &Expression) -> Expr {
        Expr {
            expression: expression.clone(),
            file: self.file,
        }
    }

    fn error(
        &mut self,
        code: Code,
        message: impl Into<String>,
        range: Option<std::ops::Range<usize>>,
        label: &str,
        help: &str,
    ) {
        let diagnostic = Diagnostic::error(code, message)
            .with_optional_label(self.span(range), label)
            .with_help(help);
        self.diagnostics.push(diagnostic);
    }

    fn load_body(&mut self, body: &Body, module: &mut ModuleConfig) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => self.error(
                    Code::UnknownAttribute,
                    format!("`{}` cannot be set at the top level of a file", attribute.key.as_str()),
                    attribute.span(),
                    "not inside a block",
                    "put this attribute inside a block, or use `locals { ... }` to name a value",
                ),
                Structure::Block(block) => self.load_top_block(block, module),
            }
        }
    }

    fn header_span(&self, block: &Block) -> Option<Span> {
        let start = block.ident.span()?.start;
        let end = block
            .labels
            .last()
            .and_then(|label| label.span())
            .map_or(block.ident.span()?.end, |range| range.end);
        Some(Span::new(self.file, start..end))
    }

    fn labels(&mut self, block: &Block, names: &[&str]) -> Option<Vec<String>> {
        let labels: Vec<String> = block.labels.iter().map(|label| label.as_str().to_string()).collect();
        if labels.len() == names.len() {
            return Some(labels);
        }
        let expected = names
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(" ");
        let message = format!(
            "a `{}` block takes {} label(s): {} {}",
            block.ident.as_str(),
            names.len(),
            block.ident.as_str(),
            expected
        );
        let span = self.header_span(block);
        self.diagnostics.push(
            Diagnostic::error(Code::UnknownBlock, message)
                .with_optional_label(span, format!("{} label(s) here", labels.len()))
                .with_help(format!("write it as `{} {} {{ ... }}`", block.ident.as_str(), expected)),
        );
        None
    }

    fn load_top_block(&mut self, block: &Block, module: &mut ModuleConfig) {
        let kind = block.ident.as_str();
        match kind {
            "keyform" => self.load_settings(block, module),
            "provider" => self.load_provider(block, module),
            "variable" => self.load_variable(block, module),
            "locals" => self.load_locals(block, module),
            "resource" => self.load_resource(block, module, ResourceMode::Managed),
            "data" => self.load_resource(block, module, ResourceMode::Data),
            "output" => self.load_output(block, module),
            "module" => self.load_module_call(block, module),
            "import" => self.load_import(block, module),
            "moved" => self.load_moved(block, module),
            "check" => self.load_check(block, module),
            "policy" => {
                let span = self.header_span(block);
                self.diagnostics.push(
                    Diagnostic::warning(
                        Code::UnknownBlock,
                        "policy blocks are read but not enforced by this version",
                    )
                    .with_optional_label(span, "not enforced yet")
                    .with_help("built-in policies and HCL policies arrive with the policy work"),
                );
            }
            other => {
                let suggestion = did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied());
                let help = match suggestion {
                    Some(name) => format!(
                        "did you mean `{name}`? Top-level blocks are: {}",
                        TOP_LEVEL_BLOCKS.join(", ")
                    ),
                    None => format!("top-level blocks are: {}", TOP_LEVEL_BLOCKS.join(", ")),
                };
                let span = self.span(block.ident.span());
                self.diagnostics.push(
                    Diagnostic::error(Code::UnknownBlock, format!("unknown block type `{other}`"))
                        .with_optional_label(span, "not a keyform block")
                        .with_help(help),
                );
            }
        }
    }

    /// Converts a block body, checking only that attribute and block names are allowed when `allowed` is given.
    fn body(&mut self, body: &Body) -> BodyConfig {
        let mut config = BodyConfig::default();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.as_str().to_string();
                    config.attributes.insert(
                        name.clone(),
                        AttributeConfig {
                            name,
                            name_span: self.span(attribute.key.span()),
                            value: self.expr(&attribute.value),
                        },
                    );
                }
                Structure::Block(block) => {
                    let span = self.header_span(block);
                    config.blocks.push(BlockConfig {
                        block_type: block.ident.as_str().to_string(),
                        labels: block.labels.iter().map(|label| label.as_str().to_string()).collect(),
                        span,
                        body: self.body(&block.body),
                    });
                }
            }
        }
        config
    }

    /// Reports attributes and blocks of `body` not in the allowed lists.
    fn check_names(&mut self, body: &BodyConfig, context: &str, attributes: &[&str], blocks: &[&str]) {
        for attribute in body.attributes.values() {
            if !attributes.contains(&attribute.name.as_str()) {
                self.diagnostics.push(unknown_attribute(
                    context,
                    &attribute.name,
                    attribute.name_span.clone(),
                    attributes,
                ));
            }
        }
        for block in &body.blocks {
            if !blocks.contains(&block.block_type.as_str()) {
                self.diagnostics
                    .push(unknown_block(context, &block.block_type, block.span.clone(), blocks));
            }
        }
    }

    fn literal_string(&mut self, attribute: &AttributeConfig, what: &str) -> Option<String> {
        match literal_string(&attribute.value.expression) {
            Some(text) => Some(text),
            None => {
                self.diagnostics.push(
                    Diagnostic::error(Code::TypeMismatch, format!("{what} must be a literal string"))
                        .with_optional_label(attribute.value.span(), "not a literal string")
                        .with_help("write the value in quotes; references and functions are not allowed here"),
                );
                None
            }
        }
    }

    fn literal_bool(&mut self, attribute: &AttributeConfig, what: &str) -> bool {
        match attribute.value.expression.as_bool() {
            Some(value) => value,
            None => {
                self.diagnostics.push(
                    Diagnostic::error(Code::TypeMismatch, format!("{what} must be true or false"))
                        .with_optional_label(attribute.value.span(), "not a literal bool")
                        .with_help("write true or false"),
                );
                false
            }
        }
    }

    fn duplicate(&mut self, what: &str, new: Option<Span>, old: Option<Span>) {
        let mut diagnostic = Diagnostic::error(Code::DuplicateDeclaration, format!("{what} is declared twice"))
            .with_optional_label(new, "declared again here")
            .with_help("each address must be declared once in a module: rename or remove one of them");
        if let Some(old) = old {
            diagnostic = diagnostic.with_label(old, "first declared here");
        }
        self.diagnostics.push(diagnostic);
    }

    fn load_settings(&mut self, block: &Block, module: &mut ModuleConfig) {
        let body = self.body(&block.body);
        self.check_names(&body, "the keyform block", &["required_version"], &["backend"]);
        for backend in body.blocks_of("backend") {
            let kind = backend.labels.first().cloned().unwrap_or_default();
            if kind != "local" {
                self.diagnostics.push(
                    Diagnostic::error(Code::UnknownBlock, format!("unknown backend `{kind}`"))
                        .with_optional_label(backend.span.clone(), "not a backend this version has")
                        .with_help("this version has the backend \"local\" { path = \"...\" }"),
                );
                continue;
            }
            self.check_names(&backend.body, "the local backend", &["path"], &[]);
            let path = backend
                .body
                .attribute("path")
                .cloned()
                .and_then(|path| self.literal_string(&path, "the backend path"));
            module.backend = Some(BackendConfig {
                kind,
                path,
                span: backend.span.clone(),
            });
        }
    }

    fn load_provider(&mut self, block: &Block, module: &mut ModuleConfig) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let mut body = self.body(&block.body);
        let alias = body
            .attributes
            .shift_remove("alias")
            .and_then(|alias| self.literal_string(&alias, "a provider alias"));
        let provider = ProviderConfig {
            name: labels[0].clone(),
            alias,
            span: self.header_span(block),
            body,
        };
        if let Some(existing) = module
            .providers
            .iter()
            .find(|existing| existing.key() == provider.key())
        {
            let old = existing.span.clone();
            self.duplicate(&provider.key(), provider.span.clone(), old);
            return;
        }
        module.providers.push(provider);
    }

    fn load_variable(&mut self, block: &Block, module: &mut ModuleConfig) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let body = self.body(&block.body);
        self.check_names(
            &body,
            "a variable",
            &["type", "default", "description", "sensitive", "nullable"],
            &["validation"],
        );
        let type_constraint = match body.attribute("type") {
            Some(attribute) => match parse_type(&attribute.value.expression) {
                Some(constraint) => constraint,
                None => {
                    self.diagnostics.push(
                        Diagnostic::error(Code::TypeMismatch, "unknown type constraint")
                            .with_optional_label(attribute.value.span(), "not a type")
                            .with_help(
                                "use string, number, bool, any, list(T), set(T), map(T) or object({ name = T })",
                            ),
                    );
                    TypeConstraint::Any
                }
            },
            None => TypeConstraint::Any,
        };
        let description = body
            .attribute("description")
            .cloned()
            .and_then(|attribute| self.literal_string(&attribute, "a description"));
        let sensitive = body
            .attribute("sensitive")
            .cloned()
            .is_some_and(|attribute| self.literal_bool(&attribute, "sensitive"));
        let mut validations = Vec::new();
        for validation in body.blocks_of("validation") {
            self.check_names(
                &validation.body,
                "a validation block",
                &["condition", "error_message"],
                &[],
            );
            match (
                validation.body.attribute("condition"),
                validation.body.attribute("error_message"),
            ) {
                (Some(condition), Some(error_message)) => validations.push(ValidationConfig {
                    condition: condition.value.clone(),
                    error_message: error_message.value.clone(),
                }),
                _ => self.diagnostics.push(
                    Diagnostic::error(
                        Code::MissingAttribute,
                        "a validation block needs `condition` and `error_message`",
                    )
                    .with_optional_label(validation.span.clone(), "incomplete validation")
                    .with_help(
                        "condition = length(var.x) > 3\n    error_message = \"x must be longer than 3 characters\"",
                    ),
                ),
            }
        }
        let variable = VariableConfig {
            name: labels[0].clone(),
            span: self.header_span(block),
            type_constraint,
            default: body.attribute("default").map(|attribute| attribute.value.clone()),
            description,
            sensitive,
            validations,
        };
        if sensitive && let Some(default) = &variable.default {
            // A sensitive default would be committed: never show it.
            if let Some(span) = default.span() {
                self.sources.mask(&span);
            }
        }
        if let Some(existing) = module.variables.get(&variable.name) {
            let old = existing.span.clone();
            self.duplicate(&format!("var.{}", variable.name), variable.span.clone(), old);
            return;
        }
        module.variables.insert(variable.name.clone(), variable);
    }

    fn load_locals(&mut self, block: &Block, module: &mut ModuleConfig) {
        let body = self.body(&block.body);
        for block in &body.blocks {
            self.diagnostics.push(
                Diagnostic::error(Code::UnknownBlock, "a locals block holds only attributes")
                    .with_optional_label(block.span.clone(), "a block here")
                    .with_help("write `name = value` lines inside locals"),
            );
        }
        for attribute in body.attributes.values() {
            let local = LocalConfig {
                name: attribute.name.clone(),
                span: attribute.name_span.clone(),
                value: attribute.value.clone(),
            };
            if let Some(existing) = module.locals.get(&local.name) {
                let old = existing.span.clone();
                self.duplicate(&format!("local.{}", local.name), local.span.clone(), old);
                continue;
            }
            module.locals.insert(local.name.clone(), local);
        }
    }

    fn load_resource(&mut self, block: &Block, module: &mut ModuleConfig, mode: ResourceMode) {
        let Some(labels) = self.labels(block, &["type", "name"]) else {
            return;
        };
        let mut body = self.body(&block.body);
        let count = body.attributes.shift_remove("count").map(|attribute| attribute.value);
        let for_each = body
            .attributes
            .shift_remove("for_each")
            .map(|attribute| attribute.value);
        if let (Some(_), Some(for_each)) = (&count, &for_each) {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidMetaArgument,
                    "a resource cannot have both count and for_each",
                )
                .with_optional_label(for_each.span(), "for_each here")
                .with_help("keep one: count for N identical instances, for_each for one instance per key"),
            );
        }
        let depends_on = body
            .attributes
            .shift_remove("depends_on")
            .map(|attribute| self.depends_on(&attribute))
            .unwrap_or_default();
        let provider = body
            .attributes
            .shift_remove("provider")
            .and_then(|attribute| self.provider_reference(&attribute));
        let lifecycle = self.lifecycle(&mut body);
        let resource = ResourceConfig {
            mode,
            resource_type: labels[0].clone(),
            name: labels[1].clone(),
            span: self.header_span(block),
            body,
            count,
            for_each,
            depends_on,
            provider,
            lifecycle,
        };
        let address = ResourceAddress::new(Default::default(), mode, &resource.resource_type, &resource.name);
        if let Some(existing) = module.resources.get(&address) {
            let old = existing.span.clone();
            self.duplicate(&address.to_string(), resource.span.clone(), old);
            return;
        }
        module.resources.insert(address, resource);
    }

    fn depends_on(&mut self, attribute: &AttributeConfig) -> Vec<DependsOn> {
        let Some(array) = attribute.value.expression.as_array() else {
            self.diagnostics.push(
                Diagnostic::error(Code::InvalidMetaArgument, "depends_on must be a list of references")
                    .with_optional_label(attribute.value.span(), "not a list")
                    .with_help("write depends_on = [local_key.main, module.app]"),
            );
            return Vec::new();
        };
        array
            .iter()
            .map(|expression| DependsOn {
                expression: self.expr(expression),
            })
            .collect()
    }

    fn provider_reference(&mut self, attribute: &AttributeConfig) -> Option<(String, Option<String>)> {
        let parts = traversal_names(&attribute.value.expression);
        match parts.as_deref() {
            Some([name]) => Some((name.clone(), None)),
            Some([name, alias]) => Some((name.clone(), Some(alias.clone()))),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(Code::InvalidMetaArgument, "provider must name a provider configuration")
                        .with_optional_label(attribute.value.span(), "not a provider reference")
                        .with_help(
                            "write provider = local.backup (the provider's name, then its alias), without quotes",
                        ),
                );
                None
            }
        }
    }

    fn lifecycle(&mut self, body: &mut BodyConfig) -> Lifecycle {
        let mut lifecycle = Lifecycle::default();
        let blocks: Vec<BlockConfig> = body
            .blocks
            .iter()
            .filter(|block| block.block_type == "lifecycle")
            .cloned()
            .collect();
        body.blocks.retain(|block| block.block_type != "lifecycle");
        for block in blocks {
            self.check_names(
                &block.body,
                "a lifecycle block",
                &["prevent_destroy", "create_before_destroy", "ignore_changes"],
                &[],
            );
            if let Some(attribute) = block.body.attribute("prevent_destroy") {
                lifecycle.prevent_destroy = self.literal_bool(attribute, "prevent_destroy");
            }
            if let Some(attribute) = block.body.attribute("create_before_destroy") {
                lifecycle.create_before_destroy = self.literal_bool(attribute, "create_before_destroy");
            }
            if let Some(attribute) = block.body.attribute("ignore_changes") {
                match attribute.value.expression.as_array() {
                    Some(array) => {
                        for item in array.iter() {
                            match traversal_names(item)
                                .and_then(|names| names.first().cloned())
                                .or_else(|| literal_string(item))
                            {
                                Some(name) => lifecycle.ignore_changes.push(name),
                                None => self.diagnostics.push(
                                    Diagnostic::error(
                                        Code::InvalidMetaArgument,
                                        "ignore_changes takes attribute names",
                                    )
                                    .with_optional_label(Span::maybe(self.file, item.span()), "not an attribute name")
                                    .with_help("write ignore_changes = [description, tags]"),
                                ),
                            }
                        }
                    }
                    None if attribute.value.expression.as_str() == Some("all")
                        || traversal_names(&attribute.value.expression).is_some_and(|names| names == ["all"]) =>
                    {
                        lifecycle.ignore_changes.push("*".to_string());
                    }
                    None => self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidMetaArgument,
                            "ignore_changes takes a list of attribute names, or all",
                        )
                        .with_optional_label(attribute.value.span(), "not a list")
                        .with_help("write ignore_changes = [description]"),
                    ),
                }
            }
        }
        lifecycle
    }

    fn load_output(&mut self, block: &Block, module: &mut ModuleConfig) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let body = self.body(&block.body);
        self.check_names(
            &body,
            "an output",
            &["value", "sensitive", "description", "depends_on"],
            &[],
        );
        let Some(value) = body.attribute("value") else {
            let span = self.header_span(block);
            self.diagnostics.push(
                Diagnostic::error(Code::MissingAttribute, format!("output `{}` has no value", labels[0]))
                    .with_optional_label(span, "missing `value`")
                    .with_help("add value = <expression>"),
            );
            return;
        };
        let output = OutputConfig {
            name: labels[0].clone(),
            span: self.header_span(block),
            value: value.value.clone(),
            sensitive: body
                .attribute("sensitive")
                .cloned()
                .is_some_and(|attribute| self.literal_bool(&attribute, "sensitive")),
            description: body
                .attribute("description")
                .cloned()
                .and_then(|attribute| self.literal_string(&attribute, "a description")),
        };
        if let Some(existing) = module.outputs.get(&output.name) {
            let old = existing.span.clone();
            self.duplicate(&format!("output.{}", output.name), output.span.clone(), old);
            return;
        }
        module.outputs.insert(output.name.clone(), output);
    }

    fn load_module_call(&mut self, block: &Block, module: &mut ModuleConfig) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let mut body = self.body(&block.body);
        let span = self.header_span(block);
        for meta in ["count", "for_each", "providers", "version"] {
            if let Some(attribute) = body.attributes.shift_remove(meta) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidModule,
                        format!("`{meta}` on a module call is not supported by this version"),
                    )
                    .with_optional_label(attribute.name_span, "not supported yet")
                    .with_help("call the module once per instance; child modules use the root module's providers"),
                );
            }
        }
        let depends_on = body
            .attributes
            .shift_remove("depends_on")
            .map(|attribute| self.depends_on(&attribute))
            .unwrap_or_default();
        let Some(source_attribute) = body.attributes.shift_remove("source") else {
            self.diagnostics.push(
                Diagnostic::error(Code::InvalidModule, format!("module `{}` has no source", labels[0]))
                    .with_optional_label(span, "missing `source`")
                    .with_help("add source = \"./modules/NAME\" (a folder relative to this file's folder)"),
            );
            return;
        };
        let Some(source) = self.literal_string(&source_attribute, "a module source") else {
            return;
        };
        if !(source.starts_with("./") || source.starts_with("../")) {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidModule,
                    format!("module source `{source}` is not a local path"),
                )
                .with_optional_label(source_attribute.value.span(), "not ./ or ../")
                .with_help("this version loads modules from local folders: start the source with ./ or ../"),
            );
            return;
        }
        if self.depth + 1 > MAXIMUM_MODULE_DEPTH {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidModule,
                    "modules nest too deeply (does a module call itself?)",
                )
                .with_optional_label(span, "called here")
                .with_help(format!("module calls may nest {MAXIMUM_MODULE_DEPTH} deep")),
            );
            return;
        }
        let folder = module.folder.join(&source);
        if !folder.is_dir() {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidModule,
                    format!("module source {} is not a folder", folder.display()),
                )
                .with_optional_label(source_attribute.value.span(), "no such folder")
                .with_help("the source is relative to the folder of the file that calls the module"),
            );
            return;
        }
        let child = load_module(&folder, self.sources, self.diagnostics, self.depth + 1);
        let call = ModuleCall {
            name: labels[0].clone(),
            span,
            source,
            arguments: body.attributes,
            depends_on,
            child: Box::new(child),
        };
        if let Some(existing) = module.module_calls.get(&call.name) {
            let old = existing.span.clone();
            self.duplicate(&format!("module.{}", call.name), call.span.clone(), old);
            return;
        }
        module.module_calls.insert(call.name.clone(), call);
    }

    fn address_attribute(&mut self, body: &BodyConfig, name: &str, context: &str) -> Option<(String, Option<Span>)> {
        let attribute = body.attribute(name)?;
        match expression_to_address(&attribute.value.expression) {
            Some(address) => Some((address, attribute.value.span())),
            None => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidAddress,
                        format!("`{name}` in {context} must be a resource address"),
                    )
                    .with_optional_label(attribute.value.span(), "not an address")
                    .with_help(
                        "write an address without quotes, for example local_secret.db or local_secret.db[\"a\"]",
                    ),
                );
                None
            }
        }
    }

    fn load_import(&mut self, block: &Block, module: &mut ModuleConfig) {
        let body = self.body(&block.body);
        self.check_names(&body, "an import block", &["to", "id"], &[]);
        let span = self.header_span(block);
        let (Some((to, to_span)), Some(id)) = (
            self.address_attribute(&body, "to", "an import block"),
            body.attribute("id"),
        ) else {
            if body.attribute("to").is_none() || body.attribute("id").is_none() {
                self.diagnostics.push(
                    Diagnostic::error(Code::MissingAttribute, "an import block needs `to` and `id`")
                        .with_optional_label(span, "incomplete import")
                        .with_help("import {\n    to = local_secret.db\n    id = \"db-password\"\n  }"),
                );
            }
            return;
        };
        module.imports.push(ImportConfig {
            to,
            to_span,
            id: id.value.clone(),
        });
    }

    fn load_moved(&mut self, block: &Block, module: &mut ModuleConfig) {
        let body = self.body(&block.body);
        self.check_names(&body, "a moved block", &["from", "to"], &[]);
        let span = self.header_span(block);
        let from = self.address_attribute(&body, "from", "a moved block");
        let to = self.address_attribute(&body, "to", "a moved block");
        match (from, to) {
            (Some((from, _)), Some((to, _))) => module.moved.push(MovedConfig { from, to, span }),
            _ if body.attribute("from").is_none() || body.attribute("to").is_none() => self.diagnostics.push(
                Diagnostic::error(Code::MissingAttribute, "a moved block needs `from` and `to`")
                    .with_optional_label(span, "incomplete moved block")
                    .with_help("moved {\n    from = local_secret.old\n    to   = local_secret.new\n  }"),
            ),
            _ => {}
        }
    }

    fn load_check(&mut self, block: &Block, module: &mut ModuleConfig) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let body = self.body(&block.body);
        self.check_names(&body, "a check block", &[], &["assert"]);
        let mut assertions = Vec::new();
        for assert in body.blocks_of("assert") {
            self.check_names(&assert.body, "an assert block", &["condition", "error_message"], &[]);
            if let (Some(condition), Some(error_message)) = (
                assert.body.attribute("condition"),
                assert.body.attribute("error_message"),
            ) {
                assertions.push(ValidationConfig {
                    condition: condition.value.clone(),
                    error_message: error_message.value.clone(),
                });
            }
        }
        module.checks.push(CheckConfig {
            name: labels[0].clone(),
            span: self.header_span(block),
            assertions,
        });
    }
}

/// The text of a string literal, or of a template made only of literal text.
pub fn literal_string(expression: &Expression) -> Option<String> {
    match expression {
        Expression::String(text) => Some(text.value().clone()),
        Expression::StringTemplate(template) => {
            let mut text = String::new();
            for element in template.iter() {
                match element {
                    hcl_edit::template::Element::Literal(literal) => text.push_str(literal.value()),
                    _ => return None,
                }
            }
            Some(text)
        }
        _ => None,
    }
}

/// The names of a plain traversal `a.b.c` (no index, no splat).
pub fn traversal_names(expression: &Expression) -> Option<Vec<String>> {
    match expression {
        Expression::Variable(variable) => Some(vec![variable.value().to_string()]),
        Expression::Traversal(traversal) => {
            let mut names = traversal_names(&traversal.expr)?;
            for operator in &traversal.operators {
                match operator.value() {
                    TraversalOperator::GetAttr(name) => names.push(name.value().to_string()),
                    _ => return None,
                }
            }
            Some(names)
        }
        _ => None,
    }
}

/// The address text a traversal spells (`module.a.local_secret.db["x"]`), with literal keys only.
pub fn expression_to_address(expression: &Expression) -> Option<String> {
    let (root, operators): (String, &[hcl_edit::Decorated<TraversalOperator>]) = match expression {
        Expression::Variable(variable) => (variable.value().to_string(), &[]),
        Expression::Traversal(traversal) => match &traversal.expr {
            Expression::Variable(variable) => (variable.value().to_string(), traversal.operators.as_slice()),
            _ => return None,
        },
        _ => return None,
    };
    let mut text = root;
    for operator in operators {
        match operator.value() {
            TraversalOperator::GetAttr(name) => {
                text.push('.');
                text.push_str(name.value());
            }
            TraversalOperator::Index(Expression::Number(number)) => text.push_str(&format!("[{}]", number.value())),
            TraversalOperator::LegacyIndex(index) => text.push_str(&format!("[{}]", index.value())),
            TraversalOperator::Index(key) => {
                let key = literal_string(key)?;
                text.push_str(&format!("[{}]", serde_json::Value::String(key)));
            }
            _ => return None,
        }
    }
    crate::addr::parse_instance_address(&text)
        .ok()
        .map(|address| address.to_string())
}

/// Reads a type constraint expression (`string`, `list(string)`, `object({ a = number })`).
pub fn parse_type(expression: &Expression) -> Option<TypeConstraint> {
    match expression {
        Expression::Variable(name) => match name.value().as_str() {
            "string" => Some(TypeConstraint::String),
            "number" => Some(TypeConstraint::Number),
            "bool" => Some(TypeConstraint::Bool),
            "any" => Some(TypeConstraint::Any),
            _ => None,
        },
        Expression::FuncCall(call) => {
            let argument = call.args.iter().next();
            match (call.name.name.value().as_str(), argument) {
                ("list" | "tuple", Some(inner)) => Some(TypeConstraint::List(Box::new(parse_type(inner)?))),
                ("set", Some(inner)) => Some(TypeConstraint::Set(Box::new(parse_type(inner)?))),
                ("map", Some(inner)) => Some(TypeConstraint::Map(Box::new(parse_type(inner)?))),
                ("optional", Some(inner)) => parse_type(inner),
                ("object", Some(Expression::Object(object))) => {
                    let mut fields = IndexMap::new();
                    for (key, value) in object.iter() {
                        let name = match key {
                            hcl_edit::expr::ObjectKey::Ident(ident) => ident.value().to_string(),
                            hcl_edit::expr::ObjectKey::Expression(expression) => literal_string(expression)?,
                        };
                        fields.insert(name, parse_type(value.expr())?);
                    }
                    Some(TypeConstraint::Object(fields))
                }
                _ => None,
            }
        }
        _ => None,
    }
}
