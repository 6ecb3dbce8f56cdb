// Simple (last-segment) name -> the ids so named, sorted by key. Each distinct name has a slot
// that keeps its number while the name exists, so an index built over the names (lookup's sorted
// name index) reads counts and ids by slot without hashing the name again. Most names belong to
// one entity: its id sits in a typed array, and only shared names get an array of ids.

/** What readers of the table see (queries must not add or remove names). */
export interface NameSlots {
  readonly version: number;
  entries(): IterableIterator<[string, number]>;
  idsAt(slot: number): readonly number[];
  countAt(slot: number): number;
  nameAt(slot: number): string;
}

export class NameTable implements NameSlots {
  private readonly slotOf = new Map<string, number>();
  private names: (string | undefined)[] = [];
  private counts = new Int32Array(64);
  /** The id, for a name one entity has. */
  private single = new Int32Array(64);
  /** Ids sorted by key, for a name several entities share. */
  private shared: (number[] | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Bumped whenever a name appears or disappears (slots are then reused). */
  version = 0;

  /** Add `id` under `name`; `compare` orders ids by key. */
  add(name: string, id: number, compare: (a: number, b: number) => number): void {
    let slot = this.slotOf.get(name);
    if (slot === undefined) {
      slot = this.freeSlots.length ? this.freeSlots.pop()! : this.names.length;
      if (slot === this.names.length) {
        this.names.push(name);
        this.shared.push(undefined);
      } else this.names[slot] = name;
      this.fit(slot + 1);
      this.slotOf.set(name, slot);
      this.counts[slot] = 1;
      this.single[slot] = id;
      this.version++;
      return;
    }
    const n = this.counts[slot]!;
    if (n === 1) {
      const other = this.single[slot]!;
      this.shared[slot] = compare(other, id) <= 0 ? [other, id] : [id, other];
    } else {
      const list = this.shared[slot]!;
      // After any equal key, as a stable sort would put it. An index adds files in path order,
      // so an id usually goes last: checked first, it spares the search of a long list.
      let lo = compare(list[list.length - 1]!, id) <= 0 ? list.length : 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compare(list[mid]!, id) <= 0) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, id);
    }
    this.counts[slot] = n + 1;
  }

  remove(name: string, id: number): void {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return;
    const n = this.counts[slot]!;
    if (n === 1) {
      if (this.single[slot] !== id) return;
      this.slotOf.delete(name);
      this.names[slot] = undefined;
      this.counts[slot] = 0;
      this.freeSlots.push(slot);
      this.version++;
      return;
    }
    const list = this.shared[slot]!;
    const i = list.indexOf(id);
    if (i < 0) return;
    list.splice(i, 1);
    this.counts[slot] = n - 1;
    if (n - 1 === 1) {
      this.single[slot] = list[0]!;
      this.shared[slot] = undefined;
    }
  }

  /** Ids with this name, sorted by key (a new array for a name one entity has). */
  ids(name: string): readonly number[] {
    const slot = this.slotOf.get(name);
    return slot === undefined ? [] : this.idsAt(slot);
  }

  count(name: string): number {
    const slot = this.slotOf.get(name);
    return slot === undefined ? 0 : this.counts[slot]!;
  }

  idsAt(slot: number): readonly number[] {
    const n = this.counts[slot]!;
    return n === 0 ? [] : n === 1 ? [this.single[slot]!] : this.shared[slot]!;
  }

  countAt(slot: number): number {
    return this.counts[slot]!;
  }

  nameAt(slot: number): string {
    return this.names[slot]!;
  }

  /** Every name with its slot. */
  entries(): IterableIterator<[string, number]> {
    return this.slotOf.entries();
  }

  keys(): IterableIterator<string> {
    return this.slotOf.keys();
  }

  private fit(n: number): void {
    if (n <= this.counts.length) return;
    const size = n * 2;
    const counts = new Int32Array(size);
    counts.set(this.counts);
    this.counts = counts;
    const single = new Int32Array(size);
    single.set(this.single);
    this.single = single;
  }
}
