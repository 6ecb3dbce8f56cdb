// The TypeScript twins of the native plugins scc and pagerank: the same ops, arguments,
// checks (in the same order, with the same messages) and results, over the same CSR
// snapshot. They are what the native tier falls back to where an addon cannot load (cargo
// missing, a runtime without Node-API), and what the benchmarks compare the addons against.
import type { PluginContext, BuiltinPlugin } from './api.ts';
import type { CsrSnapshot } from '../graph/csr.ts';
import { edgeFilter } from '../graph/algorithms/edge-filter.ts';
import { pageRank, type Ranks } from '../graph/algorithms/pagerank.ts';
import { csrCycles } from '../graph/algorithms/scc.ts';
import { ENTITY_KINDS } from '../model.ts';
import { asArgs, edgeKinds, entityKinds, optionalBool, optionalInt, optionalNumber, optionalString } from '../queries/args.ts';
import { ENTITY_KEY, entityResults } from './native-results.ts';

/** Results computed once per generation (per snapshot), keyed by what they depend on. */
const memos = new WeakMap<CsrSnapshot, Map<string, unknown>>();

function memo<T>(csr: CsrSnapshot, key: string, compute: () => T): T {
  let m = memos.get(csr);
  if (!m) memos.set(csr, (m = new Map()));
  if (!m.has(key)) m.set(key, compute());
  return m.get(key) as T;
}

export function sccComponents(csr: CsrSnapshot, rawArgs: unknown): unknown {
  const args = asArgs(rawArgs);
  const kinds = edgeKinds(args, 'kinds') ?? ['imports'];
  const inferred = optionalBool(args, 'inferred', false);
  const minSize = optionalInt(args, 'minSize', 2, 1, 0xffffffff);
  const limit = optionalInt(args, 'limit', 100, 1, 100000);
  const filter = edgeFilter(kinds, inferred);
  const all = memo(csr, `scc ${kinds.join(',')} ${inferred}`, () => csrCycles(csr, filter));
  const chosen = all.filter((c) => c.length >= minSize);
  return {
    generation: csr.generation,
    kinds,
    inferred,
    minSize,
    total: chosen.length,
    components: chosen.slice(0, limit).map((members) => ({ size: members.length, members })),
  };
}

export function pageRankRanking(csr: CsrSnapshot, rawArgs: unknown): unknown {
  const args = asArgs(rawArgs);
  const kinds = edgeKinds(args, 'kinds') ?? ['calls', 'uses-type'];
  const inferred = optionalBool(args, 'inferred', false);
  const damping = optionalNumber(args, 'damping', 0.85, 0, 1, true);
  const maxIterations = optionalInt(args, 'iterations', 100, 1, 10000);
  const tolerance = optionalNumber(args, 'tolerance', 1e-6, 0, 1);
  const top = optionalInt(args, 'top', 20, 1, 100000);
  const kindFilter = entityKinds(args, 'kind');
  const path = optionalString(args, 'path');
  const withPercentiles = optionalBool(args, 'percentiles', false);
  const filter = edgeFilter(kinds, inferred);
  const ranks = memo<Ranks>(csr, `pagerank ${kinds.join(',')} ${inferred} ${damping} ${maxIterations} ${tolerance}`, () => pageRank(csr, filter, { damping, maxIterations, tolerance }));

  const codes = kindFilter ? new Set(kindFilter.map((k) => ENTITY_KINDS.indexOf(k))) : undefined;
  const filesListed = path === undefined ? undefined : csr.fileTable.map((f) => f.startsWith(path));
  let best: number[] = [];
  let total = 0;
  if (!codes && !filesListed) {
    total = ranks.order.length;
    best = Array.from(ranks.order.subarray(0, top));
  } else {
    for (const id of ranks.order) {
      if (codes && !codes.has(csr.entityKinds[id]!)) continue;
      if (filesListed && !filesListed[csr.files[id]!]) continue;
      total++;
      if (best.length < top) best.push(id);
    }
  }
  return {
    generation: csr.generation,
    nodes: ranks.nodes,
    iterations: ranks.iterations,
    converged: ranks.converged,
    delta: ranks.delta,
    total,
    results: best.map((id) => ({ [ENTITY_KEY]: id, score: ranks.scores[id] })),
    ...(withPercentiles ? { percentiles: percentiles(ranks.order, csr.nodeCount) } : {}),
  };
}

/** By entity id: 1 - position / nodes in the ranking of every live entity, 0 for a dead id. */
function percentiles(order: ArrayLike<number>, nodeCount: number): Float64Array {
  const out = new Float64Array(nodeCount);
  for (let i = 0; i < order.length; i++) out[order[i]!] = 1 - i / order.length;
  return out;
}

function builtin(name: string, op: string, summary: string, run: (csr: CsrSnapshot, args: unknown) => unknown): BuiltinPlugin {
  return {
    manifest: { name, version: '0.1.0', ops: [{ name: op, summary }], capabilities: ['graph:read'] },
    activate: (ctx: PluginContext) => ({
      ops: {
        [op]: (args: unknown) => {
          const csr = ctx.graph.csr();
          return entityResults(name, run(csr, args), csr, () => ctx.graph.view());
        },
      },
    }),
  };
}

/** By plugin name: what the native tier may load instead of the addon of that name. */
export const NATIVE_FALLBACKS: Readonly<Record<string, BuiltinPlugin>> = {
  scc: builtin('scc', 'components', 'strongly connected components (cycles) over chosen edge kinds, largest first', sccComponents),
  pagerank: builtin('pagerank', 'rank', 'entities ranked by PageRank over calls and uses-type edges, optionally filtered by kind or path', pageRankRanking),
};
