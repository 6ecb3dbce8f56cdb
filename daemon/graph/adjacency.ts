// The edges of one direction (out or in) for every entity, in one Int32Array. Each entity owns a
// block of the pool holding entries `other << 4 | kind << 1 | inferred`, sorted by kind and, within
// a kind, in insertion order. A block that fills up moves to the end of the pool with twice the
// room; the pool is compacted when abandoned blocks make up half of it. Against one JS array per
// entity and kind this takes a fifth of the memory, and a lookup is two array reads instead of a
// (sparse, dictionary-mode) element lookup.

/** Entity ids must fit in 27 bits next to the kind and the inferred flag. */
export const MAX_ENTITIES = 1 << 27;
export const KIND_SHIFT = 1;
export const OTHER_SHIFT = 4;

export const edgeEntry = (other: number, kind: number, inferred: boolean): number => (other << OTHER_SHIFT) | (kind << KIND_SHIFT) | (inferred ? 1 : 0);
const kindOf = (entry: number): number => (entry >> KIND_SHIFT) & 7;

/** Blocks up to this size are searched linearly for a kind; longer ones by bisection. */
const LINEAR = 8;

export class Adjacency {
  /** Entries of every block; read `pool[i]` for i in `start(id, k)..end(id, k)`. */
  pool = new Int32Array(1024);
  private used = 0;
  private abandoned = 0;
  private offsets = new Int32Array(0);
  private lengths = new Int32Array(0);
  private capacities = new Int32Array(0);
  /** Bit k set when the block holds an entry of kind k: walks skip absent kinds without a search. */
  private kindMasks = new Uint8Array(0);

  /** Make room for ids below `n`. */
  reserve(n: number): void {
    if (n <= this.offsets.length) return;
    this.offsets = grow(this.offsets, n);
    this.lengths = grow(this.lengths, n);
    this.capacities = grow(this.capacities, n);
    const masks = new Uint8Array(n);
    masks.set(this.kindMasks.subarray(0, Math.min(n, this.kindMasks.length)));
    this.kindMasks = masks;
  }

  /** Which kinds `id` has entries of, one bit per kind. */
  kinds(id: number): number {
    return this.kindMasks[id]!;
  }

  degree(id: number): number {
    return this.lengths[id]!;
  }

  /** First entry of `id` whose kind is `kind` or later. */
  start(id: number, kind: number): number {
    let lo = this.offsets[id]!;
    let hi = lo + this.lengths[id]!;
    const pool = this.pool;
    if (hi - lo <= LINEAR) {
      while (lo < hi && kindOf(pool[lo]!) < kind) lo++;
      return lo;
    }
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kindOf(pool[mid]!) < kind) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** One past the last entry of `id` of kind `kind`. */
  end(id: number, kind: number): number {
    return this.start(id, kind + 1);
  }

  /** Entries of `id` in block order (all kinds). */
  blockStart(id: number): number {
    return this.offsets[id]!;
  }

  add(id: number, entry: number): void {
    if (this.lengths[id] === this.capacities[id]) this.move(id, Math.max(2, this.capacities[id]! * 2));
    const at = this.end(id, kindOf(entry));
    const last = this.offsets[id]! + this.lengths[id]!;
    this.pool.copyWithin(at + 1, at, last);
    this.pool[at] = entry;
    this.lengths[id]!++;
    this.kindMasks[id]! |= 1 << kindOf(entry);
  }

  /** Remove the first entry equal to `entry` from `id`'s block; false if there is none. */
  remove(id: number, entry: number): boolean {
    const kind = kindOf(entry);
    const end = this.end(id, kind);
    for (let i = this.start(id, kind); i < end; i++) {
      if (this.pool[i] !== entry) continue;
      this.pool.copyWithin(i, i + 1, this.offsets[id]! + this.lengths[id]!);
      this.lengths[id]!--;
      if (end - 1 === this.start(id, kind)) this.kindMasks[id]! &= ~(1 << kind);
      return true;
    }
    return false;
  }

  /** Forget every entry of `id`; its block stays its own for the next edges. */
  clear(id: number): void {
    this.lengths[id] = 0;
    this.kindMasks[id] = 0;
  }

  /** Drop slack: every block gets exactly its length, the pool a little headroom. */
  compact(extra = 0): void {
    let live = 0;
    for (let id = 0; id < this.offsets.length; id++) live += this.lengths[id]!;
    const pool = new Int32Array(Math.max(1024, live + (live >> 3) + extra));
    let at = 0;
    for (let id = 0; id < this.offsets.length; id++) {
      const len = this.lengths[id]!;
      const from = this.offsets[id]!;
      pool.set(this.pool.subarray(from, from + len), at);
      this.offsets[id] = at;
      this.capacities[id] = len;
      at += len;
    }
    this.pool = pool;
    this.used = at;
    this.abandoned = 0;
  }

  private move(id: number, capacity: number): void {
    if (this.used + capacity > this.pool.length) {
      if (this.abandoned * 2 >= this.used) this.compact(capacity);
      if (this.used + capacity > this.pool.length) this.pool = grow(this.pool, Math.max(this.pool.length * 2, this.used + capacity));
    }
    const from = this.offsets[id]!;
    this.pool.copyWithin(this.used, from, from + this.lengths[id]!);
    this.abandoned += this.capacities[id]!;
    this.offsets[id] = this.used;
    this.capacities[id] = capacity;
    this.used += capacity;
  }
}

function grow(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}
