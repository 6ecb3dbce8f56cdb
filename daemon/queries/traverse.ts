// Breadth-first walks over chosen edge kinds, the shared engine of the relation queries. A walk
// allocates nothing per entity: marks, distances and the queue live in typed arrays kept per
// store and reused by every walk (a hub with thousands of dependents is walked in microseconds).
import type { EdgeKind } from '../model.ts';
import { KIND_SHIFT, OTHER_SHIFT } from '../graph/adjacency.ts';
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

/** Walks deeper than this are cut: the depth shares an int with the epoch and the inferred bit. */
export const MAX_WALK_DEPTH = 127;
const EPOCH_SHIFT = 8;
/** Epochs stay below 2^23 so that `epoch << 8` is a positive int32. */
const LAST_EPOCH = (1 << 23) - 1;

class Walker implements Walk {
  /**
   * Per entity `epoch << 8 | depth << 1 | inferred`, meaningful when the epoch is the current
   * walk's: every earlier walk's marks are smaller, so nothing is cleared between walks.
   */
  private state = new Int32Array(0);
  /** The starts, then everything reached, in the order reached. */
  private queue = new Int32Array(0);
  private epoch = 0;
  private first = 0;
  count = 0;

  id(i: number): number {
    return this.queue[this.first + i]!;
  }

  distance(id: number): number {
    return (this.state[id]! >> 1) & MAX_WALK_DEPTH;
  }

  inferred(id: number): boolean {
    return (this.state[id]! & 1) === 1;
  }

  run(store: GraphStore, starts: ArrayLike<number>, kinds: readonly EdgeKind[], direction: 'out' | 'in', maxDepth: number, includeInferred: boolean): Walk {
    this.fit(store.idLimit);
    const { state, queue } = this;
    const base = this.nextEpoch() << EPOCH_SHIFT;
    let tail = 0;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i]!;
      if (state[s]! >= base) continue;
      state[s] = base;
      queue[tail++] = s;
    }
    this.first = tail;
    let begin = 0;
    let end = tail;
    const adj = store.adjacency(direction);
    const pool = adj.pool;
    let wanted = 0;
    for (const k of kinds) wanted |= 1 << EDGE_KIND_INDEX[k];
    const last = Math.min(maxDepth, MAX_WALK_DEPTH);
    for (let depth = 1; depth <= last && begin < end; depth++) {
      const reachedHere = base | (depth << 1);
      for (let q = begin; q < end; q++) {
        const from = queue[q]!;
        const fromInferred = state[from]! & 1;
        const present = adj.kinds(from) & wanted;
        if (!present) continue;
        // A block is sorted by kind: one search for the first kind wanted, then a scan that
        // stops past the last (implements + extends, adjacent kinds, are one run of entries).
        const lastKind = 31 - Math.clz32(present);
        for (let j = adj.start(from, 31 - Math.clz32(present & -present)), stop = adj.blockStart(from) + adj.degree(from); j < stop; j++) {
          const e = pool[j]!;
          const k = (e >> KIND_SHIFT) & 7;
          if (k > lastKind) break;
          if (!(present & (1 << k))) continue;
          const edgeInferred = e & 1;
          if (edgeInferred && !includeInferred) continue;
          const id = e >> OTHER_SHIFT;
          const st = state[id]!;
          if (st >= base) {
            // Found again at the same distance through resolved edges only: it is resolved.
            if (st === (reachedHere | 1) && !(edgeInferred | fromInferred)) state[id] = reachedHere;
            continue;
          }
          state[id] = reachedHere | edgeInferred | fromInferred;
          queue[tail++] = id;
        }
      }
      begin = end;
      end = tail;
    }
    this.count = tail - this.first;
    return this;
  }

  private nextEpoch(): number {
    if (this.epoch === LAST_EPOCH) {
      this.state.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }

  private fit(n: number): void {
    if (n <= this.state.length) return;
    const size = Math.max(1024, n + (n >> 3));
    const state = new Int32Array(size);
    state.set(this.state);
    this.state = state;
    this.queue = new Int32Array(size);
  }
}

const walkers = new WeakMap<GraphStore, Walker>();

/**
 * Entities reachable from `starts` over `kinds` in `direction`, nearest first, up to `maxDepth`
 * (at most MAX_WALK_DEPTH). Inferred edges are followed only when `includeInferred`.
 */
export function walk(store: GraphStore, starts: ArrayLike<number>, kinds: readonly EdgeKind[], direction: 'out' | 'in', maxDepth: number, includeInferred: boolean): Walk {
  let w = walkers.get(store);
  if (!w) walkers.set(store, (w = new Walker()));
  return w.run(store, starts, kinds, direction, maxDepth, includeInferred);
}
