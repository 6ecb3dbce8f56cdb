// Candidates in best-first order, put in order only as far as they are read: a pack of a few
// thousand tokens reads a few dozen of the thousands it could choose from (sorting all 21k
// entities of effect by centrality was most of a map-of-the-codebase pack).

/** A binary heap over `items`, read with `next()` from the first (by `before`) to the last. */
export class BestFirst<T> {
  private readonly heap: T[];
  private readonly before: (a: T, b: T) => number;

  /** `items` is taken over (reordered in place). */
  constructor(items: T[], before: (a: T, b: T) => number) {
    this.heap = items;
    this.before = before;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.heap.length;
  }

  next(): T | undefined {
    const heap = this.heap;
    const first = heap[0];
    const last = heap.pop();
    if (heap.length && last !== undefined) {
      heap[0] = last;
      this.down(0);
    }
    return first;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(heap[child + 1]!, heap[child]!) < 0) child++;
      if (this.before(heap[child]!, item) >= 0) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
