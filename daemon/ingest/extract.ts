// Extraction: one file's text -> FileFacts. The syntax that matters is described by the .scm
// queries in ./queries; collect.ts folds their matches into plain records and assemble.ts
// turns those into facts. It never throws on bad input: syntax errors become diagnostics and
// whatever parsed is kept.
//
// After an edit, `reextract` re-parses incrementally and runs the queries only over the
// top-level statements the edit touched (the reference query only over the innermost function
// body holding it); the records of everything else are kept (shifted), and so are the rows
// assembly made of them (assemble.ts). An edit of plain characters inside a value string is not
// even re-parsed, and the insides of long value strings are never read by the parser after the
// first parse (string-gaps.ts). What remains proportional to the file: shifting the records after
// the edit, the entities and type parameters assembled again, the rows copied. Files with syntax
// errors are extracted afresh (see `reextract`).
import type { Language } from '../model.ts';
import { keepShape } from '../util/keep-shape.ts';
import { assemble, type AssemblyState, type ReplacedTypeParameters, type SameRows, type Segments } from './assemble.ts';
import { captureId, NodeTable, runQuery, type CaptureList, type QueryOptions } from './captures.ts';
import { collect, forEachMatch, keepCollectorShape, signatureOf, type Collected, type DeclarationRecord, type QueryRun } from './collect.ts';
import type { FileFacts } from './facts.ts';
import { parseChunks, toolsFor, type SyntaxTree } from './parser.ts';
import { editBetween, rowDelta, widenEdit, type TextEdit } from './text-edit.ts';
import { CHUNK, findRewrites, inputReader, rewritesAfterEdit, type Rewrites } from './grammar-gaps.ts';
import { MIN_GAP, findGaps, gapHolding, gapsAfterEdit, includedRanges, inertEdit, isValueString, likelyGaps, nextToEscape, sameGaps, type Gaps } from './string-gaps.ts';

/** What a later `reextract` needs: the text, its tree and the records collected from it. */
export interface Extraction {
  path: string;
  language: Language;
  text: string;
  /** What the parser was given is `text` with these rewrites (grammar-gaps.ts): same length and lines. */
  rewrites: Rewrites;
  /** The insides of long value strings the parser does not read (string-gaps.ts). */
  gaps: Gaps;
  tree: SyntaxTree;
  collected: Collected;
  facts: FileFacts;
  /** What assembling `collected` left for assembling it again after an edit. */
  assembly: AssemblyState;
  /** Rows of `facts` that say what those of `from` (the facts this is an edit of) said. */
  sameRows?: { from: FileFacts; refs: SameRows; bindings: SameRows };
}

/** Where an edit's records came from (`splice`, `shiftedInLine`), for assembly to reuse the previous rows. */
interface Kept {
  refs: Segments;
  bindings: Segments;
  typeParameters?: ReplacedTypeParameters;
}

/**
 * `hash`, here and in `reextract`: the text's contentHash, when the caller has it already.
 * `minGap`: the shortest value string whose inside is left out of the parse (string-gaps.ts).
 */
export function extractFile(path: string, language: Language, text: string, hash?: string, minGap = MIN_GAP): Extraction {
  keepShapes(language);
  const rewrites = findRewrites(text, language);
  const read = inputReader(text, rewrites);
  const likely = likelyGaps(text, minGap);
  if (likely.length) {
    // The long strings the text seems to hold, left out of the first parse: kept when the tree
    // bears the guess out, as the one the parse below would end with.
    const tree = parseChunks(language, read, CHUNK, undefined, includedRanges(likely));
    const table = new NodeTable(tree);
    if (!table.hasError(table.root()) && sameGaps(findGaps(table, text, minGap), likely)) {
      return finish(path, language, text, rewrites, likely, tree, collectAll(text, language, table, table.root()), hash);
    }
  }
  let tree = parseChunks(language, read, CHUNK);
  let table = new NodeTable(tree);
  const gaps = table.hasError(table.root()) ? [] : findGaps(table, text, minGap);
  if (gaps.length) {
    // Parsed again without the long strings' insides: the tree later edits re-parse (cheap, as
    // nothing but those insides changes).
    tree = parseChunks(language, read, CHUNK, tree, includedRanges(gaps));
    table = new NodeTable(tree);
  }
  return finish(path, language, text, rewrites, gaps, tree, collectAll(text, language, table, table.root()), hash);
}

const shapesKept = new Set<Language>();

/**
 * A node table and a collector over an empty text's tree, kept for good: one of each is made for
 * every extraction and dropped at its end, and their maps would go at every full GC with the
 * optimized code that checked for them (keep-shape.ts). So would those of the binding's node
 * objects (each tree's root is one, of a class of the grammar's own): the table's root is kept
 * with it, one per grammar. Once per grammar and thread, at its first extraction (a
 * re-extraction always follows one).
 */
function keepShapes(language: Language): void {
  if (shapesKept.has(language)) return;
  shapesKept.add(language);
  const table = keepShape(new NodeTable(parseChunks(language, () => '', CHUNK)));
  keepShape(table.tree.rootNode);
  table.root();
  if (shapesKept.size === 1) keepCollectorShape(table);
}

/**
 * How deep below the node queried a declaration pattern may start. From the module: `export
 * declare function f()` is export_statement > ambient_declaration > function_signature, 3 levels
 * down; a namespace adds its statement_block; in a class body, a parameter property is
 * method > formal_parameters > required_parameter. Anything deeper is inside a body or an
 * expression, never an entity.
 */
const MODULE_DEPTH = 3;
const NAMESPACE_DEPTH = 4;
const MEMBER_DEPTH = 3;

const NAMESPACE = captureId('definition.namespace');
const CLASS = captureId('definition.class');
const INTERFACE = captureId('definition.interface');
const OPAQUE = captureId('scope.opaque');
const BODY = captureId('body');

/**
 * Records of the whole tree, or of the top-level statements in `range`. Declarations are queried
 * from the module, again from each namespace and ambient module found (matches both runs found
 * are kept once), and members from each class and interface body found.
 */
function collectAll(text: string, language: Language, table: NodeTable, root: number, range?: { start: number; end: number }, referenceRange = range): Collected {
  const tools = toolsFor(language);
  const options: QueryOptions = range ? { startIndex: range.start, endIndex: range.end } : {};
  const runs: QueryRun[] = [];
  const scopes: number[] = [];
  const bodies: number[] = [];
  let seen: Set<string> | undefined;
  const key = (main: number, pattern: number) => `${pattern}:${table.id(main)}`;
  const declarationRun = (captures: CaptureList, rerun: boolean): void => {
    const keep = new Uint8Array(captures.length);
    forEachMatch(captures, (main, id, pattern, from, to, match) => {
      if (range && !rerun && !inRange(table, main, range)) return;
      if (rerun) {
        const k = key(main, pattern);
        if (seen!.has(k)) return;
        seen!.add(k);
      }
      keep[match] = 1;
      if (id === NAMESPACE || (id === OPAQUE && isAmbientBlock(table, main))) scopes.push(main);
      else if (id === CLASS || id === INTERFACE) {
        for (let c = from; c < to; c++) if (captures.name[c] === BODY) bodies.push(captures.first + c);
      }
    });
    runs.push({ captures, keep });
  };
  const top = runQuery(tools.declarations, table, root, { ...options, maxStartDepth: MODULE_DEPTH });
  declarationRun(top, false);
  if (table.type(root) === 'program') declarationRun(runQuery(tools.topLevel, table, root, { ...options, maxStartDepth: 1 }), false);
  if (scopes.length) {
    seen = new Set();
    forEachMatch(top, (main, _id, pattern, _from, _to, match) => void (runs[0]!.keep![match] && seen!.add(key(main, pattern))));
    for (let i = 0; i < scopes.length; i++) declarationRun(runQuery(tools.declarations, table, scopes[i]!, { maxStartDepth: NAMESPACE_DEPTH }), true);
  }
  for (const body of bodies) runs.push({ captures: runQuery(tools.members, table, body, { maxStartDepth: MEMBER_DEPTH }) });
  const references = runQuery(tools.references, table, root, referenceRange ? { startIndex: referenceRange.start, endIndex: referenceRange.end } : {});
  runs.push(referenceRange ? { captures: references, keep: matchesInRange(table, references, referenceRange) } : { captures: references });
  return collect(text, table, runs);
}

function inRange(table: NodeTable, node: number, range: { start: number; end: number }): boolean {
  const s = table.start(node);
  return s >= range.start && s < range.end;
}

function matchesInRange(table: NodeTable, captures: CaptureList, range: { start: number; end: number }): Uint8Array {
  const keep = new Uint8Array(captures.length);
  forEachMatch(captures, (main, _id, _pattern, _from, _to, match) => void (keep[match] = inRange(table, main, range) ? 1 : 0));
  return keep;
}

/** `declare module 'x' {}` and `declare global {}`: opaque, but their imports and exports count. */
function isAmbientBlock(table: NodeTable, node: number): boolean {
  const type = table.type(node);
  return type === 'module' || type === 'statement_block';
}

/** The extraction of `text`, an edit of `previous.text`. Uses up `previous` (its tree and records are updated in place). */
export function reextract(previous: Extraction, text: string, hash?: string): Extraction {
  const { path, language } = previous;
  // The tree is edited by how the parser input changed; the records also depend on the raw
  // text (names, signatures), so the range to re-collect covers both changes.
  const rawEdit = editBetween(previous.text, text, (offset) => {
    // The smallest node of the previous tree at the edit: its start and row are known.
    const t = new NodeTable(previous.tree);
    const n = t.descendantForIndex(t.root(), offset);
    return n >= 0 ? { index: t.start(n), row: t.row(n) } : undefined;
  });
  // The rewrites are scanned again around the edit only; the input changed where the text did,
  // and where a rewrite appeared, went or moved.
  const after = rewritesAfterEdit(previous.rewrites, previous.text, text, rawEdit, language);
  const rewrites = after.rewrites;
  const edit = after.changedStart <= after.changedOldEnd ? widenEdit(previous.text, text, rawEdit, after.changedStart, after.changedOldEnd) : rawEdit;
  const inert = sameEdit(edit, rawEdit) && inertEdit(previous.text, text, rawEdit);
  const inGap = inert && !!gapHolding(previous.gaps, rawEdit) && !nextToEscape(previous.text, rawEdit.startIndex);
  let gaps = gapsAfterEdit(previous.gaps, edit, inGap);
  if (inGap || (inert && insideStringLiteral(previous, rawEdit))) {
    // The new text parses to the old tree with this edit applied, so the edited tree stands in
    // for a parse (the next parse re-reads the edited string, as it would any edited node).
    previous.tree.edit(edit);
    const typeParameters = shiftSegments(previous.collected.typeParameters, rawEdit);
    const kept: Kept = {
      refs: shiftSegments(previous.collected.refs, rawEdit),
      bindings: shiftSegments(previous.collected.bindings, rawEdit),
      typeParameters: { keep: typeParameters.keep, fresh: 0, removed: [] },
    };
    return finish(path, language, text, rewrites, gaps, previous.tree, shiftedInLine(previous.collected, text, rawEdit), hash, previous, rawEdit, kept);
  }
  previous.tree.edit(edit);
  let tree = parseChunks(language, inputReader(text, rewrites), CHUNK, previous.tree, includedRanges(gaps));
  let table = new NodeTable(tree);
  let root = table.root();
  // Error recovery after an incremental parse can differ from a fresh parse of the same text;
  // a file with syntax errors is extracted afresh so the graph never depends on edit history.
  if (table.hasError(root) || previous.tree.rootNode.hasError) return extractFile(path, language, text, hash);
  const delta = text.length - previous.text.length;
  let lo = Math.min(edit.startIndex, rawEdit.startIndex);
  let hi = Math.max(edit.newEndIndex, rawEdit.newEndIndex);
  for (const r of previous.tree.getChangedRanges(tree)) {
    lo = Math.min(lo, r.startIndex);
    hi = Math.max(hi, r.endIndex);
  }
  if (hi - lo >= MIN_GAP) {
    // The parse read a long string again (an edit dropped its gap, or made it): left out from now on.
    const found = findGaps(table, text, MIN_GAP, lo, hi).filter((f) => !gaps.some((g) => g.start === f.start));
    if (found.length) {
      gaps = [...gaps, ...found].sort((a, b) => a.start - b.start);
      tree = parseChunks(language, inputReader(text, rewrites), CHUNK, tree, includedRanges(gaps));
      table = new NodeTable(tree);
      root = table.root();
    }
  }
  const range = statementRange(table, root, lo, hi);
  const rows = rowDelta(rawEdit); // one contiguous edit: every later line moves by this
  // Declarations, exports and imports are collected again over whole top-level statements (their
  // queries only look a few levels deep: cheap); references, bindings and the rest over the
  // innermost function body holding the edit, when there is one (that query visits every node).
  const block = innermostBody(table, root, lo, hi);
  const fresh = collectAll(text, language, table, root, range, block ?? range);
  const { collected, kept } = splice(previous.collected, fresh, range, block ?? range, delta, rows);
  return finish(path, language, text, rewrites, gaps, tree, collected, hash, previous, rawEdit, kept);
}

/**
 * `previous` and `edit`: the extraction `text` is an edit of, to count lines and bytes from it.
 * `kept`: which records of `collected` are `previous`'s, when the edit says (their rows are then copied).
 */
function finish(path: string, language: Language, text: string, rewrites: Rewrites, gaps: Gaps, tree: SyntaxTree, collected: Collected, hash: string | undefined, previous?: Extraction, edit?: TextEdit, kept?: Kept): Extraction {
  const lines = previous && edit ? linesAfterEdit(previous, text, rowDelta(edit)) : lineCount(text);
  const bytes = previous && edit ? previous.facts.bytes + utf8Delta(previous.text, text, edit) : Buffer.byteLength(text, 'utf8');
  const reuse =
    previous && edit && kept
      ? { facts: previous.facts, state: previous.assembly, start: edit.startIndex, oldEnd: edit.oldEndIndex, delta: edit.newEndIndex - edit.oldEndIndex, rows: rowDelta(edit), ...kept }
      : undefined;
  const { facts, state, same } = assemble(path, language, text, lines, bytes, collected, hash, reuse);
  return { path, language, text, rewrites, gaps, tree, collected, facts, assembly: state, sameRows: same && { from: previous!.facts, ...same } };
}

/** Segments of a list of records an edit within one line leaves as they were (shifted): all of them, none re-collected. */
function shiftSegments(records: { start: number }[], edit: TextEdit): Segments {
  let keep = 0;
  while (keep < records.length && records[keep]!.start < edit.startIndex) keep++;
  return { keep, fresh: 0, from: keep };
}

function sameEdit(a: TextEdit, b: TextEdit): boolean {
  return a.startIndex === b.startIndex && a.oldEndIndex === b.oldEndIndex && a.newEndIndex === b.newEndIndex;
}

/**
 * Whether an edit (inert: plain characters replaced) is strictly within a run of plain characters
 * of one string literal of the previous tree, whose text is a value no fact reads. The new text
 * then has the same syntax tree, shifted; its records are the old ones, shifted, with signatures
 * (slices of the text) read again.
 */
function insideStringLiteral(previous: Extraction, edit: TextEdit): boolean {
  const { startIndex: start, oldEndIndex: oldEnd } = edit;
  if (previous.tree.rootNode.hasError) return false;
  const t = new NodeTable(previous.tree);
  const fragment = t.descendantInRange(t.root(), start, oldEnd);
  // Strictly inside one fragment: the characters on both sides are plain ones too.
  if (fragment < 0 || t.type(fragment) !== 'string_fragment' || !(t.start(fragment) < start && oldEnd < t.end(fragment))) return false;
  const literal = t.parent(fragment);
  return isValueString(t, literal) && t.start(literal) < start && oldEnd < t.end(literal);
}

/** Records after an edit within one line: offsets move, columns on that line move, signatures are read again. */
function shiftedInLine(c: Collected, text: string, edit: TextEdit): Collected {
  const at = edit.startIndex;
  const oldEnd = edit.oldEndIndex;
  const delta = edit.newEndIndex - oldEnd;
  const line = edit.startPosition.row + 1;
  const move = (p: number) => (p >= oldEnd ? p + delta : p);
  for (const d of c.declarations) {
    const spans = d.start <= at && d.end >= oldEnd;
    if (d.start >= oldEnd && d.line === line) d.column += delta;
    if (d.end >= oldEnd && d.endLine === line) d.endColumn += delta;
    d.start = move(d.start);
    d.end = move(d.end);
    d.sigStart = move(d.sigStart);
    d.sigEnd = move(d.sigEnd);
    if (d.sigJoin !== undefined) d.sigJoin = move(d.sigJoin);
    if (spans && d.kind !== 'opaque') d.signature = signatureOf(text, d);
  }
  for (const list of [c.refs, c.bindings, c.callbackParams, c.typeParameters, c.imports, c.exports, c.errors]) {
    for (const x of list) x.start = move(x.start);
  }
  return c;
}

/**
 * The run of whole top-level statements covering [lo, hi), plus the statement after it: a doc
 * comment belongs to the declaration that follows it, and statements sharing the last line
 * would see their columns move.
 */
function statementRange(t: NodeTable, root: number, lo: number, hi: number): { start: number; end: number } {
  let start = lo;
  let end = hi;
  // The statements from the first one ending after lo, asked one by one: a large file has
  // thousands (each doc comment is one), and fetching them all was a good part of an edit.
  let n = t.firstChildForIndex(root, lo);
  if (n >= 0) start = Math.min(start, t.start(n));
  for (; n >= 0 && t.start(n) < hi; n = t.nextSibling(n)) end = Math.max(end, t.end(n));
  const lastRow = t.endPosition(t.descendantForIndex(root, Math.max(0, end - 1)))[0];
  for (; n >= 0; n = t.nextSibling(n)) {
    end = Math.max(end, t.end(n));
    if (t.type(n) !== 'comment' && t.row(n) > lastRow) break;
  }
  return { start, end };
}

/**
 * Old records before a range kept, those at or after its old end shifted, `fresh` in between: the
 * records of the declaration queries (declarations, exports, static imports) over `range`, those
 * of the reference query (references, bindings, callbacks, type parameters, errors, dynamic
 * imports) over `refRange`, which is `range` or a function body inside it. The old records are
 * shifted in place: the previous extraction is used up by `reextract` (its tree was edited too).
 * Ranges are in new coordinates; they end after the edit, so their old ends are `delta` earlier.
 */
function splice(old: Collected, fresh: Collected, range: { start: number; end: number }, refRange: { start: number; end: number }, delta: number, rows: number): { collected: Collected; kept?: Kept } {
  const staticImports = merge(
    old.imports.filter((i) => !i.dynamic),
    fresh.imports.filter((i) => !i.dynamic),
    range,
    delta,
    rows,
    MOVE_LINE,
  ).list;
  const dynamicImports = merge(
    old.imports.filter((i) => i.dynamic),
    fresh.imports.filter((i) => i.dynamic),
    refRange,
    delta,
    rows,
    MOVE_LINE,
  ).list;
  const refs = merge(old.refs, fresh.refs, refRange, delta, rows, MOVE_LINE);
  const bindings = merge(old.bindings, fresh.bindings, refRange, delta, rows, MOVE_START);
  const typeParameters = merge(old.typeParameters, fresh.typeParameters, refRange, delta, rows, MOVE_START);
  const collected: Collected = {
    declarations: merge(old.declarations, fresh.declarations, range, delta, rows, MOVE_DECLARATION).list,
    refs: refs.list,
    bindings: bindings.list,
    callbackParams: merge(old.callbackParams, fresh.callbackParams, refRange, delta, rows, MOVE_START).list,
    typeParameters: typeParameters.list,
    imports: dynamicImports.length ? [...staticImports, ...dynamicImports].sort((a, b) => a.start - b.start) : staticImports,
    exports: merge(old.exports, fresh.exports, range, delta, rows, MOVE_EXPORT).list,
    errors: merge(old.errors, fresh.errors, refRange, delta, rows, MOVE_LINE).list,
  };
  const kept: Kept | undefined =
    refs.segments && bindings.segments
      ? { refs: refs.segments, bindings: bindings.segments, typeParameters: typeParameters.segments && { keep: typeParameters.segments.keep, fresh: typeParameters.segments.fresh, removed: typeParameters.removed } }
      : undefined;
  return { collected, kept };
}

// How `merge` moves a record kept after the edit: its offset, its offset and line, or all of a
// declaration's offsets and lines. (Module-level functions, not closures made for each edit:
// V8 keeps the optimized code of a closure only while one of its instances is alive, so a
// closure made per call is compiled again after every full GC.)
const MOVE_START = 0;
const MOVE_LINE = 1;
const MOVE_DECLARATION = 2;
const MOVE_EXPORT = 3;
type Move = typeof MOVE_START | typeof MOVE_LINE | typeof MOVE_DECLARATION | typeof MOVE_EXPORT;

function moveRecord(x: { start: number }, move: Move, delta: number, rows: number): void {
  // One function per kind of record, so that each of their property accesses meets a few maps
  // (V8 handles up to four at full speed), not the eight kinds of record of a `Collected`.
  if (move === MOVE_START) moveStart(x, delta);
  else if (move === MOVE_LINE) moveLine(x as { start: number; line: number }, delta, rows);
  else if (move === MOVE_DECLARATION) moveDeclaration(x as DeclarationRecord, delta, rows);
  else moveExport(x, delta);
}

/** Bindings, callback parameters, type parameters. */
function moveStart(x: { start: number }, delta: number): void {
  x.start += delta;
}

/** Export records, of two shapes (a local name or a re-export): with the others, five maps. */
function moveExport(x: { start: number }, delta: number): void {
  x.start += delta;
}

function moveLine(x: { start: number; line: number }, delta: number, rows: number): void {
  x.start += delta;
  x.line += rows;
}

function moveDeclaration(d: DeclarationRecord, delta: number, rows: number): void {
  d.start += delta;
  d.end += delta;
  d.sigStart += delta;
  d.sigEnd += delta;
  if (d.sigJoin !== undefined) d.sigJoin += delta;
  d.line += rows;
  d.endLine += rows;
}

/**
 * The old records `a` before `r` (new coordinates: its old end is `delta` earlier), `b`, then the
 * old records after it, moved. `segments`: where they came from when the old ones before and
 * after `r` are a head and a tail of `a` (records are in document order; else undefined), with
 * the old records `removed` replaced.
 */
function merge<T extends { start: number }>(a: T[], b: T[], r: { start: number; end: number }, delta: number, rows: number, move: Move): { list: T[]; segments: Segments | undefined; removed: T[] } {
  const start = r.start;
  const oldEnd = r.end - delta;
  let keep = 0;
  while (keep < a.length && a[keep]!.start < start) keep++;
  let from = a.length;
  while (from > keep && a[from - 1]!.start >= oldEnd) from--;
  let contiguous = true;
  for (let i = keep; i < from; i++) if (a[i]!.start < start || a[i]!.start >= oldEnd) contiguous = false;
  if (contiguous && b.length <= SPLICE_MAX) {
    // In place (the previous records are used up): a large file's lists are tens of thousands
    // long, and copying them was most of what an edit allocated.
    for (let i = from; i < a.length; i++) moveRecord(a[i]!, move, delta, rows);
    const removed = a.splice(keep, from - keep, ...b);
    return { list: a, segments: { keep, fresh: b.length, from }, removed };
  }
  const removed = contiguous ? a.slice(keep, from) : [];
  const out: T[] = [];
  for (const x of a) if (x.start < start) out.push(x);
  for (const x of b) out.push(x);
  for (const x of a) {
    if (x.start < oldEnd) continue;
    moveRecord(x, move, delta, rows);
    out.push(x);
  }
  return { list: out, segments: contiguous ? { keep, fresh: b.length, from } : undefined, removed };
}

/** Most records `splice` inserts in place (as arguments of Array.prototype.splice). */
const SPLICE_MAX = 8192;

/** Node types whose `body` is a function body. */
const FUNCTIONS = new Set(['function_declaration', 'generator_function_declaration', 'function_expression', 'generator_function', 'arrow_function', 'method_definition']);

/** Declarations that are never an argument of a call (a callback's parameters are read from the call around it). */
const STANDALONE_FUNCTIONS = new Set(['method_definition', 'function_declaration', 'generator_function_declaration']);

/**
 * The innermost function body, method or function declaration holding [lo, hi) with its first
 * and last characters untouched (so it is one before the edit too), or undefined. Matches of the
 * reference query are about one construct each, and a construct starting outside one of these
 * reads nothing inside it (a call's callee path, a callback's parameters, a declared type), so
 * the records starting outside it stand as they were. Not a function expression or arrow: as an
 * argument, its parameters are read by the match of the call around it.
 */
function innermostBody(t: NodeTable, root: number, lo: number, hi: number): { start: number; end: number } | undefined {
  for (let n = t.descendantInRange(root, lo, hi); n >= 0 && n !== root; n = t.parent(n)) {
    const type = t.type(n);
    if (type === 'statement_block') {
      const fn = t.parent(n);
      if (fn < 0 || !FUNCTIONS.has(t.type(fn))) continue;
    } else if (!STANDALONE_FUNCTIONS.has(type)) continue;
    const start = t.start(n);
    const end = t.end(n);
    if (start < lo && hi < end) return { start, end };
  }
  return undefined;
}

/**
 * UTF-8 bytes the edit added (negative: removed), measured on whole characters: the edit is
 * widened so as not to split a surrogate pair, which alone would count as a replacement character.
 */
function utf8Delta(before: string, after: string, edit: TextEdit): number {
  let start = edit.startIndex;
  let oldEnd = edit.oldEndIndex;
  let newEnd = edit.newEndIndex;
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) start--;
  if (isLowSurrogate(before.charCodeAt(oldEnd)) || isLowSurrogate(after.charCodeAt(newEnd))) {
    oldEnd++;
    newEnd++;
  }
  return Buffer.byteLength(after.slice(start, newEnd), 'utf8') - Buffer.byteLength(before.slice(start, oldEnd), 'utf8');
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** `lineCount(text)`, from the previous text's count and the lines the edit added. */
function linesAfterEdit(previous: Extraction, text: string, rows: number): number {
  const before = previous.text;
  const newlines = before.length === 0 ? 0 : before.endsWith('\n') ? previous.facts.lines : previous.facts.lines - 1;
  const n = newlines + rows;
  if (text.length === 0) return 1;
  return text.endsWith('\n') ? n : n + 1;
}

/**
 * Lines as editors and `wc -l` count them: a final newline ends the last line, it does not start
 * another (the tree's end row counted one line too many for every newline-terminated file).
 */
function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  // An empty file still has its one (empty) line: a module's range is 1:1-1:1, not 1:1-0:1.
  if (text.length === 0) return 1;
  return text.endsWith('\n') ? n : n + 1;
}

/** A small text with something for every query to capture, and an edit of it (warmUpSteps). */
const WARM_UP_TEXT = `import { helper } from './helper';
export interface Shape<T> extends Base { area(scale: number): T; readonly name?: string }
export class Square<T> implements Shape<T> {
  constructor(private side: number) {}
  area(scale: number): T { return helper(this.side * scale) as T; }
}
export namespace Shapes { export function make(side: number): Square<number> { return new Square(side); } }
export type Maker = (side: number) => Shape<number>;
export const square: Maker = (side) => Shapes.make(side);
export default Square;
`;
const WARM_UP_EDITS = [WARM_UP_TEXT.replace('return helper(', 'console.debug(scale);\n    return helper('), WARM_UP_TEXT.replace('area(scale: number): T {', 'area(scale: number, unit?: string): T {')];

/**
 * Steps that compile a language's extraction queries and extract (and re-extract after an edit)
 * a small text once, in the calling thread: otherwise the first edit a thread applies pays for
 * it (hundreds of ms), as the first index extracts on worker threads. Each step is one piece of
 * work, for the caller to run when its thread is idle; nothing is kept but the compiled queries.
 */
export function warmUpSteps(languages: Iterable<Language>): (() => void)[] {
  const steps: (() => void)[] = [];
  for (const language of new Set(languages)) {
    steps.push(() => void toolsFor(language));
    steps.push(() => {
      let extraction = extractFile(`isg-warm-up.${language === 'tsx' ? 'tsx' : 'ts'}`, language, WARM_UP_TEXT);
      for (const text of WARM_UP_EDITS) extraction = reextract(extraction, text);
    });
  }
  return steps;
}
