// Assembly: collected records of a whole file -> FileFacts. Decides which declarations are
// entities (SCHEMA.md: by where they sit), merges same-named ones, and attributes every
// reference and binding to its innermost enclosing entity. Pure and cheap compared with the
// query: it runs over the whole file even when only one statement was re-collected.
import type { Diagnostic, EntityKind, Language } from '../model.ts';
import { contentHash } from '../util/hash.ts';
import type { Collected, DeclarationRecord } from './collect.ts';
import { BINDING_FIELDS, BindingRow, REF_FIELDS, RefRow, refHead, type CallbackSite, type EntityFact, type ExportFact, type FileFacts } from './facts.ts';

const MAX_SYNTAX_DIAGNOSTICS = 20;

interface Interval {
  start: number;
  end: number;
  entity: number;
  /** Index of the enclosing kept interval, -1 for none. */
  outer: number;
}

/** `bytes`: UTF-8 length of `text`, as stats and the CLI's MB and MB/s report it (text.length counts UTF-16 units). */
/** `hash`: the text's contentHash when the caller has it already (a big file's costs milliseconds). */
export function assemble(path: string, language: Language, text: string, lines: number, bytes: number, c: Collected, hash = contentHash(text)): FileFacts {
  const exports: ExportFact[] = c.exports.map(({ start: _start, ...e }) => e);
  const { entities, intervals, entityStarts, parameterProperties } = buildEntities(c.declarations, exports);
  const containerAt = containerLookup(intervals);
  const typeParams = new Map<number, Set<string>>();
  const typeParamNames = new Set<string>();
  for (const p of c.typeParameters) {
    typeParamNames.add(p.name);
    const e = containerAt(p.start);
    let set = typeParams.get(e);
    if (!set) typeParams.set(e, (set = new Set()));
    set.add(p.name);
  }
  for (const [e, set] of typeParams) if (e >= 0) entities[e]!.typeParameters = [...set];
  const strings = new StringTable();
  const refs = new Int32Array(c.refs.length * REF_FIELDS);
  let nRefs = 0;
  for (const r of c.refs) {
    const from = containerAt(r.start);
    if (r.kind === 'type' && typeParamNames.has(r.path) && isTypeParameter(r.path, from, entities, typeParams)) continue;
    const o = nRefs++ * REF_FIELDS;
    refs[o + RefRow.head] = refHead(r.kind, from);
    refs[o + RefRow.line] = r.line;
    refs[o + RefRow.path] = strings.id(r.path);
  }
  const callbackSites = new Map<number, CallbackSite>();
  for (const p of c.callbackParams) callbackSites.set(p.start, p.site);
  const bindings = new Int32Array(c.bindings.length * BINDING_FIELDS);
  let nBindings = 0;
  for (const b of c.bindings) {
    if (entityStarts.has(b.start)) continue; // `const f = () => {}` at module level is an entity, not a local
    // A parameter property (`constructor(private svc: S)`) is both an entity and a parameter: its
    // binding belongs to the constructor, whose body uses it, not to the property entity starting
    // at the same offset (lookups walk scopes outwards, so `svc.m()` in the body missed its type).
    const scope = containerAt(parameterProperties.has(b.start) ? b.start - 1 : b.start);
    const site = b.callback ?? (b.typed ? undefined : callbackSites.get(b.start));
    const o = nBindings++ * BINDING_FIELDS;
    bindings[o + BindingRow.scope] = scope;
    bindings[o + BindingRow.name] = strings.id(b.name);
    bindings[o + BindingRow.typeName] = strings.optional(b.typeName);
    bindings[o + BindingRow.newOf] = strings.optional(b.newOf);
    bindings[o + BindingRow.callOf] = strings.optional(b.callOf);
    bindings[o + BindingRow.callee] = site ? strings.id(site.callee) : -1;
    bindings[o + BindingRow.arg] = site ? site.arg : 0;
    bindings[o + BindingRow.param] = site ? site.param : 0;
  }
  const diagnostics: Diagnostic[] = c.errors.slice(0, MAX_SYNTAX_DIAGNOSTICS).map((e) => ({
    file: path,
    severity: 'error',
    code: 'syntax-error',
    message: `syntax error in ${path}:${e.line}:${e.column} near "${e.snippet}"; the rest of the file is still indexed`,
    line: e.line,
    column: e.column,
  }));
  return {
    path,
    language,
    contentHash: hash,
    bytes,
    lines,
    entities,
    strings: strings.list,
    refs: refs.slice(0, nRefs * REF_FIELDS),
    bindings: bindings.slice(0, nBindings * BINDING_FIELDS),
    imports: c.imports.map(({ start: _start, ...i }) => i),
    exports,
    diagnostics,
  };
}

/** Sweep declarations in document order with a stack of enclosing ones (SCHEMA.md rules). */
function buildEntities(
  records: DeclarationRecord[],
  exports: ExportFact[],
): { entities: EntityFact[]; intervals: Interval[]; entityStarts: Set<number>; parameterProperties: Set<number> } {
  const decls = [...records].sort((a, b) => a.start - b.start || b.end - a.end);
  const byName = new Map<string, number>();
  const stack: { d: DeclarationRecord; entity: number }[] = [];
  const keptStack: number[] = [];
  const entities: EntityFact[] = [];
  const intervals: Interval[] = [];
  const entityStarts = new Set<number>();
  const parameterProperties = new Set<number>();
  let previous: DeclarationRecord | undefined;
  for (const d of decls) {
    // `private readonly x` matches two parameter-property patterns: one declaration.
    if (previous && previous.start === d.start && previous.end === d.end && previous.kind === d.kind) continue;
    previous = d;
    while (stack.length && stack[stack.length - 1]!.d.end <= d.start) {
      if (stack.pop()!.entity >= 0) keptStack.pop();
    }
    const enclosing = stack[stack.length - 1];
    const frame = { d, entity: -1 };
    stack.push(frame);
    if (d.kind === 'opaque' || d.name === '' || (enclosing && enclosing.entity < 0)) continue;
    const placement = placementOf(d, enclosing?.d);
    if (!placement) continue;
    let owner = enclosing ? enclosing.entity : -1;
    if (placement === 'grandparent') owner = entities[owner]!.parent;
    const kind: EntityKind = d.kind === 'parameter-property' ? 'property' : (d.kind as EntityKind);
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
          entities.push(entityFact(d, 'namespace', owner, owner >= 0 ? entities[owner] : undefined, part, exports));
        }
        owner = idx;
      }
    }
    const fact = entityFact(d, kind, owner, owner >= 0 ? entities[owner] : undefined, localName, exports);
    const existing = byName.get(fact.name);
    if (existing !== undefined) {
      mergeInto(entities[existing]!, fact);
      frame.entity = existing;
    } else {
      frame.entity = entities.length;
      byName.set(fact.name, frame.entity);
      entities.push(fact);
    }
    if (kind === 'function' || kind === 'variable') entityStarts.add(d.start);
    if (d.kind === 'parameter-property') parameterProperties.add(d.start);
    intervals.push({ start: d.start, end: d.end, entity: frame.entity, outer: keptStack.length ? keptStack[keptStack.length - 1]! : -1 });
    keptStack.push(intervals.length - 1);
  }
  for (const e of exports) {
    if (e.local === undefined) continue;
    const i = byName.get(e.local);
    if (i !== undefined && entities[i]!.parent === -1) entities[i]!.exported = true;
  }
  return { entities, intervals, entityStarts, parameterProperties };
}

/** Where a declaration sits decides whether it is an entity and who owns it (SCHEMA.md). */
function placementOf(d: DeclarationRecord, enclosing: DeclarationRecord | undefined): 'parent' | 'grandparent' | undefined {
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
      return scopeLevel && d.declaredExport ? 'parent' : undefined;
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

function entityFact(d: DeclarationRecord, kind: EntityKind, parent: number, parentFact: EntityFact | undefined, localName: string, exports: ExportFact[]): EntityFact {
  if (parent === -1 && d.declaredExport) exports.push({ exported: d.isDefault ? 'default' : localName, local: localName, typeOnly: false });
  const fact: EntityFact = {
    name: parentFact ? `${parentFact.name}.${localName}` : localName,
    kind,
    parent,
    exported: d.declaredExport || (parentFact?.exported ?? false),
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    signature: d.signature,
  };
  if (d.doc !== undefined) fact.doc = d.doc;
  if (d.paramTypes) fact.paramTypes = d.paramTypes;
  if (d.returnType) fact.returnType = d.returnType;
  if (d.typeName) fact.typeName = d.typeName;
  if (d.newOf) fact.newOf = d.newOf;
  if (d.callOf) fact.callOf = d.callOf;
  return fact;
}

const KIND_PRECEDENCE: EntityKind[] = ['class', 'interface', 'enum', 'function', 'namespace', 'type', 'method', 'constructor', 'property', 'variable'];

function mergeInto(target: EntityFact, other: EntityFact): void {
  if (KIND_PRECEDENCE.indexOf(other.kind) < KIND_PRECEDENCE.indexOf(target.kind)) target.kind = other.kind;
  target.exported ||= other.exported;
  target.signature = `${target.signature}\n${other.signature}`;
  // The merged range ends where the last-ending declaration ends: line and column together
  // (taking only the line gave ends like 24:2 for a declaration ending at 24:37).
  if (other.endLine > target.endLine || (other.endLine === target.endLine && other.endColumn > target.endColumn)) {
    target.endLine = other.endLine;
    target.endColumn = other.endColumn;
  }
  target.doc ??= other.doc;
  target.paramTypes ??= other.paramTypes;
  target.typeName ??= other.typeName;
  target.returnType ??= other.returnType;
  target.newOf ??= other.newOf;
  target.callOf ??= other.callOf;
}

/** Maps an offset to the index of the innermost enclosing entity (-1: the module). */
function containerLookup(iv: Interval[]): (offset: number) => number {
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

function isTypeParameter(name: string, container: number, entities: EntityFact[], params: Map<number, Set<string>>): boolean {
  for (let e = container; e >= 0; e = entities[e]!.parent) if (params.get(e)?.has(name)) return true;
  return params.get(-1)?.has(name) ?? false;
}

/** The strings of one file's rows, each stored once. */
class StringTable {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  optional(s: string | undefined): number {
    return s === undefined || s === '' ? -1 : this.id(s);
  }
}
