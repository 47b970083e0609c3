//! Evaluating expressions over the hcl-edit tree.
//!
//! Values carry the sensitive and literal marks (see [`super::value`]), and
//! every error names the span of the sub-expression at fault. **A value that
//! comes from `env()` or `file()` is plain unless the source is tainted (it
//! reaches a sensitive attribute somewhere), in which case it is sensitive
//! everywhere it flows.**

use super::functions::{call_function, function_names};
use super::model::Expr;
use super::value::{GenerateSpec, Kind, Value};
use crate::addr::{ModulePath, ResourceAddress, ResourceMode};
use crate::diag::{Code, Diagnostic, FileId, Span, did_you_mean};
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A named thing whose value the evaluator can look up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    Variable(ModulePath, String),
    Local(ModulePath, String),
    Resource(ResourceAddress),
    Output(ModulePath, String),
}

/// Gives the evaluator the value of a symbol, or None when it is undeclared.
pub trait Resolver: Sync {
    fn resolve(&self, symbol: &Symbol) -> Option<Value>;
    /// The names of a module's outputs, for `module.NAME` as a whole.
    fn module_outputs(&self, module: &ModulePath) -> Option<Vec<String>>;
}

/// Sources whose values must be treated as sensitive wherever they flow.
#[derive(Debug, Clone, Default)]
pub struct Taint {
    pub environment: HashSet<String>,
    pub files: HashSet<PathBuf>,
}

/// Everything an expression may refer to.
pub struct Scope<'a> {
    pub module: &'a ModulePath,
    pub folder: &'a Path,
    pub root_folder: &'a Path,
    pub resolver: &'a dyn Resolver,
    pub taint: &'a Taint,
    pub each: Option<(Value, Value)>,
    pub count_index: Option<u64>,
}

/// Evaluates one expression.
pub fn evaluate(expr: &Expr, scope: &Scope<'_>) -> Result<Value, Diagnostic> {
    let mut evaluator = Evaluator {
        scope,
        file: expr.file,
        bound: Vec::new(),
    };
    evaluator.expression(&expr.expression)
}

struct Evaluator<'a> {
    scope: &'a Scope<'a>,
    file: FileId,
    /// Names bound by `for` expressions, innermost last.
    bound: Vec<(String, Value)>,
}

type Outcome = Result<Value, Diagnostic>;

fn container_literal<'a>(items: impl IntoIterator<Item = &'a Value>) -> bool {
    items.into_iter().all(Value::deep_literal)
}

impl Evaluator<'_> {
    fn span_of(&self, node: &impl hcl_edit::Span) -> Option<Span> {
        Span::maybe(self.file, node.span())
    }

    fn fail(
        &self,
        node: &impl hcl_edit::Span,
        code: Code,
        message: impl Into<String>,
        label: &str,
        help: &str,
    ) -> Diagnostic {
        Diagnostic::error(code, message)
            .with_optional_label(self.span_of(node), label)
            .with_help(help)
    }

    fn expression(&mut self, expression: &Expression) -> Outcome {
        match expression {
            Expression::Null(_) => Ok(Value::null()),
            Expression::Bool(value) => Ok(Value::literal(Kind::Bool(*value.value()))),
            Expression::Number(number) => Ok(Value::literal(Kind::Number(number.value().as_f64().unwrap_or(0.0)))),
            Expression::String(text) => Ok(Value::literal(Kind::String(text.value().clone()))),
            Expression::Array(array) => {
                let items = array
                    .iter()
                    .map(|item| self.expression(item))
                    .collect::<Result<Vec<_>, _>>()?;
                let literal = container_literal(&items);
                Ok(Value {
                    literal,
                    ..Value::list(items)
                })
            }
            Expression::Object(object) => {
                let mut entries = IndexMap::new();
                let mut key_values = Vec::new();
                for (key, value) in object.iter() {
                    let name = match key {
                        ObjectKey::Ident(ident) => ident.value().to_string(),
                        ObjectKey::Expression(key_expression) => {
                            let key_value = self.expression(key_expression)?;
                            if key_value.is_unknown() {
                                return Ok(Value::unknown().with_marks_of([&key_value]));
                            }
                            let Some(name) = key_value.to_plain_string() else {
                                return Err(self.fail(
                                    key_expression,
                                    Code::TypeMismatch,
                                    "an object key must be a string",
                                    "not a string",
                                    "use a string, number or bool as the key",
                                ));
                            };
                            key_values.push(key_value);
                            name
                        }
                    };
                    entries.insert(name, self.expression(value.expr())?);
                }
                let literal = container_literal(entries.values()) && container_literal(&key_values);
                Ok(Value {
                    literal,
                    ..Value::map(entries)
                })
            }
            Expression::StringTemplate(template) => self.template(template),
            Expression::HeredocTemplate(heredoc) => self.template(&heredoc.template),
            Expression::Parenthesis(parenthesis) => self.expression(parenthesis.inner()),
            Expression::Variable(variable) => self.variable(variable.value().as_str(), &[], variable),
            Expression::Traversal(traversal) => self.traversal(traversal),
            Expression::FuncCall(call) => self.function(call),
            Expression::UnaryOp(operation) => {
                let operand = self.expression(&operation.expr)?;
                if operand.is_unknown() {
                    return Ok(Value::unknown().with_marks_of([&operand]));
                }
                let result = match (operation.operator.value(), &operand.kind) {
                    (UnaryOperator::Neg, Kind::Number(number)) => Kind::Number(-number),
                    (UnaryOperator::Not, Kind::Bool(value)) => Kind::Bool(!value),
                    (UnaryOperator::Neg, _) => return Err(self.type_error(&operation.expr, "number", &operand)),
                    (UnaryOperator::Not, _) => return Err(self.type_error(&operation.expr, "bool", &operand)),
                };
                Ok(Value::new(result).with_marks_of([&operand]))
            }
            Expression::BinaryOp(operation) => {
                let left = self.expression(&operation.lhs_expr)?;
                let operator = *operation.operator.value();
                // && and || short-circuit on a known left side.
                if let (BinaryOperator::And, Kind::Bool(false)) | (BinaryOperator::Or, Kind::Bool(true)) =
                    (operator, &left.kind)
                {
                    return Ok(left);
                }
                let right = self.expression(&operation.rhs_expr)?;
                self.binary(operator, &left, &right, operation)
            }
            Expression::Conditional(conditional) => {
                let condition = self.expression(&conditional.cond_expr)?;
                match condition.kind {
                    Kind::Bool(true) => Ok(self
                        .expression(&conditional.true_expr)?
                        .with_marks_of([&condition])
                        .keep_literal_of(&condition)),
                    Kind::Bool(false) => Ok(self
                        .expression(&conditional.false_expr)?
                        .with_marks_of([&condition])
                        .keep_literal_of(&condition)),
                    Kind::Unknown => Ok(Value::unknown().with_marks_of([&condition])),
                    _ => Err(self.type_error(&conditional.cond_expr, "bool", &condition)),
                }
            }
            Expression::ForExpr(for_expression) => self.for_expression(for_expression),
        }
    }

    fn type_error(&self, node: &impl hcl_edit::Span, wanted: &str, got: &Value) -> Diagnostic {
        self.fail(
            node,
            Code::TypeMismatch,
            format!("expected a {wanted}, got a {}", got.type_name()),
            &format!("this is a {}", got.type_name()),
            &format!("change this expression so it gives a {wanted}"),
        )
    }

    fn template(&mut self, template: &Template) -> Outcome {
        let mut text = String::new();
        let mut parts = Vec::new();
        let mut all_literal = true;
        for element in template.iter() {
            match element {
                Element::Literal(literal) => text.push_str(literal.value()),
                Element::Interpolation(interpolation) => {
                    let value = self.expression(&interpolation.expr)?;
                    all_literal &= value.deep_literal();
                    if value.is_unknown() {
                        return Ok(Value::unknown().with_marks_of([&value]));
                    }
                    let Some(piece) = value.to_plain_string() else {
                        if matches!(value.kind, Kind::Generated(_)) {
                            return Err(self.fail(
                                &interpolation.expr,
                                Code::TypeMismatch,
                                "a generated secret cannot be placed inside a string",
                                "generate(...) here",
                                "assign generate({...}) directly to a secret attribute",
                            ));
                        }
                        return Err(self.type_error(&interpolation.expr, "string", &value));
                    };
                    text.push_str(&piece);
                    parts.push(value);
                }
                Element::Directive(directive) => {
                    let value = self.directive(directive)?;
                    if value.is_unknown() {
                        return Ok(value);
                    }
                    all_literal &= value.deep_literal();
                    text.push_str(value.as_str().unwrap_or_default());
                    parts.push(value);
                }
            }
        }
        let mut result = Value::string(text).with_marks_of(&parts);
        result.literal = all_literal;
        Ok(result)
    }

    fn directive(&mut self, directive: &Directive) -> Outcome {
        match directive {
            Directive::If(if_directive) => {
                let condition = self.expression(&if_directive.if_expr.cond_expr)?;
                let chosen = match condition.kind {
                    Kind::Bool(true) => Some(&if_directive.if_expr.template),
                    Kind::Bool(false) => if_directive.else_expr.as_ref().map(|other| &other.template),
                    Kind::Unknown => return Ok(Value::unknown().with_marks_of([&condition])),
                    _ => return Err(self.type_error(&if_directive.if_expr.cond_expr, "bool", &condition)),
                };
                let result = match chosen {
                    Some(template) => self.template(template)?,
                    None => Value::literal(Kind::String(String::new())),
                };
                Ok(result.with_marks_of([&condition]).keep_literal_of(&condition))
            }
            Directive::For(for_directive) => {
                let header = &for_directive.for_expr;
                let collection = self.expression(&header.collection_expr)?;
                let items = self.iterate(&collection, &header.collection_expr)?;
                let Some(items) = items else {
                    return Ok(Value::unknown().with_marks_of([&collection]));
                };
                let mut text = String::new();
                let mut parts = vec![collection.clone()];
                for (key, value) in items {
                    let depth = self.bound.len();
                    if let Some(key_name) = &header.key_var {
                        self.bound.push((key_name.value().to_string(), key));
                    }
                    self.bound.push((header.value_var.value().to_string(), value));
                    let piece = self.template(&header.template);
                    self.bound.truncate(depth);
                    let piece = piece?;
                    if piece.is_unknown() {
                        return Ok(piece);
                    }
                    text.push_str(piece.as_str().unwrap_or_default());
                    parts.push(piece);
                }
                Ok(Value::string(text).with_marks_of(&parts))
            }
        }
    }

    /// The (key, value) pairs of a list or map; None when it is unknown.
    fn iterate(&self, collection: &Value, node: &Expression) -> Result<Option<Vec<(Value, Value)>>, Diagnostic> {
        let carry = |value: &Value| inherit(value, collection);
        match &collection.kind {
            Kind::List(items) => Ok(Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| (Value::literal(Kind::Number(index as f64)), carry(item)))
                    .collect(),
            )),
            Kind::Map(entries) => Ok(Some(
                entries
                    .iter()
                    .map(|(key, item)| {
                        (
                            inherit(&Value::literal(Kind::String(key.clone())), collection),
                            carry(item),
                        )
                    })
                    .collect(),
            )),
            Kind::Unknown => Ok(None),
            _ => Err(self.type_error(node, "list or map", collection)),
        }
    }

    fn for_expression(&mut self, for_expression: &ForExpr) -> Outcome {
        let intro = &for_expression.intro;
        let collection = self.expression(&intro.collection_expr)?;
        let Some(items) = self.iterate(&collection, &intro.collection_expr)? else {
            return Ok(Value::unknown().with_marks_of([&collection]));
        };
        let mut list = Vec::new();
        let mut map: IndexMap<String, Value> = IndexMap::new();
        for (key, value) in items {
            let depth = self.bound.len();
            if let Some(key_name) = &intro.key_var {
                self.bound.push((key_name.value().to_string(), key));
            }
            self.bound.push((intro.value_var.value().to_string(), value));
            let outcome = self.for_item(for_expression, &mut list, &mut map);
            self.bound.truncate(depth);
            if let Some(unknown) = outcome? {
                return Ok(unknown);
            }
        }
        let literal = collection.deep_literal();
        if for_expression.key_expr.is_some() {
            Ok(Value {
                literal,
                ..Value::map(map)
            })
        } else {
            Ok(Value {
                literal,
                ..Value::list(list)
            })
        }
    }

    /// Evaluates one iteration of a `for` expression; Some(unknown) stops the loop.
    fn for_item(
        &mut self,
        for_expression: &ForExpr,
        list: &mut Vec<Value>,
        map: &mut IndexMap<String, Value>,
    ) -> Result<Option<Value>, Diagnostic> {
        if let Some(condition) = &for_expression.cond {
            let keep = self.expression(&condition.expr)?;
            match keep.kind {
                Kind::Bool(true) => {}
                Kind::Bool(false) => return Ok(None),
                Kind::Unknown => return Ok(Some(Value::unknown().with_marks_of([&keep]))),
                _ => return Err(self.type_error(&condition.expr, "bool", &keep)),
            }
        }
        let value = self.expression(&for_expression.value_expr)?;
        match &for_expression.key_expr {
            Some(key_expression) => {
                let key = self.expression(key_expression)?;
                if key.is_unknown() {
                    return Ok(Some(Value::unknown().with_marks_of([&key])));
                }
                let Some(name) = key.to_plain_string() else {
                    return Err(self.type_error(key_expression, "string", &key));
                };
                if for_expression.grouping {
                    let entry = map.entry(name).or_insert_with(|| Value::list(Vec::new()));
                    if let Kind::List(items) = &mut entry.kind {
                        items.push(value);
                    }
                } else if map.insert(name.clone(), value).is_some() {
                    return Err(self.fail(
                        key_expression,
                        Code::InvalidExpression,
                        format!("two elements have the key `{name}`"),
                        "duplicate key",
                        "use `...` after the value to group elements by key, or make keys unique",
                    ));
                }
            }
            None => list.push(value),
        }
        Ok(None)
    }

    fn binary(
        &self,
        operator: BinaryOperator,
        left: &Value,
        right: &Value,
        node: &hcl_edit::expr::BinaryOp,
    ) -> Outcome {
        let marks = [left, right];
        if left.is_unknown() || right.is_unknown() {
            return Ok(Value::unknown().with_marks_of(marks));
        }
        let kind = match operator {
            BinaryOperator::Eq => Kind::Bool(same(left, right)),
            BinaryOperator::NotEq => Kind::Bool(!same(left, right)),
            BinaryOperator::And | BinaryOperator::Or => {
                let (Some(a), Some(b)) = (left.as_bool(), right.as_bool()) else {
                    let culprit = if left.as_bool().is_none() {
                        (&node.lhs_expr, left)
                    } else {
                        (&node.rhs_expr, right)
                    };
                    return Err(self.type_error(culprit.0, "bool", culprit.1));
                };
                Kind::Bool(if operator == BinaryOperator::And {
                    a && b
                } else {
                    a || b
                })
            }
            _ => {
                let (Some(a), Some(b)) = (number_of(left), number_of(right)) else {
                    let culprit = if number_of(left).is_none() {
                        (&node.lhs_expr, left)
                    } else {
                        (&node.rhs_expr, right)
                    };
                    return Err(self.type_error(culprit.0, "number", culprit.1));
                };
                match operator {
                    BinaryOperator::Plus => Kind::Number(a + b),
                    BinaryOperator::Minus => Kind::Number(a - b),
                    BinaryOperator::Mul => Kind::Number(a * b),
                    BinaryOperator::Div | BinaryOperator::Mod if b == 0.0 => {
                        return Err(self.fail(
                            &node.rhs_expr,
                            Code::InvalidExpression,
                            "division by zero",
                            "this is zero",
                            "check the divisor",
                        ));
                    }
                    BinaryOperator::Div => Kind::Number(a / b),
                    BinaryOperator::Mod => Kind::Number(a % b),
                    BinaryOperator::Less => Kind::Bool(a < b),
                    BinaryOperator::LessEq => Kind::Bool(a <= b),
                    BinaryOperator::Greater => Kind::Bool(a > b),
                    _ => Kind::Bool(a >= b),
                }
            }
        };
        Ok(Value::new(kind).with_marks_of(marks))
    }

    fn bound_value(&self, name: &str) -> Option<Value> {
        self.bound
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .map(|(_, value)| value.clone())
    }

    /// Resolves `root` followed by the attribute names the reference consumes.
    fn variable(&mut self, root: &str, names: &[String], node: &impl hcl_edit::Span) -> Result<Value, Diagnostic> {
        let (value, _) = self.reference(root, names, node)?;
        Ok(value)
    }

    /// Resolves a reference; returns its value and how many names it consumed.
    fn reference(
        &mut self,
        root: &str,
        names: &[String],
        node: &impl hcl_edit::Span,
    ) -> Result<(Value, usize), Diagnostic> {
        if let Some(value) = self.bound_value(root) {
            return Ok((value, 0));
        }
        let module = self.scope.module.clone();
        let need = |count: usize, example: &str| -> Result<(), Diagnostic> {
            if names.len() < count {
                return Err(Diagnostic::error(
                    Code::InvalidExpression,
                    format!("`{root}` must be followed by an attribute, as in {example}"),
                )
                .with_optional_label(Span::maybe(self.file, node.span()), "incomplete reference")
                .with_help(format!("write {example}")));
            }
            Ok(())
        };
        let undeclared = |what: String| {
            Diagnostic::error(Code::UndeclaredReference, format!("reference to undeclared {what}"))
                .with_optional_label(Span::maybe(self.file, node.span()), "not declared")
                .with_help("declare it, or check the spelling")
        };
        match root {
            "var" => {
                need(1, "var.NAME")?;
                let value = self.scope.resolver.resolve(&Symbol::Variable(module, names[0].clone())).ok_or_else(|| undeclared(format!("variable `{}`", names[0])))?;
                Ok((value, 1))
            }
            "local" => {
                need(1, "local.NAME")?;
                let value = self.scope.resolver.resolve(&Symbol::Local(module, names[0].clone())).ok_or_else(|| undeclared(format!("local value `{}`", names[0])))?;
                Ok((value, 1))
            }
            "module" => {
                need(1, "module.NAME.OUTPUT")?;
                let child = module.child(&names[0], None);
                let outputs = self.scope.resolver.module_outputs(&child).ok_or_else(|| undeclared(format!("module `{}`", names[0])))?;
                if let Some(output) = names.get(1) {
                    let value = self.scope.resolver.resolve(&Symbol::Output(child, output.clone())).ok_or_else(|| undeclared(format!("output `{output}` of module `{}`", names[0])))?;
                    return Ok((value, 2));
                }
                let mut entries = IndexMap::new();
                for output in outputs {
                    let value = self.scope.resolver.resolve(&Symbol::Output(child.clone(), output.clone())).unwrap_or_else(Value::unknown);
                    entries.insert(output, value);
                }
                Ok((Value::map(entries), 1))
            }
            "data" => {
                need(2, "data.TYPE.NAME")?;
                let address = ResourceAddress::new(module, ResourceMode::Data, &names[0], &names[1]);
                let value = self.scope.resolver.resolve(&Symbol::Resource(address.clone())).ok_or_else(|| undeclared(format!("data source `{address}`")))?;
                Ok((value, 2))
            }
            "each" => {
                need(1, "each.key")?;
                let Some((key, value)) = &self.scope.each else {
                    return Err(undeclared("`each` (only a resource with for_each has it)".to_string()));
                };
                match names[0].as_str() {
                    "key" => Ok((key.clone(), 1)),
                    "value" => Ok((value.clone(), 1)),
                    _ => Err(undeclared(format!("`each.{}` (use each.key or each.value)", names[0]))),
                }
            }
            "count" => {
                need(1, "count.index")?;
                match (self.scope.count_index, names[0].as_str()) {
                    (Some(index), "index") => Ok((Value::literal(Kind::Number(index as f64)), 1)),
                    _ => Err(undeclared("`count.index` (only a resource with count has it)".to_string())),
                }
            }
            "path" => {
                need(1, "path.module")?;
                let folder = match names[0].as_str() {
                    "module" => self.scope.folder.to_path_buf(),
                    "root" => self.scope.root_folder.to_path_buf(),
                    "cwd" => std::env::current_dir().unwrap_or_default(),
                    _ => return Err(undeclared(format!("`path.{}` (use path.module, path.root or path.cwd)", names[0]))),
                };
                Ok((Value::string(folder.display().to_string()), 1))
            }
            resource_type if resource_type.contains('_') && !names.is_empty() => {
                let address = ResourceAddress::new(module, ResourceMode::Managed, resource_type, &names[0]);
                let value = self.scope.resolver.resolve(&Symbol::Resource(address.clone())).ok_or_else(|| undeclared(format!("resource `{address}`")))?;
                Ok((value, 1))
            }
            other => Err(Diagnostic::error(Code::UndeclaredReference, format!("unknown name `{other}`"))
                .with_optional_label(Span::maybe(self.file, node.span()), "not declared")
                .with_help("references start with var., local., module., data., each., count., path. or a resource type such as local_secret.")),
        }
    }

    fn traversal(&mut self, traversal: &hcl_edit::expr::Traversal) -> Outcome {
        let (mut value, consumed) = match &traversal.expr {
            Expression::Variable(variable) => {
                let names: Vec<String> = traversal
                    .operators
                    .iter()
                    .map_while(|operator| match operator.value() {
                        TraversalOperator::GetAttr(name) => Some(name.value().to_string()),
                        _ => None,
                    })
                    .collect();
                self.reference(variable.value().as_str(), &names, traversal)?
            }
            other => (self.expression(other)?, 0),
        };
        let operators: Vec<&TraversalOperator> = traversal.operators.iter().map(|operator| operator.value()).collect();
        let mut index = consumed;
        while index < operators.len() {
            match operators[index] {
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let rest = &operators[index + 1..];
                    return self.splat(value, rest, traversal);
                }
                operator => value = self.step(value, operator, traversal)?,
            }
            index += 1;
        }
        Ok(value)
    }

    fn splat(&mut self, value: Value, rest: &[&TraversalOperator], node: &hcl_edit::expr::Traversal) -> Outcome {
        let items = match &value.kind {
            Kind::List(items) => items.clone(),
            Kind::Null => Vec::new(),
            Kind::Unknown => return Ok(value),
            _ => vec![value.clone()],
        };
        let mut results = Vec::new();
        for item in items {
            let mut current = item;
            for operator in rest {
                current = self.step(current, operator, node)?;
            }
            results.push(current);
        }
        Ok(inherit(&Value::list(results), &value))
    }

    fn step(&mut self, value: Value, operator: &TraversalOperator, node: &hcl_edit::expr::Traversal) -> Outcome {
        if value.is_unknown() {
            return Ok(value);
        }
        let carry = |inner: &Value| inherit(inner, &value);
        match operator {
            TraversalOperator::GetAttr(name) => match &value.kind {
                Kind::Map(entries) => entries.get(name.value().as_str()).map(carry).ok_or_else(|| {
                    let suggestion = did_you_mean(name.value().as_str(), entries.keys().map(String::as_str));
                    let help = match suggestion {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("it has: {}", entries.keys().cloned().collect::<Vec<_>>().join(", ")),
                    };
                    Diagnostic::error(Code::UndeclaredReference, format!("no attribute `{}`", name.value()))
                        .with_optional_label(Span::maybe(self.file, name.span()), "unknown attribute")
                        .with_help(help)
                }),
                _ => Err(self.fail(
                    node,
                    Code::TypeMismatch,
                    format!("cannot read `.{}` of a {}", name.value(), value.type_name()),
                    "not an object",
                    "attributes can be read only from objects",
                )),
            },
            TraversalOperator::Index(index_expression) => {
                let key = self.expression(index_expression)?;
                self.index(value, &key, index_expression)
            }
            TraversalOperator::LegacyIndex(index) => self.index(value, &Value::number(*index.value() as f64), node),
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => Ok(value),
        }
    }

    fn index(&self, value: Value, key: &Value, node: &impl hcl_edit::Span) -> Outcome {
        if key.is_unknown() {
            return Ok(Value::unknown().with_marks_of([&value, key]));
        }
        let carry = |inner: &Value| {
            let mut found = inherit(inner, &value);
            found.sensitive |= key.sensitive;
            found
        };
        match &value.kind {
            Kind::List(items) => {
                let Some(position) = key.as_number().filter(|number| *number >= 0.0 && number.fract() == 0.0) else {
                    return Err(self.type_error(node, "whole number index", key));
                };
                items.get(position as usize).map(carry).ok_or_else(|| {
                    self.fail(
                        node,
                        Code::InvalidExpression,
                        format!(
                            "index {position} is out of range (the list has {} elements)",
                            items.len()
                        ),
                        "out of range",
                        "use an index below the list's length",
                    )
                })
            }
            Kind::Map(entries) => {
                let Some(name) = key.to_plain_string() else {
                    return Err(self.type_error(node, "string key", key));
                };
                entries.get(&name).map(carry).ok_or_else(|| {
                    let shown = if key.sensitive {
                        "(sensitive)".to_string()
                    } else {
                        format!("\"{name}\"")
                    };
                    self.fail(
                        node,
                        Code::InvalidExpression,
                        format!("the map has no key {shown}"),
                        "no such key",
                        "use lookup(map, key, default) when a key may be missing",
                    )
                })
            }
            _ => Err(self.fail(
                node,
                Code::TypeMismatch,
                format!("cannot index a {}", value.type_name()),
                "not a list or map",
                "only lists and maps can be indexed",
            )),
        }
    }

    fn function(&mut self, call: &hcl_edit::expr::FuncCall) -> Outcome {
        let name = call.name.name.value().as_str();
        let arguments: Vec<&Expression> = call.args.iter().collect();
        match name {
            "try" => return self.try_function(&arguments, call),
            "can" => {
                let [argument] = arguments.as_slice() else {
                    return Err(self.arity(call, "can", "exactly 1"));
                };
                return Ok(Value::literal(Kind::Bool(self.expression(argument).is_ok())));
            }
            _ => {}
        }
        let mut values = Vec::with_capacity(arguments.len());
        for argument in &arguments {
            values.push(self.expression(argument)?);
        }
        if call.args.expand_final()
            && let Some(last) = values.pop()
        {
            match last.kind {
                Kind::List(items) => values.extend(items),
                Kind::Unknown => return Ok(Value::unknown().with_marks_of([&last])),
                _ => return Err(self.type_error(call, "list to expand with ...", &last)),
            }
        }
        match name {
            "env" => self.env_function(call, &values),
            "file" => self.file_function(call, &values),
            "generate" => self.generate_function(call, &values),
            "sealed" => Err(self.fail(call, Code::InvalidValueSource, "sealed(...) values are not supported by this version", "sealed value", "use env(\"NAME\"), file(\"path\") or generate({ length = 32 }) until sealed values arrive with the rotation work")),
            _ => call_function(name, values).map_err(|error| {
                if error.message == "unknown function" {
                    let mut known: Vec<&str> = function_names().to_vec();
                    known.extend(["env", "file", "generate", "try", "can"]);
                    let help = match did_you_mean(name, known.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`? See docs/functions.md"),
                        None => "see docs/functions.md for the functions keyform has".to_string(),
                    };
                    return Diagnostic::error(Code::UnknownFunction, format!("unknown function `{name}`"))
                        .with_optional_label(Span::maybe(self.file, call.name.name.span()), "no such function")
                        .with_help(help);
                }
                let span = error.argument.and_then(|position| arguments.get(position)).and_then(|argument| Span::maybe(self.file, argument.span())).or_else(|| self.span_of(call));
                Diagnostic::error(Code::FunctionCall, error.message.clone())
                    .with_optional_label(span, "here")
                    .with_help("see docs/functions.md for this function's arguments")
            }),
        }
    }

    fn arity(&self, call: &hcl_edit::expr::FuncCall, name: &str, wanted: &str) -> Diagnostic {
        self.fail(
            call,
            Code::FunctionCall,
            format!("{name}() takes {wanted} argument(s)"),
            "wrong number of arguments",
            "see docs/functions.md",
        )
    }

    fn try_function(&mut self, arguments: &[&Expression], call: &hcl_edit::expr::FuncCall) -> Outcome {
        if arguments.is_empty() {
            return Err(self.arity(call, "try", "at least 1"));
        }
        let mut last_error = None;
        for argument in arguments {
            match self.expression(argument) {
                Ok(value) => return Ok(value),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| self.arity(call, "try", "at least 1")))
    }

    fn single_string(
        &self,
        call: &hcl_edit::expr::FuncCall,
        name: &str,
        values: &[Value],
    ) -> Result<Option<String>, Diagnostic> {
        match values {
            [value] if value.is_unknown() => Ok(None),
            [value] => value
                .as_str()
                .map(|text| Some(text.to_string()))
                .ok_or_else(|| self.type_error(call, "string", value)),
            _ => Err(self.arity(call, name, "exactly 1")),
        }
    }

    fn env_function(&self, call: &hcl_edit::expr::FuncCall, values: &[Value]) -> Outcome {
        let Some(name) = self.single_string(call, "env", values)? else {
            return Ok(Value::unknown());
        };
        let Ok(content) = std::env::var(&name) else {
            return Err(self.fail(
                call,
                Code::InvalidValueSource,
                format!("the environment variable {name} is not set"),
                "read here",
                &format!("export {name}=... before running keyform"),
            ));
        };
        let value = Value::string(content);
        Ok(if self.scope.taint.environment.contains(&name) || values[0].sensitive {
            value.into_sensitive()
        } else {
            value
        })
    }

    fn file_function(&self, call: &hcl_edit::expr::FuncCall, values: &[Value]) -> Outcome {
        let Some(relative) = self.single_string(call, "file", values)? else {
            return Ok(Value::unknown());
        };
        let path = self.scope.folder.join(&relative);
        let content = std::fs::read_to_string(&path).map_err(|error| {
            self.fail(
                call,
                Code::InvalidValueSource,
                format!("cannot read the file {relative}: {error}"),
                "read here",
                "the path is relative to the folder of the module that calls file()",
            )
        })?;
        let value = Value::string(content);
        let tainted = self.scope.taint.files.contains(&normalize(&path));
        Ok(if tainted || values[0].sensitive {
            value.into_sensitive()
        } else {
            value
        })
    }

    fn generate_function(&self, call: &hcl_edit::expr::FuncCall, values: &[Value]) -> Outcome {
        let help = "generate({ length = 32, special = true }) takes length, upper, lower, numeric, special, override_special, min_upper, min_lower, min_numeric, min_special";
        let settings = match values {
            [] => IndexMap::new(),
            [value] => match &value.kind {
                Kind::Map(entries) => entries.clone(),
                _ => {
                    return Err(self.fail(
                        call,
                        Code::FunctionCall,
                        "generate() takes one object of settings",
                        "not an object",
                        help,
                    ));
                }
            },
            _ => return Err(self.arity(call, "generate", "at most 1")),
        };
        let mut spec = GenerateSpec::default();
        for (key, value) in &settings {
            let problem = |what: &str| {
                self.fail(
                    call,
                    Code::FunctionCall,
                    format!("generate(): `{key}` must be {what}"),
                    "here",
                    help,
                )
            };
            match key.as_str() {
                "length" | "min_upper" | "min_lower" | "min_numeric" | "min_special" => {
                    let number = value
                        .as_number()
                        .filter(|number| *number >= 0.0 && number.fract() == 0.0 && *number <= 4096.0)
                        .ok_or_else(|| problem("a whole number from 0 to 4096"))?
                        as u32;
                    match key.as_str() {
                        "length" => spec.length = number,
                        "min_upper" => spec.min_upper = number,
                        "min_lower" => spec.min_lower = number,
                        "min_numeric" => spec.min_numeric = number,
                        _ => spec.min_special = number,
                    }
                }
                "upper" | "lower" | "numeric" | "special" => {
                    let flag = value.as_bool().ok_or_else(|| problem("true or false"))?;
                    match key.as_str() {
                        "upper" => spec.upper = flag,
                        "lower" => spec.lower = flag,
                        "numeric" => spec.numeric = flag,
                        _ => spec.special = flag,
                    }
                }
                "override_special" => {
                    spec.override_special = Some(value.as_str().ok_or_else(|| problem("a string"))?.to_string())
                }
                other => {
                    let close = did_you_mean(
                        other,
                        [
                            "length",
                            "upper",
                            "lower",
                            "numeric",
                            "special",
                            "override_special",
                            "min_upper",
                            "min_lower",
                            "min_numeric",
                            "min_special",
                        ],
                    );
                    let help = close.map_or(help.to_string(), |close| format!("did you mean `{close}`?"));
                    return Err(self.fail(
                        call,
                        Code::FunctionCall,
                        format!("generate() has no setting `{other}`"),
                        "unknown setting",
                        &help,
                    ));
                }
            }
        }
        if let Err(error) = crate::secret::validate_spec(&spec) {
            return Err(self.fail(call, Code::FunctionCall, format!("generate(): {error}"), "here", help));
        }
        Ok(Value::new(Kind::Generated(spec)).into_sensitive())
    }
}

/// A value taken out of a container: sensitive when either is (the container's own mark, not its
/// other elements'), literal only when both are.
fn inherit(inner: &Value, container: &Value) -> Value {
    let mut value = inner.clone();
    value.sensitive |= container.sensitive;
    value.literal = inner.literal && container.literal;
    value
}

/// Compares values ignoring marks.
fn same(left: &Value, right: &Value) -> bool {
    match (&left.kind, &right.kind) {
        (Kind::List(a), Kind::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Kind::Map(a), Kind::Map(b)) => {
            a.len() == b.len() && a.iter().all(|(key, x)| b.get(key).is_some_and(|y| same(x, y)))
        }
        (a, b) => a == b,
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match &value.kind {
        Kind::Number(number) => Some(*number),
        Kind::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A path made absolute and free of `.` and `..` steps, for taint matching.
pub fn normalize(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut result = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::ParentDir => {
                result.pop();
            }
            std::path::Component::CurDir => {}
            other => result.push(other),
        }
    }
    result
}

impl Value {
    /// Keeps the literal mark only if `other` is literal too (a condition or collection decides what is chosen).
    fn keep_literal_of(mut self, other: &Value) -> Value {
        self.literal = self.literal && other.deep_literal();
        self
    }
}
