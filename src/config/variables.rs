//! Values for root-module variables: `KEYFORM_VAR_name`, `--var-file`
//! (`.tfvars`, `.tfvars.json`) and `--var NAME=VALUE`, later sources winning
//! in that order, as Terraform does. **Values of sensitive variables are
//! masked in their files, so no diagnostic shows them.**

use super::eval::{Resolver, Scope, Symbol, Taint, evaluate};
use super::load::{display_path, syntax_diagnostic};
use super::model::{Expr, ModuleConfig, TypeConstraint};
use super::value::{Kind, Value};
use crate::addr::ModulePath;
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap, Span};
use hcl_edit::Span as _;
use hcl_edit::structure::Structure;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The prefix of environment variables that set keyform variables.
pub const ENVIRONMENT_PREFIX: &str = "KEYFORM_VAR_";

/// A value given for a root variable, and where it came from.
#[derive(Debug, Clone)]
pub struct VariableInput {
    pub value: Value,
    pub origin: String,
    pub span: Option<Span>,
}

/// What the user passed on the command line.
#[derive(Debug, Clone, Default)]
pub struct VariableArguments {
    /// `NAME=VALUE` pairs from `--var`.
    pub assignments: Vec<String>,
    pub files: Vec<PathBuf>,
}

struct NoReferences;

impl Resolver for NoReferences {
    fn resolve(&self, _symbol: &Symbol) -> Option<Value> {
        None
    }

    fn module_outputs(&self, _module: &ModulePath) -> Option<Vec<String>> {
        None
    }
}

/// Marks a value as coming from outside the configuration (not a literal), deeply.
pub fn external(mut value: Value) -> Value {
    value.literal = false;
    match &mut value.kind {
        Kind::List(items) => {
            for item in items.iter_mut() {
                *item = external(item.clone());
            }
        }
        Kind::Map(entries) => {
            for item in entries.values_mut() {
                *item = external(item.clone());
            }
        }
        _ => {}
    }
    value
}

/// Evaluates an expression that may not refer to anything (a tfvars value, a `--var`).
pub fn evaluate_constant(expr: &Expr, folder: &Path) -> Result<Value, Diagnostic> {
    let scope = Scope {
        module: &ModulePath::root(),
        folder,
        root_folder: folder,
        resolver: &NoReferences,
        taint: &Taint::default(),
        each: None,
        count_index: None,
    };
    evaluate(expr, &scope).map(external)
}

/// Collects the values for the root module's variables.
pub fn collect_inputs(
    arguments: &VariableArguments,
    root: &ModuleConfig,
    sources: &SourceMap,
) -> Result<HashMap<String, VariableInput>, Diagnostics> {
    let mut inputs = HashMap::new();
    let mut diagnostics = Diagnostics::new();
    let mut environment: Vec<(String, String)> = std::env::vars()
        .filter_map(|(name, value)| {
            name.strip_prefix(ENVIRONMENT_PREFIX)
                .map(|name| (name.to_string(), value))
        })
        .collect();
    environment.sort();
    for (name, text) in environment {
        let Some(variable) = root.variables.get(&name) else {
            continue;
        };
        match from_text(&text, &variable.type_constraint, root, sources) {
            Ok(value) => {
                inputs.insert(
                    name.clone(),
                    VariableInput {
                        value,
                        origin: format!("${ENVIRONMENT_PREFIX}{name}"),
                        span: None,
                    },
                );
            }
            Err(message) => diagnostics.push(
                Diagnostic::error(
                    Code::InvalidVariableFile,
                    format!(
                        "${ENVIRONMENT_PREFIX}{name} is not a valid {}: {}",
                        variable.type_constraint,
                        shown_error(variable, message)
                    ),
                )
                .with_help("give the value in HCL syntax, for example [\"a\", \"b\"] for a list"),
            ),
        }
    }
    for file in &arguments.files {
        read_variable_file(file, root, sources, &mut inputs, &mut diagnostics);
    }
    for assignment in &arguments.assignments {
        let Some((name, text)) = assignment.split_once('=') else {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidVariableFile,
                    format!(
                        "--var `{}` is not NAME=VALUE",
                        assignment.split('=').next().unwrap_or_default()
                    ),
                )
                .with_help("write --var name=value"),
            );
            continue;
        };
        let Some(variable) = root.variables.get(name) else {
            let help = match crate::diag::did_you_mean(name, root.variables.keys().map(String::as_str)) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "declare it with a variable block in the root module".to_string(),
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::UndeclaredReference,
                    format!("--var sets undeclared variable `{name}`"),
                )
                .with_help(help),
            );
            continue;
        };
        match from_text(text, &variable.type_constraint, root, sources) {
            Ok(value) => {
                inputs.insert(
                    name.to_string(),
                    VariableInput {
                        value,
                        origin: "--var".to_string(),
                        span: None,
                    },
                );
            }
            Err(message) => diagnostics.push(
                Diagnostic::error(
                    Code::TypeMismatch,
                    format!(
                        "--var {name}: not a valid {}: {}",
                        variable.type_constraint,
                        shown_error(variable, message)
                    ),
                )
                .with_help("give the value in HCL syntax, for example [\"a\", \"b\"] for a list"),
            ),
        }
    }
    diagnostics.into_result(inputs)
}

/// A string for string variables; HCL syntax for the others.
fn from_text(
    text: &str,
    constraint: &TypeConstraint,
    root: &ModuleConfig,
    sources: &SourceMap,
) -> Result<Value, String> {
    if matches!(constraint, TypeConstraint::String | TypeConstraint::Any) {
        return Ok(Value::string(text));
    }
    let expression = hcl_edit::parser::parse_expr(text).map_err(|error| error.message().to_string())?;
    let file = sources.add(
        Path::new("<command line>"),
        "<command line>".to_string(),
        text.to_string(),
    );
    evaluate_constant(&Expr { expression, file }, &root.folder).map_err(|diagnostic| diagnostic.message)
}

fn read_variable_file(
    path: &Path,
    root: &ModuleConfig,
    sources: &SourceMap,
    inputs: &mut HashMap<String, VariableInput>,
    diagnostics: &mut Diagnostics,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidVariableFile,
                    format!("cannot read the variable file {}: {error}", display_path(path)),
                )
                .with_help("check the path given to --var-file"),
            );
            return;
        }
    };
    let file = sources.add(path, display_path(path), text.clone());
    let origin = display_path(path);
    if path.to_string_lossy().ends_with(".json") {
        let entries = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
            Ok(entries) => entries,
            Err(error) => {
                // Never quote the file: it may hold secrets.
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidVariableFile,
                        format!(
                            "{origin} is not a JSON object: line {}, column {}",
                            error.line(),
                            error.column()
                        ),
                    )
                    .with_help("a .tfvars.json file holds one object: {\"name\": \"value\"}"),
                );
                return;
            }
        };
        for (name, json) in entries {
            if root.variables.contains_key(&name) {
                inputs.insert(
                    name,
                    VariableInput {
                        value: Value::from_json(&json),
                        origin: origin.clone(),
                        span: None,
                    },
                );
            } else {
                diagnostics.push(undeclared_in_file(&name, &origin, None));
            }
        }
        return;
    }
    let body = match hcl_edit::parser::parse_body(&text) {
        Ok(body) => body,
        Err(error) => {
            // Mask the whole file before showing any of it: it may hold secrets.
            sources.mask(&Span::new(file, 0..text.len()));
            diagnostics.push(syntax_diagnostic(file, &text, &error));
            return;
        }
    };
    for structure in body.iter() {
        let Structure::Attribute(attribute) = structure else {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidVariableFile,
                    format!("{origin} may hold only `name = value` lines"),
                )
                .with_optional_label(Span::maybe(file, structure.span()), "a block here")
                .with_help("remove the block"),
            );
            continue;
        };
        let name = attribute.key.as_str().to_string();
        let expr = Expr {
            expression: attribute.value.clone(),
            file,
        };
        let variable = root.variables.get(&name);
        if variable.is_none_or(|variable| variable.sensitive)
            && let Some(span) = expr.span()
        {
            sources.mask(&span);
        }
        if variable.is_none() {
            diagnostics.push(undeclared_in_file(
                &name,
                &origin,
                Span::maybe(file, attribute.key.span()),
            ));
            continue;
        }
        match evaluate_constant(&expr, &root.folder) {
            Ok(value) => {
                inputs.insert(
                    name,
                    VariableInput {
                        value,
                        origin: origin.clone(),
                        span: expr.span(),
                    },
                );
            }
            Err(mut diagnostic) => {
                // The message may quote the value (`unknown name `...``).
                if variable.is_some_and(|variable| variable.sensitive) {
                    diagnostic.message =
                        format!("{origin}: the value of sensitive variable `{name}` cannot be evaluated");
                }
                diagnostics.push(diagnostic);
            }
        }
    }
}

/// A parse or evaluation error about a variable's value, which may quote the
/// value: not shown for a sensitive variable.
fn shown_error(variable: &crate::config::model::VariableConfig, message: String) -> String {
    if variable.sensitive {
        "the value is sensitive and not shown".to_string()
    } else {
        message
    }
}

fn undeclared_in_file(name: &str, origin: &str, span: Option<Span>) -> Diagnostic {
    Diagnostic::warning(
        Code::UndeclaredReference,
        format!("{origin} sets `{name}`, which no variable block declares"),
    )
    .with_optional_label(span, "not declared")
    .with_help("declare the variable, or remove the line")
}
