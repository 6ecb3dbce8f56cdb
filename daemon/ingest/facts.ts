// FileFacts: everything extraction learns about one file, before any cross-file resolution.
// Produced in worker threads, sent to the main thread by structured clone, kept per file so
// that an incremental update can re-resolve a file without re-parsing it.
//
// Plain data (structured-cloneable; msgpack with typed arrays, e.g. msgpackr `moreTypes`). The
// many small records, references and local bindings, are rows of an Int32Array whose strings
// are indexes into the file's `strings`: as objects they were most of the memory the host keeps.
import type { Diagnostic, EntityKind, Language } from '../model.ts';

export interface EntityFact {
  /** Qualified name inside the file, e.g. `Foo.bar`. */
  name: string;
  kind: EntityKind;
  /** Index of the parent entity in `FileFacts.entities` (always before this one); -1 for the module. */
  parent: number;
  exported: boolean;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  signature: string;
  doc?: string;
  /** Declared type of a property/variable: a dotted name. */
  typeName?: string;
  /**
   * What calling it returns, as a dotted name: a function's or method's declared return type; a
   * variable's or property's declared function type's; an interface's call signature's or a
   * function type alias's (`interface MakeBox { (x): Box }`, `type F = () => Box`).
   */
  returnType?: string;
  /** Class instantiated by the initializer (`x = new C()`): a dotted name. */
  newOf?: string;
  /** Function called by the initializer (`x = make()`): a dotted name. */
  callOf?: string;
  /** Declared type text of each parameter of a function/method (null: none), for contextual typing. */
  paramTypes?: (string | null)[];
  /** Type parameter names declared on this entity (they are not references). */
  typeParameters?: string[];
  /** An untyped variable initialized with an object literal: what its members hold (`ObjectLiteral`). */
  literal?: string;
}

/**
 * `{ ...ns, key: a.b, short, n: 1, m() {}, ...f() }` as `...ns,key=a.b,short=short,n=?,m=?,...?`:
 * what an object literal's members hold, in source order (a later entry wins, as in the object).
 * `?` is a value that is no dotted name; `...?` also stands for a member whose key is not a plain
 * name (it may be any).
 */
export type ObjectLiteral = string;

export type RefKind = 'call' | 'new' | 'type' | 'extends' | 'implements';

/** A reference, decoded from its row in `FileFacts.refs` (`refAt`). */
export interface RefFact {
  kind: RefKind;
  /** Index of the container entity (innermost enclosing), -1 for the module. */
  from: number;
  /**
   * Dotted path of the referenced name: `f`, `ns.f`, `this.m`, `super.m`, `this.a.m`, `x.m`.
   * A receiver that is not a plain name (a call, an index, a literal) is written `?`.
   */
  path: string;
  line: number;
}

/**
 * A local name (parameter or variable) in the scope of an entity, with what is known of its type;
 * decoded from its row in `FileFacts.bindings` (`bindingAt`).
 */
export interface BindingFact {
  scope: number;
  name: string;
  typeName?: string;
  newOf?: string;
  callOf?: string;
  /** An untyped parameter of a function passed as argument `arg` to `callee`: typed by the callee. */
  callback?: CallbackSite;
  /**
   * Destructured: `const { a, b: c } = this` holds the values `this.a` and `this.b`, the path of
   * each; ending in `[]`, an element of the path's value (`for (const x of this.items)`).
   */
  memberPath?: string;
  /** Untyped and initialized with an object literal: what its members hold. */
  literal?: ObjectLiteral;
}

export interface CallbackSite {
  /** Dotted path of the called function (or class, for `new`); with `arg` -1, of the function type alias the function was declared with (`const f: Alias = (a) => ...`). */
  callee: string;
  arg: number;
  param: number;
}

export interface ImportFact {
  specifier: string;
  /** Exported name imported: a name, 'default', '*' (namespace), or '' (side effect only). */
  imported: string;
  /** Local name bound; '' when nothing is bound. */
  local: string;
  typeOnly: boolean;
  dynamic: boolean;
  line: number;
}

export interface ExportFact {
  /** Name under which it is exported ('default' included); '*' for `export * from`. */
  exported: string;
  /** Local name exported (`export { a as b }`, `export default a`), when not re-exported. */
  local?: string;
  /** Module specifier of a re-export. */
  specifier?: string;
  /** Name taken from the re-exported module; '*' for `export * as ns from`. */
  imported?: string;
  typeOnly: boolean;
}

export interface FileFacts {
  path: string;
  language: Language;
  /** Hash of the text, to tell a real change from a touch. */
  contentHash: string;
  bytes: number;
  lines: number;
  entities: EntityFact[];
  /** Strings the rows of `refs` and `bindings` refer to by index. */
  strings: string[];
  /** References, `REF_FIELDS` numbers each, in document order (see `RefRow`). */
  refs: Int32Array;
  /** Local bindings, `BINDING_FIELDS` numbers each, in document order (see `BindingRow`). */
  bindings: Int32Array;
  imports: ImportFact[];
  exports: ExportFact[];
  diagnostics: Diagnostic[];
}

export const REF_KINDS: readonly RefKind[] = ['call', 'new', 'type', 'extends', 'implements'];
export const REF_KIND_CODE: Readonly<Record<RefKind, number>> = { call: 0, new: 1, type: 2, extends: 3, implements: 4 };

/**
 * Field offsets in a row of `FileFacts.refs`: `head` holds the kind (index in `REF_KINDS`) and
 * the container (`from`), see `refHead`; `path` is a string index.
 */
export const RefRow = { head: 0, line: 1, path: 2 } as const;
export const REF_FIELDS = 3;

export function refHead(kind: RefKind, from: number): number {
  return (from + 1) * 8 + REF_KIND_CODE[kind];
}

export function refKindOf(head: number): RefKind {
  return REF_KINDS[head & 7]!;
}

export function refFromOf(head: number): number {
  return (head >> 3) - 1;
}

/**
 * Field offsets in a row of `FileFacts.bindings`. Strings are indexes, -1 for none; `callee`,
 * `arg` and `param` are the `CallbackSite` of a callback parameter (callee -1: not one).
 */
export const BindingRow = { scope: 0, name: 1, typeName: 2, newOf: 3, callOf: 4, callee: 5, arg: 6, param: 7, memberPath: 8, literal: 9 } as const;
export const BINDING_FIELDS = 10;
/** The binding fields holding a string index (-1: none), in the order a file's string table first meets them. */
export const BINDING_STRING_FIELDS: readonly number[] = [BindingRow.name, BindingRow.typeName, BindingRow.newOf, BindingRow.callOf, BindingRow.callee, BindingRow.memberPath, BindingRow.literal];

export function refCount(f: FileFacts): number {
  return f.refs.length / REF_FIELDS;
}

export function bindingCount(f: FileFacts): number {
  return f.bindings.length / BINDING_FIELDS;
}

export function refAt(f: FileFacts, i: number): RefFact {
  const r = f.refs;
  const o = i * REF_FIELDS;
  const head = r[o + RefRow.head]!;
  return { kind: refKindOf(head), from: refFromOf(head), path: f.strings[r[o + RefRow.path]!]!, line: r[o + RefRow.line]! };
}

export function bindingAt(f: FileFacts, i: number): BindingFact {
  const b = f.bindings;
  const o = i * BINDING_FIELDS;
  const str = (k: number): string | undefined => (b[o + k]! < 0 ? undefined : f.strings[b[o + k]!]);
  const fact: BindingFact = { scope: b[o + BindingRow.scope]!, name: str(BindingRow.name)! };
  const typeName = str(BindingRow.typeName);
  if (typeName !== undefined) fact.typeName = typeName;
  const newOf = str(BindingRow.newOf);
  if (newOf !== undefined) fact.newOf = newOf;
  const callOf = str(BindingRow.callOf);
  if (callOf !== undefined) fact.callOf = callOf;
  const callee = str(BindingRow.callee);
  if (callee !== undefined) fact.callback = { callee, arg: b[o + BindingRow.arg]!, param: b[o + BindingRow.param]! };
  const memberPath = str(BindingRow.memberPath);
  if (memberPath !== undefined) fact.memberPath = memberPath;
  const literal = str(BindingRow.literal);
  if (literal !== undefined) fact.literal = literal;
  return fact;
}

/** Every reference of a file, decoded (for tests and tools; resolution reads the rows). */
export function refsOf(f: FileFacts): RefFact[] {
  return Array.from({ length: refCount(f) }, (_, i) => refAt(f, i));
}

export function bindingsOf(f: FileFacts): BindingFact[] {
  return Array.from({ length: bindingCount(f) }, (_, i) => bindingAt(f, i));
}

/**
 * Replaces, in place, each name-like string of `facts` by `f` of it: the strings table, imports,
 * exports, and entities' names, type names and type parameters (not signatures or docs, which
 * are text). For those that share or convert strings (`internFacts`, `narrowFacts`).
 */
export function mapNameStrings(facts: FileFacts, f: (s: string) => string): void {
  const { strings } = facts;
  for (let i = 0; i < strings.length; i++) strings[i] = f(strings[i]!);
  for (const i of facts.imports) {
    i.specifier = f(i.specifier);
    i.imported = f(i.imported);
    i.local = f(i.local);
  }
  for (const e of facts.exports) {
    e.exported = f(e.exported);
    // Absent fields stay absent (facts are compared and exported as they are).
    if (e.local !== undefined) e.local = f(e.local);
    if (e.specifier !== undefined) e.specifier = f(e.specifier);
    if (e.imported !== undefined) e.imported = f(e.imported);
  }
  for (const e of facts.entities) {
    e.name = f(e.name);
    if (e.typeName !== undefined) e.typeName = f(e.typeName);
    if (e.returnType !== undefined) e.returnType = f(e.returnType);
    if (e.newOf !== undefined) e.newOf = f(e.newOf);
    if (e.callOf !== undefined) e.callOf = f(e.callOf);
    if (e.typeParameters) e.typeParameters = e.typeParameters.map(f);
  }
}
