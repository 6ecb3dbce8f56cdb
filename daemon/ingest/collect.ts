// Collection: the matches of the extraction query over (part of) a tree -> plain records with
// absolute offsets, holding no tree nodes. Records of untouched statements survive an edit
// (shifted), so a re-extraction only queries the statements that changed (see extract.ts).
import type { EntityKind } from '../model.ts';
import type { CallbackSite, EntityFact, ExportFact, ImportFact, RefKind } from './facts.ts';
import type { QueryMatch, SyntaxNode } from './parser.ts';
import { typeNameOf } from './type-text.ts';
import { scanTypeReferences, splitTypeParameters } from './type-refs.ts';

const MAX_SIGNATURE = 600;
const MAX_PARAM_TYPE = 400;

/**
 * A declaration found by the query, before deciding whether it is an entity (assemble.ts): what
 * an EntityFact says of itself, plus where it sits.
 */
export interface DeclarationRecord
  extends Pick<EntityFact, 'line' | 'column' | 'endLine' | 'endColumn' | 'signature' | 'doc' | 'typeName' | 'returnType' | 'newOf' | 'callOf' | 'paramTypes'> {
  kind: EntityKind | 'parameter-property' | 'opaque';
  start: number;
  end: number;
  /** The declared name (qualified by assembly). */
  name: string;
  /** Written inside `export` (`export default` too), so exported under its name. */
  declaredExport: boolean;
  isDefault: boolean;
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

/** Fold query matches (document order) into `Collected`. */
export function collect(text: string, matches: QueryMatch[]): Collected {
  const c = new Collector(text);
  for (const m of matches) c.add(m);
  return c.finish();
}

class Collector {
  private readonly out = emptyCollected();
  /** End of the last type read, so annotations nested in it are not read twice. */
  private typesEnd = -1;
  /** Import statements (by start offset) that bound at least one name. */
  private readonly bindingImports = new Set<number>();
  private readonly moduleImports: (ImportFact & { start: number })[] = [];
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  add(m: QueryMatch): void {
    const main = mainCapture(m);
    const name = main.name;
    const node = main.node;
    if (name.startsWith('definition.') || name === 'scope.opaque') return this.addDeclaration(m, main);
    switch (name) {
      case 'reference.call':
      case 'reference.new':
      case 'reference.extends':
      case 'reference.implements': {
        const kind = name.slice('reference.'.length) as RefKind;
        this.out.refs.push({ kind, start: node.startIndex, line: node.startPosition.row + 1, path: referencePath(this.text, capture(m, 'target')!) });
        return;
      }
      case 'reference.types':
        return this.addTypeReferences(node);
      case 'reference.type-parameters':
        return this.addTypeParameters(node);
      case 'reference.callback':
        return this.addCallback(capture(m, 'callee')!, capture(m, 'callback')!);
      case 'error.syntax': {
        const p = node.startPosition;
        this.out.errors.push({ start: node.startIndex, line: p.row + 1, column: p.column + 1, snippet: this.text.slice(node.startIndex, Math.min(node.endIndex, node.startIndex + 40)).replace(/\s+/g, ' ') });
        return;
      }
      case 'binding.local': {
        const type = capture(m, 'binding-type');
        this.out.bindings.push({ start: node.startIndex, name: capture(m, 'binding-name')!.text, typed: type !== undefined, ...valueTypeInfo(this.text, type, capture(m, 'binding-value')) });
        return;
      }
      case 'import.bound':
        return this.addImport(m, node);
      case 'import.module':
        this.moduleImports.push(importRecord(this.text, node, capture(m, 'source')!.text, '', '', false));
        return;
      case 'import.dynamic':
        this.out.imports.push({ ...importRecord(this.text, node, capture(m, 'source')!.text, '', '', false), dynamic: true, typeOnly: false });
        return;
      default:
        if (name.startsWith('export.')) this.addExport(name, m, node);
    }
  }

  finish(): Collected {
    // Side-effect-only imports: statements matched by the generic pattern that bound no name.
    for (const i of this.moduleImports) if (!this.bindingImports.has(i.start)) this.out.imports.push(i);
    this.out.imports.sort((a, b) => a.start - b.start);
    return this.out;
  }

  private addTypeReferences(node: SyntaxNode): void {
    const start = node.startIndex;
    if (start < this.typesEnd) return;
    this.typesEnd = node.endIndex;
    const line = node.startPosition.row + 1;
    scanTypeReferences(
      this.text.slice(start, node.endIndex),
      (path, offset) => this.out.refs.push({ kind: 'type', start: start + offset, line, path }),
      (name) => this.out.typeParameters.push({ start, name }),
    );
  }

  private addTypeParameters(node: SyntaxNode): void {
    const start = node.startIndex;
    const nested = start < this.typesEnd; // inside a type already read: names only
    if (!nested) this.typesEnd = node.endIndex;
    const line = node.startPosition.row + 1;
    for (const p of splitTypeParameters(this.text.slice(start, node.endIndex))) {
      this.out.typeParameters.push({ start, name: p.name });
      if (nested || p.rest === undefined) continue;
      const base = start + p.restOffset;
      scanTypeReferences(
        p.rest,
        (path, offset) => this.out.refs.push({ kind: 'type', start: base + offset, line, path }),
        (name) => this.out.typeParameters.push({ start, name }),
      );
    }
  }

  private addCallback(callee: SyntaxNode, callback: SyntaxNode): void {
    const path = referencePath(this.text, callee);
    if (path.startsWith('?')) return;
    const arg = callback.parent!.namedChildren.filter((n) => n.type !== 'comment').findIndex((n) => n.startIndex === callback.startIndex);
    const single = callback.childForFieldName('parameter');
    if (single) {
      // `x => ...` has no parameter node of its own: bind it here.
      this.out.bindings.push({ start: single.startIndex, name: single.text, typed: false, callback: { callee: path, arg, param: 0 } });
      return;
    }
    const params = callback.childForFieldName('parameters')?.namedChildren ?? [];
    params.forEach((p, param) => this.out.callbackParams.push({ start: p.startIndex, site: { callee: path, arg, param } }));
  }

  private addImport(m: QueryMatch, statement: SyntaxNode): void {
    const source = capture(m, 'source')!.text;
    this.bindingImports.add(statement.startIndex);
    const def = capture(m, 'default');
    if (def) return void this.out.imports.push(importRecord(this.text, statement, source, 'default', def.text, false));
    const ns = capture(m, 'namespace');
    if (ns) return void this.out.imports.push(importRecord(this.text, statement, source, '*', ns.text, false));
    const spec = capture(m, 'specifier')!;
    const imported = unquote(capture(m, 'imported')!.text);
    const alias = capture(m, 'alias');
    const typeOnlySpecifier = this.text.startsWith('type ', spec.startIndex);
    this.out.imports.push(importRecord(this.text, statement, source, imported, alias ? alias.text : imported, typeOnlySpecifier));
  }

  private addExport(name: string, m: QueryMatch, statement: SyntaxNode): void {
    const start = statement.startIndex;
    const typeOnly = this.text.startsWith('export type', start);
    const source = capture(m, 'source')?.text;
    const push = (e: ExportFact): void => void this.out.exports.push({ ...e, start });
    if (name === 'export.star') return push({ exported: '*', specifier: source!, imported: '*', typeOnly });
    if (name === 'export.namespace') return push({ exported: unquote(capture(m, 'alias')!.text), specifier: source!, imported: '*', typeOnly });
    if (name === 'export.default') return push({ exported: 'default', local: capture(m, 'name')!.text, typeOnly });
    const nameNode = capture(m, 'name')!;
    const local = unquote(nameNode.text);
    const alias = capture(m, 'alias');
    const exported = alias ? unquote(alias.text) : local;
    // `export { type A }`: type-only per specifier, as imports already are.
    const spec = nameNode.parent;
    const typeOnlySpecifier = typeOnly || (spec?.type === 'export_specifier' && this.text.startsWith('type ', spec.startIndex));
    push(source === undefined ? { exported, local, typeOnly: typeOnlySpecifier } : { exported, specifier: source, imported: local, typeOnly: typeOnlySpecifier });
  }

  private addDeclaration(m: QueryMatch, main: QueryMatch['captures'][number]): void {
    const node = main.node;
    // tree-sitter-typescript parses a non-exported `namespace N {}` statement as an
    // expression_statement holding the internal_module; that statement is not opaque code but
    // the namespace declaration itself (otherwise N and all its members would vanish).
    if (main.name === 'scope.opaque' && node.type === 'expression_statement' && node.firstNamedChild?.type === 'internal_module') return;
    // Likewise `export default class {}` is a `class` node, matched both as the default class
    // (@definition.class) and as a class expression (@scope.opaque), which hid its members.
    if (main.name === 'scope.opaque' && node.type === 'class' && node.parent?.type === 'export_statement') return;
    let kind = main.name === 'scope.opaque' ? 'opaque' : (main.name.slice('definition.'.length) as DeclarationRecord['kind']);
    const sp = node.startPosition;
    const ep = node.endPosition;
    const record: DeclarationRecord = {
      kind,
      start: node.startIndex,
      end: node.endIndex,
      name: '',
      line: sp.row + 1,
      column: sp.column + 1,
      endLine: ep.row + 1,
      endColumn: ep.column + 1,
      declaredExport: false,
      isDefault: false,
      signature: '',
    };
    if (kind === 'opaque') return void this.out.declarations.push(record);
    const nameNode = capture(m, 'name');
    record.name = nameNode ? memberName(nameNode) : 'default';
    let body = capture(m, 'body');
    let params = capture(m, 'params');
    let returnType = capture(m, 'return');
    let value = capture(m, 'value');
    const type = capture(m, 'type');
    const vt = value?.type;
    if (kind === 'variable' && (vt === 'arrow_function' || vt === 'function_expression')) {
      // `const f = () => {}` is a function: its signature stops at the body, its parameters type callbacks.
      kind = record.kind = 'function';
      body = value!.childForFieldName('body') ?? undefined;
      params = value!.childForFieldName('parameters') ?? undefined;
      returnType = value!.childForFieldName('return_type') ?? undefined;
      value = undefined;
    }
    // Constructor overload signatures (`constructor(x: string);`) are method_signature nodes in a
    // class body: they are the constructor too, or the merged entity would be a `method`.
    // (In an interface, `constructor(): void` is an ordinary method.)
    if (kind === 'method' && record.name === 'constructor' && node.parent?.type === 'class_body') record.kind = 'constructor';
    const statement = outerStatement(node);
    record.declaredExport = statement.type === 'export_statement';
    record.isDefault = record.declaredExport && this.text.startsWith('export default', statement.startIndex);
    let sigEnd = record.end;
    if (body) sigEnd = body.startIndex;
    else if (value && type) sigEnd = type.endIndex;
    let sig = this.text.slice(statement.startIndex, sigEnd).trim();
    // `export let a = 1, b: T = f()`: b's signature is `export let b: T`, not the statement up to
    // b (which would include a, and change b's signature hash whenever a changes).
    const first = node.type === 'variable_declarator' ? node.parent?.namedChildren.find((c) => c.type === 'variable_declarator') : undefined;
    if (first && first.startIndex < node.startIndex) sig = (this.text.slice(statement.startIndex, first.startIndex) + this.text.slice(node.startIndex, sigEnd)).trim();
    record.signature = sig.length > MAX_SIGNATURE ? sig.slice(0, MAX_SIGNATURE) + '…' : sig;
    const doc = leadingDoc(this.text, statement.startIndex);
    if (doc) record.doc = doc;
    if (params) {
      const types = parameterTypes(this.text, params);
      if (types.some((t) => t !== null)) record.paramTypes = types;
    }
    if (returnType) {
      const r = valueTypeInfo(this.text, returnType, undefined).typeName;
      if (r) record.returnType = r;
    } else Object.assign(record, valueTypeInfo(this.text, type, value));
    this.out.declarations.push(record);
  }
}

/** The statement a declaration is written in: its `export`, `declare` or `const` wrapper. */
function outerStatement(node: SyntaxNode): SyntaxNode {
  let n = node;
  if (n.type === 'variable_declarator') n = n.parent ?? n; // lexical_declaration / variable_declaration
  for (let p = n.parent; p && (p.type === 'export_statement' || p.type === 'ambient_declaration'); p = p.parent) n = p;
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

const DOTTED = /^[A-Za-z_$#][\w$#]*(?:\.[A-Za-z_$#][\w$#]*)*$/;

/**
 * The dotted path a reference names (`this.a.m`, `ns.f`). A receiver that is not a chain of plain
 * names becomes `?`, keeping the last member name for name-matching.
 */
function referencePath(text: string, node: SyntaxNode): string {
  const raw = text.slice(node.startIndex, node.endIndex);
  if (DOTTED.test(raw)) return raw;
  const cleaned = raw.replace(/\s+/g, '').replace(/\?\./g, '.').replace(/!/g, '');
  if (DOTTED.test(cleaned)) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const last = cleaned.slice(dot + 1);
  return dot >= 0 && DOTTED.test(last) ? `?.${last}` : '?';
}

/** Declared type (`: Foo<T>` -> `Foo`), `new C()` or `make()` initializers, as dotted names. */
function valueTypeInfo(text: string, type: SyntaxNode | undefined, value: SyntaxNode | undefined): { typeName?: string; newOf?: string; callOf?: string } {
  const out: { typeName?: string; newOf?: string; callOf?: string } = {};
  if (type) {
    // `: Foo<T>`, `: ns.Foo`, `: Foo | undefined` name a type; anything else is not followed.
    const name = typeNameOf(text.slice(type.startIndex, type.endIndex).replace(/^\s*:/, ''));
    if (name) out.typeName = name;
  }
  if (value) {
    const vt = value.type;
    if (vt === 'new_expression' || vt === 'call_expression') {
      const callee = value.firstNamedChild;
      if (callee && (callee.type === 'identifier' || callee.type === 'member_expression')) {
        const path = referencePath(text, callee);
        if (!path.startsWith('?')) {
          if (vt === 'new_expression') out.newOf = path;
          else out.callOf = path;
        }
      }
    }
  }
  return out;
}

/** Declared type text of each parameter (`this` parameters excluded, as callers never pass them). */
function parameterTypes(text: string, params: SyntaxNode): (string | null)[] {
  const out: (string | null)[] = [];
  for (const p of params.namedChildren) {
    if (p.type !== 'required_parameter' && p.type !== 'optional_parameter') continue;
    const pattern = p.childForFieldName('pattern');
    if (pattern?.type === 'this') continue;
    const t = p.childForFieldName('type');
    out.push(t ? text.slice(t.startIndex + 1, Math.min(t.endIndex, t.startIndex + MAX_PARAM_TYPE)).trim() : null);
  }
  return out;
}

function importRecord(text: string, statement: SyntaxNode, specifier: string, imported: string, local: string, typeOnlySpecifier: boolean): ImportFact & { start: number } {
  const start = statement.startIndex;
  return {
    specifier,
    imported,
    local,
    typeOnly: typeOnlySpecifier || /^import\s+type\s/.test(text.slice(start, start + 20)),
    dynamic: false,
    line: statement.startPosition.row + 1,
    start,
  };
}

/** The capture naming what a match is: by convention the only one with a dot in its name. */
function mainCapture(m: QueryMatch): QueryMatch['captures'][number] {
  for (const c of m.captures) if (c.name.includes('.')) return c;
  throw new Error(`query pattern ${m.pattern} has no main capture`);
}

function capture(m: QueryMatch, name: string): SyntaxNode | undefined {
  for (const c of m.captures) if (c.name === name) return c.node;
  return undefined;
}

function memberName(node: SyntaxNode): string {
  const t = node.type;
  if (t === 'string') return unquote(node.text);
  // Computed names are not stable identities (SCHEMA.md): '' keeps them out of the graph.
  if (t === 'computed_property_name') return '';
  return node.text;
}

function unquote(s: string): string {
  const q = s[0];
  return (q === '"' || q === "'" || q === '`') && s.endsWith(q) ? s.slice(1, -1) : s;
}
