// Which names resolution ever looked for in a file and did not find there: a Bloom filter of
// (file, key) pairs, keys being qualified entity names and export names.
//
// Why: when an edit only adds declarations to a file (a new function, a new method, a new
// export), a file that consulted it can resolve differently only if it looked there for one of
// the new names and missed (a lookup that found something finds the same thing: nothing old
// changed). When no lookup ever missed on any of them, the files that depend on the edited one
// keep their edges; adding a function to effect's Effect.ts re-resolved its 305 dependents
// (~300 ms) before. The filter is shared by every resolution of a host and only grows: a stale
// or colliding entry costs a re-resolution that was not needed, never a missed one.
// 32 KB. Indexing effect notes 1,178 pairs (3,530 bits of 262,144 set: false positives ~1 in
// 500,000); 20,000 pairs would still give under 1%.
const BITS = 1 << 18;
const WORDS = BITS >>> 5;
const PROBES = 3;

export class MissedLookups {
  static readonly WORDS = WORDS;
  readonly words: Uint32Array;

  /** `words`: a filter saved earlier (a snapshot), or empty. */
  constructor(words?: Uint32Array) {
    if (words && words.length !== WORDS) throw new Error(`a missed-lookup filter has ${WORDS} words, not ${words.length}`);
    this.words = words ?? new Uint32Array(WORDS);
  }

  /** A filter by which every lookup may have missed: what saved resolutions without one get. */
  static everything(): MissedLookups {
    return new MissedLookups(new Uint32Array(WORDS).fill(0xffffffff));
  }

  note(file: string, key: string): void {
    let h = hash(file, key);
    const step = mix(h) | 1;
    for (let i = 0; i < PROBES; i++, h = (h + step) >>> 0) this.words[(h & (BITS - 1)) >>> 5]! |= 1 << (h & 31);
  }

  /** Whether a lookup of `key` in `file` may have missed (certainly not, when false). */
  mayHave(file: string, key: string): boolean {
    let h = hash(file, key);
    const step = mix(h) | 1;
    for (let i = 0; i < PROBES; i++, h = (h + step) >>> 0) if ((this.words[(h & (BITS - 1)) >>> 5]! & (1 << (h & 31))) === 0) return false;
    return true;
  }
}

/** FNV-1a over the file, a separator and the key (UTF-16 units; stable across processes, as a snapshot keeps it). */
function hash(file: string, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < file.length; i++) h = Math.imul(h ^ file.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xffff, 0x01000193);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** murmur3's finalizer: a second, independent-enough hash for the probe step. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
