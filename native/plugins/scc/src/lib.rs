//! Strongly connected components over chosen edge kinds (Tarjan, iterative), the same
//! algorithm and result order as daemon/graph/algorithms/scc.ts.
//!
//! Op `components`: `kinds` (edge kinds, default imports), `inferred` (follow name-matched
//! edges, default false), `minSize` (default 2; 1 adds single entities with an edge to
//! themselves), `limit` (default 100). Result: `{ generation, kinds, inferred, minSize, total,
//! components: [{ size, members }] }`, largest first, members by id.

use isg_plugin::{export_plugin, Call, EdgeFilter, OpResult, Plugin, Snapshot, Value};

export_plugin!(Plugin { name: "scc", ops: &[("components", components)], on_update: None });

fn components(call: &mut Call) -> OpResult {
    let g = call.graph()?;
    let kinds = call.args.names_or("kinds", g.edge_kind_names(), &["imports"])?;
    let inferred = call.args.bool("inferred", false)?;
    let min_size = call.args.int("minSize", 2, 1, u32::MAX as i64)? as usize;
    let limit = call.args.int("limit", 100, 1, 100_000)? as usize;
    let filter = EdgeFilter::new(g, &kinds, inferred);
    let all = call.memo(format!("{filter:?}"), |g| Ok(cycles(g, filter)))?;
    let chosen: Vec<&Vec<u32>> = all.iter().filter(|c| c.len() >= min_size).collect();
    let listed = chosen.iter().take(limit).map(|c| Value::object([("size", Value::from(c.len())), ("members", Value::Ids(c.to_vec()))])).collect::<Vec<_>>();
    Ok(Value::object([
        ("generation", Value::from(g.generation)),
        ("kinds", Value::from(kinds)),
        ("inferred", Value::from(inferred)),
        ("minSize", Value::from(min_size)),
        ("total", Value::from(chosen.len())),
        ("components", Value::List(listed)),
    ]))
}

/// Every component that is a cycle: two or more members, or one with an edge to itself.
/// Members ascending; components by size descending, then by first member.
fn cycles(g: &Snapshot, filter: EdgeFilter) -> Vec<Vec<u32>> {
    let (offsets, targets, kinds) = (g.out_offsets(), g.out_targets(), g.out_kinds());
    let edges = |v: usize| (offsets[v] as usize..offsets[v + 1] as usize).filter(move |&e| filter.admits(kinds[e])).map(move |e| targets[e] as usize);
    let mut comps: Vec<Vec<u32>> = Vec::new();
    tarjan(g, &edges, |c| {
        if c.len() > 1 || edges(c[0] as usize).any(|w| w == c[0] as usize) {
            let mut members = c.to_vec();
            members.sort_unstable();
            comps.push(members);
        }
    });
    comps.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    comps
}

const UNSEEN: u32 = u32::MAX;

struct Tarjan<I> {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// The depth-first path: each vertex with the rest of its successors.
    frames: Vec<(usize, I)>,
    counter: u32,
}

impl<I: Iterator<Item = usize>> Tarjan<I> {
    fn enter(&mut self, v: usize, successors: I) {
        self.index[v] = self.counter;
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v as u32);
        self.on_stack[v] = true;
        self.frames.push((v, successors));
    }
}

/// Calls `emit` with each component (a slice of Tarjan's stack: most are single vertices,
/// and copying only the cycles saves an allocation per vertex).
fn tarjan<I: Iterator<Item = usize>>(g: &Snapshot, edges: &impl Fn(usize) -> I, mut emit: impl FnMut(&[u32])) {
    let n = g.node_count;
    let mut t = Tarjan { index: vec![UNSEEN; n], low: vec![0; n], on_stack: vec![false; n], stack: Vec::new(), frames: Vec::new(), counter: 0 };
    for root in 0..n {
        if t.index[root] != UNSEEN || !g.is_alive(root) {
            continue;
        }
        t.enter(root, edges(root));
        while let Some((v, successors)) = t.frames.last_mut() {
            let v = *v;
            if let Some(w) = successors.next() {
                if t.index[w] == UNSEEN {
                    t.enter(w, edges(w));
                } else if t.on_stack[w] {
                    t.low[v] = t.low[v].min(t.index[w]);
                }
                continue;
            }
            t.frames.pop();
            if let Some(&(parent, _)) = t.frames.last() {
                t.low[parent] = t.low[parent].min(t.low[v]);
            }
            if t.low[v] == t.index[v] {
                let start = t.stack.iter().rposition(|&w| w as usize == v).expect("Tarjan's stack holds v");
                for &w in &t.stack[start..] {
                    t.on_stack[w as usize] = false;
                }
                emit(&t.stack[start..]);
                t.stack.truncate(start);
            }
        }
    }
}
