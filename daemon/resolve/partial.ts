// Which containers of a file an edit can have changed the edges of, when what other files see of
// it did not change (daemon/host.ts decides that): the entities whose references changed, and
// those that see a local binding that changed. Their edges are resolved again; every other
// entity's edges stay as they were.
//
// Why that is exact: a reference of container c resolves through c's own path text, the file's
// entities, imports and exports (unchanged: the host checked), the bindings of c and the scopes
// around it, and, through declared types, the bindings of scopes that hold entities (a member's
// type is resolved from its parent: the module, a namespace, a class). So a change of bindings in
// a scope that holds entities could change any container's edges: the whole file is resolved.
import type { SameRows } from '../ingest/assemble.ts';
import { BINDING_FIELDS, BINDING_STRING_FIELDS, REF_FIELDS, RefRow, refFromOf, type FileFacts } from '../ingest/facts.ts';

/**
 * The containers (index c + 1; 0 is the module) whose edges `next` may resolve differently from
 * `old`, or undefined when the whole file must be resolved. Assumes the same entities in the same
 * order (names, kinds, parents, declared types), as the host checked.
 */
export function changedContainers(old: FileFacts, next: FileFacts, same?: { refs: SameRows; bindings: SameRows }): Uint8Array | undefined {
  const n = next.entities.length;
  if (old.entities.length !== n) return undefined;
  const only = new Uint8Array(n + 1);
  markChangedRows(old, next, old.refs, next.refs, REF_FIELDS, sameRef, (f, row) => void (only[refFromOf(f.refs[row * REF_FIELDS + RefRow.head]!) + 1] = 1), same?.refs);
  const scopes = new Uint8Array(n + 1);
  markChangedRows(old, next, old.bindings, next.bindings, BINDING_FIELDS, sameBinding, (f, row) => void (scopes[f.bindings[row * BINDING_FIELDS]! + 1] = 1), same?.bindings);
  if (scopes[0]) return undefined;
  for (let i = 0; i < n; i++) {
    const parent = next.entities[i]!.parent;
    // A scope that holds entities; else a container sees its own bindings and no one else does.
    if (parent >= 0 && scopes[parent + 1]) return undefined;
    if (scopes[i + 1]) only[i + 1] = 1;
  }
  // Imports only differing in type-only or dynamic: the module's own links change.
  if (!sameImports(old, next)) only[0] = 1;
  return only;
}

/**
 * Rows of `a` and `b` outside their common prefix and suffix are handed to `mark`. `known`: as
 * many rows as assembly copied from `a` into `b` at each end (extract.ts knows), not compared.
 */
function markChangedRows(
  old: FileFacts,
  next: FileFacts,
  a: Int32Array,
  b: Int32Array,
  fields: number,
  same: (old: FileFacts, next: FileFacts, i: number, j: number) => boolean,
  mark: (f: FileFacts, row: number) => void,
  known: SameRows = { head: 0, tail: 0 },
): void {
  const rowsA = a.length / fields;
  const rowsB = b.length / fields;
  let p = known.head;
  while (p < rowsA && p < rowsB && same(old, next, p, p)) p++;
  let endA = Math.max(p, rowsA - known.tail);
  let endB = Math.max(p, rowsB - known.tail);
  while (endA > p && endB > p && same(old, next, endA - 1, endB - 1)) {
    endA--;
    endB--;
  }
  for (let i = p; i < endA; i++) mark(old, i);
  for (let j = p; j < endB; j++) mark(next, j);
}

function sameRef(old: FileFacts, next: FileFacts, i: number, j: number): boolean {
  const o = i * REF_FIELDS;
  const p = j * REF_FIELDS;
  return old.refs[o + RefRow.head] === next.refs[p + RefRow.head] && old.strings[old.refs[o + RefRow.path]!] === next.strings[next.refs[p + RefRow.path]!];
}

/** Per field of a binding row: whether it is a string index (-1: none) rather than a plain number. */
const BINDING_STRINGS = Array.from({ length: BINDING_FIELDS }, (_, k) => BINDING_STRING_FIELDS.includes(k));

function sameBinding(old: FileFacts, next: FileFacts, i: number, j: number): boolean {
  const o = i * BINDING_FIELDS;
  const p = j * BINDING_FIELDS;
  for (let k = 0; k < BINDING_FIELDS; k++) {
    const x = old.bindings[o + k]!;
    const y = next.bindings[p + k]!;
    if (!BINDING_STRINGS[k] || x < 0 || y < 0) {
      if (x !== y) return false;
    } else if (old.strings[x] !== next.strings[y]) return false;
  }
  return true;
}

function sameImports(old: FileFacts, next: FileFacts): boolean {
  if (old.imports.length !== next.imports.length) return false;
  return old.imports.every((a, i) => {
    const b = next.imports[i]!;
    return a.specifier === b.specifier && a.imported === b.imported && a.local === b.local && a.typeOnly === b.typeOnly && a.dynamic === b.dynamic;
  });
}
