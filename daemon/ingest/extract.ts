// Extraction: one file's text -> FileFacts. The syntax that matters is described by the .scm
// queries in ./queries; this module only runs them and folds their matches (in document
// order) into entities, references, bindings, imports and exports. It never throws on bad
// input: syntax errors become diagnostics and whatever parsed is kept.
import type { Diagnostic, EntityKind, Language } from '../model.ts';
import { contentHash } from '../util/hash.ts';
import type { BindingFact, CallbackSite, EntityFact, ExportFact, FileFacts, ImportFact, RefFact, RefKind } from './facts.ts';
import { parse, toolsFor, type QueryMatch, type SyntaxNode, type SyntaxTree } from './parser.ts';
import { scanTypeReferences, splitTypeParameters } from './type-refs.ts';

const MAX_SIGNATURE = 600;
const MAX_SYNTAX_DIAGNOSTICS = 20;

/** A declaration found by the query, before deciding whether it is an entity. */
interface Declaration {
  kind: EntityKind | 'parameter-property' | 'opaque';
  node: SyntaxNode;
  start: number;
  end: number;
  name: string;
  body?: SyntaxNode;
  type?: SyntaxNode;
  returnType?: SyntaxNode;
  value?: SyntaxNode;
  params?: SyntaxNode;
  /** Entity index when kept, -1 when not an entity (its contents are not entities either). */
  entity: number;
}

interface PendingRef {
  kind: RefKind;
  start: number;
  line: number;
  path: string;
}

interface PendingBinding {
  start: number;
  name: string;
  type?: SyntaxNode;
  value?: SyntaxNode;
  callback?: CallbackSite;
}

export function extractFile(path: string, language: Language, text: string, previous?: SyntaxTree): { facts: FileFacts; tree: SyntaxTree } {
  const tree = parse(language, text, previous);
  return { facts: extractFromTree(path, language, text, tree), tree };
}

export function extractFromTree(path: string, language: Language, text: string, tree: SyntaxTree): FileFacts {
  const { extraction } = toolsFor(language);
  const root = tree.rootNode;
  const matches = extraction.matches(root);
  const c = new Collector(text);
  for (const m of matches) c.add(m);
  c.finishImports();
  const entities = c.buildEntities();
  const containerAt = c.containerLookup();
  const typeParamsByEntity = c.typeParametersByEntity(containerAt);
  const refs: RefFact[] = [];
  for (const r of c.refs) {
    if (r.kind === 'type' && isTypeParameter(r.path, containerAt(r.start), entities, typeParamsByEntity)) continue;
    refs.push({ kind: r.kind, from: containerAt(r.start), path: r.path, line: r.line });
  }
  const bindings: BindingFact[] = c.localBindings().map((b) => {
    const fact: BindingFact = { scope: containerAt(b.start), name: b.name, ...valueTypeInfo(text, b.type, b.value) };
    const site = b.callback ?? c.callbackParams.get(b.start);
    if (site && !b.type) fact.callback = site;
    return fact;
  });
  const diagnostics: Diagnostic[] = c.syntaxErrors.map((n) => syntaxDiagnostic(path, n));
  return {
    path,
    language,
    contentHash: contentHash(text),
    bytes: text.length,
    lines: root.endPosition.row + 1,
    entities,
    refs,
    bindings,
    imports: c.imports,
    exports: c.exports,
    diagnostics,
  };
}

function isTypeParameter(name: string, container: number, entities: EntityFact[], params: Map<number, Set<string>>): boolean {
  for (let e = container; e >= 0; e = entities[e]!.parent) if (params.get(e)?.has(name)) return true;
  return params.get(-1)?.has(name) ?? false;
}

class Collector {
  readonly declarations: Declaration[] = [];
  readonly refs: PendingRef[] = [];
  readonly bindings: PendingBinding[] = [];
  readonly imports: ImportFact[] = [];
  readonly exports: ExportFact[] = [];
  readonly syntaxErrors: SyntaxNode[] = [];
  /** End of the last type read, so annotations nested in it are not read twice. */
  private typesEnd = -1;
  readonly typeParameters: { start: number; name: string }[] = [];
  /** Untyped parameters of callbacks (by start offset) and the call site that types them. */
  readonly callbackParams = new Map<number, CallbackSite>();
  /** Import statements (by start offset) that bound at least one name. */
  private readonly bindingImports = new Set<number>();
  private readonly moduleImports: ImportFact[] = [];
  private readonly moduleImportStarts: number[] = [];
  private entityFacts: EntityFact[] = [];
  /** Kept declarations sorted by start, with the interval index of the enclosing kept one. */
  private intervals: { start: number; end: number; entity: number; outer: number }[] = [];

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
        const target = capture(m, 'target')!;
        const kind = name.slice('reference.'.length) as RefKind;
        this.refs.push({ kind, start: node.startIndex, line: node.startPosition.row + 1, path: referencePath(this.text, target) });
        return;
      }
      case 'reference.types':
        return this.addTypeReferences(node);
      case 'error.syntax':
        if (this.syntaxErrors.length < MAX_SYNTAX_DIAGNOSTICS) this.syntaxErrors.push(node);
        return;
      case 'reference.callback':
        return this.addCallback(capture(m, 'callee')!, capture(m, 'callback')!);
      case 'reference.type-parameters':
        return this.addTypeParameters(node);
      case 'binding.local':
        this.bindings.push({ start: node.startIndex, name: capture(m, 'binding-name')!.text, type: capture(m, 'binding-type'), value: capture(m, 'binding-value') });
        return;
      case 'import.bound':
        return this.addImport(m, node);
      case 'import.module':
        this.moduleImports.push(importFact(node, capture(m, 'source')!.text, '', '', false));
        this.moduleImportStarts.push(node.startIndex);
        return;
      case 'import.dynamic':
        this.imports.push({ ...importFact(node, capture(m, 'source')!.text, '', '', false), dynamic: true, typeOnly: false });
        return;
      default:
        if (name.startsWith('export.')) this.addExport(name, m, node);
    }
  }

  private addTypeReferences(node: SyntaxNode): void {
    const start = node.startIndex;
    if (start < this.typesEnd) return;
    this.typesEnd = node.endIndex;
    const line = node.startPosition.row + 1;
    scanTypeReferences(
      this.text.slice(start, node.endIndex),
      (path, offset) => this.refs.push({ kind: 'type', start: start + offset, line, path }),
      (name) => this.typeParameters.push({ start, name }),
    );
  }

  private addTypeParameters(node: SyntaxNode): void {
    const start = node.startIndex;
    const text = this.text.slice(start, node.endIndex);
    const nested = start < this.typesEnd; // inside a type already read: names only
    if (!nested) this.typesEnd = node.endIndex;
    const line = node.startPosition.row + 1;
    for (const p of splitTypeParameters(text)) {
      this.typeParameters.push({ start, name: p.name });
      if (nested || p.rest === undefined) continue;
      const base = p.restOffset;
      scanTypeReferences(
        p.rest,
        (path, offset) => this.refs.push({ kind: 'type', start: start + base + offset, line, path }),
        (name) => this.typeParameters.push({ start, name }),
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
      this.bindings.push({ start: single.startIndex, name: single.text, callback: { callee: path, arg, param: 0 } });
      return;
    }
    const params = callback.childForFieldName('parameters')?.namedChildren ?? [];
    params.forEach((p, param) => this.callbackParams.set(p.startIndex, { callee: path, arg, param }));
  }

  private addImport(m: QueryMatch, statement: SyntaxNode): void {
    const source = capture(m, 'source')!.text;
    this.bindingImports.add(statement.startIndex);
    const def = capture(m, 'default');
    if (def) return void this.imports.push(importFact(statement, source, 'default', def.text, false));
    const ns = capture(m, 'namespace');
    if (ns) return void this.imports.push(importFact(statement, source, '*', ns.text, false));
    const spec = capture(m, 'specifier')!;
    const imported = unquote(capture(m, 'imported')!.text);
    const alias = capture(m, 'alias');
    const typeOnlySpecifier = this.text.startsWith('type ', spec.startIndex);
    this.imports.push(importFact(statement, source, imported, alias ? alias.text : imported, typeOnlySpecifier));
  }

  private addExport(name: string, m: QueryMatch, statement: SyntaxNode): void {
    const typeOnly = this.text.startsWith('export type', statement.startIndex);
    const source = capture(m, 'source')?.text;
    if (name === 'export.star') return void this.exports.push({ exported: '*', specifier: source!, imported: '*', typeOnly });
    if (name === 'export.namespace') {
      return void this.exports.push({ exported: unquote(capture(m, 'alias')!.text), specifier: source!, imported: '*', typeOnly });
    }
    if (name === 'export.default') return void this.exports.push({ exported: 'default', local: capture(m, 'name')!.text, typeOnly });
    const local = unquote(capture(m, 'name')!.text);
    const alias = capture(m, 'alias');
    const exported = alias ? unquote(alias.text) : local;
    this.exports.push(source === undefined ? { exported, local, typeOnly } : { exported, specifier: source, imported: local, typeOnly });
  }

  private addDeclaration(m: QueryMatch, main: QueryMatch['captures'][number]): void {
    const node = main.node;
    const kind = main.name === 'scope.opaque' ? 'opaque' : (main.name.slice('definition.'.length) as Declaration['kind']);
    const nameNode = capture(m, 'name');
    const d: Declaration = {
      kind,
      node,
      start: node.startIndex,
      end: node.endIndex,
      name: nameNode ? memberName(nameNode) : 'default',
      body: capture(m, 'body'),
      type: capture(m, 'type'),
      returnType: capture(m, 'return'),
      value: capture(m, 'value'),
      params: capture(m, 'params'),
      entity: -1,
    };
    const vt = d.value?.type;
    if (kind === 'variable' && (vt === 'arrow_function' || vt === 'function_expression')) {
      // `const f = () => {}` is a function: its signature stops at the body, its parameters type callbacks.
      const fn = d.value!;
      d.kind = 'function';
      d.body = fn.childForFieldName('body') ?? undefined;
      d.params = fn.childForFieldName('parameters') ?? undefined;
      d.returnType = fn.childForFieldName('return_type') ?? undefined;
      d.value = undefined;
    }
    this.declarations.push(d);
  }

  /** Decide which declarations are entities (SCHEMA.md), name them and merge same names. */
  buildEntities(): EntityFact[] {
    const decls = sortDeclarations(this.declarations);
    const byName = new Map<string, number>();
    const stack: Declaration[] = [];
    const keptStack: number[] = []; // interval indexes of kept declarations on `stack`
    const entities: EntityFact[] = [];
    for (const d of decls) {
      while (stack.length && stack[stack.length - 1]!.end <= d.start) {
        if (stack.pop()!.entity >= 0) keptStack.pop();
      }
      const enclosing = stack[stack.length - 1];
      const parentEntity = enclosing ? enclosing.entity : -1;
      stack.push(d);
      if (d.kind === 'opaque' || d.name === '' || (enclosing && enclosing.entity < 0)) continue;
      const placement = placementOf(d, enclosing);
      if (!placement) continue;
      let owner = placement === 'grandparent' ? entities[parentEntity]!.parent : parentEntity;
      const kind: EntityKind = d.kind === 'parameter-property' ? 'property' : d.kind;
      let localName = d.name;
      if (kind === 'namespace' && localName.includes('.')) {
        // `namespace A.B {}` declares A, and B inside it.
        const parts = localName.split('.');
        localName = parts.pop()!;
        for (const part of parts) {
          const qn = owner >= 0 ? `${entities[owner]!.name}.${part}` : part;
          let idx = byName.get(qn);
          if (idx === undefined) {
            idx = entities.length;
            byName.set(qn, idx);
            entities.push(this.entityFact(d, 'namespace', owner, owner >= 0 ? entities[owner]! : undefined, part));
          }
          owner = idx;
        }
      }
      const fact = this.entityFact(d, kind, owner, owner >= 0 ? entities[owner]! : undefined, localName);
      const existing = byName.get(fact.name);
      if (existing !== undefined) {
        mergeInto(entities[existing]!, fact);
        d.entity = existing;
      } else {
        d.entity = entities.length;
        byName.set(fact.name, d.entity);
        entities.push(fact);
      }
      this.intervals.push({ start: d.start, end: d.end, entity: d.entity, outer: keptStack.length ? keptStack[keptStack.length - 1]! : -1 });
      keptStack.push(this.intervals.length - 1);
    }
    for (const e of this.exports) {
      if (e.local === undefined) continue;
      const i = byName.get(e.local);
      if (i !== undefined && entities[i]!.parent === -1) entities[i]!.exported = true;
    }
    this.entityFacts = entities;
    return entities;
  }

  private entityFact(d: Declaration, kind: EntityKind, parent: number, parentFact: EntityFact | undefined, localName: string): EntityFact {
    const statement = outerStatement(d.node, d.kind);
    const declaredExport = statement.type === 'export_statement';
    const isDefault = declaredExport && this.text.startsWith('export default', statement.startIndex);
    if (parent === -1 && declaredExport) {
      this.exports.push({ exported: isDefault ? 'default' : localName, local: localName, typeOnly: false });
    }
    const sp = d.node.startPosition;
    const ep = d.node.endPosition;
    const fact: EntityFact = {
      name: parentFact ? `${parentFact.name}.${localName}` : localName,
      kind,
      parent,
      exported: declaredExport || (parentFact?.exported ?? false),
      line: sp.row + 1,
      column: sp.column + 1,
      endLine: ep.row + 1,
      endColumn: ep.column + 1,
      signature: this.signature(d, statement),
    };
    const doc = leadingDoc(this.text, statement.startIndex);
    if (doc) fact.doc = doc;
    if (d.params) {
      const types = parameterTypes(this.text, d.params);
      if (types.some((t) => t !== null)) fact.paramTypes = types;
    }
    if (d.returnType) {
      const r = valueTypeInfo(this.text, d.returnType, undefined).typeName;
      if (r) fact.returnType = r;
    } else Object.assign(fact, valueTypeInfo(this.text, d.type, d.value));
    return fact;
  }

  private signature(d: Declaration, statement: SyntaxNode): string {
    let end = d.end;
    if (d.body) end = d.body.startIndex;
    else if (d.value && d.type) end = d.type.endIndex;
    const sig = this.text.slice(statement.startIndex, end).trim();
    return sig.length > MAX_SIGNATURE ? sig.slice(0, MAX_SIGNATURE) + '…' : sig;
  }

  /** Bindings that are not themselves entities (`const f = () => {}` at module level is one). */
  localBindings(): PendingBinding[] {
    const entityStarts = new Set<number>();
    for (const d of this.declarations) if (d.entity >= 0 && (d.kind === 'function' || d.kind === 'variable')) entityStarts.add(d.start);
    return this.bindings.filter((b) => !entityStarts.has(b.start));
  }

  /** Maps an offset to the index of the innermost enclosing entity (-1: the module). */
  containerLookup(): (offset: number) => number {
    const iv = this.intervals; // already in start order: declarations were swept in order
    return (offset) => {
      let lo = 0;
      let hi = iv.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (iv[mid]!.start <= offset) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      while (found >= 0 && iv[found]!.end <= offset) found = iv[found]!.outer;
      return found >= 0 ? iv[found]!.entity : -1;
    };
  }

  typeParametersByEntity(containerAt: (offset: number) => number): Map<number, Set<string>> {
    const map = new Map<number, Set<string>>();
    for (const p of this.typeParameters) {
      const e = containerAt(p.start);
      let set = map.get(e);
      if (!set) map.set(e, (set = new Set()));
      set.add(p.name);
    }
    for (const [e, set] of map) if (e >= 0) this.entityFacts[e]!.typeParameters = [...set];
    return map;
  }

  /** Side-effect-only imports: statements matched by the generic pattern that bound no name. */
  finishImports(): void {
    for (let i = 0; i < this.moduleImports.length; i++) {
      if (!this.bindingImports.has(this.moduleImportStarts[i]!)) this.imports.push(this.moduleImports[i]!);
    }
  }
}

/** Where a declaration sits decides whether it is an entity and who owns it (SCHEMA.md). */
function placementOf(d: Declaration, enclosing: Declaration | undefined): 'parent' | 'grandparent' | undefined {
  // Decided by the enclosing *declaration*, not the merged entity: an object-literal method
  // inside `const Foo = {...}` is not a member even when `interface Foo` merges with it.
  const parentKind = enclosing ? enclosing.kind : 'module';
  const scopeLevel = parentKind === 'module' || parentKind === 'namespace';
  switch (d.kind) {
    case 'namespace':
    case 'class':
    case 'interface':
    case 'type':
    case 'enum':
    case 'function':
      return scopeLevel ? 'parent' : undefined;
    case 'variable':
      return scopeLevel && outerStatement(d.node, 'variable').type === 'export_statement' ? 'parent' : undefined;
    case 'method':
    case 'constructor':
    case 'property':
      return parentKind === 'class' || parentKind === 'interface' ? 'parent' : undefined;
    case 'parameter-property':
      return parentKind === 'constructor' ? 'grandparent' : undefined;
    default:
      return undefined;
  }
}

const KIND_PRECEDENCE: EntityKind[] = ['class', 'interface', 'enum', 'function', 'namespace', 'type', 'method', 'constructor', 'property', 'variable'];

function mergeInto(target: EntityFact, other: EntityFact): void {
  if (KIND_PRECEDENCE.indexOf(other.kind) < KIND_PRECEDENCE.indexOf(target.kind)) target.kind = other.kind;
  target.exported ||= other.exported;
  target.signature = `${target.signature}\n${other.signature}`;
  target.endLine = Math.max(target.endLine, other.endLine);
  target.doc ??= other.doc;
  target.typeName ??= other.typeName;
  target.returnType ??= other.returnType;
  target.newOf ??= other.newOf;
  target.callOf ??= other.callOf;
}

/**
 * Declarations sorted by position (outer first), one per node: a parameter property written
 * `private readonly x` matches two patterns. Method definitions named `constructor` become
 * constructors here, since a query cannot compare text cheaply.
 */
function sortDeclarations(decls: Declaration[]): Declaration[] {
  decls.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Declaration[] = [];
  for (const d of decls) {
    const prev = out[out.length - 1];
    if (prev && prev.start === d.start && prev.end === d.end && prev.kind === d.kind) continue;
    if (d.kind === 'method' && d.name === 'constructor' && d.node.type === 'method_definition') d.kind = 'constructor';
    out.push(d);
  }
  return out;
}

/** The statement a declaration is written in: its `export`, `declare` or `const` wrapper. */
function outerStatement(node: SyntaxNode, kind: Declaration['kind']): SyntaxNode {
  let n = node;
  if (kind === 'variable' || kind === 'function') {
    if (n.type === 'variable_declarator') n = n.parent ?? n; // lexical_declaration / variable_declaration
  }
  for (let p = n.parent; p && (p.type === 'export_statement' || p.type === 'ambient_declaration'); p = p.parent) n = p;
  return n;
}

/** `/** ... *\/` immediately before `start`, separated only by whitespace. */
function leadingDoc(text: string, start: number): string | undefined {
  let i = start - 1;
  while (i >= 0 && (text.charCodeAt(i) <= 32)) i--;
  if (i < 1 || text[i] !== '/' || text[i - 1] !== '*') return undefined;
  const open = text.lastIndexOf('/*', i - 2);
  if (open < 0 || text[open + 2] !== '*') return undefined;
  return text.slice(open, i + 1);
}

const DOTTED = /^[A-Za-z_$#][\w$#]*(?:\.[A-Za-z_$#][\w$#]*)*$/;
const TYPE_NAME = /^\s*:?\s*([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*(?:<[^]*>)?\s*(?:\[\s*\])?\s*$/;

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
    const t = TYPE_NAME.exec(text.slice(type.startIndex, type.endIndex));
    if (t && !t[0].includes('[')) out.typeName = t[1]!.replace(/\s+/g, '');
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

const MAX_PARAM_TYPE = 400;

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

function importFact(statement: SyntaxNode, specifier: string, imported: string, local: string, typeOnlySpecifier: boolean): ImportFact {
  return {
    specifier,
    imported,
    local,
    typeOnly: typeOnlySpecifier || /^import\s+type\s/.test(statement.text.slice(0, 20)),
    dynamic: false,
    line: statement.startPosition.row + 1,
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

function syntaxDiagnostic(path: string, node: SyntaxNode): Diagnostic {
  const p = node.startPosition;
  const snippet = node.text.slice(0, 40).replace(/\s+/g, ' ');
  return { file: path, severity: 'error', code: 'syntax-error', message: `syntax error in ${path}:${p.row + 1}:${p.column + 1} near "${snippet}"; the rest of the file is still indexed`, line: p.row + 1, column: p.column + 1 };
}
