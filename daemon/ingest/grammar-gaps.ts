// Work-arounds for TypeScript syntax that tree-sitter-typescript 0.23 (the newest published
// grammar) does not parse, applied to the parser's input only. Every rewrite keeps the text's
// length and line breaks, so offsets and positions in the tree are those of the real file, and
// everything read from the file (names, signatures, docs) is read from the real text.
// Both rewrites are linear scans: a regular expression with nested quantifiers over whitespace
// and comments backtracked without end on some files.

export function parserInput(text: string, language: 'typescript' | 'tsx'): string {
  const edits: [at: number, replacement: string][] = [];
  blankVarianceAnnotations(text, edits);
  if (language === 'typescript') separateGenericSignatures(text, edits);
  if (!edits.length) return text;
  edits.sort((a, b) => a[0] - b[0]);
  let out = '';
  let from = 0;
  for (const [at, replacement] of edits) {
    out += text.slice(from, at) + replacement;
    from = at + replacement.length;
  }
  return out + text.slice(from);
}

// The comment part cannot run past its own `*/`, so a failed match never rescans the file.
const VARIANCE = /[<,]\s*(?:\/\*(?:[^*]|\*(?!\/))*\*\/\s*)?((?:in|out)(?:\s+(?:in|out))*)\s+(?=[A-Za-z_$][\w$]*\s*(?:[,>=]|extends\b))/g;

/** Variance annotations on type parameters (TS 4.7), `<out A, in out B extends C>`, become spaces. */
function blankVarianceAnnotations(text: string, edits: [number, string][]): void {
  VARIANCE.lastIndex = 0;
  for (let m = VARIANCE.exec(text); m; m = VARIANCE.exec(text)) {
    const mods = m[1]!;
    // Keep line breaks inside `in\n out`, blank everything else.
    edits.push([m.index + m[0].indexOf(mods), mods.replace(/[^\n]/g, ' ')]);
  }
}

/**
 * A type member starting with `<` on its own line (a generic call signature) after a member
 * that ended without `;`: TypeScript separates them by the line break, the grammar reads
 * `X<B>\n  <A>(...)` as one expression. A `;` replaces the last space of the indentation.
 */
function separateGenericSignatures(text: string, edits: [number, string][]): void {
  GENERIC_LINE.lastIndex = 0;
  for (let m = GENERIC_LINE.exec(text); m; m = GENERIC_LINE.exec(text)) {
    const lt = m.index + m[0].length - 1;
    if (endsMember(text, m.index + 1)) edits.push([lt - 1, ';']);
  }
}

/** A line break, indentation, then `<` and a name or space: where a generic call signature may start. */
const GENERIC_LINE = /\n[ \t]+<(?=[A-Za-z_$\s])/g;

/** Whether the code before `lineStart` (skipping blank and comment lines) ends like a type member. */
function endsMember(text: string, lineStart: number): boolean {
  let end = lineStart - 1; // the '\n' ending the previous line
  for (let guard = 0; guard < 200 && end > 0; guard++) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).trim();
    end = start - 1;
    if (line === '' || line.startsWith('//') || line.startsWith('*') || line.startsWith('/*')) continue;
    const last = line.endsWith('*/') ? line.slice(0, Math.max(0, line.lastIndexOf('/*'))).trimEnd().slice(-1) : line.slice(-1);
    return last !== '' && /[\w$>)\]}]/.test(last);
  }
  return false;
}
