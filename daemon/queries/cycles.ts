// cycles: import cycles between modules and call cycles between entities (Tarjan SCC).
import type { CyclesResult } from '../../client/protocol.ts';
export type { CyclesResult };
import { OTHER_SHIFT } from '../graph/adjacency.ts';
import { EDGE_KIND_INDEX, type GraphStore } from '../graph/store.ts';
import { asArgs, optionalBool, optionalEnum, optionalInt } from './args.ts';
import { entityRef } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';
import { csrCycles, type CycleGraph } from '../graph/algorithms/scc.ts';

/**
 * Args: `kind` ('imports' default, or 'calls'), `ignoreTypeOnly` (imports only: skip modules
 * imported through `import type` alone, which vanish at run time; default false),
 * `inferred` (calls only: follow name-matched edges, default false), `selfLoops` (count an
 * entity calling itself, default false), `limit` (default 100).
 */
export function cycles(view: GraphView, rawArgs: unknown): CyclesResult {
  const args = asArgs(rawArgs);
  const kind = optionalEnum(args, 'kind', ['imports', 'calls'] as const, 'imports');
  const ignoreTypeOnly = optionalBool(args, 'ignoreTypeOnly', false);
  const includeInferred = optionalBool(args, 'inferred', false);
  const selfLoops = optionalBool(args, 'selfLoops', false);
  const limit = optionalInt(args, 'limit', 100, 1, 100000);
  const cycles = componentsOf(view, kind, ignoreTypeOnly, includeInferred, selfLoops);
  return {
    kind,
    total: cycles.length,
    cycles: cycles.slice(0, limit).map((members) => ({ size: members.length, members: members.map((id) => entityRef(view, id)) })),
  };
}

/**
 * The cycles, largest first, each with its members sorted by id. Tarjan over the whole graph
 * takes milliseconds on a large codebase, so the answer is kept until the graph changes.
 */
function componentsOf(view: GraphView, kind: 'imports' | 'calls', ignoreTypeOnly: boolean, includeInferred: boolean, selfLoops: boolean): readonly number[][] {
  const s = view.store;
  let cache = cached.get(s);
  if (!cache || cache.version !== s.version || cache.generation !== view.generation) {
    cache = { version: s.version, generation: view.generation, byArgs: new Map() };
    cached.set(s, cache);
  }
  const argsKey = `${kind} ${ignoreTypeOnly} ${includeInferred} ${selfLoops}`;
  const known = cache.byArgs.get(argsKey);
  if (known) return known;
  const comps = csrCycles(edgesOf(view, kind, ignoreTypeOnly, includeInferred), FOLLOW_ALL)
    .filter((c) => selfLoops || c.length > 1)
    .map((c) => Array.from(c).sort((a, b) => s.compareKeys(a, b) || 1));
  cache.byArgs.set(argsKey, comps);
  return comps;
}

/** `edgesOf` gives every edge kind 0: Tarjan follows them all. */
const FOLLOW_ALL = Uint8Array.of(1);

/**
 * The edges a cycles query follows, gathered into typed arrays for Tarjan: one kind, resolved
 * only unless `includeInferred`, and for imports without those to modules imported as types
 * alone when `ignoreTypeOnly`. (Tarjan over per-vertex lists and frames took tens of ms on
 * effect, and was paid again after every change.)
 */
function edgesOf(view: GraphView, kind: 'imports' | 'calls', ignoreTypeOnly: boolean, includeInferred: boolean): CycleGraph {
  const s = view.store;
  const adj = s.adjacency('out');
  const k = EDGE_KIND_INDEX[kind];
  const n = s.idLimit;
  const outOffsets = new Uint32Array(n + 1);
  let outTargets = new Uint32Array(1024);
  let count = 0;
  for (let v = 0; v < n; v++) {
    outOffsets[v] = count;
    if (!s.isAlive(v)) continue;
    const typeOnly = kind === 'imports' && ignoreTypeOnly ? view.typeOnlyImports(s.file(v)) : undefined;
    for (let i = adj.start(v, k), end = adj.end(v, k); i < end; i++) {
      const e = adj.pool[i]!;
      if (e & 1 && !includeInferred) continue;
      const w = e >> OTHER_SHIFT;
      if (typeOnly?.has(s.file(w))) continue;
      if (count === outTargets.length) {
        const grown = new Uint32Array(count * 2);
        grown.set(outTargets);
        outTargets = grown;
      }
      outTargets[count++] = w;
    }
  }
  outOffsets[n] = count;
  // Dead ids have no edges here: Tarjan sees them as vertices alone, never a cycle.
  return { nodeCount: n, outOffsets, outTargets, outKinds: new Uint8Array(count), entityKinds: new Uint8Array(n) };
}

const cached = new WeakMap<GraphStore, { version: number; generation: number; byArgs: Map<string, number[][]> }>();
