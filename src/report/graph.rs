//! The flow graph of a report as a petgraph graph, and a layered layout of
//! it for drawing (HTML): addresses in columns by their fewest hops from a
//! seed, ordered within a column by the rows of what sends to them.

use super::{nodes, Node, TraceReport};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// Nodes are addresses, edges index `TraceReport::flows`.
pub struct FlowGraph {
    pub graph: DiGraph<Node, usize>,
    /// Addresses left out to keep the drawing readable (the lightest
    /// flows go first), and the flows left out with them.
    pub omitted_nodes: usize,
    pub omitted_edges: usize,
}

/// Where a node is drawn: its column (hops from a seed) and row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub column: usize,
    pub row: usize,
}

impl FlowGraph {
    /// Build the graph of a report's flows, keeping at most `max_nodes`
    /// addresses: the seeds, then those on the heaviest flows.
    pub fn new(r: &TraceReport, max_nodes: usize) -> FlowGraph {
        let all = nodes(r);
        let total_nodes = all.len();
        // which addresses to keep: seeds first, then by the heaviest flow
        // touching them (ties: first seen), until the budget is spent
        let mut keep: std::collections::HashSet<String> = all
            .iter()
            .filter(|n| n.role == "seed")
            .map(|n| n.address.clone())
            .collect();
        let mut by_weight: Vec<usize> = (0..r.flows.len()).collect();
        by_weight.sort_by(|a, b| r.flows[*b].tainted.cmp(&r.flows[*a].tainted).then(a.cmp(b)));
        for i in by_weight {
            let f = &r.flows[i];
            let need = [&f.from, &f.to]
                .iter()
                .filter(|a| !keep.contains(**a))
                .count();
            if keep.len() + need > max_nodes.max(2) {
                continue;
            }
            keep.insert(f.from.clone());
            keep.insert(f.to.clone());
        }
        let mut graph = DiGraph::new();
        let mut at: HashMap<String, NodeIndex> = HashMap::new();
        let kept: Vec<Node> = all
            .into_iter()
            .filter(|n| keep.contains(&n.address))
            .collect();
        for n in kept {
            let a = n.address.clone();
            at.insert(a, graph.add_node(n));
        }
        let mut omitted_edges = 0;
        for (i, f) in r.flows.iter().enumerate() {
            match (at.get(&f.from), at.get(&f.to)) {
                (Some(a), Some(b)) => {
                    graph.add_edge(*a, *b, i);
                }
                _ => omitted_edges += 1,
            }
        }
        let omitted_nodes = total_nodes - graph.node_count();
        FlowGraph {
            graph,
            omitted_nodes,
            omitted_edges,
        }
    }

    /// A layered layout: column = fewest edges from a seed (addresses no
    /// seed reaches, such as where taint of unknown origin appeared, in
    /// column 0); within a column, rows by the mean row of the node's
    /// predecessors in earlier columns, then first-seen order.
    pub fn layout(&self) -> Vec<Place> {
        let g = &self.graph;
        let n = g.node_count();
        let mut column = vec![usize::MAX; n];
        let mut queue = std::collections::VecDeque::new();
        for i in g.node_indices() {
            if g[i].role == "seed" {
                column[i.index()] = 0;
                queue.push_back(i);
            }
        }
        while let Some(i) = queue.pop_front() {
            for j in g.neighbors_directed(i, petgraph::Direction::Outgoing) {
                if column[j.index()] == usize::MAX {
                    column[j.index()] = column[i.index()] + 1;
                    queue.push_back(j);
                }
            }
        }
        for c in column.iter_mut() {
            if *c == usize::MAX {
                *c = 0;
            }
        }
        let columns = column.iter().copied().max().map_or(0, |m| m + 1);
        let mut row = vec![0usize; n];
        for c in 0..columns {
            let mut members: Vec<(f64, usize)> = (0..n)
                .filter(|i| column[*i] == c)
                .map(|i| {
                    let preds: Vec<usize> = g
                        .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
                        .map(|p| p.index())
                        .filter(|p| column[*p] < c)
                        .collect();
                    let key = if preds.is_empty() {
                        f64::MAX
                    } else {
                        preds.iter().map(|p| row[*p] as f64).sum::<f64>() / preds.len() as f64
                    };
                    (key, i)
                })
                .collect();
            members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for (r, (_, i)) in members.iter().enumerate() {
                row[*i] = r;
            }
        }
        (0..n)
            .map(|i| Place {
                column: column[i],
                row: row[i],
            })
            .collect()
    }
}
