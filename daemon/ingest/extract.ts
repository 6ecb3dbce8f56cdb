// Extraction: one file's text -> FileFacts. The syntax that matters is described by the .scm
// queries in ./queries; collect.ts folds their matches into plain records and assemble.ts
// turns those into facts. It never throws on bad input: syntax errors become diagnostics and
// whatever parsed is kept.
//
// After an edit, `reextract` re-parses incrementally and runs the query only over the
// top-level statements the edit touched; the records of every other statement are kept
// (shifted), so the cost follows the size of the edit, not of the file. Files with syntax errors
// are the exception (see `reextract`).
import type { Language } from '../model.ts';
import { assemble } from './assemble.ts';
import { collect, type Collected } from './collect.ts';
import type { FileFacts } from './facts.ts';
import { parse, queryRange, toolsFor, type SyntaxNode, type SyntaxTree } from './parser.ts';
import { editBetween } from './text-edit.ts';
import { parserInput } from './grammar-gaps.ts';

/** What a later `reextract` needs: the text, its tree and the records collected from it. */
export interface Extraction {
  path: string;
  language: Language;
  text: string;
  /** What the parser was given (grammar-gaps.ts): same length and lines as `text`. */
  input: string;
  tree: SyntaxTree;
  collected: Collected;
  facts: FileFacts;
}

export function extractFile(path: string, language: Language, text: string): Extraction {
  const input = parserInput(text, language);
  const tree = parse(language, input);
  const collected = collect(text, toolsFor(language).extraction.matches(tree.rootNode));
  return finish(path, language, text, input, tree, collected);
}

export function reextract(previous: Extraction, text: string): Extraction {
  const { path, language } = previous;
  const input = parserInput(text, language);
  // The tree is edited by how the parser input changed; the records also depend on the raw
  // text (names, signatures), so the range to re-collect covers both changes.
  const edit = editBetween(previous.input, input);
  const rawEdit = editBetween(previous.text, text);
  previous.tree.edit(edit);
  const tree = parse(language, input, previous.tree);
  // Error recovery after an incremental parse can differ from a fresh parse of the same text;
  // a file with syntax errors is extracted afresh so the graph never depends on edit history.
  if (tree.rootNode.hasError || previous.tree.rootNode.hasError) return extractFile(path, language, text);
  const delta = text.length - previous.text.length;
  let lo = Math.min(edit.startIndex, rawEdit.startIndex);
  let hi = Math.max(edit.newEndIndex, rawEdit.newEndIndex);
  for (const r of previous.tree.getChangedRanges(tree)) {
    lo = Math.min(lo, r.startIndex);
    hi = Math.max(hi, r.endIndex);
  }
  const range = statementRange(tree.rootNode, lo, hi);
  const oldEnd = range.end - delta; // where the re-collected range ended before the edit
  const rowDelta = lineCount(text) - lineCount(previous.text); // one contiguous edit: every later line moves by this
  const fresh = collect(
    text,
    toolsFor(language)
      .extraction.matches(tree.rootNode, queryRange(range.start, range.end))
      .filter((m) => {
        const s = mainStart(m.captures);
        return s >= range.start && s < range.end;
      }),
  );
  const collected = splice(previous.collected, fresh, range.start, oldEnd, delta, rowDelta);
  return finish(path, language, text, input, tree, collected);
}

function finish(path: string, language: Language, text: string, input: string, tree: SyntaxTree, collected: Collected): Extraction {
  const facts = assemble(path, language, text, lineCount(text), collected);
  return { path, language, text, input, tree, collected, facts };
}

/**
 * The run of whole top-level statements covering [lo, hi), plus the statement after it: a doc
 * comment belongs to the declaration that follows it, and statements sharing the last line
 * would see their columns move.
 */
function statementRange(root: SyntaxNode, lo: number, hi: number): { start: number; end: number } {
  const children = root.children;
  let start = lo;
  let end = hi;
  let i = 0;
  while (i < children.length && children[i]!.endIndex <= lo) i++;
  if (i < children.length) start = Math.min(start, children[i]!.startIndex);
  while (i < children.length && children[i]!.startIndex < hi) end = Math.max(end, children[i++]!.endIndex);
  const lastRow = root.descendantForIndex(Math.max(0, end - 1)).endPosition.row;
  while (i < children.length) {
    const next = children[i++]!;
    end = Math.max(end, next.endIndex);
    if (next.type !== 'comment' && next.startPosition.row > lastRow) break;
  }
  return { start, end };
}

/** Old records before `start` kept, those at or after `oldEnd` shifted, `fresh` in between. */
function splice(old: Collected, fresh: Collected, start: number, oldEnd: number, delta: number, rowDelta: number): Collected {
  const merge = <T extends { start: number }>(a: T[], b: T[], shift: (x: T) => T): T[] => {
    const out: T[] = [];
    for (const x of a) if (x.start < start) out.push(x);
    out.push(...b);
    for (const x of a) if (x.start >= oldEnd) out.push(shift(x));
    return out;
  };
  const moved = <T extends { start: number }>(x: T): T => ({ ...x, start: x.start + delta });
  const movedLine = <T extends { start: number; line: number }>(x: T): T => ({ ...x, start: x.start + delta, line: x.line + rowDelta });
  return {
    declarations: merge(old.declarations, fresh.declarations, (d) => ({ ...d, start: d.start + delta, end: d.end + delta, line: d.line + rowDelta, endLine: d.endLine + rowDelta })),
    refs: merge(old.refs, fresh.refs, movedLine),
    bindings: merge(old.bindings, fresh.bindings, moved),
    callbackParams: merge(old.callbackParams, fresh.callbackParams, moved),
    typeParameters: merge(old.typeParameters, fresh.typeParameters, moved),
    imports: merge(old.imports, fresh.imports, movedLine),
    exports: merge(old.exports, fresh.exports, moved),
    errors: merge(old.errors, fresh.errors, movedLine),
  };
}

function mainStart(captures: { name: string; node: SyntaxNode }[]): number {
  for (const c of captures) if (c.name.includes('.')) return c.node.startIndex;
  return -1;
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
