// lookup: find entities by id, exact name, prefix or fuzzy subsequence, filtered by kind and path.
import type { LookupResult, LookupMode } from '../../client/protocol.ts';
export type { LookupResult, LookupMode };
import type { GraphStore } from '../graph/store.ts';
import type { EntityKind } from '../model.ts';
import { asArgs, entityKinds, optionalEnum, optionalInt, optionalString, requiredString } from './args.ts';
import { fuzzyScoreLower } from './fuzzy.ts';
import { refOf } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';
import { charMask, nameIndex, NOT_ASCII, slotsWithPrefix } from './name-index.ts';

type Match = LookupResult['matches'][number];

/** The first `limit` matches in result order, and how many there are in all. */
interface Found {
  total: number;
  ids: number[];
}

/**
 * Args: `name` (an id, a simple or qualified name, a prefix or a subsequence), `mode`
 * (auto: exact, else prefix, else fuzzy), `kind` (list), `path` (file path prefix), `limit`.
 * Matches are ordered by id (code units); prefix and fuzzy matches by score first.
 */
export function lookup(view: GraphView, rawArgs: unknown): LookupResult {
  const args = asArgs(rawArgs);
  const name = requiredString(args, 'name');
  const mode = optionalEnum<LookupMode>(args, 'mode', ['auto', 'exact', 'prefix', 'fuzzy'], 'auto');
  const kinds = entityKinds(args, 'kind');
  const pathPrefix = optionalString(args, 'path');
  const limit = optionalInt(args, 'limit', 50, 1, 10000);
  const s = view.store;
  const keep = kinds || pathPrefix ? (id: number) => (!kinds || kinds.includes(s.kind(id) as EntityKind)) && (!pathPrefix || s.file(id).startsWith(pathPrefix)) : undefined;

  const find = (m: Exclude<LookupMode, 'auto'>): Found => {
    if (m === 'exact') return exact(s, name, keep, limit);
    return m === 'prefix' ? ranked(s, prefixCandidates(s, name), keep, limit) : ranked(s, fuzzyCandidates(s, name), keep, limit);
  };
  let used: Exclude<LookupMode, 'auto'> = mode === 'auto' ? 'exact' : mode;
  let found = find(used);
  if (mode === 'auto' && !found.total) found = find((used = 'prefix'));
  if (mode === 'auto' && !found.total) found = find((used = 'fuzzy'));
  return { mode: used, total: found.total, matches: found.ids.map((id) => match(s, id)) };
}

function match(s: GraphStore, id: number): Match {
  const r = refOf(s, id);
  return { id: r.id, name: r.name, kind: r.kind, file: r.file, line: r.line, location: r.location, exported: s.exported(id), signature: s.signature(id) };
}

function exact(s: GraphStore, name: string, keep: ((id: number) => boolean) | undefined, limit: number): Found {
  const byKey = s.idOf(name);
  if (byKey !== undefined) return !keep || keep(byKey) ? { total: 1, ids: [byKey] } : { total: 0, ids: [] };
  const last = name.slice(name.lastIndexOf('.') + 1);
  const found: Found = { total: 0, ids: [] };
  // idsNamed is sorted by key: the matches come out in result order.
  for (const id of s.idsNamed(last)) {
    if ((last !== name && s.qualifiedName(id) !== name) || (keep && !keep(id))) continue;
    if (found.total++ < limit) found.ids.push(id);
  }
  return found;
}

/** Simple names that match (as name-table slots), each with its score (higher first). */
interface Candidates {
  slots: number[];
  scores: number[];
}

function prefixCandidates(s: GraphStore, prefix: string): Candidates {
  const slots: number[] = [];
  const scores: number[] = [];
  for (const slot of slotsWithPrefix(s, nameIndex(s), prefix)) {
    const score = 1000 - s.nameSlots.nameAt(slot).length;
    if (score <= 0) continue;
    slots.push(slot);
    scores.push(score);
  }
  return { slots, scores };
}

function fuzzyCandidates(s: GraphStore, needle: string): Candidates {
  const slots: number[] = [];
  const scores: number[] = [];
  const index = nameIndex(s);
  const table = s.nameSlots;
  const n = needle.toLowerCase();
  const need = charMask(n);
  const { masks, slots: sorted } = index;
  for (let i = 0; i < masks.length; i++) {
    // A subsequence has every character of the needle: most names fail on the mask alone.
    const mask = masks[i]!;
    if ((mask & need) !== need) continue;
    const slot = sorted[i]!;
    const score = fuzzyScoreLower(n, table.nameAt(slot), mask & NOT_ASCII ? index.lowerOther.get(slot) : undefined);
    if (score <= 0) continue;
    slots.push(slot);
    scores.push(score);
  }
  return { slots, scores };
}

/**
 * Entities of the candidate names ordered by score, then key, as one sort of every match would
 * order them; but only the first `limit` are put in order. Each name's ids are already sorted by
 * key, so only names of equal score need merging.
 */
function ranked(s: GraphStore, c: Candidates, keep: ((id: number) => boolean) | undefined, limit: number): Found {
  const table = s.nameSlots;
  let total = 0;
  for (const slot of c.slots) {
    if (!keep) total += table.countAt(slot);
    else for (const id of table.idsAt(slot)) if (keep(id)) total++;
  }
  // Without a filter every name gives at least one match, so the best `limit` names (and those
  // tied with the last of them) are all that can be shown; a filter may need every name.
  const order = bestFirst(c.scores, keep ? c.scores.length : limit);
  const out: number[] = [];
  for (let g = 0; g < order.length && out.length < limit; ) {
    const score = c.scores[order[g]!]!;
    let end = g + 1;
    while (end < order.length && c.scores[order[end]!] === score) end++;
    let group: number[] = [];
    for (let i = g; i < end; i++) for (const id of table.idsAt(c.slots[order[i]!]!)) if (!keep || keep(id)) group.push(id);
    if (end - g > 1) group = group.sort((a, b) => s.compareKeys(a, b));
    for (const id of group) {
      if (out.length === limit) break;
      out.push(id);
    }
    g = end;
  }
  return { total, ids: out };
}

/** Indexes of the `k` highest scores and of every score tied with the lowest of them, best first. */
function bestFirst(scores: readonly number[], k: number): number[] {
  let chosen = scores.map((_, i) => i);
  if (k < scores.length) {
    const cut = kthLargest(Float64Array.from(scores), k);
    chosen = chosen.filter((i) => scores[i]! >= cut);
  }
  return chosen.sort((a, b) => scores[b]! - scores[a]!);
}

/** The k-th largest value (k from 1), by quickselect; reorders `a`. */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want]!;
  }
  return a[want]!;
}
