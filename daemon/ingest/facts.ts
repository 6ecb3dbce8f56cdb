// FileFacts: everything extraction learns about one file, before any cross-file resolution.
// Produced in worker threads, sent to the main thread by structured clone, kept per file so
// that an incremental update can re-resolve a file without re-parsing it.
import type { Diagnostic, EntityKind, Language } from '../model.ts';

export interface EntityFact {
  /** Qualified name inside the file, e.g. `Foo.bar`. */
  name: string;
  kind: EntityKind;
  /** Index of the parent entity in `FileFacts.entities`; -1 for the module. */
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
  /** Declared return type of a function/method: a dotted name. */
  returnType?: string;
  /** Class instantiated by the initializer (`x = new C()`): a dotted name. */
  newOf?: string;
  /** Function called by the initializer (`x = make()`): a dotted name. */
  callOf?: string;
  /** Declared type text of each parameter of a function/method (null: none), for contextual typing. */
  paramTypes?: (string | null)[];
  /** Type parameter names declared on this entity (they are not references). */
  typeParameters?: string[];
}

export type RefKind = 'call' | 'new' | 'type' | 'extends' | 'implements';

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

/** A local name (parameter or variable) in the scope of an entity, with what is known of its type. */
export interface BindingFact {
  scope: number;
  name: string;
  typeName?: string;
  newOf?: string;
  callOf?: string;
  /** An untyped parameter of a function passed as argument `arg` to `callee`: typed by the callee. */
  callback?: CallbackSite;
}

export interface CallbackSite {
  /** Dotted path of the called function (or class, for `new`). */
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
  refs: RefFact[];
  bindings: BindingFact[];
  imports: ImportFact[];
  exports: ExportFact[];
  diagnostics: Diagnostic[];
}
