// What an edit changed of what other files can see of a file, as the keys other files' lookups
// would find those declarations under (qualified entity names, export names, imported and
// module-level bound names): the keys of what it added, and of what it removed or changed. The
// host then re-resolves the files that consulted it only if a lookup there missed on an added
// key or found a removed one (resolve/lookup-filter.ts): otherwise each of their lookups finds
// what it found before.
import { BINDING_FIELDS, BindingRow, REF_FIELDS, RefRow, refFromOf, refKindOf, type EntityFact, type FileFacts } from '../ingest/facts.ts';

export interface SurfaceDelta {
  /** Keys a lookup finds now and found nothing under before. */
  added: string[];
  /** Keys a lookup found before and finds nothing, or something else, under now. */
  removed: string[];
  /** Entities of both whose parameter types changed (files typing a callback by them read those). */
  params: string[];
}

/**
 * The delta, or undefined when the change cannot be told by keys: a name declared twice (merged
 * declarations: which one a lookup finds could change), or an `export *` added or removed (it
 * answers for every name).
 */
export function surfaceDelta(old: FileFacts, next: FileFacts): SurfaceDelta | undefined {
  const before = byName(old.entities);
  const after = byName(next.entities);
  if (!before || !after) return undefined;
  const delta: SurfaceDelta = { added: [], removed: [], params: [] };
  const beforeHeritage = heritage(old);
  const afterHeritage = heritage(next);
  for (const [name, i] of before) {
    const j = after.get(name);
    if (j === undefined) delta.removed.push(name);
    else if (!sameDeclaration(old, i, next, j) || beforeHeritage.get(name) !== afterHeritage.get(name)) {
      delta.removed.push(name);
      delta.added.push(name);
    } else if (!sameList(old.entities[i]!.paramTypes, next.entities[j]!.paramTypes)) delta.params.push(name);
  }
  for (const name of after.keys()) if (!before.has(name)) delta.added.push(name);
  if (!exportsDelta(old, next, delta)) return undefined;
  namesDelta(importedNames(old), importedNames(next), delta);
  namesDelta(moduleBindings(old), moduleBindings(next), delta);
  return delta;
}

function byName(entities: EntityFact[]): Map<string, number> | undefined {
  const m = new Map<string, number>();
  for (let i = 0; i < entities.length; i++) {
    if (m.has(entities[i]!.name)) return undefined;
    m.set(entities[i]!.name, i);
  }
  return m;
}

function sameDeclaration(fa: FileFacts, a: number, fb: FileFacts, b: number): boolean {
  const x = fa.entities[a]!;
  const y = fb.entities[b]!;
  const parentName = (f: FileFacts, e: EntityFact) => (e.parent < 0 ? undefined : f.entities[e.parent]!.name);
  return sameDeclaredTypes(x, y) && parentName(fa, x) === parentName(fb, y);
}

/** What another file's lookups read of an entity, less its name, parent and parameter types: its kind, export and declared types. */
export function sameDeclaredTypes(x: EntityFact, y: EntityFact): boolean {
  return x.kind === y.kind && x.exported === y.exported && x.typeName === y.typeName && x.returnType === y.returnType && x.newOf === y.newOf && x.callOf === y.callOf && x.literal === y.literal;
}

/** Two lists (parameter types) with the same items, or both absent. */
export function sameList(a: readonly (string | null)[] | undefined, b: readonly (string | null)[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Each entity's extends and implements clauses, in order, by its name ('' for the module's). */
function heritage(f: FileFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (let o = 0; o < f.refs.length; o += REF_FIELDS) {
    const head = f.refs[o + RefRow.head]!;
    const kind = refKindOf(head);
    if (kind !== 'extends' && kind !== 'implements') continue;
    const from = refFromOf(head);
    const container = from < 0 ? '' : f.entities[from]!.name;
    out.set(container, `${out.get(container) ?? ''}${kind} ${f.strings[f.refs[o + RefRow.path]!]}\n`);
  }
  return out;
}

/** Export names added, removed or changed into `delta`; false for an `export *` added or removed. */
function exportsDelta(old: FileFacts, next: FileFacts, delta: SurfaceDelta): boolean {
  const entries = (f: FileFacts): Map<string, string> => {
    const out = new Map<string, string>();
    for (const e of f.exports) {
      const key = e.exported === '*' ? `*${e.specifier}` : e.exported;
      out.set(key, `${out.get(key) ?? ''}${e.local ?? ''}\0${e.specifier ?? ''}\0${e.imported ?? ''}\n`);
    }
    return out;
  };
  const a = entries(old);
  const b = entries(next);
  for (const [name, what] of a) {
    if (b.get(name) === what) continue;
    if (name.startsWith('*')) return false;
    delta.removed.push(name);
    if (b.has(name)) delta.added.push(name);
  }
  for (const name of b.keys()) {
    if (a.has(name)) continue;
    if (name.startsWith('*')) return false;
    delta.added.push(name);
  }
  return true;
}

/** Imported local names, each with where it comes from. */
function importedNames(f: FileFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of f.imports) if (i.local) out.set(i.local, `${out.get(i.local) ?? ''}${i.specifier}\0${i.imported}\n`);
  return out;
}

/** Names bound at module level (`const { a } = b`), each with its binding's row. */
function moduleBindings(f: FileFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (let o = 0; o < f.bindings.length; o += BINDING_FIELDS) {
    if (f.bindings[o + BindingRow.scope] !== -1) continue;
    const row: (string | number)[] = [];
    for (let k = 1; k < BINDING_FIELDS; k++) {
      const v = f.bindings[o + k]!;
      // string fields by their text (tables differ between versions of a file), the rest as numbers
      row.push(k === BindingRow.arg || k === BindingRow.param || v < 0 ? v : f.strings[v]!);
    }
    const name = f.strings[f.bindings[o + BindingRow.name]!]!;
    out.set(name, `${out.get(name) ?? ''}${row.join('\0')}\n`);
  }
  return out;
}

/** Names of `a` gone or different in `b` are removed (and added again when still there); names new in `b` are added. */
function namesDelta(a: Map<string, string>, b: Map<string, string>, delta: SurfaceDelta): void {
  for (const [name, what] of a) {
    if (b.get(name) === what) continue;
    delta.removed.push(name);
    if (b.has(name)) delta.added.push(name);
  }
  for (const name of b.keys()) if (!a.has(name)) delta.added.push(name);
}
