// How queries name entities: in (an id, a name or a qualified name) and out (a small record
// with `file:line` so a person or an LLM can jump to the code).
import { IsgError } from '../errors.ts';
import type { EntityKind } from '../model.ts';
import type { GraphView } from './graph-view.ts';
import { fuzzyScore } from './fuzzy.ts';

export interface EntityRef {
  id: string;
  name: string;
  kind: EntityKind;
  file: string;
  line: number;
  /** `file:line`, clickable in terminals and editors. */
  location: string;
}

export function entityRef(view: GraphView, id: number): EntityRef {
  const s = view.store;
  const file = s.file(id);
  const line = s.line(id);
  const qn = s.qualifiedName(id);
  return { id: s.key(id), name: qn === '' ? file : qn, kind: s.kind(id), file, line, location: `${file}:${line}` };
}

/**
 * The entity a user means: an exact id (`src/a.ts#Foo.bar`, or a module path), else a unique
 * qualified or simple name. Several matches is an `ambiguous` error listing them; none is
 * `not-found` with "did you mean" suggestions.
 */
export function resolveEntity(view: GraphView, spec: unknown): number {
  if (typeof spec !== 'string' || spec === '') throw new IsgError('bad-args', 'missing argument "entity": give an entity id (src/a.ts#Foo) or a name (Foo)');
  const s = view.store;
  const exact = s.idOf(spec);
  if (exact !== undefined) return exact;
  const last = spec.slice(spec.lastIndexOf('.') + 1);
  let candidates = s.idsNamed(last).filter((id) => s.qualifiedName(id) === spec || s.qualifiedName(id).endsWith(`.${spec}`));
  if (!candidates.length && !spec.includes('.')) candidates = [...s.idsNamed(spec)];
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
  const scored: { name: string; score: number }[] = [];
  for (const name of view.store.simpleNames()) {
    const score = fuzzyScore(needle, name);
    if (score > 0) scored.push({ name, score });
  }
  scored.sort((a, b) => b.score - a.score || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.name);
}
