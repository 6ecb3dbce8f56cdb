// The distinct simple names of a store sorted case-insensitively, with their lower-case forms and
// a bit mask of the characters in each: prefix lookup is a binary search, and fuzzy lookup skips
// most names on one AND. Rebuilt when the set of names changes (GraphStore.namesVersion).
import type { GraphStore } from '../graph/store.ts';

export interface NameIndex {
  readonly version: number;
  /** Distinct simple names, sorted by their lower-case form (code units). */
  readonly names: readonly string[];
  readonly lower: readonly string[];
  /** `charMask(lower[i])`. */
  readonly masks: Int32Array;
  charMask(lower: string): number;
}

/** One bit per letter, one for digits, one for `_`, `$`, `.`, and one for anything else. */
function charMask(lower: string): number {
  let m = 0;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c >= 97 && c <= 122) m |= 1 << (c - 97);
    else if (c >= 48 && c <= 57) m |= 1 << 26;
    else if (c === 95) m |= 1 << 27;
    else if (c === 36) m |= 1 << 28;
    else if (c === 46) m |= 1 << 29;
    else m |= 1 << 30;
  }
  return m;
}

const indexes = new WeakMap<GraphStore, NameIndex>();

export function nameIndex(s: GraphStore): NameIndex {
  const known = indexes.get(s);
  if (known && known.version === s.namesVersion) return known;
  const all = [...s.simpleNames()];
  const allLower = all.map((n) => n.toLowerCase());
  const order = all.map((_, i) => i).sort((a, b) => (allLower[a]! < allLower[b]! ? -1 : allLower[a]! > allLower[b]! ? 1 : a - b));
  const names = order.map((i) => all[i]!);
  const lower = order.map((i) => allLower[i]!);
  const masks = new Int32Array(lower.length);
  for (let i = 0; i < lower.length; i++) masks[i] = charMask(lower[i]!);
  const index: NameIndex = { version: s.namesVersion, names, lower, masks, charMask };
  indexes.set(s, index);
  return index;
}

/** Names starting with `prefix`, case-insensitively. */
export function namesWithPrefix(index: NameIndex, prefix: string): string[] {
  const p = prefix.toLowerCase();
  let lo = 0;
  let hi = index.lower.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (index.lower[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < index.lower.length && index.lower[i]!.startsWith(p); i++) out.push(index.names[i]!);
  return out;
}
