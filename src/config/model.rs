//! The raw configuration model: what the files declare, with every
//! expression kept unevaluated beside its file and span.

use crate::addr::{ResourceAddress, ResourceMode};
use crate::diag::{FileId, Span};
use hcl_edit::Span as _;
use indexmap::IndexMap;
use std::path::PathBuf;

/// An unevaluated expression and the file it was written in.
#[derive(Debug, Clone)]
pub struct Expr {
    pub expression: hcl_edit::expr::Expression,
    pub file: FileId,
}

impl Expr {
    /// The expression's span, when the parser recorded one.
    pub fn span(&self) -> Option<Span> {
        Span::maybe(self.file, self.expression.span())
    }
}

/// An attribute inside a block.
#[derive(Debug, Clone)]
pub struct AttributeConfig {
    pub name: String,
    pub name_span: Option<Span>,
    pub value: Expr,
}

/// A nested block (`rotation`, `lifecycle`, `validation`, a backend...).
#[derive(Debug, Clone)]
pub struct BlockConfig {
    pub block_type: String,
    pub labels: Vec<String>,
    pub span: Option<Span>,
    pub body: BodyConfig,
}

/// The attributes and nested blocks of a block.
#[derive(Debug, Clone, Default)]
pub struct BodyConfig {
    pub attributes: IndexMap<String, AttributeConfig>,
    pub blocks: Vec<BlockConfig>,
}

impl BodyConfig {
    pub fn attribute(&self, name: &str) -> Option<&AttributeConfig> {
        self.attributes.get(name)
    }

    pub fn blocks_of<'a>(&'a self, block_type: &'a str) -> impl Iterator<Item = &'a BlockConfig> + 'a {
        self.blocks.iter().filter(move |block| block.block_type == block_type)
    }
}

/// `keyform { backend "local" { path = ... } }`.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub kind: String,
    pub path: Option<String>,
    pub span: Option<Span>,
}

/// `provider "local" { alias = "x" ... }`.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub span: Option<Span>,
    pub body: BodyConfig,
}

impl ProviderConfig {
    /// `provider.local` or `provider.local.alias`.
    pub fn key(&self) -> String {
        provider_key(&self.name, self.alias.as_deref())
    }
}

/// The key a provider configuration is known by in state and the graph.
pub fn provider_key(name: &str, alias: Option<&str>) -> String {
    match alias {
        Some(alias) => format!("provider.{name}.{alias}"),
        None => format!("provider.{name}"),
    }
}

/// A variable's type constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    Set(Box<TypeConstraint>),
    Map(Box<TypeConstraint>),
    Object(IndexMap<String, TypeConstraint>),
}

impl std::fmt::Display for TypeConstraint {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeConstraint::Any => formatter.write_str("any"),
            TypeConstraint::String => formatter.write_str("string"),
            TypeConstraint::Number => formatter.write_str("number"),
            TypeConstraint::Bool => formatter.write_str("bool"),
            TypeConstraint::List(inner) => write!(formatter, "list({inner})"),
            TypeConstraint::Set(inner) => write!(formatter, "set({inner})"),
            TypeConstraint::Map(inner) => write!(formatter, "map({inner})"),
            TypeConstraint::Object(fields) => {
                let parts: Vec<String> = fields.iter().map(|(name, kind)| format!("{name} = {kind}")).collect();
                write!(formatter, "object({{ {} }})", parts.join(", "))
            }
        }
    }
}

/// `validation { condition = ..., error_message = ... }` inside a variable.
#[derive(Debug, Clone)]
pub struct ValidationConfig {
    pub condition: Expr,
    pub error_message: Expr,
}

/// `variable "name" { ... }`.
#[derive(Debug, Clone)]
pub struct VariableConfig {
    pub name: String,
    pub span: Option<Span>,
    pub type_constraint: TypeConstraint,
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub validations: Vec<ValidationConfig>,
}

/// One entry of a `locals` block.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub name: String,
    pub span: Option<Span>,
    pub value: Expr,
}

/// `output "name" { value = ..., sensitive = ... }`.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub name: String,
    pub span: Option<Span>,
    pub value: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
}

/// `lifecycle { ... }` inside a resource.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    pub ignore_changes: Vec<String>,
}

/// A reference written in `depends_on`.
#[derive(Debug, Clone)]
pub struct DependsOn {
    pub expression: Expr,
}

/// `resource "type" "name" { ... }` or `data "type" "name" { ... }`.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    pub mode: ResourceMode,
    pub resource_type: String,
    pub name: String,
    pub span: Option<Span>,
    /// The body without meta-arguments.
    pub body: BodyConfig,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<DependsOn>,
    /// `provider = local.alias`: the provider's name and alias.
    pub provider: Option<(String, Option<String>)>,
    pub lifecycle: Lifecycle,
}

impl ResourceConfig {
    /// The provider name a resource type belongs to: the text before the first `_`.
    pub fn provider_name(&self) -> &str {
        provider_of_type(&self.resource_type)
    }

    /// `provider.local` or `provider.local.alias`.
    pub fn provider_key(&self) -> String {
        match &self.provider {
            Some((name, alias)) => provider_key(name, alias.as_deref()),
            None => provider_key(self.provider_name(), None),
        }
    }
}

/// The provider name of a resource type (`aws_kms_key` -> `aws`).
pub fn provider_of_type(resource_type: &str) -> &str {
    resource_type.split('_').next().unwrap_or(resource_type)
}

/// `module "name" { source = "./path" ... }`, with the loaded child.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub span: Option<Span>,
    pub source: String,
    /// Arguments for the child's variables.
    pub arguments: IndexMap<String, AttributeConfig>,
    pub depends_on: Vec<DependsOn>,
    pub child: Box<ModuleConfig>,
}

/// `import { to = ..., id = ... }`.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    pub to: String,
    pub to_span: Option<Span>,
    pub id: Expr,
}

/// `moved { from = ..., to = ... }`.
#[derive(Debug, Clone)]
pub struct MovedConfig {
    pub from: String,
    pub to: String,
    pub span: Option<Span>,
}

/// `check "name" { assert { condition, error_message } }`.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub name: String,
    pub span: Option<Span>,
    pub assertions: Vec<ValidationConfig>,
}

/// One module folder, with the modules it calls.
#[derive(Debug, Clone, Default)]
pub struct ModuleConfig {
    pub folder: PathBuf,
    pub backend: Option<BackendConfig>,
    pub providers: Vec<ProviderConfig>,
    pub variables: IndexMap<String, VariableConfig>,
    pub locals: IndexMap<String, LocalConfig>,
    pub resources: IndexMap<ResourceAddress, ResourceConfig>,
    pub outputs: IndexMap<String, OutputConfig>,
    pub module_calls: IndexMap<String, ModuleCall>,
    pub imports: Vec<ImportConfig>,
    pub moved: Vec<MovedConfig>,
    pub checks: Vec<CheckConfig>,
}
