// cycles: import cycles between modules and call cycles between entities (Tarjan SCC).
import type { CyclesResult } from '../../client/protocol.ts';
export type { CyclesResult };
import { OTHER_SHIFT } from '../graph/adjacency.ts';
import { EDGE_KIND_INDEX, type GraphStore } from '../graph/store.ts';
import { asArgs, optionalBool, optionalEnum, optionalInt } from './args.ts';
import { entityRef } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';
import { stronglyConnectedComponents } from './scc.ts';

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
  const adj = s.adjacency('out');
  const k = EDGE_KIND_INDEX[kind];
  const successors = (v: number): number[] => {
    const out: number[] = [];
    if (!s.isAlive(v)) return out;
    const typeOnly = kind === 'imports' && ignoreTypeOnly ? view.typeOnlyImports(s.file(v)) : undefined;
    for (let i = adj.start(v, k), end = adj.end(v, k); i < end; i++) {
      const e = adj.pool[i]!;
      if (e & 1 && !includeInferred) continue;
      const w = e >> OTHER_SHIFT;
      if (typeOnly?.has(s.file(w))) continue;
      out.push(w);
    }
    return out;
  };
  const comps = stronglyConnectedComponents(s.idLimit, successors).filter((c) => c.length > 1 || (selfLoops && successors(c[0]!).includes(c[0]!)));
  comps.sort((a, b) => b.length - a.length);
  for (const c of comps) c.sort((a, b) => s.compareKeys(a, b) || 1);
  cache.byArgs.set(argsKey, comps);
  return comps;
}

const cached = new WeakMap<GraphStore, { version: number; generation: number; byArgs: Map<string, number[][]> }>();
