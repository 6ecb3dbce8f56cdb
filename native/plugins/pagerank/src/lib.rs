//! PageRank over chosen edge kinds, the same arithmetic in the same order as
//! daemon/graph/algorithms/pagerank.ts (so the scores agree to the last bit, not just 1e-9).
//!
//! Op `rank`: `kinds` (default calls, uses-type), `inferred` (default false), `damping`
//! (default 0.85), `iterations` (at most, default 100), `tolerance` (stop when the L1 change of
//! an iteration is below it, default 1e-6), `top` (default 20), `kind` (entity kinds to list)
//! and `path` (file prefix to list). Result: `{ generation, nodes, iterations, converged,
//! delta, total, results: [{ <entity ref>, score }] }`, best first (ties by id). The ranking
//! is computed once per generation and arguments; a call filters it and takes the top.
//! `percentiles: true` adds `percentiles`, by entity id of `generation`: 1 - position / nodes
//! in the ranking of every live entity (the best has 1), 0 for an id that is no entity. A
//! caller that ranks everything (the context plugin) reads that instead of a ref per entity.

use std::cmp::Ordering;

use isg_plugin::{export_plugin, Call, EdgeFilter, OpResult, Plugin, Snapshot, Value};

export_plugin!(Plugin { name: "pagerank", ops: &[("rank", rank)], on_update: None });

struct Ranks {
    scores: Vec<f64>,
    /// Live entity ids, best first (ties by id).
    order: Vec<u32>,
    nodes: usize,
    iterations: u32,
    converged: bool,
    delta: f64,
}

fn rank(call: &mut Call) -> OpResult {
    let g = call.graph()?;
    let kinds = call.args.names_or("kinds", g.edge_kind_names(), &["calls", "uses-type"])?;
    let inferred = call.args.bool("inferred", false)?;
    let damping = call.args.number("damping", 0.85, 0.0, 1.0, true)?;
    let iterations = call.args.int("iterations", 100, 1, 10_000)? as u32;
    let tolerance = call.args.number("tolerance", 1e-6, 0.0, 1.0, false)?;
    let top = call.args.int("top", 20, 1, 100_000)? as usize;
    let entity_kinds = call.args.names("kind", g.entity_kind_names())?;
    let path = call.args.string("path")?.map(str::to_string);
    let with_percentiles = call.args.bool("percentiles", false)?;
    let filter = EdgeFilter::new(g, &kinds, inferred);
    let key = format!("{filter:?} {:x} {iterations} {:x}", damping.to_bits(), tolerance.to_bits());
    let ranks = call.memo(key, |g| Ok(page_rank(g, filter, damping, iterations, tolerance)))?;

    let kind_codes: Option<Vec<u8>> = entity_kinds.map(|names| names.iter().filter_map(|n| g.entity_kind_names().iter().position(|k| k == n)).map(|i| i as u8).collect());
    let files_listed: Option<Vec<bool>> = path.map(|p| g.file_table().iter().map(|f| f.starts_with(&p)).collect());
    let mut best = Vec::with_capacity(top.min(ranks.order.len()));
    let mut total = 0usize;
    for &id in &ranks.order {
        let id = id as usize;
        if kind_codes.as_ref().is_some_and(|codes| !codes.contains(&g.entity_kinds()[id])) || files_listed.as_ref().is_some_and(|listed| !listed[g.files()[id] as usize]) {
            continue;
        }
        total += 1;
        if best.len() < top {
            best.push(Value::entity(id as u32, [("score", Value::from(ranks.scores[id]))]));
        }
    }
    let mut fields = vec![
        ("generation", Value::from(g.generation)),
        ("nodes", Value::from(ranks.nodes)),
        ("iterations", Value::from(ranks.iterations)),
        ("converged", Value::from(ranks.converged)),
        ("delta", Value::from(ranks.delta)),
        ("total", Value::from(total)),
        ("results", Value::List(best)),
    ];
    if with_percentiles {
        fields.push(("percentiles", Value::Floats(percentiles(&ranks.order, g.node_count))));
    }
    Ok(Value::object(fields))
}

fn percentiles(order: &[u32], node_count: usize) -> Vec<f64> {
    let mut out = vec![0.0f64; node_count];
    let n = order.len() as f64;
    for (i, &id) in order.iter().enumerate() {
        out[id as usize] = 1.0 - i as f64 / n;
    }
    out
}

/// Power iteration over the live entities; a dangling entity's rank is spread over all of
/// them. Each new score sums its in-edges in snapshot order.
fn page_rank(g: &Snapshot, filter: EdgeFilter, damping: f64, max_iterations: u32, tolerance: f64) -> Ranks {
    let n = g.node_count;
    let alive: Vec<usize> = (0..n).filter(|&id| g.is_alive(id)).collect();
    let nodes = alive.len();
    let (out_offsets, out_kinds) = (g.out_offsets(), g.out_kinds());
    let (in_offsets, in_sources, in_kinds) = (g.in_offsets(), g.in_sources(), g.in_kinds());
    let mut out_degree = vec![0u32; n];
    for &v in &alive {
        out_degree[v] = (out_offsets[v]..out_offsets[v + 1]).filter(|&e| filter.admits(out_kinds[e as usize])).count() as u32;
    }
    let mut rank = vec![0.0f64; n];
    if nodes == 0 {
        return Ranks { scores: rank, order: Vec::new(), nodes, iterations: 0, converged: true, delta: 0.0 };
    }
    let share = 1.0 / nodes as f64;
    for &v in &alive {
        rank[v] = share;
    }
    let mut next = vec![0.0f64; n];
    let mut contribution = vec![0.0f64; n];
    let (mut iterations, mut delta, mut converged) = (0, 0.0, false);
    while iterations < max_iterations {
        iterations += 1;
        let mut dangling = 0.0;
        for &v in &alive {
            if out_degree[v] == 0 {
                dangling += rank[v];
                contribution[v] = 0.0;
            } else {
                contribution[v] = rank[v] / out_degree[v] as f64;
            }
        }
        let base = (1.0 - damping) * share + damping * dangling * share;
        delta = 0.0;
        for &v in &alive {
            let (from, to) = (in_offsets[v] as usize, in_offsets[v + 1] as usize);
            let mut sum = 0.0;
            for (&source, &kind) in in_sources[from..to].iter().zip(&in_kinds[from..to]) {
                if filter.admits(kind) {
                    sum += contribution[source as usize];
                }
            }
            let score = base + damping * sum;
            delta += (score - rank[v]).abs();
            next[v] = score;
        }
        std::mem::swap(&mut rank, &mut next);
        if delta < tolerance {
            converged = true;
            break;
        }
    }
    let mut order: Vec<u32> = alive.iter().map(|&v| v as u32).collect();
    order.sort_unstable_by(|&a, &b| rank[b as usize].partial_cmp(&rank[a as usize]).unwrap_or(Ordering::Equal).then(a.cmp(&b)));
    Ranks { scores: rank, order, nodes, iterations, converged, delta }
}
