//! Building the graph from the module tree.

use super::{Graph, Node};
use crate::addr::{ModulePath, ResourceAddress};
use crate::config::model::{Expr, ModuleConfig, provider_key};
use crate::config::references::{Reference, references};
use crate::diag::{Code, Diagnostic, Diagnostics, Span, did_you_mean};
use petgraph::algo::tarjan_scc;
use std::collections::HashMap;

/// Builds the graph; reports undeclared references and cycles.
pub fn build_graph(root: &ModuleConfig) -> Result<Graph, Diagnostics> {
    let mut builder = Builder {
        graph: Graph::default(),
        spans: HashMap::new(),
        diagnostics: Diagnostics::new(),
    };
    builder.add_nodes(root, &ModulePath::root());
    for provider in &root.providers {
        builder.add_node(Node::Provider(provider.key()), provider.span.clone());
    }
    builder.add_edges(root, &ModulePath::root());
    builder.check_cycles();
    let Builder { graph, diagnostics, .. } = builder;
    diagnostics.into_result(graph)
}

struct Builder {
    graph: Graph,
    spans: HashMap<Node, Option<Span>>,
    diagnostics: Diagnostics,
}

impl Builder {
    fn add_node(&mut self, node: Node, span: Option<Span>) {
        if !self.graph.index.contains_key(&node) {
            let index = self.graph.graph.add_node(node.clone());
            self.graph.index.insert(node.clone(), index);
            self.spans.insert(node, span);
        }
    }

    fn add_nodes(&mut self, module: &ModuleConfig, path: &ModulePath) {
        for variable in module.variables.values() {
            self.add_node(
                Node::Variable(path.clone(), variable.name.clone()),
                variable.span.clone(),
            );
        }
        for local in module.locals.values() {
            self.add_node(Node::Local(path.clone(), local.name.clone()), local.span.clone());
        }
        for (address, resource) in &module.resources {
            let address = ResourceAddress {
                module: path.clone(),
                ..address.clone()
            };
            self.add_node(Node::Resource(address), resource.span.clone());
        }
        for output in module.outputs.values() {
            self.add_node(Node::Output(path.clone(), output.name.clone()), output.span.clone());
        }
        for call in module.module_calls.values() {
            self.add_nodes(&call.child, &path.child(&call.name, None));
        }
    }

    fn edge(&mut self, from: &Node, to: &Node) {
        if let (Some(from), Some(to)) = (self.graph.node_index(from), self.graph.node_index(to)) {
            self.graph.graph.update_edge(from, to, ());
        }
    }

    /// Adds edges from everything `expr` (evaluated in `path`) refers to, into `dependent`.
    fn depend(&mut self, dependent: &Node, expr: &Expr, path: &ModulePath, module: &ModuleConfig) {
        for found in references(expr) {
            let target = match &found.reference {
                Reference::Variable(name) => {
                    if !module.variables.contains_key(name) {
                        self.undeclared(
                            found.span,
                            &format!("variable `{name}`"),
                            name,
                            module.variables.keys().map(String::as_str),
                            "declare it with a variable block",
                        );
                        continue;
                    }
                    vec![Node::Variable(path.clone(), name.clone())]
                }
                Reference::Local(name) => {
                    if !module.locals.contains_key(name) {
                        self.undeclared(
                            found.span,
                            &format!("local value `{name}`"),
                            name,
                            module.locals.keys().map(String::as_str),
                            "declare it in a locals block",
                        );
                        continue;
                    }
                    vec![Node::Local(path.clone(), name.clone())]
                }
                Reference::Resource {
                    mode,
                    resource_type,
                    name,
                    ..
                } => {
                    let address = ResourceAddress::new(ModulePath::root(), *mode, resource_type, name);
                    if !module.resources.contains_key(&address) {
                        let candidates: Vec<String> = module.resources.keys().map(ToString::to_string).collect();
                        let wanted = address.to_string();
                        self.undeclared(
                            found.span,
                            &format!("resource `{wanted}`"),
                            &wanted,
                            candidates.iter().map(String::as_str),
                            "declare the resource, or check its type and name",
                        );
                        continue;
                    }
                    vec![Node::Resource(ResourceAddress {
                        module: path.clone(),
                        ..address
                    })]
                }
                Reference::ModuleOutput { call, output } => {
                    let Some(module_call) = module.module_calls.get(call) else {
                        self.undeclared(
                            found.span,
                            &format!("module `{call}`"),
                            call,
                            module.module_calls.keys().map(String::as_str),
                            "declare it with a module block",
                        );
                        continue;
                    };
                    let child = path.child(call, None);
                    match output {
                        Some(output) if !module_call.child.outputs.contains_key(output) => {
                            self.undeclared(
                                found.span,
                                &format!("output `{output}` of module `{call}`"),
                                output,
                                module_call.child.outputs.keys().map(String::as_str),
                                "declare the output in the module",
                            );
                            continue;
                        }
                        Some(output) => vec![Node::Output(child, output.clone())],
                        None => module_call
                            .child
                            .outputs
                            .keys()
                            .map(|output| Node::Output(child.clone(), output.clone()))
                            .collect(),
                    }
                }
                Reference::Each | Reference::Count | Reference::Path => continue,
            };
            for target in target {
                self.edge(&target, dependent);
            }
        }
    }

    fn undeclared<'a>(
        &mut self,
        span: Option<Span>,
        what: &str,
        name: &str,
        candidates: impl Iterator<Item = &'a str>,
        help: &str,
    ) {
        let help = match did_you_mean(name, candidates) {
            Some(close) => format!("did you mean `{close}`?"),
            None => help.to_string(),
        };
        self.diagnostics.push(
            Diagnostic::error(Code::UndeclaredReference, format!("reference to undeclared {what}"))
                .with_optional_label(span, "not declared")
                .with_help(help),
        );
    }

    fn add_edges(&mut self, module: &ModuleConfig, path: &ModulePath) {
        for variable in module.variables.values() {
            for validation in &variable.validations {
                // Validations refer to the variable itself only; other references are a mistake we still order.
                for expr in [&validation.condition, &validation.error_message] {
                    for found in references(expr) {
                        if found.reference != Reference::Variable(variable.name.clone()) {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    Code::InvalidExpression,
                                    "a variable's validation may refer only to the variable itself",
                                )
                                .with_optional_label(found.span, "another value")
                                .with_help(format!("use var.{} only", variable.name)),
                            );
                        }
                    }
                }
            }
        }
        for local in module.locals.values() {
            let node = Node::Local(path.clone(), local.name.clone());
            self.depend(&node, &local.value, path, module);
        }
        for (address, resource) in &module.resources {
            let node = Node::Resource(ResourceAddress {
                module: path.clone(),
                ..address.clone()
            });
            for attribute in resource.body.attributes.values() {
                self.depend(&node, &attribute.value, path, module);
            }
            for block in &resource.body.blocks {
                for attribute in block.body.attributes.values() {
                    self.depend(&node, &attribute.value, path, module);
                }
            }
            for meta in resource.count.iter().chain(resource.for_each.iter()) {
                self.depend(&node, meta, path, module);
            }
            for depends in &resource.depends_on {
                self.depend(&node, &depends.expression, path, module);
            }
            let key = match &resource.provider {
                Some((name, alias)) => provider_key(name, alias.as_deref()),
                None => provider_key(resource.provider_name(), None),
            };
            let provider = Node::Provider(key);
            if self.graph.node_index(&provider).is_none() {
                // An implicit provider configuration (no provider block), unless an alias was named.
                if resource.provider.as_ref().is_some_and(|(_, alias)| alias.is_some()) {
                    self.diagnostics.push(
                        Diagnostic::error(Code::UnknownProvider, format!("no provider configuration `{provider}`"))
                            .with_optional_label(resource.span.clone(), "uses it")
                            .with_help("declare it in the root module: provider \"NAME\" { alias = \"ALIAS\" }"),
                    );
                    continue;
                }
                self.add_node(provider.clone(), None);
            }
            self.edge(&provider, &node);
        }
        for output in module.outputs.values() {
            let node = Node::Output(path.clone(), output.name.clone());
            self.depend(&node, &output.value, path, module);
        }
        for provider in &module.providers {
            let node = Node::Provider(provider.key());
            for attribute in provider.body.attributes.values() {
                self.depend(&node, &attribute.value, path, module);
            }
            // Nested blocks of a provider block (`assume_role`) refer to things too.
            for block in &provider.body.blocks {
                for attribute in block.body.attributes.values() {
                    self.depend(&node, &attribute.value, path, module);
                }
            }
        }
        for call in module.module_calls.values() {
            let child_path = path.child(&call.name, None);
            for (name, argument) in &call.arguments {
                if !call.child.variables.contains_key(name) {
                    let help = match did_you_mean(name, call.child.variables.keys().map(String::as_str)) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!(
                            "the module declares: {}",
                            call.child.variables.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::UnknownAttribute,
                            format!("module `{}` has no variable `{name}`", call.name),
                        )
                        .with_optional_label(argument.name_span.clone(), "not a variable of the module")
                        .with_help(help),
                    );
                    continue;
                }
                let node = Node::Variable(child_path.clone(), name.clone());
                self.depend(&node, &argument.value, path, module);
            }
            for depends in &call.depends_on {
                for variable in call.child.variables.keys() {
                    let node = Node::Variable(child_path.clone(), variable.clone());
                    self.depend(&node, &depends.expression, path, module);
                }
            }
            self.add_edges(&call.child, &child_path);
        }
    }

    fn check_cycles(&mut self) {
        for component in tarjan_scc(&self.graph.graph) {
            let is_cycle = component.len() > 1
                || component
                    .first()
                    .is_some_and(|index| self.graph.graph.contains_edge(*index, *index));
            if !is_cycle {
                continue;
            }
            let mut members: Vec<Node> = component.iter().map(|index| self.graph.graph[*index].clone()).collect();
            members.sort();
            let names: Vec<String> = members.iter().map(ToString::to_string).collect();
            let mut diagnostic = Diagnostic::error(
                Code::Cycle,
                format!("these refer to each other in a cycle: {}", names.join(" -> ")),
            )
            .with_help(
                "break the cycle: one of them must not depend on the others (remove a reference or a depends_on)",
            );
            for member in &members {
                if let Some(Some(span)) = self.spans.get(member) {
                    diagnostic = diagnostic.with_label(span.clone(), format!("{member} is part of the cycle"));
                }
            }
            self.diagnostics.push(diagnostic);
        }
    }
}
