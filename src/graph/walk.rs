//! Visiting a graph in dependency order, independent nodes concurrently.
//!
//! **A node runs only after every dependency succeeded; a failed node's
//! dependents are skipped, never run on missing inputs.**

use super::{Graph, Node};
use futures::stream::{FuturesUnordered, StreamExt};
use petgraph::Direction;
use std::future::Future;

/// What happened to the nodes of a walk.
#[derive(Debug, Default)]
pub struct WalkOutcome {
    pub failed: Vec<Node>,
    /// Skipped because a dependency failed.
    pub skipped: Vec<Node>,
}

/// Visits every node once its dependencies are done. `visit` returns false on failure.
pub async fn walk<F, Fut>(graph: &Graph, visit: F) -> WalkOutcome
where
    F: Fn(Node) -> Fut,
    Fut: Future<Output = bool>,
{
    let count = graph.graph.node_count();
    let mut waiting: Vec<usize> = graph
        .graph
        .node_indices()
        .map(|index| graph.graph.neighbors_directed(index, Direction::Incoming).count())
        .collect();
    let mut blocked = vec![false; count];
    let mut ready: Vec<petgraph::graph::NodeIndex> = graph
        .graph
        .node_indices()
        .filter(|index| waiting[index.index()] == 0)
        .collect();
    // Deterministic order for nodes that are ready together.
    ready.sort_by(|left, right| graph.graph[*right].cmp(&graph.graph[*left]));
    let mut running = FuturesUnordered::new();
    let mut outcome = WalkOutcome::default();
    loop {
        while let Some(index) = ready.pop() {
            if blocked[index.index()] {
                outcome.skipped.push(graph.graph[index].clone());
                release(graph, index, &mut waiting, &mut ready, &mut blocked, true);
                continue;
            }
            let future = visit(graph.graph[index].clone());
            running.push(async move { (index, future.await) });
        }
        let Some((index, succeeded)) = running.next().await else {
            break;
        };
        if !succeeded {
            outcome.failed.push(graph.graph[index].clone());
        }
        release(graph, index, &mut waiting, &mut ready, &mut blocked, !succeeded);
    }
    outcome
}

fn release(
    graph: &Graph,
    index: petgraph::graph::NodeIndex,
    waiting: &mut [usize],
    ready: &mut Vec<petgraph::graph::NodeIndex>,
    blocked: &mut [bool],
    block_dependents: bool,
) {
    for dependent in graph.graph.neighbors_directed(index, Direction::Outgoing) {
        if block_dependents {
            blocked[dependent.index()] = true;
        }
        waiting[dependent.index()] -= 1;
        if waiting[dependent.index()] == 0 {
            ready.push(dependent);
        }
    }
}
