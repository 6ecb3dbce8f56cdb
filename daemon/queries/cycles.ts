// cycles: import cycles between modules and call cycles between entities (Tarjan SCC).
import type { CyclesResult } from '../../client/protocol.ts';
export type { CyclesResult };
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
  const s = view.store;
  const n = s.idLimit;
  const successors = (v: number): number[] => {
    if (!s.isAlive(v)) return [];
    const list = s.rawNeighbors(kind, v, 'out');
    if (!list) return [];
    const out: number[] = [];
    const typeOnly = kind === 'imports' && ignoreTypeOnly ? view.typeOnlyImports(s.file(v)) : undefined;
    for (const t of list) {
      if (t & 1 && !includeInferred) continue;
      const w = t >> 1;
      if (typeOnly?.has(s.file(w))) continue;
      out.push(w);
    }
    return out;
  };
  const comps = stronglyConnectedComponents(n, successors).filter((c) => c.length > 1 || (selfLoops && successors(c[0]!).includes(c[0]!)));
  comps.sort((a, b) => b.length - a.length);
  return {
    kind,
    total: comps.length,
    cycles: comps.slice(0, limit).map((c) => ({
      size: c.length,
      members: c.map((id) => entityRef(view, id)).sort((a, b) => (a.id < b.id ? -1 : 1)),
    })),
  };
}
