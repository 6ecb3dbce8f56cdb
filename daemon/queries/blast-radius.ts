// blast-radius: what may break if an entity changes: its transitive dependents over chosen
// edge kinds, grouped by distance and by file.
import type { BlastRadiusResult, EntityRef, Resolution } from '../../client/protocol.ts';
export type { BlastRadiusResult };
import type { GraphStore } from '../graph/store.ts';
import type { EdgeKind } from '../model.ts';
import { asArgs, edgeKinds, optionalBool, optionalInt } from './args.ts';
import { entityRef, refOf, resolveEntity } from './entity-ref.ts';
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
  const s = view.store;
  const starts = [id];
  if (members) {
    const m = walk(s, [id], ['contains'], 'out', 10, false);
    for (let i = 0; i < m.count; i++) starts.push(m.id(i));
  }
  // A walk never reports its starts: the members are where the change starts, not its result.
  const reached = walk(s, starts, kinds, 'in', depth, includeInferred);
  const byDistance: BlastRadiusResult['byDistance'] = [];
  const tally = fileTally(s);
  const touched: number[] = [];
  for (let i = 0; i < reached.count; ) {
    // A walk reports nearest first, so each distance is one run.
    const distance = reached.distance(reached.id(i));
    const entities: BlastRadiusResult['byDistance'][number]['entities'] = [];
    const runStart = i;
    for (; i < reached.count; i++) {
      const r = reached.id(i);
      if (reached.distance(r) !== distance) break;
      if (i - runStart < limit) entities.push(blastEntity(s, r, reached.inferred(r) ? 'inferred' : 'resolved'));
      const f = s.fileIndexOf(r);
      if (tally.count[f]++ === 0) {
        touched.push(f);
        tally.minDistance[f] = distance;
      }
    }
    byDistance.push({ distance, count: i - runStart, entities });
  }
  const { count, minDistance, rank } = tally;
  touched.sort((a, b) => minDistance[a]! - minDistance[b]! || count[b]! - count[a]! || rank[a]! - rank[b]!);
  const byFile = touched.map((f) => ({ file: s.filePath(f), count: count[f]!, minDistance: minDistance[f]! }));
  for (const f of touched) count[f] = 0;
  return { entity: entityRef(view, id), depth, kinds, total: reached.count, files: touched.length, byDistance, byFile };
}

function blastEntity(s: GraphStore, id: number, resolution: Resolution): EntityRef & { resolution: Resolution } {
  const r = refOf(s, id);
  return { id: r.id, name: r.name, kind: r.kind, file: r.file, line: r.line, location: r.location, resolution };
}

/** Per-file counters, zero between calls, kept per store like the walk buffers. */
interface FileTally {
  count: Int32Array;
  minDistance: Int32Array;
  /** Position of each file's path in code-unit order, for ties in byFile. */
  rank: Int32Array;
  files: number;
}

const tallies = new WeakMap<GraphStore, FileTally>();

function fileTally(s: GraphStore): FileTally {
  const known = tallies.get(s);
  // Paths are only ever added to the store's table, so its length says whether ranks are stale.
  if (known && known.files === s.fileCount) return known;
  const files = s.fileCount;
  const rank = new Int32Array(files);
  const paths = Array.from({ length: files }, (_, i) => s.filePath(i));
  const order = paths.map((_, i) => i).sort((a, b) => (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : 0));
  order.forEach((f, i) => (rank[f] = i));
  const t: FileTally = { count: new Int32Array(files), minDistance: new Int32Array(files), rank, files };
  tallies.set(s, t);
  return t;
}
