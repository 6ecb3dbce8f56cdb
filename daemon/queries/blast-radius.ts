// blast-radius: what may break if an entity changes: its transitive dependents over chosen
// edge kinds, grouped by distance and by file.
import type { BlastRadiusResult } from '../../client/protocol.ts';
export type { BlastRadiusResult };
import type { EdgeKind } from '../model.ts';
import { asArgs, edgeKinds, optionalBool, optionalInt } from './args.ts';
import { entityRef, resolveEntity } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';
import { walk } from './traverse.ts';

export const DEFAULT_BLAST_KINDS: EdgeKind[] = ['calls', 'uses-type', 'extends', 'implements'];

/**
 * Args: `entity`, `depth` (default 3), `kinds` (edge kinds followed backwards, default
 * calls, uses-type, extends, implements), `members` (a change to a class or interface also
 * reaches through its members, default true), `inferred` (follow name-matched edges, default
 * false: a blast radius should not guess), `limit` per distance (default 500).
 */
export function blastRadius(view: GraphView, rawArgs: unknown): BlastRadiusResult {
  const args = asArgs(rawArgs);
  const id = resolveEntity(view, args.entity);
  const depth = optionalInt(args, 'depth', 3, 1, 50);
  const kinds = edgeKinds(args, 'kinds') ?? DEFAULT_BLAST_KINDS;
  const members = optionalBool(args, 'members', true);
  const includeInferred = optionalBool(args, 'inferred', false);
  const limit = optionalInt(args, 'limit', 500, 1, 100000);
  const starts = [id];
  if (members) for (const m of walk(view.store, [id], ['contains'], 'out', 10, false)) starts.push(m.id);
  const startSet = new Set(starts);
  const reached = walk(view.store, starts, kinds, 'in', depth, includeInferred).filter((r) => !startSet.has(r.id));
  const byDistance = new Map<number, typeof reached>();
  const byFile = new Map<string, { count: number; minDistance: number }>();
  for (const r of reached) {
    let list = byDistance.get(r.distance);
    if (!list) byDistance.set(r.distance, (list = []));
    list.push(r);
    const file = view.store.file(r.id);
    const f = byFile.get(file);
    if (f) {
      f.count++;
      f.minDistance = Math.min(f.minDistance, r.distance);
    } else byFile.set(file, { count: 1, minDistance: r.distance });
  }
  return {
    entity: entityRef(view, id),
    depth,
    kinds,
    total: reached.length,
    files: byFile.size,
    byDistance: [...byDistance.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([distance, list]) => ({
        distance,
        count: list.length,
        entities: list.slice(0, limit).map((r) => ({ ...entityRef(view, r.id), resolution: r.inferred ? ('inferred' as const) : ('resolved' as const) })),
      })),
    byFile: [...byFile.entries()]
      .map(([file, v]) => ({ file, ...v }))
      .sort((a, b) => a.minDistance - b.minDistance || b.count - a.count || (a.file < b.file ? -1 : 1)),
  };
}
