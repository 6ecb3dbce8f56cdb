// Breadth-first walks over chosen edge kinds, the shared engine of the relation queries. A walk
// allocates nothing per entity: marks, distances and the queue live in typed arrays kept per
// store and reused by every walk (a hub with thousands of dependents is walked in microseconds).
import type { EdgeKind } from '../model.ts';
import { OTHER_SHIFT } from '../graph/adjacency.ts';
import { EDGE_KIND_INDEX, type GraphStore } from '../graph/store.ts';

/**
 * What one walk reached, nearest first: `id(i)` for i in 0..count-1. Valid until the next walk
 * over the same store (the arrays are shared), so callers read it before walking again.
 */
export interface Walk {
  readonly count: number;
  id(i: number): number;
  distance(id: number): number;
  /** True when every path found to it used at least one name-matched edge. */
  inferred(id: number): boolean;
}

class Walker implements Walk {
  /** `seen[id] === epoch` marks an entity reached by the current walk: no clearing per walk. */
  private seen = new Uint32Array(0);
  private depths = new Uint16Array(0);
  private viaInferred = new Uint8Array(0);
  /** The starts, then everything reached, in the order reached. */
  private queue = new Int32Array(0);
  private epoch = 0;
  private readonly bounds = new Int32Array(8);
  private first = 0;
  count = 0;

  id(i: number): number {
    return this.queue[this.first + i]!;
  }

  distance(id: number): number {
    return this.depths[id]!;
  }

  inferred(id: number): boolean {
    return this.viaInferred[id] === 1;
  }

  run(store: GraphStore, starts: ArrayLike<number>, kinds: readonly EdgeKind[], direction: 'out' | 'in', maxDepth: number, includeInferred: boolean): Walk {
    this.fit(store.idLimit);
    const { seen, depths, viaInferred, queue, bounds } = this;
    const mark = this.nextEpoch();
    let tail = 0;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i]!;
      if (seen[s] === mark) continue;
      seen[s] = mark;
      depths[s] = 0;
      viaInferred[s] = 0;
      queue[tail++] = s;
    }
    this.first = tail;
    let begin = 0;
    let end = tail;
    const adj = store.adjacency(direction);
    const pool = adj.pool;
    const kindIndexes = kinds.map((k) => EDGE_KIND_INDEX[k]);
    for (let depth = 1; depth <= maxDepth && begin < end; depth++) {
      for (let q = begin; q < end; q++) {
        const from = queue[q]!;
        const fromInferred = viaInferred[from]!;
        adj.kindBounds(from, bounds);
        for (const k of kindIndexes) {
          for (let j = bounds[k]!, last = bounds[k + 1]!; j < last; j++) {
            const e = pool[j]!;
            const edgeInferred = e & 1;
            if (edgeInferred && !includeInferred) continue;
            const id = e >> OTHER_SHIFT;
            const inferred = edgeInferred | fromInferred;
            if (seen[id] === mark) {
              // Found again at the same distance through resolved edges only: it is resolved.
              if (depths[id] === depth && viaInferred[id] && !inferred) viaInferred[id] = 0;
              continue;
            }
            seen[id] = mark;
            depths[id] = depth;
            viaInferred[id] = inferred;
            queue[tail++] = id;
          }
        }
      }
      begin = end;
      end = tail;
    }
    this.count = tail - this.first;
    return this;
  }

  private nextEpoch(): number {
    if (this.epoch === 0xffffffff) {
      this.seen.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }

  private fit(n: number): void {
    if (n <= this.seen.length) return;
    const size = Math.max(1024, n + (n >> 2));
    const seen = new Uint32Array(size);
    seen.set(this.seen);
    this.seen = seen;
    this.depths = new Uint16Array(size);
    this.viaInferred = new Uint8Array(size);
    this.queue = new Int32Array(size);
  }
}

const walkers = new WeakMap<GraphStore, Walker>();

/**
 * Entities reachable from `starts` over `kinds` in `direction`, nearest first, up to `maxDepth`
 * (at most 65,535). Inferred edges are followed only when `includeInferred`.
 */
export function walk(store: GraphStore, starts: ArrayLike<number>, kinds: readonly EdgeKind[], direction: 'out' | 'in', maxDepth: number, includeInferred: boolean): Walk {
  let w = walkers.get(store);
  if (!w) walkers.set(store, (w = new Walker()));
  return w.run(store, starts, kinds, direction, maxDepth, includeInferred);
}
