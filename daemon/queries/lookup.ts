// lookup: find entities by id, exact name, prefix or fuzzy subsequence, filtered by kind and path.
import type { LookupResult, LookupMode } from '../../client/protocol.ts';
export type { LookupResult, LookupMode };
import type { GraphStore } from '../graph/store.ts';
import type { EntityKind } from '../model.ts';
import { asArgs, entityKinds, optionalEnum, optionalInt, optionalString, requiredString } from './args.ts';
import { fuzzyScoreLower } from './fuzzy.ts';
import type { GraphView } from './graph-view.ts';
import { nameIndex, namesWithPrefix } from './name-index.ts';

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
  const file = s.file(id);
  const line = s.line(id);
  return { id: s.key(id), name: s.displayName(id), kind: s.kind(id), file, line, location: `${file}:${line}`, exported: s.exported(id), signature: s.signature(id) };
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

/** Simple names that match, each with its score (higher first). */
interface Candidates {
  names: string[];
  scores: number[];
}

function prefixCandidates(s: GraphStore, prefix: string): Candidates {
  const names: string[] = [];
  const scores: number[] = [];
  for (const simple of namesWithPrefix(nameIndex(s), prefix)) {
    const score = 1000 - simple.length;
    if (score <= 0) continue;
    names.push(simple);
    scores.push(score);
  }
  return { names, scores };
}

function fuzzyCandidates(s: GraphStore, needle: string): Candidates {
  const names: string[] = [];
  const scores: number[] = [];
  const index = nameIndex(s);
  const n = needle.toLowerCase();
  const need = index.charMask(n);
  for (let i = 0; i < index.names.length; i++) {
    // A subsequence has every character of the needle: most names fail on the mask alone.
    if ((index.masks[i]! & need) !== need) continue;
    const score = fuzzyScoreLower(n, index.names[i]!, index.lower[i]!);
    if (score <= 0) continue;
    names.push(index.names[i]!);
    scores.push(score);
  }
  return { names, scores };
}

/**
 * Entities of the candidate names ordered by score, then key, as one sort of every match would
 * order them; but only the first `limit` are put in order. Each name's ids are already sorted by
 * key, so only names of equal score need merging.
 */
function ranked(s: GraphStore, c: Candidates, keep: ((id: number) => boolean) | undefined, limit: number): Found {
  const order = c.names.map((_, i) => i).sort((a, b) => c.scores[b]! - c.scores[a]!);
  let total = 0;
  for (const name of c.names) {
    const ids = s.idsNamed(name);
    if (!keep) total += ids.length;
    else for (const id of ids) if (keep(id)) total++;
  }
  const out: number[] = [];
  for (let g = 0; g < order.length && out.length < limit; ) {
    const score = c.scores[order[g]!]!;
    let end = g + 1;
    while (end < order.length && c.scores[order[end]!] === score) end++;
    let group: number[] = [];
    for (let i = g; i < end; i++) for (const id of s.idsNamed(c.names[order[i]!]!)) if (!keep || keep(id)) group.push(id);
    if (end - g > 1) group = group.sort((a, b) => s.compareKeys(a, b));
    for (const id of group) {
      if (out.length === limit) break;
      out.push(id);
    }
    g = end;
  }
  return { total, ids: out };
}
