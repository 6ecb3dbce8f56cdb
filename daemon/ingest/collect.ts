// Collection: the captures of the extraction queries over (part of) a tree -> plain records with
// absolute offsets, holding no tree nodes. Records of untouched statements survive an edit
// (shifted), so a re-extraction only queries the statements that changed (see extract.ts).
import type { EntityKind } from '../model.ts';
import type { CallbackSite, EntityFact, ExportFact, ImportFact, ObjectLiteral, RefKind } from './facts.ts';
import { captureId, captureName, type CaptureList, type NodeTable } from './captures.ts';
import { keepShape } from '../util/keep-shape.ts';
import { typeNameIn } from './type-text.ts';
import { scanTypeReferences, splitTypeParameters } from './type-refs.ts';

const MAX_SIGNATURE = 600;
const MAX_PARAM_TYPE = 400;

/**
 * A declaration found by the query, before deciding whether it is an entity (assemble.ts): what
 * an EntityFact says of itself, plus where it sits.
 */
export interface DeclarationRecord
  extends Pick<EntityFact, 'line' | 'column' | 'endLine' | 'endColumn' | 'signature' | 'doc' | 'typeName' | 'returnType' | 'newOf' | 'callOf' | 'paramTypes' | 'literal'> {
  kind: EntityKind | 'parameter-property' | 'opaque';
  start: number;
  end: number;
  /** The declared name (qualified by assembly). */
  name: string;
  /** Written inside `export` (`export default` too), so exported under its name. */
  declaredExport: boolean;
  isDefault: boolean;
  /** The signature is the text [sigStart, sigEnd), or [sigStart, sigJoin) + [start, sigEnd) (see `signatureOf`). */
  sigStart: number;
  sigEnd: number;
  sigJoin?: number;
}

/** A declaration's signature, read from the text as its record says (trimmed, at most MAX_SIGNATURE chars). */
export function signatureOf(text: string, d: Pick<DeclarationRecord, 'start' | 'sigStart' | 'sigEnd' | 'sigJoin'>): string {
  const sig = (d.sigJoin === undefined ? text.slice(d.sigStart, d.sigEnd) : text.slice(d.sigStart, d.sigJoin) + text.slice(d.start, d.sigEnd)).trim();
  return sig.length > MAX_SIGNATURE ? sig.slice(0, MAX_SIGNATURE) + '…' : sig;
}

export interface RefRecord {
  kind: RefKind;
  start: number;
  line: number;
  path: string;
}

export interface BindingRecord {
  start: number;
  name: string;
  typed: boolean;
  typeName?: string;
  newOf?: string;
  callOf?: string;
  callback?: CallbackSite;
  memberPath?: string;
  literal?: ObjectLiteral;
}

export interface SyntaxErrorRecord {
  start: number;
  line: number;
  column: number;
  snippet: string;
}

/** Everything collected from a file (or a range of it), in document order per array. */
export interface Collected {
  declarations: DeclarationRecord[];
  refs: RefRecord[];
  bindings: BindingRecord[];
  callbackParams: { start: number; site: CallbackSite }[];
  typeParameters: { start: number; name: string }[];
  imports: (ImportFact & { start: number })[];
  exports: (ExportFact & { start: number })[];
  errors: SyntaxErrorRecord[];
}

export function emptyCollected(): Collected {
  return { declarations: [], refs: [], bindings: [], callbackParams: [], typeParameters: [], imports: [], exports: [], errors: [] };
}

/** The captures of one query run, and which of its matches to collect (by match index; default all). */
export interface QueryRun {
  captures: CaptureList;
  keep?: Uint8Array;
}

/**
 * Calls `fn` for each match with its main capture: by convention the one capture whose name has
 * a dot (`@definition.class`, `@reference.call`); the others name its parts.
 */
export function forEachMatch(captures: CaptureList, fn: (main: number, mainId: number, pattern: number, first: number, end: number, match: number) => void): void {
  const { name, match } = captures;
  let i = 0;
  while (i < captures.length) {
    const m = match[i]!;
    let j = i;
    let main = -1;
    while (j < captures.length && match[j] === m) {
      if (main < 0 && isMain(name[j]!)) main = j;
      j++;
    }
    if (main < 0) throw new Error(`query pattern ${captures.pattern[i]} has no main capture`);
    fn(captures.first + main, name[main]!, captures.pattern[i]!, i, j, m);
    i = j;
  }
}

/**
 * Keeps a collector (one per extraction, dropped at its end) for good, so that its maps outlive
 * full GCs (keep-shape.ts). `table`: of an empty text's tree.
 */
export function keepCollectorShape(table: NodeTable): void {
  keepShape(new Collector('', table));
}

/** Fold the captures of query runs (each in match order) into `Collected`. */
export function collect(text: string, table: NodeTable, runs: QueryRun[]): Collected {
  const c = new Collector(text, table);
  for (const r of runs) c.addRun(r);
  return c.finish();
}

const C = {
  target: captureId('target'),
  types: captureId('reference.types'),
  typeParameters: captureId('reference.type-parameters'),
  callback: captureId('reference.callback'),
  callee: captureId('callee'),
  callbackFn: captureId('callback'),
  error: captureId('error.syntax'),
  binding: captureId('binding.local'),
  bindingName: captureId('binding-name'),
  bindingType: captureId('binding-type'),
  bindingValue: captureId('binding-value'),
  bindingDestructured: captureId('binding.destructured'),
  bindingElement: captureId('binding.element'),
  importBound: captureId('import.bound'),
  importModule: captureId('import.module'),
  importDynamic: captureId('import.dynamic'),
  source: captureId('source'),
  default: captureId('default'),
  namespace: captureId('namespace'),
  specifier: captureId('specifier'),
  imported: captureId('imported'),
  alias: captureId('alias'),
  name: captureId('name'),
  body: captureId('body'),
  params: captureId('params'),
  return: captureId('return'),
  value: captureId('value'),
  type: captureId('type'),
  opaque: captureId('scope.opaque'),
};

const REF_KINDS = new Map<number, RefKind>((['call', 'new', 'extends', 'implements'] as const).map((k) => [captureId(`reference.${k}`), k]));

const mainIds: boolean[] = [];

function isMain(id: number): boolean {
  return (mainIds[id] ??= captureName(id).includes('.'));
}

class Collector {
  private readonly out = emptyCollected();
  /** End of the last type read, so annotations nested in it are not read twice. */
  private typesEnd = -1;
  /** Import statements (by start offset) that bound at least one name. */
  private readonly bindingImports = new Set<number>();
  private readonly moduleImports: (ImportFact & { start: number })[] = [];
  private readonly text: string;
  private readonly t: NodeTable;
  /** Node of each capture name in the current match, -1 when absent. */
  private readonly slot = new Int32Array(256).fill(-1);
  /** Types of untyped parameters, by their start, from the function type their function is declared with. */
  private readonly parameterTypes = new Map<number, string>();

  /** The tree has no errors, so no zero-width (missing) node: see `endOf`. */
  private readonly plain: boolean;

  constructor(text: string, table: NodeTable) {
    this.text = text;
    this.t = table;
    this.plain = !table.hasError(table.root());
  }

  addRun(run: QueryRun): void {
    const { captures, keep } = run;
    const { name, first } = captures;
    forEachMatch(captures, (main, mainId, _pattern, from, to, match) => {
      if (keep && !keep[match]) return;
      for (let k = from; k < to; k++) this.slot[name[k]!] = first + k;
      this.add(mainId, main);
      for (let k = from; k < to; k++) this.slot[name[k]!] = -1;
    });
  }

  private cap(id: number): number {
    return this.slot[id]!;
  }

  private text_(h: number): string {
    return this.text.slice(this.t.start(h), endOf(this.text, this.t, h, this.plain));
  }

  private add(mainId: number, node: number): void {
    const t = this.t;
    const name = captureName(mainId);
    if (name.startsWith('definition.') || mainId === C.opaque) return this.addDeclaration(name, node);
    const refKind = REF_KINDS.get(mainId);
    if (refKind !== undefined) {
      const target = this.cap(C.target);
      this.out.refs.push({ kind: refKind, start: t.start(node), line: t.row(node) + 1, path: referencePath(this.text, t, target >= 0 ? target : node, this.plain) });
      return;
    }
    switch (mainId) {
      case C.types:
        return this.addTypeReferences(node);
      case C.typeParameters:
        return this.addTypeParameters(node);
      case C.callback:
        return this.addCallback(this.cap(C.callee), this.cap(C.callbackFn));
      case C.error: {
        const start = t.start(node);
        this.out.errors.push({ start, line: t.row(node) + 1, column: t.column(node) + 1, snippet: this.text.slice(start, Math.min(t.end(node), start + 40)).replace(/\s+/g, ' ') });
        return;
      }
      case C.binding: {
        const type = this.cap(C.bindingType);
        const value = this.cap(C.bindingValue);
        const name = this.cap(C.bindingName);
        const info = valueTypeInfo(this.text, t, type, value, this.plain);
        const literal = type < 0 && value >= 0 ? objectLiteral(this.text, t, value, this.plain) : undefined;
        // `const s = this.scheduler`: s holds that member, as a destructured name does.
        const held = type < 0 && value >= 0 && t.type(value) === 'member_expression' ? referencePath(this.text, t, value, this.plain) : '?';
        this.out.bindings.push(bindingRecord(t.start(node), this.text_(name >= 0 ? name : node), type >= 0, info.typeName, info.newOf, info.callOf, undefined, held.startsWith('?') ? undefined : held, literal));
        // `const f: Alias = (a, b) => ...`: the untyped parameters take Alias's parameter types.
        if (name < 0 && info.typeName !== undefined && value >= 0) this.addAnnotatedFunction(info.typeName, value);
        // `const f: (a: A, b: B) => R = (a, b) => ...`: the untyped parameters take A and B.
        else if (name < 0 && type >= 0 && value >= 0) this.addInlineTypedFunction(type, value);
        return;
      }
      case C.bindingDestructured:
        return this.addDestructured(node, this.cap(C.bindingValue));
      case C.bindingElement: {
        // `for (const x of this.items)`: x holds an element of what the path names (`this.items[]`).
        let value = this.cap(C.bindingValue);
        if (value >= 0 && t.type(value) === 'non_null_expression') value = t.firstNamedChild(value);
        const vt = value >= 0 ? t.type(value) : '';
        if (vt !== 'identifier' && vt !== 'member_expression') return;
        const source = referencePath(this.text, t, value, this.plain);
        if (source.startsWith('?')) return;
        this.out.bindings.push(bindingRecord(t.start(node), this.text_(node), false, undefined, undefined, undefined, undefined, `${source}[]`, undefined));
        return;
      }
      case C.importBound:
        return this.addImport(node);
      case C.importModule:
        this.moduleImports.push(importRecord(this.text, t, node, this.text_(this.cap(C.source)), '', '', false));
        return;
      case C.importDynamic:
        // Inside a type read just before, it is an import type, recorded with the type's references.
        if (t.start(node) < this.typesEnd) return;
        this.out.imports.push({ ...importRecord(this.text, t, node, this.text_(this.cap(C.source)), '', '', false), dynamic: true });
        return;
      default:
        if (name.startsWith('export.')) this.addExport(name, node);
    }
  }

  finish(): Collected {
    if (this.parameterTypes.size) {
      for (const b of this.out.bindings) if (b.typeName === undefined && !b.typed) b.typeName = this.parameterTypes.get(b.start);
    }
    // Side-effect-only imports: statements matched by the generic pattern that bound no name.
    for (const i of this.moduleImports) if (!this.bindingImports.has(i.start)) this.out.imports.push(i);
    this.out.imports.sort((a, b) => a.start - b.start);
    return this.out;
  }

  private addTypeReferences(node: number): void {
    const t = this.t;
    const start = t.start(node);
    if (start < this.typesEnd) return;
    const end = t.end(node);
    this.typesEnd = end;
    const line = t.row(node) + 1;
    scanTypeReferences(
      this.text.slice(start, end),
      (path, offset) => this.out.refs.push({ kind: 'type', start: start + offset, line, path }),
      (name) => this.out.typeParameters.push({ start, name }),
      (specifier, offset) => this.addImportType(specifier, start + offset, line, start),
    );
  }

  /**
   * An import type (`import("./a").Foo`, `typeof import("./a")`) imports its module, type-only
   * like `import type`. The grammar reads one as a call only without type arguments
   * (grammar-gaps.ts rewrites the others), so imports inside types are all recorded here.
   */
  private addImportType(specifier: string, start: number, line: number, typeStart: number): void {
    let row = line; // references say the type's line; an import says its own
    for (let i = typeStart; i < start; i++) if (this.text.charCodeAt(i) === 10) row++;
    this.out.imports.push({ specifier, imported: '', local: '', typeOnly: true, dynamic: true, line: row, start });
  }

  private addTypeParameters(node: number): void {
    const t = this.t;
    const start = t.start(node);
    const end = t.end(node);
    const nested = start < this.typesEnd; // inside a type already read: names only
    if (!nested) this.typesEnd = end;
    const line = t.row(node) + 1;
    for (const p of splitTypeParameters(this.text.slice(start, end))) {
      this.out.typeParameters.push({ start, name: p.name });
      if (nested || p.rest === undefined) continue;
      const base = start + p.restOffset;
      scanTypeReferences(
        p.rest,
        (path, offset) => this.out.refs.push({ kind: 'type', start: base + offset, line, path }),
        (name) => this.out.typeParameters.push({ start, name }),
        (specifier, offset) => this.addImportType(specifier, base + offset, line, start),
      );
    }
  }

  /**
   * `const { a, b: c, d = 1 } = x`: each name holds a member of `x` (`x.a`, `x.b`, `x.d`), typed
   * by that member's declared type, when `x` is a chain of names (`this`, `opts`, `this.cfg`).
   * Nested patterns and `...rest` hold no one member: they are not bound here.
   */
  private addDestructured(pattern: number, value: number): void {
    const t = this.t;
    if (value < 0) return;
    const vt = t.type(value);
    if (vt !== 'identifier' && vt !== 'member_expression' && vt !== 'this') return;
    const source = referencePath(this.text, t, value, this.plain);
    if (source.startsWith('?')) return;
    for (const p of t.namedChildren(pattern)) {
      const pt = t.type(p);
      let key = -1;
      let name = -1;
      if (pt === 'shorthand_property_identifier_pattern') key = name = p;
      else if (pt === 'object_assignment_pattern') key = name = t.childForField(p, 'left');
      else if (pt === 'pair_pattern') {
        key = t.childForField(p, 'key');
        name = t.childForField(p, 'value');
        if (name >= 0 && t.type(name) === 'assignment_pattern') name = t.childForField(name, 'left');
      }
      if (key < 0 || name < 0) continue;
      const kt = t.type(key);
      const nt = t.type(name);
      if ((kt !== 'property_identifier' && kt !== 'shorthand_property_identifier_pattern') || (nt !== 'identifier' && nt !== 'shorthand_property_identifier_pattern')) continue;
      this.out.bindings.push(bindingRecord(t.start(name), this.text_(name), false, undefined, undefined, undefined, undefined, `${source}.${this.text_(key)}`, undefined));
    }
  }

  /**
   * The untyped parameters of `fn` (an arrow or function expression) typed by the function type
   * written in `annotation`, by position: noted by start (the parameters' own bindings may be
   * matched before the declarator's) and given to them in `finish`. (A type parameter of the
   * function type is declared in the container, so the resolver reads it as one.)
   */
  private addInlineTypedFunction(annotation: number, fn: number): void {
    const t = this.t;
    const ft = t.type(fn);
    const fnType = declaredFunctionType(t, annotation);
    if ((ft !== 'arrow_function' && ft !== 'function_expression') || fnType < 0) return;
    const declaredList = t.childForField(fnType, 'parameters');
    if (declaredList < 0) return;
    const declared = t.namedChildren(declaredList).filter((n) => t.type(n) !== 'comment');
    const typeAt = (i: number): string | undefined => {
      const d = declared[i];
      const dt = d === undefined ? -1 : t.childForField(d, 'type');
      return dt < 0 ? undefined : typeNameIn(this.text, t.start(dt), t.end(dt), true);
    };
    const { single, listed } = functionParameters(t, fn);
    if (single >= 0) {
      const name = typeAt(0);
      if (name !== undefined) this.out.bindings.push(bindingRecord(t.start(single), this.text_(single), false, name, undefined, undefined, undefined, undefined, undefined));
      return;
    }
    listed.forEach((p, i) => {
      const name = t.childForField(p, 'type') < 0 ? typeAt(i) : undefined;
      if (name !== undefined) this.parameterTypes.set(t.start(p), name);
    });
  }

  /** The parameters of `fn` (an arrow or function expression) typed by the function type alias `typeName`, by position. */
  private addAnnotatedFunction(typeName: string, fn: number): void {
    const t = this.t;
    const ft = t.type(fn);
    if (ft !== 'arrow_function' && ft !== 'function_expression') return;
    const { single, listed } = functionParameters(t, fn);
    if (single >= 0) {
      this.out.bindings.push(bindingRecord(t.start(single), this.text_(single), false, undefined, undefined, undefined, { callee: typeName, arg: -1, param: 0 }, undefined, undefined));
      return;
    }
    listed.forEach((p, param) => this.out.callbackParams.push({ start: t.start(p), site: { callee: typeName, arg: -1, param } }));
  }

  private addCallback(callee: number, callback: number): void {
    const t = this.t;
    const path = referencePath(this.text, t, callee, this.plain);
    if (path.startsWith('?')) return;
    const callbackStart = t.start(callback);
    const args = t.namedChildren(t.parent(callback)).filter((n) => t.type(n) !== 'comment');
    const arg = args.findIndex((n) => t.start(n) === callbackStart);
    const { single, listed } = functionParameters(t, callback);
    if (single >= 0) {
      this.out.bindings.push(bindingRecord(t.start(single), this.text_(single), false, undefined, undefined, undefined, { callee: path, arg, param: 0 }, undefined, undefined));
      return;
    }
    listed.forEach((p, param) => this.out.callbackParams.push({ start: t.start(p), site: { callee: path, arg, param } }));
  }

  private addImport(statement: number): void {
    const t = this.t;
    const source = this.text_(this.cap(C.source));
    this.bindingImports.add(t.start(statement));
    const def = this.cap(C.default);
    if (def >= 0) return void this.out.imports.push(importRecord(this.text, t, statement, source, 'default', this.text_(def), false));
    const ns = this.cap(C.namespace);
    if (ns >= 0) return void this.out.imports.push(importRecord(this.text, t, statement, source, '*', this.text_(ns), false));
    const spec = this.cap(C.specifier);
    const imported = unquote(this.text_(this.cap(C.imported)));
    const alias = this.cap(C.alias);
    const typeOnlySpecifier = this.text.startsWith('type ', t.start(spec));
    this.out.imports.push(importRecord(this.text, t, statement, source, imported, alias >= 0 ? this.text_(alias) : imported, typeOnlySpecifier));
  }

  private addExport(name: string, statement: number): void {
    const t = this.t;
    const start = t.start(statement);
    const typeOnly = this.text.startsWith('export type', start);
    const sourceNode = this.cap(C.source);
    const source = sourceNode >= 0 ? this.text_(sourceNode) : undefined;
    const push = (e: ExportFact): void => void this.out.exports.push({ ...e, start });
    if (name === 'export.star') return push({ exported: '*', specifier: source!, imported: '*', typeOnly });
    if (name === 'export.namespace') return push({ exported: unquote(this.text_(this.cap(C.alias))), specifier: source!, imported: '*', typeOnly });
    if (name === 'export.default') return push({ exported: 'default', local: this.text_(this.cap(C.name)), typeOnly });
    const nameNode = this.cap(C.name);
    const local = unquote(this.text_(nameNode));
    const alias = this.cap(C.alias);
    const exported = alias >= 0 ? unquote(this.text_(alias)) : local;
    // `export { type A }`: type-only per specifier, as imports already are.
    const spec = t.parent(nameNode);
    const typeOnlySpecifier = typeOnly || (spec >= 0 && t.type(spec) === 'export_specifier' && this.text.startsWith('type ', t.start(spec)));
    push(source === undefined ? { exported, local, typeOnly: typeOnlySpecifier } : { exported, specifier: source, imported: local, typeOnly: typeOnlySpecifier });
  }

  private addDeclaration(mainName: string, node: number): void {
    const t = this.t;
    const text = this.text;
    const nodeType = t.type(node);
    const opaque = mainName === 'scope.opaque';
    // tree-sitter-typescript parses a non-exported `namespace N {}` statement as an
    // expression_statement holding the internal_module; that statement is not opaque code but
    // the namespace declaration itself (otherwise N and all its members would vanish).
    if (opaque && nodeType === 'expression_statement') {
      const inner = t.firstNamedChild(node);
      if (inner >= 0 && t.type(inner) === 'internal_module') return;
    }
    // Likewise `export default class {}` is a `class` node, matched both as the default class
    // (@definition.class) and as a class expression (@scope.opaque), which hid its members.
    if (opaque && nodeType === 'class') {
      const parent = t.parent(node);
      if (parent >= 0 && t.type(parent) === 'export_statement') return;
    }
    let kind = opaque ? 'opaque' : (mainName.slice('definition.'.length) as DeclarationRecord['kind']);
    const [endRow, endColumn] = t.endPosition(node);
    const record: DeclarationRecord = {
      kind,
      start: t.start(node),
      end: t.end(node),
      name: '',
      line: t.row(node) + 1,
      column: t.column(node) + 1,
      endLine: endRow + 1,
      endColumn: endColumn + 1,
      declaredExport: false,
      isDefault: false,
      signature: '',
      sigStart: 0,
      sigEnd: 0,
      // Every field in the literal, set or not: added when set, they gave the records of one
      // file as many maps as it had combinations of them, and a file's first edit deoptimized
      // the entities' assembly for the combinations the code had not met yet.
      sigJoin: undefined,
      doc: undefined,
      paramTypes: undefined,
      returnType: undefined,
      typeName: undefined,
      newOf: undefined,
      callOf: undefined,
      literal: undefined,
    };
    if (kind === 'opaque') return void this.out.declarations.push(record);
    const nameNode = this.cap(C.name);
    record.name = nameNode >= 0 ? memberName(text, t, nameNode, this.plain) : 'default';
    let body = this.cap(C.body);
    let params = this.cap(C.params);
    let returnType = this.cap(C.return);
    let value = this.cap(C.value);
    const type = this.cap(C.type);
    const vt = value >= 0 ? t.type(value) : undefined;
    if (kind === 'variable' && (vt === 'arrow_function' || vt === 'function_expression')) {
      // `const f = () => {}` is a function: its signature stops at the body, its parameters type callbacks.
      kind = record.kind = 'function';
      body = t.childForField(value, 'body');
      params = t.childForField(value, 'parameters');
      returnType = t.childForField(value, 'return_type');
      value = -1;
    }
    // Constructor overload signatures (`constructor(x: string);`) are method_signature nodes in a
    // class body: they are the constructor too, or the merged entity would be a `method`.
    // (In an interface, `constructor(): void` is an ordinary method.)
    if (kind === 'method' && record.name === 'constructor') {
      const parent = t.parent(node);
      if (parent >= 0 && t.type(parent) === 'class_body') record.kind = 'constructor';
    }
    // The declaration a declarator is part of (lexical_declaration / variable_declaration): a
    // parent costs a walk down from the root in tree-sitter 0.21, so it is asked for once.
    const declaration = nodeType === 'variable_declarator' ? t.parent(node) : -1;
    const statement = outerStatement(t, declaration >= 0 ? declaration : node);
    const statementStart = t.start(statement);
    record.declaredExport = t.type(statement) === 'export_statement';
    record.isDefault = record.declaredExport && text.startsWith('export default', statementStart);
    record.sigStart = statementStart;
    record.sigEnd = record.end;
    if (body >= 0) record.sigEnd = t.start(body);
    else if (value >= 0 && type >= 0) record.sigEnd = t.end(type);
    // `export let a = 1, b: T = f()`: b's signature is `export let b: T`, not the statement up to
    // b (which would include a, and change b's signature hash whenever a changes).
    if (declaration >= 0) {
      const first = t.namedChildren(declaration).find((c) => t.type(c) === 'variable_declarator');
      if (first !== undefined && t.start(first) < record.start) record.sigJoin = t.start(first);
    }
    record.signature = signatureOf(text, record);
    const doc = leadingDoc(text, statementStart);
    if (doc) record.doc = doc;
    // Else, for `const withFiber: <A>(f: (fiber: Fiber) => A) => ... = ...` (effect declares most
    // of its API so), the declared function type's parameters: they type the callbacks passed to
    // it, as a function declaration's do.
    const declared = type >= 0 ? declaredFunctionType(t, type) : -1;
    record.paramTypes = parameterTypes(text, t, params) ?? (declared >= 0 ? parameterTypes(text, t, t.childForField(declared, 'parameters')) : undefined);
    if (returnType >= 0) {
      const r = valueTypeInfo(text, t, returnType, -1, this.plain).typeName;
      if (r) record.returnType = r;
    } else {
      // `type P = A | B`: P's members are those of the type it names (of a union, the first's).
      const info = kind === 'type' ? valueTypeInfo(text, t, value, -1, this.plain) : valueTypeInfo(text, t, type, value, this.plain);
      record.typeName = info.typeName;
      record.newOf = info.newOf;
      record.callOf = info.callOf;
      if (kind === 'variable' && type < 0 && value >= 0) record.literal = objectLiteral(text, t, value, this.plain);
      // `const f: (a: A) => R`, `readonly load: (path: Path) => Effect<...>`: what calling it returns.
      // (A function here is `const f: F = () => ...`: its arrow declares no return type.)
      if ((kind === 'variable' || kind === 'property' || kind === 'function') && type >= 0) record.returnType = declaredCallReturn(text, t, type);
      // `interface NullOrLambda { <S>(self: S): NullOr<S> }`, `type F = (a: A) => R`: what calling a
      // value of this type returns (effect's `const NullOr: NullOrLambda = ...`).
      else if (kind === 'interface' && body >= 0) record.returnType = callReturnOf(text, t, body);
      else if (kind === 'type' && value >= 0) record.returnType = callReturnOf(text, t, value);
    }
    this.out.declarations.push(record);
  }
}

/**
 * A binding record with every field, set or not: one map for all of them (added when set, the
 * fields gave the records as many maps as combinations, and the first edit of a file meeting a
 * new one deoptimized the rows' assembly).
 */
function bindingRecord(
  start: number,
  name: string,
  typed: boolean,
  typeName: string | undefined,
  newOf: string | undefined,
  callOf: string | undefined,
  callback: CallbackSite | undefined,
  memberPath: string | undefined,
  literal: ObjectLiteral | undefined,
): BindingRecord {
  return { start, name, typed, typeName, newOf, callOf, callback, memberPath, literal };
}

/** The statement a declaration (a declarator's: its `const`) is written in: itself, or its `export` or `declare` wrapper. */
function outerStatement(t: NodeTable, node: number): number {
  let n = node;
  for (let p = t.parent(n); p >= 0; p = t.parent(p)) {
    const type = t.type(p);
    if (type !== 'export_statement' && type !== 'ambient_declaration') break;
    n = p;
  }
  return n;
}

/** `/** ... *\/` immediately before `start`, separated only by whitespace. */
function leadingDoc(text: string, start: number): string | undefined {
  let i = start - 1;
  while (i >= 0 && text.charCodeAt(i) <= 32) i--;
  if (i < 1 || text[i] !== '/' || text[i - 1] !== '*') return undefined;
  const open = text.lastIndexOf('/*', i - 2);
  if (open < 0 || text[open + 2] !== '*') return undefined;
  return text.slice(open, i + 1);
}

/** Nodes that are one identifier token. */
const IDENTIFIER_NODES: ReadonlySet<string> = new Set(['identifier', 'property_identifier', 'type_identifier', 'shorthand_property_identifier']);

/**
 * Where node `h` ends. An identifier token ends at the first character that cannot continue it,
 * so when that character is plain ASCII the end is read off the text, without a native call
 * (extraction asks for a few hundred thousand ends on a large corpus). Only in a tree without
 * errors (`plain`), which has no zero-width missing identifiers, and never past a backslash
 * (escapes) or a non-ASCII character: those ask tree-sitter. The parser's input differs from the
 * text only in grammar-gaps.ts's rewrites, which never touch characters next to an identifier.
 */
function endOf(text: string, t: NodeTable, h: number, plain: boolean): number {
  if (plain && IDENTIFIER_NODES.has(t.type(h))) {
    let i = t.start(h);
    let c = text.charCodeAt(i);
    while ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36) c = text.charCodeAt(++i);
    if (i === text.length || (c < 128 && c !== 92)) return i;
  }
  return t.end(h);
}

const DOTTED = /^[A-Za-z_$#][\w$#]*(?:\.[A-Za-z_$#][\w$#]*)*$/;
/** A character that cleaning (whitespace, `!`, the `?` of `?.`) leaves and no dotted path has. */
const NOT_IN_PATH = /[^\w$#.\s!?]/;

/**
 * The dotted path a reference names (`this.a.m`, `ns.f`), or with `chains` a member of what a
 * call returns (`callChainPath`). A receiver that is neither becomes `?`, keeping the last member
 * name for name-matching.
 */
function referencePath(text: string, t: NodeTable, node: number, plain: boolean, chains = true): string {
  const raw = text.slice(t.start(node), endOf(text, t, node, plain));
  if (DOTTED.test(raw)) return raw;
  if (NOT_IN_PATH.test(raw)) {
    const chain = chains ? callChainPath(text, t, node, plain, 0) : undefined;
    if (chain !== undefined) return chain;
    // Not a chain of names however cleaned (a call, an index, a literal: often long, a whole
    // `pipe(...)` chain): only the name after its last dot counts, so only that is cleaned. Its
    // whitespace and `!` go; a `?.` holds no dot of its own.
    const dot = raw.lastIndexOf('.');
    if (dot < 0) return '?';
    const tail = raw.slice(dot + 1);
    if (NOT_IN_PATH.test(tail)) return '?';
    const last = tail.replace(/[\s!]+/g, '');
    return DOTTED.test(last) ? `?.${last}` : '?';
  }
  const cleaned = raw.replace(/\s+/g, '').replace(/\?\./g, '.').replace(/!/g, '');
  if (DOTTED.test(cleaned)) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const last = cleaned.slice(dot + 1);
  return dot >= 0 && DOTTED.test(last) ? `?.${last}` : '?';
}

/**
 * The named return type of a variable declared with a callable type: `(a: A) => R`, or of
 * `{ <A>(a: A): R; ... }` the first signature returning a named type (effect's dual APIs declare
 * the data-last form, which returns a function, first). A type parameter of the signature is no
 * name here. `annotation`: the variable's type_annotation.
 */
function declaredCallReturn(text: string, t: NodeTable, annotation: number): string | undefined {
  const type = t.firstNamedChild(annotation);
  return type >= 0 ? callReturnOf(text, t, type) : undefined;
}

/** The named type a function type, or the first call signature of an object type or interface body, returns. */
function callReturnOf(text: string, t: NodeTable, type: number): string | undefined {
  const tt = t.type(type);
  const signatures = tt === 'function_type' ? [type] : tt === 'object_type' || tt === 'interface_body' ? t.namedChildren(type).filter((m) => t.type(m) === 'call_signature') : [];
  for (const signature of signatures) {
    const r = t.childForField(signature, 'return_type');
    if (r < 0) continue;
    const name = typeNameIn(text, t.start(r), t.end(r), true);
    if (name === undefined) continue;
    if (typeParameterNames(text, t, signature).has(name.split('.')[0]!)) continue;
    return name;
  }
  return undefined;
}

/** The function type a type annotation writes (`: (a: A) => R`), -1 for any other type. */
function declaredFunctionType(t: NodeTable, annotation: number): number {
  const type = t.firstNamedChild(annotation);
  return type >= 0 && t.type(type) === 'function_type' ? type : -1;
}

/** The names of the type parameters a signature or function type declares (`<A, B extends C>`). */
function typeParameterNames(text: string, t: NodeTable, signature: number): Set<string> {
  const names = new Set<string>();
  const params = t.childForField(signature, 'type_parameters');
  if (params < 0) return names;
  for (const p of t.namedChildren(params)) {
    const name = t.type(p) === 'type_parameter' ? t.childForField(p, 'name') : -1;
    if (name >= 0) names.add(text.slice(t.start(name), t.end(name)));
  }
  return names;
}

/**
 * The parameters of an arrow or function expression, by position: `x => ...`'s lone one
 * (`single`, which has no parameter node of its own, so the caller binds it), else those of its
 * list, comments left out (`listed`).
 */
function functionParameters(t: NodeTable, fn: number): { single: number; listed: number[] } {
  const single = t.childForField(fn, 'parameter');
  if (single >= 0) return { single, listed: [] };
  const list = t.childForField(fn, 'parameters');
  return { single: -1, listed: list >= 0 ? t.namedChildren(list).filter((n) => t.type(n) !== 'comment') : [] };
}

/** Calls a chain may hold before its member: `a().b().c().d` has three. */
const MAX_CHAIN_CALLS = 4;

/**
 * A member of what a call returns (`innerFrom(x).subscribe`, `ns.f().g().h`) as a path with `()`
 * after each callee (`innerFrom().subscribe`): symbols.ts follows the callee's declared return
 * type. Undefined for any other receiver (an index, a call of a call, a callee that is no path).
 */
function callChainPath(text: string, t: NodeTable, node: number, plain: boolean, calls: number): string | undefined {
  if (calls >= MAX_CHAIN_CALLS || t.type(node) !== 'member_expression') return undefined;
  const property = t.childForField(node, 'property');
  let object = t.childForField(node, 'object');
  if (property < 0 || t.type(property) !== 'property_identifier' || object < 0) return undefined;
  // `f()!.m`: the same receiver
  if (t.type(object) === 'non_null_expression') object = t.firstNamedChild(object);
  if (object < 0 || t.type(object) !== 'call_expression') return undefined;
  const callee = t.childForField(object, 'function');
  const args = t.childForField(object, 'arguments');
  // A tagged template (`sql\`...\`.m`) has a template string for arguments: no declared call.
  if (callee < 0 || args < 0 || t.type(args) !== 'arguments') return undefined;
  const ct = t.type(callee);
  let inner: string | undefined;
  if (ct === 'identifier') inner = text.slice(t.start(callee), t.end(callee));
  else if (ct === 'member_expression') {
    inner = callChainPath(text, t, callee, plain, calls + 1);
    if (inner === undefined) {
      // (not a chain again: a long one would be walked once per call in it)
      const p = referencePath(text, t, callee, plain, false);
      if (!p.startsWith('?')) inner = p;
    }
  }
  return inner === undefined ? undefined : `${inner}().${text.slice(t.start(property), t.end(property))}`;
}

/** Declared type (`: Foo<T>` -> `Foo`), `new C()` or `make()` initializers, as dotted names. */
function valueTypeInfo(text: string, t: NodeTable, type: number, value: number, plain: boolean): { typeName?: string; newOf?: string; callOf?: string } {
  // Every field in the literal: one map, whichever are found (its readers then meet one).
  const out: { typeName?: string; newOf?: string; callOf?: string } = { typeName: undefined, newOf: undefined, callOf: undefined };
  if (type >= 0) {
    // `: Foo<T>`, `: ns.Foo`, `: Foo | undefined` name a type; anything else is not followed.
    const name = typeNameIn(text, t.start(type), t.end(type), true);
    if (name) out.typeName = name;
  }
  // `f()!` and `(f())` hold what f() returns
  while (value >= 0 && (t.type(value) === 'non_null_expression' || t.type(value) === 'parenthesized_expression')) value = t.firstNamedChild(value);
  if (value >= 0) {
    const vt = t.type(value);
    if (vt === 'new_expression' || vt === 'call_expression') {
      const callee = t.firstNamedChild(value);
      const ct = callee >= 0 ? t.type(callee) : '';
      if (ct === 'identifier' || ct === 'member_expression') {
        const path = referencePath(text, t, callee, plain);
        if (!path.startsWith('?')) {
          if (vt === 'new_expression') out.newOf = path;
          else out.callOf = path;
        }
      }
    }
  }
  return out;
}

/**
 * What an object literal's members hold when they are names (`ObjectLiteral`), through `as` and
 * `satisfies`; undefined when it is no object literal or none of its members is a name.
 */
function objectLiteral(text: string, t: NodeTable, value: number, plain: boolean): ObjectLiteral | undefined {
  let v = value;
  for (let vt = t.type(v); vt === 'as_expression' || vt === 'satisfies_expression' || vt === 'parenthesized_expression'; vt = t.type(v)) {
    v = t.firstNamedChild(v);
    if (v < 0) return undefined;
  }
  if (t.type(v) !== 'object') return undefined;
  const entries: string[] = [];
  let named = false;
  const path = (node: number): string => {
    const nt = node < 0 ? '' : t.type(node);
    if (nt !== 'identifier' && nt !== 'member_expression') return '?';
    const p = referencePath(text, t, node, plain);
    if (p.startsWith('?')) return '?';
    named = true;
    return p;
  };
  const keyOf = (node: number): string | undefined => (node >= 0 && t.type(node) === 'property_identifier' ? text.slice(t.start(node), t.end(node)) : undefined);
  for (const member of t.namedChildren(v)) {
    const mt = t.type(member);
    if (mt === 'spread_element') entries.push(`...${path(t.firstNamedChild(member))}`);
    else if (mt === 'shorthand_property_identifier') {
      const name = text.slice(t.start(member), t.end(member));
      entries.push(`${name}=${name}`);
      named = true;
    }
    else if (mt === 'pair' || mt === 'method_definition') {
      // A member whose value is no name still hides what an earlier spread gave that key; one
      // whose key is not a plain name (computed, a string) may hide any.
      const key = keyOf(t.childForField(member, mt === 'pair' ? 'key' : 'name'));
      entries.push(key === undefined ? '...?' : `${key}=${mt === 'pair' ? path(t.childForField(member, 'value')) : '?'}`);
    }
  }
  return named ? entries.join(',') : undefined;
}

/**
 * Declared type text of each parameter (`this` parameters excluded, as callers never pass them);
 * undefined when there is no list (`params` -1) or no parameter in it has a type.
 */
function parameterTypes(text: string, t: NodeTable, params: number): (string | null)[] | undefined {
  if (params < 0) return undefined;
  const out: (string | null)[] = [];
  for (const p of t.namedChildren(params)) {
    const pt = t.type(p);
    if (pt !== 'required_parameter' && pt !== 'optional_parameter') continue;
    const pattern = t.childForField(p, 'pattern');
    if (pattern >= 0 && t.type(pattern) === 'this') continue;
    const type = t.childForField(p, 'type');
    if (type < 0) {
      out.push(null);
      continue;
    }
    const start = t.start(type);
    out.push(text.slice(start + 1, Math.min(t.end(type), start + MAX_PARAM_TYPE)).trim());
  }
  return out.some((x) => x !== null) ? out : undefined;
}

function importRecord(text: string, t: NodeTable, statement: number, specifier: string, imported: string, local: string, typeOnlySpecifier: boolean): ImportFact & { start: number } {
  const start = t.start(statement);
  return {
    specifier,
    imported,
    local,
    typeOnly: typeOnlySpecifier || /^import\s+type\s/.test(text.slice(start, start + 20)),
    dynamic: false,
    line: t.row(statement) + 1,
    start,
  };
}

function memberName(text: string, t: NodeTable, node: number, plain: boolean): string {
  const type = t.type(node);
  const s = text.slice(t.start(node), endOf(text, t, node, plain));
  if (type === 'string') return unquote(s);
  // Computed names are not stable identities (SCHEMA.md): '' keeps them out of the graph.
  if (type === 'computed_property_name') return '';
  return s;
}

function unquote(s: string): string {
  const q = s[0];
  return (q === '"' || q === "'" || q === '`') && s.endsWith(q) ? s.slice(1, -1) : s;
}
