// The distinct simple names of a store sorted case-insensitively, as slots of the store's name
// table, with a bit mask of the characters in each: prefix lookup is a binary search, and fuzzy
// lookup skips most names on one AND. ASCII names (nearly all) are lower-cased on the fly, so
// the index keeps no lower-case copies of them. Rebuilt when the set of names changes
// (GraphStore.namesVersion); counts and ids are read live through the slots.
import type { GraphStore } from '../graph/store.ts';
import { foldAscii } from './fuzzy.ts';

export interface NameIndex {
  readonly version: number;
  /** Name slots, sorted by the lower-case form of the name (code units). */
  readonly slots: Int32Array;
  /** `charMask` of each name's lower-case form, in the order of `slots`; NOT_ASCII set when the name is not plain ASCII. */
  readonly masks: Int32Array;
  /** Lower-case forms of the names that are not plain ASCII, by slot. */
  readonly lowerOther: ReadonlyMap<number, string>;
}

/** Set in a name's mask when its lower-case form is in `lowerOther` (never set in a needle's mask). */
export const NOT_ASCII = 1 << 31;

/** One bit per letter, one for digits, one for `_`, `$`, `.`, and one for anything else. */
export function charMask(lower: string): number {
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

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
};

const indexes = new WeakMap<GraphStore, NameIndex>();

export function nameIndex(s: GraphStore): NameIndex {
  const known = indexes.get(s);
  if (known && known.version === s.namesVersion) return known;
  const slots: number[] = [];
  const lower: string[] = [];
  const lowerOther = new Map<number, string>();
  for (const [name, slot] of s.nameSlots.entries()) {
    slots.push(slot);
    const l = name.toLowerCase();
    lower.push(l);
    if (!isAscii(name)) lowerOther.set(slot, l);
  }
  const order = slots.map((_, i) => i).sort((a, b) => (lower[a]! < lower[b]! ? -1 : lower[a]! > lower[b]! ? 1 : a - b));
  const index: NameIndex = {
    version: s.namesVersion,
    slots: Int32Array.from(order, (i) => slots[i]!),
    masks: Int32Array.from(order, (i) => charMask(lower[i]!) | (lowerOther.has(slots[i]!) ? NOT_ASCII : 0)),
    lowerOther,
  };
  indexes.set(s, index);
  return index;
}

/**
 * Compares the lower-case form of `name` with `p` (already lower-case) over p's length:
 * negative, 0 when `name` starts with `p` case-insensitively, positive.
 */
function comparePrefix(name: string, other: string | undefined, p: string): number {
  if (other !== undefined) return other.startsWith(p) ? 0 : other < p ? -1 : 1;
  for (let i = 0; i < p.length; i++) {
    if (i === name.length) return -1;
    const d = foldAscii(name.charCodeAt(i)) - p.charCodeAt(i);
    if (d !== 0) return d;
  }
  return 0;
}

/** Slots of the names starting with `prefix`, case-insensitively. */
export function slotsWithPrefix(s: GraphStore, index: NameIndex, prefix: string): number[] {
  const p = prefix.toLowerCase();
  const table = s.nameSlots;
  const at = (i: number) => comparePrefix(table.nameAt(index.slots[i]!), index.masks[i]! & NOT_ASCII ? index.lowerOther.get(index.slots[i]!) : undefined, p);
  let lo = 0;
  let hi = index.slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (at(mid) < 0) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < index.slots.length && at(i) === 0; i++) out.push(index.slots[i]!);
  return out;
}
