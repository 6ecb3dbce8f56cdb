// lookup: find entities by id, exact name, prefix or fuzzy subsequence, filtered by kind and path.
import type { LookupResult, LookupMode } from '../../client/protocol.ts';
export type { LookupResult, LookupMode };
import type { GraphStore } from '../graph/store.ts';
import type { EntityKind } from '../model.ts';
import { asArgs, entityKinds, optionalEnum, optionalInt, optionalString, requiredString } from './args.ts';
import { entityRef } from './entity-ref.ts';
import { fuzzyScore } from './fuzzy.ts';
import type { GraphView } from './graph-view.ts';

/**
 * Args: `name` (an id, a simple or qualified name, a prefix or a subsequence), `mode`
 * (auto: exact, else prefix, else fuzzy), `kind` (list), `path` (file path prefix), `limit`.
 */
export function lookup(view: GraphView, rawArgs: unknown): LookupResult {
  const args = asArgs(rawArgs);
  const name = requiredString(args, 'name');
  const mode = optionalEnum<LookupMode>(args, 'mode', ['auto', 'exact', 'prefix', 'fuzzy'], 'auto');
  const kinds = entityKinds(args, 'kind');
  const pathPrefix = optionalString(args, 'path');
  const limit = optionalInt(args, 'limit', 50, 1, 10000);
  const s = view.store;
  const keep = (id: number) => (!kinds || kinds.includes(s.kind(id) as EntityKind)) && (!pathPrefix || s.file(id).startsWith(pathPrefix));

  const tryMode = (m: Exclude<LookupMode, 'auto'>): number[] => {
    if (m === 'exact') {
      const byKey = s.idOf(name);
      if (byKey !== undefined) return keep(byKey) ? [byKey] : [];
      const last = name.slice(name.lastIndexOf('.') + 1);
      return s.idsNamed(last).filter((id) => (s.qualifiedName(id) === name || last === name) && keep(id));
    }
    const scored: { id: number; score: number }[] = [];
    const names = m === 'prefix' ? namesWithPrefix(s, name) : s.simpleNames();
    for (const simple of names) {
      const score = m === 'prefix' ? 1000 - simple.length : fuzzyScore(name, simple);
      if (score <= 0) continue;
      for (const id of s.idsNamed(simple)) if (keep(id)) scored.push({ id, score });
    }
    scored.sort((a, b) => b.score - a.score || byKey(s.key(a.id), s.key(b.id)));
    return scored.map((x) => x.id);
  };

  let used: Exclude<LookupMode, 'auto'> = mode === 'auto' ? 'exact' : mode;
  let ids = tryMode(used);
  if (mode === 'auto' && !ids.length) ids = tryMode((used = 'prefix'));
  if (mode === 'auto' && !ids.length) ids = tryMode((used = 'fuzzy'));
  if (used === 'exact') ids.sort((a, b) => byKey(s.key(a), s.key(b)));
  return {
    mode: used,
    total: ids.length,
    matches: ids.slice(0, limit).map((id) => ({ ...entityRef(view, id), exported: s.exported(id), signature: s.signature(id) })),
  };
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Simple names starting with `prefix` (case-insensitive), from a sorted index kept per store state. */
const sortedNames = new WeakMap<GraphStore, { version: number; lower: string[]; names: string[] }>();

function namesWithPrefix(s: GraphStore, prefix: string): string[] {
  let index = sortedNames.get(s);
  if (!index || index.version !== s.namesVersion) {
    const names = [...s.simpleNames()].sort((a, b) => byKey(a.toLowerCase(), b.toLowerCase()));
    index = { version: s.namesVersion, names, lower: names.map((n) => n.toLowerCase()) };
    sortedNames.set(s, index);
  }
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
