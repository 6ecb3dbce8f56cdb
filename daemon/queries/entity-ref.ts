// How queries name entities: in (an id, a name or a qualified name) and out (a small record
// with `file:line` so a person or an LLM can jump to the code).
import type { EntityRef, RelatedEntity, Resolution } from '../../client/protocol.ts';
export type { EntityRef };
import type { GraphStore } from '../graph/store.ts';
import { IsgError } from '../errors.ts';
import type { GraphView } from './graph-view.ts';
import { editDistance, fuzzyScore } from './fuzzy.ts';

// An entity's record is built once per state of the entity and kept in the store's memo: a
// hub's results read 200 of them, and reading one object is faster than gathering five columns
// and two strings per result (their cache misses): a hub's implements went from 8.3-9.8 to
// 5.2-8.0 µs at p50. Frozen, since results share it; the store drops it when the entity changes.
export function entityRef(view: GraphView, id: number): EntityRef {
  return refOf(view.store, id);
}

/** `entityRef` for code that holds the store. */
export function refOf(s: GraphStore, id: number): EntityRef {
  const kept = s.memo(id) as EntityRef | undefined;
  if (kept !== undefined) return kept;
  const file = s.file(id);
  const line = s.line(id);
  const ref: EntityRef = Object.freeze({ id: s.key(id), name: s.displayName(id), kind: s.kind(id), file, line, location: locationOf(file, line) });
  s.setMemo(id, ref);
  return ref;
}

// Bigger records are object literals of one shape each: spreading an EntityRef into them
// (`{ ...ref, distance }`) cost several microseconds per result.
export function relatedEntity(s: GraphStore, id: number, distance: number, resolution: Resolution): RelatedEntity {
  const r = refOf(s, id);
  return { id: r.id, name: r.name, kind: r.kind, file: r.file, line: r.line, location: r.location, distance, resolution };
}

/** Line numbers up to this have their `:line` kept: a number's conversion was half a result record's cost. */
const CACHED_LINES = 1 << 16;
const lineSuffixes: string[] = [];

/** `file:line`, as results spell a location. */
function locationOf(file: string, line: number): string {
  if (line >= CACHED_LINES) return `${file}:${line}`;
  while (lineSuffixes.length <= line) lineSuffixes.push(`:${lineSuffixes.length}`);
  return file + lineSuffixes[line]!;
}

/**
 * The entity a user means: an exact id (`src/a.ts#Foo.bar`, or a module path), else a unique
 * qualified or simple name. Several matches is an `ambiguous` error listing them; none is
 * `not-found` with "did you mean" suggestions.
 */
export function resolveEntity(view: GraphView, spec: unknown): number {
  if (spec !== undefined && spec !== null && typeof spec !== 'string') throw new IsgError('bad-args', `argument "entity" must be a string (an id or a name), got ${typeof spec}`);
  if (typeof spec !== 'string' || spec === '') throw new IsgError('bad-args', 'missing argument "entity": give an entity id (src/a.ts#Foo) or a name (Foo)');
  const s = view.store;
  const exact = s.idOf(spec);
  if (exact !== undefined) return exact;
  const last = spec.slice(spec.lastIndexOf('.') + 1);
  let candidates = s.idsNamed(last).filter((id) => s.qualifiedName(id) === spec || s.qualifiedName(id).endsWith(`.${spec}`));
  // Simple names: `Foo`, and a module's file name (`Subject.ts`), the only simple names with a
  // dot; excluding dotted specs here made `Subject.ts` "not found; did you mean Subject.ts?".
  if (!candidates.length) candidates = [...s.idsNamed(spec)];
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    const listed = candidates.slice(0, 8).map((id) => `${s.key(id)} (${s.kind(id)})`);
    throw new IsgError('ambiguous', `"${spec}" names ${candidates.length} entities; pass one id: ${listed.join(', ')}${candidates.length > 8 ? ', ...' : ''}`, {
      candidates: candidates.map((id) => entityRef(view, id)),
    });
  }
  const suggestions = suggest(view, spec, 5);
  const hint = suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : '';
  throw new IsgError('not-found', `no entity named ${spec}${hint}`, { suggestions });
}

/** Names close to `spec`: by subsequence match on simple names, best first. */
export function suggest(view: GraphView, spec: unknown, limit: number): string[] {
  if (typeof spec !== 'string') return [];
  const needle = spec.slice(spec.lastIndexOf('#') + 1);
  // Subsequence matching alone found nothing for a swapped or wrong letter (`Subscriptoin`,
  // `Subjact`) nor for a typo in a qualified name (`Subject.nxt`): names within a few edits of the
  // name (or of its last segment) are suggested too, closest first.
  const base = needle.slice(needle.lastIndexOf('/') + 1).toLowerCase();
  const forms = [base];
  if (!/\.[cm]?[jt]sx?$/.test(base) && base.includes('.')) forms.push(base.slice(base.lastIndexOf('.') + 1));
  const NO_EDITS = Number.MAX_SAFE_INTEGER;
  const scored: { name: string; score: number; edits: number }[] = [];
  for (const name of view.store.simpleNames()) {
    const score = fuzzyScore(needle, name);
    let edits = NO_EDITS;
    for (const form of forms) {
      const max = Math.max(1, Math.floor(form.length / 4));
      const d = editDistance(form, name.toLowerCase(), max);
      if (d <= max) edits = Math.min(edits, d);
    }
    if (score > 0 || edits !== NO_EDITS) scored.push({ name, score, edits });
  }
  scored.sort((a, b) => a.edits - b.edits || b.score - a.score || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.name);
}
