// Breadth-first walks over chosen edge kinds, the shared engine of the relation queries.
import type { EdgeKind } from '../model.ts';
import type { GraphStore } from '../graph/store.ts';

export interface Reached {
  id: number;
  distance: number;
  /** True when every path found to it used at least one name-matched edge. */
  inferred: boolean;
}

/**
 * Entities reachable from `starts` over `kinds` in `direction`, nearest first, up to `maxDepth`.
 * Inferred edges are followed only when `includeInferred`.
 */
export function walk(store: GraphStore, starts: number[], kinds: readonly EdgeKind[], direction: 'out' | 'in', maxDepth: number, includeInferred: boolean): Reached[] {
  const seen = new Map<number, Reached>();
  for (const s of starts) seen.set(s, { id: s, distance: 0, inferred: false });
  let frontier = starts;
  const out: Reached[] = [];
  for (let depth = 1; depth <= maxDepth && frontier.length; depth++) {
    const next: number[] = [];
    for (const from of frontier) {
      const viaInferred = seen.get(from)!.inferred;
      for (const kind of kinds) {
        const list = store.rawNeighbors(kind, from, direction);
        if (!list) continue;
        for (const t of list) {
          const inferred = (t & 1) === 1;
          if (inferred && !includeInferred) continue;
          const id = t >> 1;
          const prev = seen.get(id);
          if (prev) {
            if (prev.distance === depth && prev.inferred && !(inferred || viaInferred)) prev.inferred = false;
            continue;
          }
          const r = { id, distance: depth, inferred: inferred || viaInferred };
          seen.set(id, r);
          out.push(r);
          next.push(id);
        }
      }
    }
    frontier = next;
  }
  return out;
}
