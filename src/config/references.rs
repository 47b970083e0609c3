//! The references an expression makes: `var.x`, `local.y`,
//! `local_secret.db.id`, `data.t.n`, `module.m.out`, `each`, `count`.
//! The graph builds its edges from these; the evaluator resolves them.

use super::model::Expr;
use crate::addr::ResourceMode;
use crate::diag::Span;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ForExpr, TraversalOperator};
use hcl_edit::visit::{Visit, visit_expr, visit_for_expr};

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Variable(String),
    Local(String),
    Resource {
        mode: ResourceMode,
        resource_type: String,
        name: String,
        /// The attribute read, when the reference names one (`local_secret.db.value`).
        attribute: Option<String>,
    },
    /// `module.NAME` or `module.NAME.OUTPUT`.
    ModuleOutput {
        call: String,
        output: Option<String>,
    },
    Each,
    Count,
    Path,
}

/// A reference and where it was written.
#[derive(Debug, Clone)]
pub struct ReferenceAt {
    pub reference: Reference,
    pub span: Option<Span>,
}

/// Every reference in an expression, in order of appearance.
pub fn references(expr: &Expr) -> Vec<ReferenceAt> {
    let mut collector = Collector {
        file: expr.file,
        found: Vec::new(),
        shadowed: Vec::new(),
    };
    collector.visit_expr(&expr.expression);
    collector.found
}

struct Collector {
    file: crate::diag::FileId,
    found: Vec<ReferenceAt>,
    shadowed: Vec<String>,
}

impl Collector {
    fn record(&mut self, root: &str, names: &[String], span: Option<std::ops::Range<usize>>) {
        if self.shadowed.iter().any(|name| name == root) {
            return;
        }
        let reference = match (root, names) {
            ("var", [name, ..]) => Reference::Variable(name.clone()),
            ("local", [name, ..]) => Reference::Local(name.clone()),
            ("module", [call, rest @ ..]) => Reference::ModuleOutput {
                call: call.clone(),
                output: rest.first().cloned(),
            },
            ("data", [resource_type, name, rest @ ..]) => Reference::Resource {
                mode: ResourceMode::Data,
                resource_type: resource_type.clone(),
                name: name.clone(),
                attribute: rest.first().cloned(),
            },
            ("each", _) => Reference::Each,
            ("count", _) => Reference::Count,
            ("path", _) => Reference::Path,
            (resource_type, [name, rest @ ..]) if resource_type.contains('_') => Reference::Resource {
                mode: ResourceMode::Managed,
                resource_type: resource_type.to_string(),
                name: name.clone(),
                attribute: rest.first().cloned(),
            },
            _ => return,
        };
        self.found.push(ReferenceAt {
            reference,
            span: crate::diag::Span::maybe(self.file, span),
        });
    }
}

impl Visit for Collector {
    fn visit_expr(&mut self, expression: &Expression) {
        match expression {
            Expression::Variable(variable) => {
                self.record(variable.value().as_str(), &[], variable.span());
            }
            Expression::Traversal(traversal) => {
                if let Expression::Variable(variable) = &traversal.expr {
                    // Indexes and splats are stepped over: `local_secret.all[count.index].value` reads `value`.
                    let names: Vec<String> = traversal
                        .operators
                        .iter()
                        .filter_map(|operator| match operator.value() {
                            TraversalOperator::GetAttr(name) => Some(name.value().to_string()),
                            _ => None,
                        })
                        .collect();
                    self.record(variable.value().as_str(), &names, traversal.span());
                    for operator in &traversal.operators {
                        if let TraversalOperator::Index(index) = operator.value() {
                            self.visit_expr(index);
                        }
                    }
                } else {
                    visit_expr(self, expression);
                }
            }
            _ => visit_expr(self, expression),
        }
    }

    fn visit_for_expr(&mut self, for_expression: &ForExpr) {
        let before = self.shadowed.len();
        self.visit_expr(&for_expression.intro.collection_expr);
        if let Some(key) = &for_expression.intro.key_var {
            self.shadowed.push(key.value().to_string());
        }
        self.shadowed.push(for_expression.intro.value_var.value().to_string());
        let mut without_collection = for_expression.clone();
        without_collection.intro.collection_expr = Expression::null();
        visit_for_expr(self, &without_collection);
        self.shadowed.truncate(before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn found(text: &str) -> Vec<Reference> {
        let expression = hcl_edit::parser::parse_expr(text).expect("parses");
        references(&Expr {
            expression,
            file: FileId(0),
        })
        .into_iter()
        .map(|found| found.reference)
        .collect()
    }

    #[test]
    fn finds_each_kind() {
        assert_eq!(
            found("\"${var.a}-${local.b}\""),
            vec![Reference::Variable("a".into()), Reference::Local("b".into())]
        );
        assert_eq!(
            found("local_key.main.id"),
            vec![Reference::Resource {
                mode: ResourceMode::Managed,
                resource_type: "local_key".into(),
                name: "main".into(),
                attribute: Some("id".into()),
            }]
        );
        assert_eq!(
            found("module.app.key_id"),
            vec![Reference::ModuleOutput {
                call: "app".into(),
                output: Some("key_id".into())
            }]
        );
        assert_eq!(
            found("[for k, v in var.m : upper(v)]"),
            vec![Reference::Variable("m".into())]
        );
        assert_eq!(found("local_secret.db[var.i].id").len(), 2);
        // The attribute read after an index or a splat is found.
        for text in ["local_secret.db[count.index].value", "local_secret.db[*].value"] {
            assert!(
                found(text).contains(&Reference::Resource {
                    mode: ResourceMode::Managed,
                    resource_type: "local_secret".into(),
                    name: "db".into(),
                    attribute: Some("value".into()),
                }),
                "{text}"
            );
        }
    }
}
