// Long string literals hidden from the parser. A generated module can hold a string of megabytes
// (a bundled script as `export const js = "..."`): tree-sitter lexes it into a node with a child
// per run of plain characters and per escape (186,000 for a 3.2 MB one), and any parse that
// touches the statement holding it (an edit of its type annotation, or of the string itself)
// rebuilds that node child by child, and the reference query visits every child. No fact reads
// the inside of a string whose text is a value (see `isValueString`), so after a first parse the
// inside of such a literal is left out of the parser's input (tree-sitter's included ranges):
// the literal becomes its two quotes, and parses and queries over it cost nothing.
//
// A gap is kept through edits before or after it, and through edits of plain characters inside
// it (shifted); any other edit touching it drops it, and the next parse reads the literal again.
import type { NodeTable } from './captures.ts';
import type { TextEdit } from './text-edit.ts';

/** Literals shorter than this are parsed as they are: a gap only pays on a long one. */
export const MIN_GAP = 16 * 1024;

export interface Point {
  row: number;
  column: number;
}

/** The inside of one string literal, quotes excluded: [start, end), with tree-sitter positions. */
export interface Gap {
  start: number;
  end: number;
  startPosition: Point;
  endPosition: Point;
}

export type Gaps = readonly Gap[];

/** A parent in which a string literal's text is a value: never a name, a module specifier or a literal type. */
const VALUE_PARENTS = new Set(['variable_declarator', 'arguments', 'array', 'binary_expression', 'pair', 'return_statement', 'parenthesized_expression', 'assignment_expression', 'ternary_expression']);

/** Whether `literal` (a node of `t`) is a `string` whose text no fact reads. */
export function isValueString(t: NodeTable, literal: number): boolean {
  if (literal < 0 || t.type(literal) !== 'string') return false;
  const parent = t.parent(literal);
  if (parent < 0 || !VALUE_PARENTS.has(t.type(parent))) return false;
  if (t.type(parent) === 'arguments') {
    // `import("x")`: a specifier.
    const call = t.parent(parent);
    const fn = call >= 0 ? t.childForField(call, 'function') : -1;
    if (fn >= 0 && t.type(fn) === 'import') return false;
  }
  return true;
}

/**
 * The value strings of at least `min` characters in `text`'s tree (`t`, without errors) on the
 * lines meeting [from, to), in order. A plain string holds no line break but an escaped one, so
 * a long one sits on a long line: only lines of `min` characters or more are probed. A string
 * already left out of `t` is found too.
 */
export function findGaps(t: NodeTable, text: string, min = MIN_GAP, from = 0, to = text.length): Gap[] {
  const out: Gap[] = [];
  const root = t.root();
  // Probes every min/2 characters of a long line: a literal of `min` or more holds one.
  const step = Math.max(1, Math.floor(min / 2));
  for (let lineStart = from === 0 ? 0 : text.lastIndexOf('\n', from - 1) + 1; lineStart < to && lineStart < text.length; ) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    for (let p = lineEnd - lineStart < min ? lineEnd : lineStart + step; p < lineEnd; p += step) {
      let n = t.descendantForIndex(root, p);
      if (n >= 0 && t.type(n) !== 'string') n = t.parent(n);
      if (n < 0 || !isValueString(t, n)) continue;
      const start = t.start(n);
      const end = t.end(n);
      if (end - start < min || (out.length && out[out.length - 1]!.end >= start)) continue;
      const [endRow, endColumn] = t.endPosition(n);
      out.push({ start: start + 1, end: end - 1, startPosition: { row: t.row(n), column: t.column(n) + 1 }, endPosition: { row: endRow, column: endColumn - 1 } });
      p = Math.max(p, end - step);
    }
    lineStart = lineEnd + 1;
  }
  return out;
}

/**
 * The gaps a first parse would find, guessed from the text alone, so that parse need not read
 * the long strings at all (lexing a 3.2 MB one took ~115 ms; a parse without it 0.2 ms). On lines
 * of `min` characters or more, quoted runs ('...' or "...") of `min` characters or more, quotes
 * included, up to the next unescaped closing quote on the same line. A quote in a comment, a
 * template or a regular expression, or a literal that is a type, makes this a wrong guess:
 * `extractFile` keeps a tree parsed without these insides only when it has no error and
 * `findGaps` finds exactly these gaps in it.
 */
export function likelyGaps(text: string, min = MIN_GAP): Gap[] {
  const out: Gap[] = [];
  if (text.length < min) return out;
  for (let lineStart = 0, row = 0; lineStart < text.length; row++) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    if (lineEnd - lineStart >= min) quotedRuns(text, lineStart, lineEnd, row, min, out);
    lineStart = lineEnd + 1;
  }
  return out;
}

/** `likelyGaps` on one line, [lineStart, lineEnd) of `text`, the `row`-th. */
function quotedRuns(text: string, lineStart: number, lineEnd: number, row: number, min: number, out: Gap[]): void {
  // The next quote of each kind at or after i (-1: none left; -2: not looked for yet): each is
  // looked for again only once passed, so a line of many short strings of one kind is not
  // searched to its end for the other kind per string.
  let double = -2;
  let single = -2;
  for (let i = lineStart; i < lineEnd; ) {
    if (double !== -1 && double < i) double = text.indexOf('"', i);
    if (single !== -1 && single < i) single = text.indexOf("'", i);
    const open = double < 0 ? single : single < 0 ? double : Math.min(double, single);
    if (open < 0 || open >= lineEnd) return;
    let close = open;
    do {
      close = text.indexOf(text[open]!, close + 1);
      // Unclosed on this line (or continued on the next with a backslash): not guessed further.
      if (close < 0 || close >= lineEnd) return;
    } while (escaped(text, close));
    if (close + 1 - open >= min) out.push({ start: open + 1, end: close, startPosition: { row, column: open + 1 - lineStart }, endPosition: { row, column: close - lineStart } });
    i = close + 1;
  }
}

/** Whether the character at `at` follows an odd number of backslashes. */
function escaped(text: string, at: number): boolean {
  let n = 0;
  while (text.charCodeAt(at - 1 - n) === 0x5c) n++;
  return n % 2 === 1;
}

/** Whether two lists of gaps are the same gaps. */
export function sameGaps(a: Gaps, b: Gaps): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.start !== y.start || x.end !== y.end || !samePoint(x.startPosition, y.startPosition) || !samePoint(x.endPosition, y.endPosition)) return false;
  }
  return true;
}

function samePoint(a: Point, b: Point): boolean {
  return a.row === b.row && a.column === b.column;
}

/** Characters whose insertion or removal could end a string literal or change its escapes. */
export const NOT_INERT = /["'`\\\n\r\u2028\u2029]/;

/** Whether the edit replaced plain characters only (no quote, backslash or line break added or removed). */
export function inertEdit(before: string, text: string, edit: TextEdit): boolean {
  return !NOT_INERT.test(before.slice(edit.startIndex, edit.oldEndIndex)) && !NOT_INERT.test(text.slice(edit.startIndex, edit.newEndIndex));
}

/** Characters that can follow the backslash of `\xHH`, `\uHHHH` or `\u{H...}`. */
const ESCAPE_TAIL = /[0-9a-fA-F{}ux]/;

/**
 * Whether an inert edit at `start` of `before` may change an escape before it: it comes right
 * after a backslash, or inside the hex digits of a `\x` or `\u` escape, which would then stop
 * being one (a syntax error a parse reading the string reports). The parse of the plain run of
 * characters holding it (`insideStringLiteral` in extract.ts) sees this; a gap's does not.
 */
export function nextToEscape(before: string, start: number): boolean {
  let i = start - 1;
  while (i >= 0 && ESCAPE_TAIL.test(before[i]!)) i--;
  if (i < 0 || before[i] !== '\\') return false;
  // A backslash starts an escape when the backslashes ending at it are odd in number.
  let n = 0;
  for (let j = i; j >= 0 && before[j] === '\\'; j--) n++;
  return n % 2 === 1 && (i === start - 1 || before[i + 1] === 'x' || before[i + 1] === 'u');
}

/** The gap strictly holding the edit (old coordinates), if any. */
export function gapHolding(gaps: Gaps, edit: TextEdit): Gap | undefined {
  for (const g of gaps) if (g.start < edit.startIndex && edit.oldEndIndex < g.end) return g;
  return undefined;
}

/**
 * The gaps after `edit` (applied to the tree too), moved as tree-sitter moves positions. A gap the
 * edit touches survives only when the edit is inside it and `inert` (plain characters replaced,
 * no escape changed: `inertEdit`, `nextToEscape`).
 */
export function gapsAfterEdit(gaps: Gaps, edit: TextEdit, inert: boolean): Gap[] {
  const out: Gap[] = [];
  const delta = edit.newEndIndex - edit.oldEndIndex;
  for (const g of gaps) {
    // The quotes sit at start - 1 and at end.
    if (edit.oldEndIndex <= g.start - 1) out.push({ start: g.start + delta, end: g.end + delta, startPosition: movePoint(g.startPosition, edit), endPosition: movePoint(g.endPosition, edit) });
    else if (edit.startIndex > g.end) out.push(g);
    else if (inert && g.start < edit.startIndex && edit.oldEndIndex < g.end) out.push({ start: g.start, end: g.end + delta, startPosition: g.startPosition, endPosition: movePoint(g.endPosition, edit) });
  }
  return out;
}

/** A position at or after the edit's old end, moved by it (as tree-sitter's Tree.edit does). */
function movePoint(p: Point, edit: TextEdit): Point {
  const { oldEndPosition: o, newEndPosition: n } = edit;
  if (p.row === o.row) return { row: n.row, column: n.column + p.column - o.column };
  return { row: p.row + n.row - o.row, column: p.column };
}

/** Past any text: the binding doubles indexes and columns (UTF-16), so this stays a uint32. */
const FAR = 0x7fffffff;

export interface IncludedRange {
  startIndex: number;
  endIndex: number;
  startPosition: Point;
  endPosition: Point;
}

/** What the parser reads: everything but the gaps (undefined: everything). */
export function includedRanges(gaps: Gaps): IncludedRange[] | undefined {
  if (!gaps.length) return undefined;
  const out: IncludedRange[] = [];
  let startIndex = 0;
  let startPosition: Point = { row: 0, column: 0 };
  for (const g of gaps) {
    out.push({ startIndex, endIndex: g.start, startPosition, endPosition: g.startPosition });
    startIndex = g.end;
    startPosition = g.endPosition;
  }
  out.push({ startIndex, endIndex: FAR, startPosition, endPosition: { row: FAR, column: FAR } });
  return out;
}
