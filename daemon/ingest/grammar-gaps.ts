// Work-arounds for TypeScript syntax that tree-sitter-typescript 0.23 (the newest published
// grammar) does not parse, applied to the parser's input only. Every rewrite keeps the text's
// length and line breaks, so offsets and positions in the tree are those of the real file, and
// everything read from the file (names, signatures, docs) is read from the real text.
// Every rewrite is a linear scan: a regular expression with nested quantifiers over whitespace
// and comments backtracked without end on some files.
//
// The rewrites are kept as a list (`Rewrites`), not as a rewritten copy of the text: the parser
// reads the text through `inputReader` in chunks with the rewrites applied, and after an edit
// `rewritesAfterEdit` scans again only around it (a large file has a few of them and is edited
// in one place; a copy, and a scan of the whole text, cost milliseconds on every edit).
import { isIdentifierPart, isSpace } from '../util/chars.ts';

/** One rewrite: `text` (as long as what it replaces) replaces the text at `at`. */
export interface Rewrite {
  at: number;
  text: string;
  /** Which scan found it. */
  kind: RewriteKind;
}

export type Rewrites = readonly Rewrite[];

type RewriteKind = 'variance' | 'generic' | 'member' | 'escape' | 'let-as' | 'import-type';

type Language = 'typescript' | 'tsx';

/** Every rewrite `text` needs, in order. */
export function findRewrites(text: string, language: Language): Rewrite[] {
  const out: Rewrite[] = [];
  blankVarianceAnnotations(text, 0, text.length, out);
  if (language === 'typescript') separateGenericSignatures(text, 0, text.length, out);
  separateKeywordMembers(text, 0, text.length, out);
  blankEscapedBackticks(text, 0, text.length, out);
  renameLetAs(text, 0, text.length, out);
  separateImportTypes(text, 0, text.length, out);
  return out.sort(byPosition);
}

/** The text the parser reads: `text` with its rewrites applied. */
export function parserInput(text: string, language: Language): string {
  return applyRewrites(text, findRewrites(text, language));
}

export function applyRewrites(text: string, rewrites: Rewrites): string {
  if (!rewrites.length) return text;
  const parts: string[] = [];
  let from = 0;
  for (const r of rewrites) {
    parts.push(text.slice(from, r.at), r.text);
    from = r.at + r.text.length;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** What the parser reads in one call: tree-sitter copies each chunk into a buffer of this size. */
export const CHUNK = 16 * 1024;

/**
 * The parser's input as tree-sitter's callback form: the chunk of `text` at a UTF-16 offset,
 * rewrites applied, at most `CHUNK` long. Reading in chunks copies what the parser reads, where
 * a string input is copied whole from every offset read (an incremental parse of a large file
 * reads at several).
 */
export function inputReader(text: string, rewrites: Rewrites): (offset: number) => string {
  return (offset) => {
    const end = Math.min(text.length, offset + CHUNK);
    if (offset >= end) return '';
    let i = firstEndingAfter(rewrites, offset);
    if (i >= rewrites.length || rewrites[i]!.at >= end) return text.slice(offset, end);
    let out = '';
    let from = offset;
    for (; i < rewrites.length && rewrites[i]!.at < end; i++) {
      const r = rewrites[i]!;
      const a = Math.max(r.at, offset);
      const b = Math.min(r.at + r.text.length, end);
      out += text.slice(from, a) + r.text.slice(a - r.at, b - r.at);
      from = b;
    }
    return out + text.slice(from, end);
  };
}

/** Index of the first rewrite ending after `offset`. */
function firstEndingAfter(rewrites: Rewrites, offset: number): number {
  let lo = 0;
  let hi = rewrites.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = rewrites[mid]!;
    if (r.at + r.text.length <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where the rewrites of an edited text differ from the previous ones: a span of the old text. */
export interface RewritesAfterEdit {
  rewrites: Rewrite[];
  /** Old-text span the changed rewrites cover (empty when no rewrite changed: start > oldEnd). */
  changedStart: number;
  changedOldEnd: number;
}

/**
 * The rewrites of `text`, an edit of the text `previous` were found in: `previous` kept away from
 * the edit (shifted after it), each scan run again only where its matches could change. Equals
 * `findRewrites(text)`.
 */
export function rewritesAfterEdit(previous: Rewrites, before: string, text: string, edit: { startIndex: number; oldEndIndex: number; newEndIndex: number }, language: Language): RewritesAfterEdit {
  const { startIndex: start, oldEndIndex: oldEnd, newEndIndex: newEnd } = edit;
  const delta = newEnd - oldEnd;
  const out: Rewrite[] = [];
  let changedStart = Infinity;
  let changedOldEnd = -Infinity;
  const openAt = commentOpens(text, start);
  const windows: [RewriteKind, number, number][] = [['variance', varianceLeft(before, text, start, openAt), varianceRight(before, text, newEnd, delta, openAt)]];
  // Generic signatures and keyword members are both line matches that look back over members:
  // one window (each bound can read far on a long line, so it is found once).
  const lineLo = genericLeft(text, start);
  const lineHi = genericRight(text, newEnd);
  if (language === 'typescript') windows.push(['generic', lineLo, lineHi]);
  windows.push(['member', lineLo, lineHi]);
  windows.push(['escape', Math.max(0, start - 1), escapeRight(text, newEnd)]);
  windows.push(['let-as', letAsLeft(text, start), letAsRight(text, newEnd)]);
  // A match depends on the character before it and on at most IMPORT_TYPE_SPAN after its start.
  windows.push(['import-type', Math.max(0, start - IMPORT_TYPE_SPAN), newEnd + 1]);
  for (const [kind, lo, hi] of windows) {
    // Old rewrites of this kind before `lo` and from `hi` on (old coordinates) stay.
    const hiOld = hi - delta;
    const fresh: Rewrite[] = [];
    if (kind === 'variance') blankVarianceAnnotations(text, lo, hi, fresh);
    else if (kind === 'generic') separateGenericSignatures(text, lo, hi, fresh);
    else if (kind === 'member') separateKeywordMembers(text, lo, hi, fresh);
    else if (kind === 'escape') blankEscapedBackticks(text, lo, hi, fresh);
    else if (kind === 'let-as') renameLetAs(text, lo, hi, fresh);
    else separateImportTypes(text, lo, hi, fresh);
    const old: Rewrite[] = [];
    for (const r of previous) {
      if (r.kind !== kind) continue;
      if (r.at < lo) out.push(r);
      else if (r.at >= hiOld) out.push({ at: r.at + delta, text: r.text, kind });
      else old.push(r);
    }
    for (const r of fresh) out.push(r);
    // Old and fresh rewrites of the window that are not the same rewrite, moved with the text.
    const moved = (at: number) => (at >= oldEnd ? at + delta : at < start ? at : -1);
    const same = old.length === fresh.length && old.every((r, i) => moved(r.at) === fresh[i]!.at && r.text === fresh[i]!.text);
    if (!same) {
      for (const r of old) {
        changedStart = Math.min(changedStart, r.at);
        changedOldEnd = Math.max(changedOldEnd, r.at + r.text.length);
      }
      for (const r of fresh) {
        const a = r.at;
        const b = r.at + r.text.length;
        changedStart = Math.min(changedStart, a < newEnd ? Math.min(a, start) : a - delta);
        changedOldEnd = Math.max(changedOldEnd, b <= start ? b : b <= newEnd ? oldEnd : b - delta);
      }
    }
  }
  out.sort(byPosition);
  return { rewrites: out, changedStart, changedOldEnd };
}

function byPosition(a: Rewrite, b: Rewrite): number {
  return a.at - b.at;
}

// ---- escaped backticks -------------------------------------------------------------------

/**
 * A backslash-escaped backtick becomes two spaces: the grammar ends a template literal type at
 * it (effect's `type MissingSelfGeneric = ...` has one with \` inside). Wherever else one
 * stands (a template string, a string, a regular expression, a comment), spaces parse the same.
 * An odd run of backslashes escapes the backtick; an even one is escaped backslashes. Rewrites
 * starting in [from, to).
 */
function blankEscapedBackticks(text: string, from: number, to: number, out: Rewrite[]): void {
  for (let i = text.indexOf('`', from + 1); i >= 0 && i - 1 < to; i = text.indexOf('`', i + 1)) {
    let slashes = 0;
    while (i - slashes > 0 && text.charCodeAt(i - slashes - 1) === 92) slashes++;
    if (slashes % 2 === 1) out.push({ at: i - 1, text: '  ', kind: 'escape' });
  }
}

/**
 * Where escaped backticks may differ after an edit ending at `newEnd`: a backtick right after
 * it, or after the run of backslashes that starts there (whose count the edit may have changed).
 */
function escapeRight(text: string, newEnd: number): number {
  let i = newEnd;
  while (i < text.length && text.charCodeAt(i) === 92) i++;
  return i + 1;
}

// ---- `let as` ----------------------------------------------------------------------------

/**
 * `let as = ...` (a variable named `as`, in effect's PubSub.ts) is read as the start of an `as`
 * expression; the parser reads it as `let a_` (names are read from the real text). `const as`
 * and every use of `as` parse. Matches starting (at `let`) in [from, to).
 */
function renameLetAs(text: string, from: number, to: number, out: Rewrite[]): void {
  // Tried at each `let` of the window (a search would read on past it to the next match). An
  // edit's window is short: searched in a slice, as a search of the text would read on to the
  // next `let` after the window, or to the end.
  const short = to - from <= LET_AS_SLICE;
  const hay = short ? text.slice(from, to + 2) : text;
  const base = short ? from : 0;
  for (let i = hay.indexOf('let', from - base); i >= 0 && i + base < to; i = hay.indexOf('let', i + 3)) {
    LET_AS_AT.lastIndex = i + base;
    const m = LET_AS_AT.exec(text);
    if (m) out.push({ at: i + base + m[0].length - 2, text: 'a_', kind: 'let-as' });
  }
}

const LET_AS_AT = /\blet[ \t]+as(?=[ \t]*[=:;,])/y;
const LET_AS_SLICE = 4096;

/*
 * Where `let as` matches can differ after an edit. Between the character before `let` (for
 * `\b`) and the one after the spaces past `as` (the lookahead's), a match holds only the letters
 * of `let` and `as`, spaces and tabs. So a run of those characters bounds it: a match that reaches
 * into the edit starts within the run that touches the edit on the left, and one starting after
 * the run that follows the edit on the right lies wholly after it. An edit in a long line (a
 * generated string) then rescans a few characters instead of the line.
 */

function inLetAs(c: number): boolean {
  return c === 32 || c === 9 || c === 108 || c === 101 || c === 116 || c === 97 || c === 115; // space, tab, l e t a s
}

function letAsLeft(text: string, start: number): number {
  let i = start - 1;
  while (i >= 0 && inLetAs(text.charCodeAt(i))) i--;
  return i + 1;
}

function letAsRight(text: string, newEnd: number): number {
  let j = newEnd;
  while (j < text.length && inLetAs(text.charCodeAt(j))) j++;
  return j + 1;
}

// ---- import types with type arguments ----------------------------------------------------

/**
 * `import("./a").Foo<T>`: the grammar reads an import type as a call, which takes no type
 * arguments after a member. Its `("./a")` becomes underscores, so that the parser reads the
 * qualified name `import_______.Foo<T>` (type-refs.ts reads the real text, specifier and all).
 * Only before type arguments (without them the grammar parses it), never before a Promise
 * method (`import("./a").then<T>(...)` is a dynamic import in code), on one line, and at most
 * IMPORT_TYPE_SPAN long, which bounds an edit's window. The rewrite starts at `import` (the
 * word rewritten as itself), so that its position is the match's. Matches starting in [from, to).
 */
function separateImportTypes(text: string, from: number, to: number, out: Rewrite[]): void {
  // An edit's window is short: searched in a slice, as `renameLetAs` does.
  const short = to - from <= IMPORT_TYPE_SLICE;
  const hay = short ? text.slice(from, Math.min(text.length, to + 6)) : text;
  const base = short ? from : 0;
  for (let i = hay.indexOf('import', from - base); i >= 0 && i + base < to; i = hay.indexOf('import', i + 6)) {
    const at = i + base;
    if (at > 0 && isWordOrDot(text.charCodeAt(at - 1))) continue;
    IMPORT_TYPE_AT.lastIndex = at;
    const m = IMPORT_TYPE_AT.exec(text);
    if (!m || m[0].length > IMPORT_TYPE_SPAN || PROMISE_METHOD.test(m[3]!)) continue;
    out.push({ at, text: `import${'_'.repeat(m[1]!.length)}`, kind: 'import-type' });
  }
}

const IMPORT_TYPE_AT = /import([ \t]*\([ \t]*(["'])[^"'\n\\]*\2[ \t]*\))((?:[ \t]*\.[ \t]*[A-Za-z_$][\w$]*)+)[ \t]*</y;
const IMPORT_TYPE_SPAN = 512;
const IMPORT_TYPE_SLICE = 4096;
const PROMISE_METHOD = /\.[ \t]*(?:then|catch|finally)$/;

/** A character that continues a name (so `import` there is part of one) or a `.` (a member named `import`). */
function isWordOrDot(c: number): boolean {
  return c === 46 || c === 36 || c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127;
}

// ---- variance annotations ---------------------------------------------------------------

// The comment part cannot run past its own `*/`, so a failed match never rescans the file.
const VARIANCE = /[<,]\s*(?:\/\*(?:[^*]|\*(?!\/))*\*\/\s*)?((?:in|out)(?:\s+(?:in|out))*)\s+(?=[A-Za-z_$][\w$]*\s*(?:[,>=]|extends\b))/g;

/** VARIANCE matching only where it starts (lastIndex). */
const VARIANCE_AT = new RegExp(VARIANCE.source, 'y');

/**
 * Whether [from, to) is all of `text`, searched with a global expression; a window after an edit
 * is scanned by trying the expression where a match can start: a search from the window's start
 * runs on to the next match, wherever that is (through the rest of the file when there is none).
 */
function whole(text: string, from: number, to: number): boolean {
  return from === 0 && to >= text.length;
}

/** Variance annotations on type parameters (TS 4.7), `<out A, in out B extends C>`, become spaces: matches starting in [from, to). */
function blankVarianceAnnotations(text: string, from: number, to: number, out: Rewrite[]): void {
  const push = (m: RegExpExecArray) => {
    const mods = m[1]!;
    // Keep line breaks inside `in\n out`, blank everything else.
    out.push({ at: m.index + m[0].indexOf(mods), text: mods.replace(/[^\n]/g, ' '), kind: 'variance' });
  };
  if (whole(text, from, to)) {
    VARIANCE.lastIndex = from;
    for (let m = VARIANCE.exec(text); m && m.index < to; m = VARIANCE.exec(text)) push(m);
    return;
  }
  // The matches a search would find: each starts at a `<` or `,`, the next one after the last's end.
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 60 && c !== 44) continue;
    VARIANCE_AT.lastIndex = i;
    const m = VARIANCE_AT.exec(text);
    if (!m) continue;
    push(m);
    i = m.index + m[0].length - 1;
  }
}

/*
 * Where VARIANCE could match differently after an edit. An attempt to match starts at `<` or `,`
 * and reads on only through whitespace, word characters (`in`, `out`, the parameter's name,
 * `extends`), one `/* ... *\/` comment, and the one character that stops it. So a character
 * outside those, not inside a comment, is a barrier: no attempt starting before it reads past it.
 * Before the edit, the nearest barrier bounds the attempts that read into the edit; after it,
 * the first barrier that cannot itself start a match is where both scans agree again.
 */

function isVarianceClass(c: number): boolean {
  return isSpace(c) || isIdentifierPart(c) || c === 47 /* / */ || c === 42 /* * */;
}

/** Where the last `/*` starting at or before `i` of `text` (the text before or after the edit) is; -1 if none. */
type OpenAt = (text: string, i: number) => number;

/**
 * OpenAt for the two texts of an edit at `start`: they agree before `start`, so the last `/*`
 * of that common part is searched once, and each question searches only what lies after it.
 * Without it a generated string with no comment (a 3.2 MB line) was read back to its start by
 * each of the four questions an edit in it asks.
 */
function commentOpens(text: string, start: number): OpenAt {
  // A `/*` at o is in the common part when o + 1 < start.
  let common: number | undefined;
  const lastCommon = () => (common ??= start >= 2 ? text.lastIndexOf('/*', start - 2) : -1);
  return (t, i) => {
    if (i >= start - 1) {
      const from = Math.max(0, start - 1);
      const k = t.slice(from, i + 2).lastIndexOf('/*');
      return k >= 0 ? from + k : lastCommon();
    }
    const c = lastCommon();
    return c <= i ? c : t.lastIndexOf('/*', i);
  };
}

/**
 * The `/* ... *\/` span containing `i` (as VARIANCE's comment part reads one: from a `/*` to the
 * first `*\/` after it): [open, end), end = text.length when it is not closed; undefined if none.
 */
function commentAround(text: string, i: number, openAt: OpenAt): [open: number, end: number] | undefined {
  const open = openAt(text, i);
  if (open < 0) return undefined;
  const close = text.indexOf('*/', open + 2);
  const end = close < 0 ? text.length : close + 2;
  return end > i ? [open, end] : undefined;
}

/**
 * Where to start scanning again before an edit at `start`: at the nearest barrier in both texts
 * (they are the same before `start`, but a comment around a character may close differently).
 */
function varianceLeft(before: string, text: string, start: number, openAt: OpenAt): number {
  let i = start - 1;
  for (;;) {
    while (i >= 0 && isVarianceClass(text.charCodeAt(i))) i--;
    if (i < 0) return 0;
    const open = Math.min(commentAround(text, i, openAt)?.[0] ?? Infinity, commentAround(before, i, openAt)?.[0] ?? Infinity);
    if (open === Infinity) break;
    i = open - 1;
  }
  const c = text.charCodeAt(i);
  return c === 60 || c === 44 ? i : i + 1; // `<` and `,` may start a match
}

/** Where to stop scanning again after an edit ending at `newEnd` of `text`: the first barrier in both texts. */
function varianceRight(before: string, text: string, newEnd: number, delta: number, openAt: OpenAt): number {
  let i = newEnd;
  for (;;) {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (!isVarianceClass(c) && c !== 60 && c !== 44) break;
      i++;
    }
    if (i >= text.length) return text.length;
    const here = commentAround(text, i, openAt);
    const was = commentAround(before, i - delta, openAt);
    if (!here && !was) return i;
    i = Math.max(here?.[1] ?? 0, (was?.[1] ?? 0) + delta, i + 1);
  }
}

// ---- generic call signatures ------------------------------------------------------------

/**
 * A type member starting with `<` on its own line (a generic call signature) after a member
 * that ended without `;`: TypeScript separates them by the line break, the grammar reads
 * `X<B>\n  <A>(...)` as one expression. A `;` replaces the last space of the indentation.
 * Matches starting in [from, to).
 */
function separateGenericSignatures(text: string, from: number, to: number, out: Rewrite[]): void {
  separateAfterMembers(text, from, to, out, GENERIC_LINE, GENERIC_LINE_AT, 'generic');
}

/**
 * A type member named `in` or `instanceof` on its own line after a member with no separator
 * (`name: string` then `in: "query"`, in effect's OpenApi.ts) gets one, as a generic call
 * signature does: the grammar reads the name as the operator. In both grammars.
 */
function separateKeywordMembers(text: string, from: number, to: number, out: Rewrite[]): void {
  separateAfterMembers(text, from, to, out, KEYWORD_MEMBER_LINE, KEYWORD_MEMBER_LINE_AT, 'member');
}

/**
 * Lines `line` matches (a line break, the indentation as group 1, then what starts the line)
 * whose code before ends like a type member: a `;` replaces the last character of the
 * indentation. `lineAt` is `line` matching only where it starts. Matches starting in [from, to).
 */
function separateAfterMembers(text: string, from: number, to: number, out: Rewrite[], line: RegExp, lineAt: RegExp, kind: 'generic' | 'member'): void {
  const push = (m: RegExpExecArray) => {
    const first = m.index + 1 + m[1]!.length;
    if (endsMember(text, m.index + 1)) out.push({ at: first - 1, text: ';', kind });
  };
  if (whole(text, from, to)) {
    line.lastIndex = from;
    for (let m = line.exec(text); m && m.index < to; m = line.exec(text)) push(m);
    return;
  }
  // As in blankVarianceAnnotations: tried at each line break of the window (a search for the
  // next match would read on past it, through a megabyte-long line if there is one).
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) {
    lineAt.lastIndex = i;
    const m = lineAt.exec(text);
    if (m) push(m);
  }
}

/** A line break, indentation, then `in` or `instanceof` as a property name (`in:`, `in?:`). */
const KEYWORD_MEMBER_LINE = /\n([ \t]+)(?:in|instanceof)(?=\??[ \t]*:)/g;
const KEYWORD_MEMBER_LINE_AT = new RegExp(KEYWORD_MEMBER_LINE.source, 'y');

/** A line break, indentation, then `<` and a name or space: where a generic call signature may start. */
const GENERIC_LINE = /\n([ \t]+)<(?=[A-Za-z_$\s])/g;
const GENERIC_LINE_AT = new RegExp(GENERIC_LINE.source, 'y');

/** Lines `endsMember` looks back over at most. */
const MEMBER_LOOKBACK = 200;

/** Whether the code before `lineStart` (skipping blank and comment lines) ends like a type member. */
function endsMember(text: string, lineStart: number): boolean {
  let end = lineStart - 1; // the '\n' ending the previous line
  for (let guard = 0; guard < MEMBER_LOOKBACK && end > 0; guard++) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).trim();
    end = start - 1;
    if (isSkipped(line)) continue;
    const code = line.endsWith('*/') ? line.slice(0, Math.max(0, line.lastIndexOf('/*'))).trimEnd() : line;
    // `=>` ends an arrow's head, not a member: what follows is its body (`(f) =>` then `<A>(x: A) => ...`).
    return code !== '' && /[\w$>)\]}"'`]$/.test(code) && !code.endsWith('=>');
  }
  return false;
}

function isSkipped(line: string): boolean {
  return line === '' || line.startsWith('//') || line.startsWith('*') || line.startsWith('/*');
}

/**
 * A match is the line break before a line, that line's indentation and `<`, and the character
 * after; its rewrite depends on the lines before it back to the first one `endsMember` does not
 * skip. So the matches an edit can change start at the line break before the edited line, and
 * end with the line after the first line past the edit that is not skipped (or after the
 * look-back's reach).
 */
function genericLeft(text: string, start: number): number {
  return Math.max(0, text.lastIndexOf('\n', start - 1));
}

function genericRight(text: string, newEnd: number): number {
  // The line break ending the edited line (its match looks back at the edited line), then each
  // line break whose match looks back at a skipped line, up to the first that does not.
  let q = text.indexOf('\n', newEnd);
  for (let n = 0; q >= 0 && n <= MEMBER_LOOKBACK; n++) {
    const next = text.indexOf('\n', q + 1);
    if (next < 0) return text.length;
    if (!isSkipped(text.slice(q + 1, next).trim())) return next;
    q = next;
  }
  return q < 0 ? text.length : q;
}
