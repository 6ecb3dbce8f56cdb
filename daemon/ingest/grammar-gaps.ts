// Work-arounds for TypeScript syntax that tree-sitter-typescript 0.23 (the newest published
// grammar) does not parse, applied to the parser's input only. Every rewrite keeps the text's
// length and line breaks, so offsets and positions in the tree are those of the real file, and
// everything read from the file (names, signatures, docs) is read from the real text.

/** Variance annotations on type parameters (TS 4.7): `<out A, in out B extends C>`. */
const VARIANCE = /([<,]\s*(?:\/\*[^]*?\*\/\s*|\/\/[^\n]*\n\s*)*)((?:in|out)(?:\s+(?:in|out))*)(\s+)(?=[A-Za-z_$][\w$]*\s*(?:[,>=]|extends\b))/g;

/**
 * A type member starting with `<` on its own line (a generic call signature) after a member
 * that ended without `;`: TypeScript separates them by the line break, the grammar reads
 * `X<B>\n<A>(...)` as one expression. A `;` replaces one space of the indentation.
 */
const GENERIC_SIGNATURE_LINE = /([\w$>)\]])(\s*(?:\/\*[^]*?\*\/\s*|\/\/[^\n]*\n\s*)*\n[ \t]*)[ \t](<[A-Za-z_$])/g;

export function parserInput(text: string, language: 'typescript' | 'tsx'): string {
  let out = text.replace(VARIANCE, (_m, before: string, mods: string, space: string) => before + ' '.repeat(mods.length) + space);
  if (language === 'typescript') out = out.replace(GENERIC_SIGNATURE_LINE, (_m, end: string, gap: string, open: string) => `${end}${gap};${open}`);
  return out;
}
