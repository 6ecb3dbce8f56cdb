// Entity ids by (file, qualified name): the store's index of stable keys, without the key strings.
// An open-addressing table of `id + 1` in one Int32Array (linear probing, load at most 0.7);
// each entity costs 6-12 bytes instead of a `path#Name` string and a Map entry (about 110 bytes).

/** What the index reads of an entity: its file's index and its qualified name. */
export interface KeyedEntities {
  fileIndexOf(id: number): number;
  qualifiedName(id: number): string;
}

function keyHash(file: number, qualifiedName: string): number {
  let h = Math.imul(file ^ 0x9e3779b9, 0x85ebca6b);
  for (let i = 0; i < qualifiedName.length; i++) h = Math.imul(h ^ qualifiedName.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

export class KeyIndex {
  private slots = new Int32Array(1024);
  private mask = 1023;
  private count = 0;

  find(entities: KeyedEntities, file: number, qualifiedName: string): number | undefined {
    for (let i = keyHash(file, qualifiedName) & this.mask; ; i = (i + 1) & this.mask) {
      const v = this.slots[i]!;
      if (v === 0) return undefined;
      const id = v - 1;
      if (entities.fileIndexOf(id) === file && entities.qualifiedName(id) === qualifiedName) return id;
    }
  }

  /** Room for `n` entries without a rehash. */
  reserve(entities: KeyedEntities, n: number): void {
    let size = this.slots.length;
    while (n * 10 > size * 7) size *= 2;
    if (size > this.slots.length) this.rehash(entities, size);
  }

  insert(entities: KeyedEntities, id: number): void {
    if ((this.count + 1) * 10 > this.slots.length * 7) this.rehash(entities, this.slots.length * 2);
    this.place(entities, id);
    this.count++;
  }

  remove(entities: KeyedEntities, id: number): void {
    const { mask, slots } = this;
    let i = keyHash(entities.fileIndexOf(id), entities.qualifiedName(id)) & mask;
    while (slots[i] !== id + 1) {
      if (slots[i] === 0) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: move later entries of the run into the hole when their home
    // slot allows, so lookups never need tombstones.
    for (let j = (i + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const other = slots[j]! - 1;
      const home = keyHash(entities.fileIndexOf(other), entities.qualifiedName(other)) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = slots[j]!;
        i = j;
      }
    }
    slots[i] = 0;
    this.count--;
  }

  private place(entities: KeyedEntities, id: number): void {
    let i = keyHash(entities.fileIndexOf(id), entities.qualifiedName(id)) & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = id + 1;
  }

  private rehash(entities: KeyedEntities, size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (const v of old) if (v !== 0) this.place(entities, v - 1);
  }
}
