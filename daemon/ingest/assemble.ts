// Assembly: collected records of a whole file -> FileFacts. Decides which declarations are
// entities (SCHEMA.md: by where they sit), merges same-named ones, and attributes every
// reference and binding to its innermost enclosing entity. Pure and cheap compared with the
// query. After an edit that left the file's entities where they were (`Reuse`), the rows of the
// references and bindings the edit did not re-collect are the previous facts' rows, copied (and
// moved down by the lines the edit added), their strings renumbered: only the re-collected
// records are assembled again.
import type { Diagnostic, EntityKind, Language } from '../model.ts';
import { contentHash } from '../util/hash.ts';
import { keepShape } from '../util/keep-shape.ts';
import type { BindingRecord, Collected, DeclarationRecord, RefRecord } from './collect.ts';
import { BINDING_FIELDS, BINDING_STRING_FIELDS, BindingRow, REF_FIELDS, RefRow, refHead, type CallbackSite, type EntityFact, type ExportFact, type FileFacts } from './facts.ts';

const MAX_SYNTAX_DIAGNOSTICS = 20;

interface Interval {
  start: number;
  end: number;
  entity: number;
  /** Index of the enclosing kept interval, -1 for none. */
  outer: number;
  /** ENTITY_START | PARAMETER_PROPERTY */
  flags: number;
}

/** A function or variable entity starts here: a binding at its start is not a local. */
const ENTITY_START = 1;
/** A parameter property starts here: a binding at its start belongs to the constructor. */
const PARAMETER_PROPERTY = 2;

/** What assembling a file's records leaves for assembling them again after an edit. */
export interface AssemblyState {
  intervals: Interval[];
  typeParams: Map<number, Set<string>>;
  typeParamNames: Set<string>;
  /** Rows of `refs` before each reference record (one more entry than records). */
  refRows: Int32Array;
  /** Rows of `bindings` before each binding record. */
  bindingRows: Int32Array;
}

/**
 * Records of a list after an edit: the first `keep` are the previous list's first `keep`, then
 * `fresh` re-collected ones, then the previous list's records from `from` on, moved.
 */
export interface Segments {
  keep: number;
  fresh: number;
  from: number;
}

/** The type parameter records an edit replaced: `fresh` records from `keep` on took the place of `removed`. */
export interface ReplacedTypeParameters {
  keep: number;
  fresh: number;
  removed: { start: number; name: string }[];
}

/** What an edit kept of the previous assembly (extract.ts's `reextract` knows). */
export interface Reuse {
  facts: FileFacts;
  state: AssemblyState;
  /** The edit in the previous text's offsets; offsets past it moved by `delta`, lines by `rows`. */
  start: number;
  oldEnd: number;
  delta: number;
  rows: number;
  refs: Segments;
  bindings: Segments;
  typeParameters?: ReplacedTypeParameters;
}

/** Rows at the start and at the end of a list that are the previous facts' rows, by content. */
export interface SameRows {
  head: number;
  tail: number;
}

export interface Assembled {
  facts: FileFacts;
  state: AssemblyState;
  /** With reuse: rows of `refs` and `bindings` that say what the previous facts' said. */
  same?: { refs: SameRows; bindings: SameRows };
}

/** `bytes`: UTF-8 length of `text`, as stats and the CLI's MB and MB/s report it (text.length counts UTF-16 units). */
/** `hash`: the text's contentHash when the caller has it already (a big file's costs milliseconds). */
export function assemble(path: string, language: Language, text: string, lines: number, bytes: number, c: Collected, hash = contentHash(text), reuse?: Reuse): Assembled {
  const exports: ExportFact[] = c.exports.map(({ start: _start, ...e }) => e);
  const { entities, intervals, entityStarts, parameterProperties } = buildEntities(c.declarations, exports);
  const placed = reuse !== undefined && sameIntervals(reuse, entities, intervals);
  let typeParams: Map<number, Set<string>>;
  let typeParamNames: Set<string>;
  if (placed && sameTypeParameterRecords(reuse, c.typeParameters, intervals)) {
    // The same (container, name) sequence as before: the same sets, in the same order.
    typeParams = reuse.state.typeParams;
    typeParamNames = reuse.state.typeParamNames;
    for (const e of typeParams.keys()) if (e >= 0) entities[e]!.typeParameters = reuse.facts.entities[e]!.typeParameters!;
  } else {
    typeParams = new Map();
    typeParamNames = new Set();
    for (const p of c.typeParameters) {
      typeParamNames.add(p.name);
      const e = containerAt(intervals, p.start);
      let set = typeParams.get(e);
      if (!set) typeParams.set(e, (set = new Set()));
      set.add(p.name);
    }
    for (const [e, set] of typeParams) if (e >= 0) entities[e]!.typeParameters = [...set];
  }
  const kept = placed && sameTypeParams(reuse.state.typeParams, typeParams) ? reuse : undefined;
  // String ids: on reuse, first the previous table's (kept rows hold them), then new strings
  // after them; `renumber` then numbers them by first use, as a fresh table would.
  const strings = new StringTable(kept?.facts.strings);
  const refs = new Int32Array(c.refs.length * REF_FIELDS);
  const refRows = new Int32Array(c.refs.length + 1);
  const callbackSites = new Map<number, CallbackSite>();
  for (const p of c.callbackParams) callbackSites.set(p.start, p.site);
  const bindings = new Int32Array(c.bindings.length * BINDING_FIELDS);
  const bindingRows = new Int32Array(c.bindings.length + 1);
  const row: RowContext = { intervals, entities, typeParams, typeParamNames, entityStarts, parameterProperties, callbackSites, strings, refs, bindings };
  const refPart = fillRows(c.refs, kept?.refs, kept && { rows: kept.facts.refs, before: kept.state.refRows }, REF_FIELDS, refs, refRows, addRef, row);
  const nRefs = refPart.rows;
  // The kept references after the edit moved with it.
  if (kept) for (let o = refPart.freshEnd * REF_FIELDS + RefRow.line; o < nRefs * REF_FIELDS; o += REF_FIELDS) refs[o] += kept.rows;
  const bindingPart = fillRows(c.bindings, kept?.bindings, kept && { rows: kept.facts.bindings, before: kept.state.bindingRows }, BINDING_FIELDS, bindings, bindingRows, addBinding, row);
  const nBindings = bindingPart.rows;
  const list = kept ? renumber(strings.list, refs, nRefs, bindings, nBindings) : strings.list;
  const diagnostics: Diagnostic[] = c.errors.slice(0, MAX_SYNTAX_DIAGNOSTICS).map((e) => ({
    file: path,
    severity: 'error',
    code: 'syntax-error',
    message: `syntax error in ${path}:${e.line}:${e.column} near "${e.snippet}"; the rest of the file is still indexed`,
    line: e.line,
    column: e.column,
  }));
  const facts: FileFacts = {
    path,
    language,
    contentHash: hash,
    bytes,
    lines,
    entities,
    strings: list,
    refs: nRefs * REF_FIELDS === refs.length ? refs : refs.slice(0, nRefs * REF_FIELDS),
    bindings: nBindings * BINDING_FIELDS === bindings.length ? bindings : bindings.slice(0, nBindings * BINDING_FIELDS),
    imports: c.imports.map(({ start: _start, ...i }) => i),
    exports,
    diagnostics,
  };
  // Copied rows say what they said (same containers and strings; the moved ones' lines aside).
  const same = kept ? { refs: { head: refPart.head, tail: nRefs - refPart.freshEnd }, bindings: { head: bindingPart.head, tail: nBindings - bindingPart.freshEnd } } : undefined;
  return { facts, state: { intervals, typeParams, typeParamNames, refRows, bindingRows }, same };
}

/**
 * Whether every record an edit kept lands in the same container as before: the same entities
 * (kinds, parents) and declarations' intervals, each where the edit moved it. Any record outside
 * the edit then has the same containers around it, in the same order. (Kept records are also kept
 * or dropped as before when the type parameters per entity are the same: `sameTypeParams`.)
 */
function sameIntervals(reuse: Reuse, entities: EntityFact[], intervals: Interval[]): boolean {
  const before = reuse.facts.entities;
  const old = reuse.state.intervals;
  if (before.length !== entities.length || old.length !== intervals.length) return false;
  for (let i = 0; i < entities.length; i++) if (before[i]!.kind !== entities[i]!.kind || before[i]!.parent !== entities[i]!.parent) return false;
  const { start, oldEnd, delta } = reuse;
  const moved = (x: number): number => (x < start ? x : x >= oldEnd ? x + delta : -1);
  for (let k = 0; k < intervals.length; k++) {
    const a = old[k]!;
    const b = intervals[k]!;
    if (a.entity !== b.entity || a.outer !== b.outer || a.flags !== b.flags || moved(a.start) !== b.start || moved(a.end) !== b.end) return false;
  }
  return true;
}

/**
 * Whether the type parameter records an edit replaced were replaced by as many, with the same
 * names in the same containers (intervals placed as before: `sameIntervals`): then the sequence of
 * (container, name) over all records, and what assembly makes of it, is the previous one.
 */
function sameTypeParameterRecords(reuse: Reuse, records: { start: number; name: string }[], intervals: Interval[]): boolean {
  const replaced = reuse.typeParameters;
  if (!replaced || replaced.removed.length !== replaced.fresh) return false;
  if (!replaced.fresh) return true;
  for (let i = 0; i < replaced.fresh; i++) {
    const a = replaced.removed[i]!;
    const b = records[replaced.keep + i]!;
    if (a.name !== b.name || containerAt(reuse.state.intervals, a.start) !== containerAt(intervals, b.start)) return false;
  }
  return true;
}

function sameTypeParams(a: Map<number, Set<string>>, b: Map<number, Set<string>>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [e, names] of b) {
    const was = a.get(e);
    if (!was || was.size !== names.size) return false;
    for (const n of names) if (!was.has(n)) return false;
  }
  return true;
}

/**
 * What writing a record's row reads (`addRef`, `addBinding`). The row writers are module-level
 * functions, not closures made for each assembly: V8 keeps the optimized code of a closure only
 * while one of its instances is alive, so a closure made per call is compiled again after every
 * full GC (traced on effect's median file: compiled again during the edits after each one).
 */
interface RowContext {
  intervals: Interval[];
  entities: EntityFact[];
  typeParams: Map<number, Set<string>>;
  typeParamNames: Set<string>;
  entityStarts: Set<number>;
  parameterProperties: Set<number>;
  callbackSites: Map<number, CallbackSite>;
  strings: StringTable;
  refs: Int32Array;
  bindings: Int32Array;
}

/** Writes reference `r` at row `n` (unless it names a type parameter); returns the next row. */
function addRef(x: RowContext, r: RefRecord, n: number): number {
  const from = containerAt(x.intervals, r.start);
  if (r.kind === 'type' && x.typeParamNames.has(r.path) && isTypeParameter(r.path, from, x.entities, x.typeParams)) return n;
  const o = n * REF_FIELDS;
  x.refs[o + RefRow.head] = refHead(r.kind, from);
  x.refs[o + RefRow.line] = r.line;
  x.refs[o + RefRow.path] = x.strings.id(r.path);
  return n + 1;
}

/** Writes binding `b` at row `n` (unless it is an entity); returns the next row. */
function addBinding(x: RowContext, b: BindingRecord, n: number): number {
  if (x.entityStarts.has(b.start)) return n; // `const f = () => {}` at module level is an entity, not a local
  // A parameter property (`constructor(private svc: S)`) is both an entity and a parameter: its
  // binding belongs to the constructor, whose body uses it, not to the property entity starting
  // at the same offset (lookups walk scopes outwards, so `svc.m()` in the body missed its type).
  const scope = containerAt(x.intervals, x.parameterProperties.has(b.start) ? b.start - 1 : b.start);
  const site = b.callback ?? (b.typed ? undefined : x.callbackSites.get(b.start));
  const o = n * BINDING_FIELDS;
  const strings = x.strings;
  const bindings = x.bindings;
  bindings[o + BindingRow.scope] = scope;
  bindings[o + BindingRow.name] = strings.id(b.name);
  bindings[o + BindingRow.typeName] = strings.optional(b.typeName);
  bindings[o + BindingRow.newOf] = strings.optional(b.newOf);
  bindings[o + BindingRow.callOf] = strings.optional(b.callOf);
  bindings[o + BindingRow.callee] = site ? strings.id(site.callee) : -1;
  bindings[o + BindingRow.arg] = site ? site.arg : 0;
  bindings[o + BindingRow.param] = site ? site.param : 0;
  bindings[o + BindingRow.memberPath] = strings.optional(b.memberPath);
  bindings[o + BindingRow.literal] = strings.optional(b.literal);
  return n + 1;
}

/**
 * The previous rows of the records an edit kept before the re-collected ones, copied into `rows`,
 * with `rowsBefore` (rows before each record) for them; returns their number.
 */
/**
 * The rows of one kind of record into `rows`, with the row each record starts at in
 * `rowsBefore`: the previous rows of the records an edit kept before the re-collected ones
 * (`seg`; without it every record is a fresh one), then the re-collected records through `add`
 * (which writes a record at a row and returns the next row), then the kept ones after them.
 */
function fillRows<R>(
  records: readonly R[],
  seg: Segments | undefined,
  old: { rows: Int32Array; before: Int32Array } | undefined,
  fields: number,
  rows: Int32Array,
  rowsBefore: Int32Array,
  add: (context: RowContext, record: R, row: number) => number,
  context: RowContext,
): { rows: number; head: number; freshEnd: number } {
  const s = seg ?? { keep: 0, fresh: records.length, from: 0 };
  let n = old ? keptHead(old.rows, old.before, s, fields, rows, rowsBefore) : 0;
  const head = n;
  for (let i = s.keep; i < s.keep + s.fresh; i++) {
    rowsBefore[i] = n;
    n = add(context, records[i]!, n);
  }
  rowsBefore[records.length] = n;
  const freshEnd = n;
  if (old) n = keptTail(old.rows, old.before, s, fields, rows, rowsBefore, n);
  return { rows: n, head, freshEnd };
}

function keptHead(oldRows: Int32Array, oldBefore: Int32Array, seg: Segments, fields: number, rows: Int32Array, rowsBefore: Int32Array): number {
  const n = oldBefore[seg.keep]!;
  rows.set(oldRows.subarray(0, n * fields));
  rowsBefore.set(oldBefore.subarray(0, seg.keep + 1));
  return n;
}

/**
 * The previous rows of the records an edit kept after the re-collected ones, copied into `rows`
 * from row `n` on, with `rowsBefore` for them; returns the number of rows in all.
 */
function keptTail(oldRows: Int32Array, oldBefore: Int32Array, seg: Segments, fields: number, rows: Int32Array, rowsBefore: Int32Array, n: number): number {
  const from = oldBefore[seg.from]!;
  const to = oldBefore[oldBefore.length - 1]!;
  rows.set(oldRows.subarray(from * fields, to * fields), n * fields);
  for (let i = seg.keep + seg.fresh, j = seg.from; j < oldBefore.length; i++, j++) rowsBefore[i] = oldBefore[j]! - from + n;
  return n + to - from;
}


/**
 * The strings in the order of first use by the rows (references, then bindings field by field),
 * as a fresh StringTable numbers them; the rows' ids rewritten to match. Unused ones are dropped.
 */
function renumber(table: string[], refs: Int32Array, nRefs: number, bindings: Int32Array, nBindings: number): string[] {
  const next = new Int32Array(table.length).fill(-1);
  const list: string[] = [];
  const id = (old: number): number => {
    if (old < 0) return old;
    let n = next[old]!;
    if (n < 0) {
      n = next[old] = list.length;
      list.push(table[old]!);
    }
    return n;
  };
  for (let o = RefRow.path; o < nRefs * REF_FIELDS; o += REF_FIELDS) refs[o] = id(refs[o]!);
  for (let o = 0; o < nBindings * BINDING_FIELDS; o += BINDING_FIELDS) {
    for (let k = 0; k < BINDING_STRING_FIELDS.length; k++) bindings[o + BINDING_STRING_FIELDS[k]!] = id(bindings[o + BINDING_STRING_FIELDS[k]!]!);
  }
  return list;
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
    let flags = 0;
    if (kind === 'function' || kind === 'variable') {
      entityStarts.add(d.start);
      flags |= ENTITY_START;
    }
    if (d.kind === 'parameter-property') {
      parameterProperties.add(d.start);
      flags |= PARAMETER_PROPERTY;
    }
    intervals.push({ start: d.start, end: d.end, entity: frame.entity, outer: keptStack.length ? keptStack[keptStack.length - 1]! : -1, flags });
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
  if (d.literal) fact.literal = d.literal;
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
  target.literal ??= other.literal;
}

/** Maps an offset to the index of the innermost enclosing entity (-1: the module). */
function containerAt(iv: Interval[], offset: number): number {
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
}

function isTypeParameter(name: string, container: number, entities: EntityFact[], params: Map<number, Set<string>>): boolean {
  for (let e = container; e >= 0; e = entities[e]!.parent) if (params.get(e)?.has(name)) return true;
  return params.get(-1)?.has(name) ?? false;
}

/** The strings of one file's rows, each stored once. `start`: strings with ids already given (in order). */
class StringTable {
  readonly list: string[];
  private readonly ids = new Map<string, number>();

  constructor(start: readonly string[] = []) {
    // Grown from a literal, not spread: the literal's site learns that its arrays hold strings,
    // and makes them so from the start; a spread of no strings made an array of small integers
    // whose first string changed its kind (a deoptimization at a file's first cold assembly).
    const list: string[] = [];
    for (let i = 0; i < start.length; i++) list.push(start[i]!);
    this.list = list;
    for (let i = 0; i < start.length; i++) this.ids.set(start[i]!, i);
  }

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
// One per assembly, dropped at its end: kept, so that its maps outlive full GCs (keep-shape.ts).
keepShape(new StringTable());
