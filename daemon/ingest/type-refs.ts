// Type references inside a type's text. Capturing every type identifier with a query costs a
// match per identifier (most of them type parameters like `A`, `E`, `R`); one match per type
// annotation plus this scan over its text is several times cheaper, and sees the same names.

const KEYWORDS = new Set([
  'string', 'number', 'boolean', 'any', 'unknown', 'never', 'void', 'object', 'symbol', 'bigint',
  'undefined', 'null', 'this', 'true', 'false', 'keyof', 'typeof', 'infer', 'readonly', 'unique',
  'asserts', 'is', 'extends', 'in', 'out', 'const', 'new', 'abstract', 'import', 'declare',
]);

/** Strings, comments, or a dotted name with what follows it (to tell `key:` from a type). */
const TOKEN = /(["'`])(?:\\[^]|(?!\1)[^\\])*\1|\/\*[^]*?\*\/|\/\/[^\n]*|([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)(\s*\??\s*[:(])?/g;

/** `import("./x").A.B` after its `import`: the specifier and the member path, if any (sticky: read at an offset). */
const IMPORT_TYPE_TAIL = /\s*\(\s*(["'])([^"'\n]*)\1\s*\)((?:\s*\.\s*[A-Za-z_$][\w$]*)*)/y;

/**
 * An import type (`import("./x").A.B`) as a reference path: the specifier in the head, between
 * two U+0001 (a specifier may hold dots; no name holds that character), then `.A.B`, so that the
 * last segment is still the name referred to.
 */
function importTypePath(specifier: string, members: string): string {
  return `\u0001${specifier}\u0001.${members}`;
}

/** The parts of an `importTypePath`, or undefined for an ordinary path. */
export function parseImportTypePath(path: string): { specifier: string; members: string[] } | undefined {
  if (path.charCodeAt(0) !== 1) return undefined;
  const close = path.indexOf('\u0001', 1);
  return { specifier: path.slice(1, close), members: path.slice(close + 2).split('.') };
}

/**
 * Calls `emit(path, offset)` for each type name referenced in `text` (offset relative to it),
 * `declare(name)` for names a type itself introduces (`infer X`, `[K in ...]`), and
 * `imports(specifier, offset)` for each module an import type names (`typeof import("./x")`
 * too). Property and parameter names, member names after `.`, `typeof x` operands and keywords
 * are skipped; an import type's reference is one path (`importTypePath`).
 */
export function scanTypeReferences(
  text: string,
  emit: (path: string, offset: number) => void,
  declare: (name: string) => void,
  imports: (specifier: string, offset: number) => void,
): void {
  TOKEN.lastIndex = 0;
  let previousWord = '';
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    const path = m[2];
    if (path === undefined) {
      // A string or a comment; but a template literal type (`prefix-${Id}`) holds types in its
      // `${...}` holes. Scanning them re-enters this function, which reuses TOKEN: resume after.
      if (m[1] === '`') {
        const resume = TOKEN.lastIndex;
        for (const hole of templateHoles(m[0])) {
          const at = m.index + hole.offset;
          scanTypeReferences(hole.text, (p, o) => emit(p, at + o), declare, (s, o) => imports(s, at + o));
        }
        TOKEN.lastIndex = resume;
      }
      continue;
    }
    const word = previousWord;
    previousWord = path;
    if (path === 'import') {
      // From the word's end: TOKEN's match took the `(` after it too.
      IMPORT_TYPE_TAIL.lastIndex = m.index + path.length;
      const tail = IMPORT_TYPE_TAIL.exec(text);
      if (tail) {
        imports(tail[2]!, m.index);
        // `typeof import("./x").f` is the value f: no type reference, as for `typeof x`.
        if (word !== 'typeof' && tail[3]) emit(importTypePath(tail[2]!, tail[3].replace(/\s+/g, '').slice(1)), m.index);
        TOKEN.lastIndex = IMPORT_TYPE_TAIL.lastIndex;
        previousWord = '';
        continue;
      }
    }
    if (KEYWORDS.has(path)) continue;
    const beforeAt = previousNonSpaceAt(text, m.index);
    const before = beforeAt < 0 ? '' : text[beforeAt]!;
    // After `.` a name is a member, but after `...` (a spread in a tuple type) it is a type.
    if ((before === '.' && !(text[beforeAt - 1] === '.' && text[beforeAt - 2] === '.')) || word === 'typeof') continue;
    if (before === '[' && isComputedKey(text, m.index, m.index + path.length)) continue;
    if (word === 'infer') {
      declare(path);
      continue;
    }
    const after = m[3];
    if (after !== undefined) {
      // `name:` / `name?:` is a property or parameter name, `name(` a method; but in a
      // conditional type `A extends B ? C : D`, `C :` is a type.
      if (after.endsWith('(') || before !== '?') continue;
    }
    if (/^\s*in\b/.test(text.slice(m.index + m[0].length, m.index + m[0].length + 4)) && before === '[') {
      declare(path); // mapped type key: `[K in keyof T]`
      continue;
    }
    emit(path.replace(/\s+/g, ''), m.index);
  }
}

/** The `${...}` parts of a template literal (brace-balanced), with their offsets in it. */
function templateHoles(literal: string): { text: string; offset: number }[] {
  const out: { text: string; offset: number }[] = [];
  for (let i = literal.indexOf('${'); i >= 0; i = literal.indexOf('${', i)) {
    let depth = 1;
    let j = i + 2;
    for (; j < literal.length && depth > 0; j++) {
      if (literal[j] === '{') depth++;
      else if (literal[j] === '}') depth--;
    }
    out.push({ text: literal.slice(i + 2, j - 1), offset: i + 2 });
    i = j;
  }
  return out;
}

/**
 * Whether the name at [start, end) is a computed member key of a type literal, `{ [KEY]: T }`
 * or `{ readonly [KEY]?(): T }`: a value (a symbol or string constant), as `typeof x` is, not a
 * type. Its `[` starts a member (after `{`, `;`, `,`, `readonly` or the start) and its `]` is
 * followed by `:`, `?` or `(`; `T[K]` and tuples `[A]` are not.
 */
function isComputedKey(text: string, start: number, end: number): boolean {
  const i = previousNonSpaceAt(text, previousNonSpaceAt(text, start)); // before the `[`
  const opens = i < 0 || text[i] === '{' || text[i] === ';' || text[i] === ',' || (text.endsWith('readonly', i + 1) && !/[\w$]/.test(text[i - 8] ?? ''));
  if (!opens) return false;
  let j = end;
  while (j < text.length && text.charCodeAt(j) <= 32) j++;
  if (text[j] !== ']') return false;
  j++;
  while (j < text.length && text.charCodeAt(j) <= 32) j++;
  return text[j] === ':' || text[j] === '?' || text[j] === '(';
}

/** Offset of the last character before `i` that is not a space, -1 if none. */
function previousNonSpaceAt(text: string, i: number): number {
  let j = i - 1;
  while (j >= 0 && text.charCodeAt(j) <= 32) j--;
  return j;
}

/**
 * The parameters of a type parameter list `<in out A extends X = Y, B>`: each name, and the text
 * after it (constraint and default, which hold references) with its offset in `text`.
 */
export function splitTypeParameters(text: string): { name: string; rest?: string; restOffset: number }[] {
  const out: { name: string; rest?: string; restOffset: number }[] = [];
  let depth = 0;
  let start = 1; // after '<'
  const flush = (end: number) => {
    const part = text.slice(start, end);
    // Comments may come first (zod: `/** @ts-ignore Cast variance */ out T extends ...`).
    const m = /^(?:\s|\/\*[^]*?\*\/|\/\/[^\n]*)*(?:(?:in|out|const)\s+)*([A-Za-z_$][\w$]*)/.exec(part);
    if (m) {
      const restStart = start + m[0].length;
      const rest = text.slice(restStart, end);
      out.push(rest.trim() ? { name: m[1]!, rest, restOffset: restStart } : { name: m[1]!, restOffset: restStart });
    }
    start = end + 1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '<' || c === '(' || c === '[' || c === '{') depth++;
    else if ((c === '>' && text[i - 1] !== '=') || c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        flush(i);
        break;
      }
    } else if (c === ',' && depth === 1) flush(i);
  }
  return out;
}
