//! The dependency graph of a configuration and its concurrent walk.
//!
//! A node per variable, local, resource block, output and provider
//! configuration of every module instance; an edge from each thing to what
//! refers to it (references and `depends_on`). **A cycle is one diagnostic
//! naming every member with its span (strongly connected components, not a
//! topological sort's first failure).** [`walk`] visits nodes in dependency
//! order, running independent ones concurrently.

mod build;
mod walk;

pub use build::build_graph;
pub use walk::{WalkOutcome, walk};

use crate::addr::{ModulePath, ResourceAddress};
use crate::config::eval::Symbol;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;
use std::fmt;

/// One thing to evaluate or apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Variable(ModulePath, String),
    Local(ModulePath, String),
    Resource(ResourceAddress),
    Output(ModulePath, String),
    /// A provider configuration, by key (`provider.local`, `provider.local.backup`).
    Provider(String),
}

impl Node {
    /// The evaluator symbol this node defines, if any.
    pub fn symbol(&self) -> Option<Symbol> {
        match self {
            Node::Variable(module, name) => Some(Symbol::Variable(module.clone(), name.clone())),
            Node::Local(module, name) => Some(Symbol::Local(module.clone(), name.clone())),
            Node::Resource(address) => Some(Symbol::Resource(address.clone())),
            Node::Output(module, name) => Some(Symbol::Output(module.clone(), name.clone())),
            Node::Provider(_) => None,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = |module: &ModulePath| {
            if module.is_root() {
                String::new()
            } else {
                format!("{module}.")
            }
        };
        match self {
            Node::Variable(module, name) => write!(formatter, "{}var.{name}", prefix(module)),
            Node::Local(module, name) => write!(formatter, "{}local.{name}", prefix(module)),
            Node::Resource(address) => write!(formatter, "{address}"),
            Node::Output(module, name) => write!(formatter, "{}output.{name}", prefix(module)),
            Node::Provider(key) => formatter.write_str(key),
        }
    }
}

/// The configuration's graph: edges point from a dependency to its dependents.
#[derive(Debug, Default)]
pub struct Graph {
    pub graph: DiGraph<Node, ()>,
    pub index: HashMap<Node, NodeIndex>,
}

impl Graph {
    pub fn node_index(&self, node: &Node) -> Option<NodeIndex> {
        self.index.get(node).copied()
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    /// The resources `address` depends on, directly or through locals, variables, outputs and modules, sorted.
    /// State records them so that a destroy deletes dependents first.
    pub fn resource_dependencies(&self, address: &ResourceAddress) -> Vec<String> {
        let Some(start) = self.node_index(&Node::Resource(address.clone())) else {
            return Vec::new();
        };
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![start];
        let mut found = Vec::new();
        while let Some(index) = stack.pop() {
            for dependency in self.graph.neighbors_directed(index, petgraph::Direction::Incoming) {
                if !seen.insert(dependency) {
                    continue;
                }
                match &self.graph[dependency] {
                    Node::Resource(resource) => found.push(resource.to_string()),
                    Node::Provider(_) => {}
                    _ => stack.push(dependency),
                }
            }
        }
        found.sort();
        found
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut text = String::from("digraph keyform {\n  rankdir = \"RL\";\n  node [shape = rect];\n");
        let mut nodes: Vec<&Node> = self.graph.node_weights().collect();
        nodes.sort();
        for node in nodes {
            text.push_str(&format!("  \"{}\";\n", node.to_string().replace('"', "\\\"")));
        }
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|edge| self.graph.edge_endpoints(edge))
            .map(|(from, to)| (self.graph[to].to_string(), self.graph[from].to_string()))
            .collect();
        edges.sort();
        for (dependent, dependency) in edges {
            text.push_str(&format!(
                "  \"{}\" -> \"{}\";\n",
                dependent.replace('"', "\\\""),
                dependency.replace('"', "\\\"")
            ));
        }
        text.push_str("}\n");
        text
    }
}
