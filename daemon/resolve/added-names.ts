// What an edit added to what other files can see of a file, when it only added: the keys other
// files' lookups would find the additions under (qualified entity names, export names, names
// bound at module level). The host then re-resolves the files that consulted it only if one of
// their lookups there missed on one of those keys (resolve/missed-lookups.ts): otherwise each
// of their lookups finds what it found before.
import { BINDING_FIELDS, BindingRow, REF_FIELDS, RefRow, refFromOf, refKindOf, type EntityFact, type FileFacts } from '../ingest/facts.ts';

/**
 * The new keys, when `next` differs from `old` only by added entities, exports and module-level
 * bindings: every entity of `old` is in `next` under its name with the same declared types,
 * parent, heritage and parameter types; every export of `old` is in `next`, and none of the new
 * ones reuses an old export's name or is an `export *`; the imports are the same. Undefined
 * otherwise (or when a name is declared twice, merged declarations: which one a lookup finds
 * could change).
 */
export function addedNames(old: FileFacts, next: FileFacts): string[] | undefined {
  if (!sameImports(old, next)) return undefined;
  const before = byName(old.entities);
  const after = byName(next.entities);
  if (!before || !after) return undefined;
  const added: string[] = [];
  for (const [name, b] of after) {
    const a = before.get(name);
    if (a === undefined) added.push(name);
    else if (!sameDeclaration(old, a, next, b)) return undefined;
  }
  if (before.size + added.length !== after.size) return undefined; // an old entity is gone
  if (!sameHeritage(old, next, before)) return undefined;
  const exports = addedExports(old, next);
  const bindings = addedModuleBindings(old, next);
  if (!exports || !bindings) return undefined;
  return [...added, ...exports, ...bindings];
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
  return (
    x.kind === y.kind &&
    x.exported === y.exported &&
    x.typeName === y.typeName &&
    x.returnType === y.returnType &&
    x.newOf === y.newOf &&
    x.callOf === y.callOf &&
    x.literal === y.literal &&
    parentName(fa, x) === parentName(fb, y) &&
    sameList(x.paramTypes, y.paramTypes)
  );
}

function sameList(a: readonly (string | null)[] | undefined, b: readonly (string | null)[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameImports(a: FileFacts, b: FileFacts): boolean {
  if (a.imports.length !== b.imports.length) return false;
  for (let i = 0; i < a.imports.length; i++) {
    const x = a.imports[i]!;
    const y = b.imports[i]!;
    if (x.specifier !== y.specifier || x.imported !== y.imported || x.local !== y.local) return false;
  }
  return true;
}

/** The extends and implements clauses of the old entities, in order, are the same in `next`. */
function sameHeritage(old: FileFacts, next: FileFacts, oldNames: ReadonlyMap<string, number>): boolean {
  const clauses = (f: FileFacts, keep: (container: string) => boolean): string[] => {
    const out: string[] = [];
    for (let o = 0; o < f.refs.length; o += REF_FIELDS) {
      const head = f.refs[o + RefRow.head]!;
      const kind = refKindOf(head);
      if (kind !== 'extends' && kind !== 'implements') continue;
      const from = refFromOf(head);
      const container = from < 0 ? '' : f.entities[from]!.name;
      if (keep(container)) out.push(`${container}\0${kind}\0${f.strings[f.refs[o + RefRow.path]!]}`);
    }
    return out;
  };
  const a = clauses(old, () => true);
  const b = clauses(next, (container) => container === '' || oldNames.has(container));
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** Names of the exports `next` adds, undefined unless it keeps every old one and adds only new names. */
function addedExports(old: FileFacts, next: FileFacts): string[] | undefined {
  const key = (e: FileFacts['exports'][number]) => `${e.exported}\0${e.local ?? ''}\0${e.specifier ?? ''}\0${e.imported ?? ''}`;
  const left = new Map<string, number>();
  for (const e of old.exports) left.set(key(e), (left.get(key(e)) ?? 0) + 1);
  const oldNames = new Set(old.exports.map((e) => e.exported));
  const added: string[] = [];
  for (const e of next.exports) {
    const k = key(e);
    const n = left.get(k);
    if (n) {
      left.set(k, n - 1);
      continue;
    }
    if (e.exported === '*' || oldNames.has(e.exported)) return undefined;
    added.push(e.exported);
  }
  for (const n of left.values()) if (n) return undefined;
  return added;
}

/** Names bound at module level (`const { a } = b`) in `next` and not in `old`; undefined when one of `old`'s is gone. */
function addedModuleBindings(old: FileFacts, next: FileFacts): string[] | undefined {
  const names = (f: FileFacts): Set<string> => {
    const out = new Set<string>();
    for (let o = 0; o < f.bindings.length; o += BINDING_FIELDS) if (f.bindings[o + BindingRow.scope] === -1) out.add(f.strings[f.bindings[o + BindingRow.name]!]!);
    return out;
  };
  const before = names(old);
  const after = names(next);
  for (const n of before) if (!after.has(n)) return undefined;
  return [...after].filter((n) => !before.has(n));
}
