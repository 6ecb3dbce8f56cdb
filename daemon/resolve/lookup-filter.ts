// Which names resolution looked for in a file, as Bloom filters of (file, key) pairs, keys being
// qualified entity names, export names, imported and module-level bound names: one filter of the
// lookups that missed, one of those that found something.
//
// Why: when an edit changes what other files see of a file only by adding, removing or changing
// declarations, a file that consulted it can resolve differently only if it looked there for an
// added name and missed, or for a removed or changed one and found it (every other lookup finds
// what it found before). When no lookup did, the files that depend on the edited one keep their
// edges; adding a function to effect's Effect.ts re-resolved its 305 dependents (~300 ms) before.
// The filters are shared by every resolution of a host and only grow: a stale or colliding entry
// costs a re-resolution that was not needed, never a missed one.
// 64 KB each. Indexing effect notes 1,178 distinct pairs that missed and ~4,400 that found
// (2.5% of the bits set: false positives ~1 in 60,000); ten times as many would give ~1.6%.
const BITS = 1 << 19;
const WORDS = BITS >>> 5;
const PROBES = 3;

export class LookupFilter {
  static readonly WORDS = WORDS;
  readonly words: Uint32Array;

  /** `words`: a filter saved earlier (a snapshot), or empty. */
  constructor(words?: Uint32Array) {
    if (words && words.length !== WORDS) throw new Error(`a lookup filter has ${WORDS} words, not ${words.length}`);
    this.words = words ?? new Uint32Array(WORDS);
  }

  /** A filter that may have every lookup: what saved resolutions without one get. */
  static everything(): LookupFilter {
    return new LookupFilter(new Uint32Array(WORDS).fill(0xffffffff));
  }

  note(file: string, key: string): void {
    let h = hash(file, key);
    const step = mix(h) | 1;
    for (let i = 0; i < PROBES; i++, h = (h + step) >>> 0) this.words[(h & (BITS - 1)) >>> 5]! |= 1 << (h & 31);
  }

  /** Whether a lookup of `key` in `file` may have been noted (certainly not, when false). */
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
