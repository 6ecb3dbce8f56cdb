// A .gitignore matcher following git's own rules (dir.c + wildmatch.c), without a dependency.
// Each pattern is compiled to one RegExp when the file is parsed; matching is then a regex test.
// Layering across nested .gitignore files and "an excluded directory is never entered" are the
// caller's job (see createPathFilter in discover.ts): this module matches one rule list.

export interface IgnoreRule {
  /** `!pattern`: a match re-includes the path. */
  readonly negated: boolean;
  /** `pattern/`: matches directories only. */
  readonly dirOnly: boolean;
  /** No `/` except a trailing one: matched against the last path component, at any depth. */
  readonly basenameOnly: boolean;
  readonly regex: RegExp;
}

/** The regex of a pattern git could never match (an unclosed `[`, an unknown `[:class:]`). */
export const NEVER = /(?!)/;

// ASCII only, as in wildmatch's <ctype.h> classes with the C locale.
const POSIX_CLASSES = new Map([
  ['alnum', 'a-zA-Z0-9'],
  ['alpha', 'a-zA-Z'],
  ['blank', ' \\t'],
  ['cntrl', '\\x00-\\x1f\\x7f'],
  ['digit', '0-9'],
  ['graph', '\\x21-\\x7e'],
  ['lower', 'a-z'],
  ['print', '\\x20-\\x7e'],
  ['punct', '!-\\/:-@\\[-`{-~'],
  ['space', ' \\t\\n\\v\\f\\r'],
  ['upper', 'A-Z'],
  ['xdigit', '0-9a-fA-F'],
]);

/** Parses the text of one .gitignore file into its rules, in order. */
export function parseIgnoreFile(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  // git skips a UTF-8 BOM and treats CRLF like LF.
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const rule = parseIgnoreLine(line);
    if (rule) rules.push(rule);
  }
  return rules;
}

/** Compiles one line; undefined for blank lines and comments. */
export function parseIgnoreLine(line: string): IgnoreRule | undefined {
  if (line.startsWith('#')) return undefined;
  let body = trimTrailingSpaces(line);
  const negated = body.startsWith('!');
  if (negated) body = body.slice(1);
  const dirOnly = body.endsWith('/');
  if (dirOnly) body = body.slice(0, -1);
  if (body === '') return undefined;
  // A slash at the start or in the middle anchors the pattern to the .gitignore's directory.
  const basenameOnly = !body.includes('/');
  if (body.startsWith('/')) body = body.slice(1);
  const source = compileGlob(body);
  return {
    negated,
    dirOnly,
    basenameOnly,
    regex: source === undefined ? NEVER : new RegExp(`^${source}$`),
  };
}

/**
 * The verdict of the last rule matching `relPath` (relative to the directory holding the rules,
 * posix separators, no trailing slash): true = ignored, false = re-included, undefined = no rule
 * matched. Does not look at ancestors.
 */
export function lastMatch(rules: readonly IgnoreRule[], relPath: string, isDir: boolean): boolean | undefined {
  const basename = relPath.slice(relPath.lastIndexOf('/') + 1);
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (rule.dirOnly && !isDir) continue;
    if (rule.regex.test(rule.basenameOnly ? basename : relPath)) return !rule.negated;
  }
  return undefined;
}

// git drops unescaped trailing spaces (not tabs); `\ ` keeps the space.
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ') end--;
  if (end < line.length && countTrailingBackslashes(line, end) % 2 === 1) end++;
  return line.slice(0, end);
}

function countTrailingBackslashes(s: string, end: number): number {
  let n = 0;
  while (end - n > 0 && s[end - n - 1] === '\\') n++;
  return n;
}

/**
 * Translates a wildmatch pattern (as used with WM_PATHNAME) to a regex source, or undefined when
 * git could never match it (unterminated `[`, unknown `[:class:]`, trailing lone backslash).
 */
function compileGlob(glob: string): string | undefined {
  // git compares the literal prefix (up to the first special character) on its own and hands
  // only the rest to wildmatch (dir.c, match_pathname), so a `**` right after that prefix counts
  // as the start of the pattern: `foo**/bar` matches `foo/x/bar` and `foobar`.
  const literalPrefix = glob.search(/[*?[\\]/);
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const ch = glob[i]!;
    if (ch === '*') {
      let end = i;
      while (glob[end] === '*') end++;
      const atSegmentStart = i === literalPrefix || glob[i - 1] === '/';
      // wildmatch also accepts an escaped slash after `**`.
      const slashLength = glob[end] === '/' ? 1 : glob.startsWith('\\/', end) ? 2 : 0;
      if (end - i >= 2 && atSegmentStart && (end === glob.length || slashLength > 0)) {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        if (end === glob.length) out += '.*';
        else {
          out += '(?:.*/)?';
          end += slashLength;
        }
      } else {
        // Any other run of stars is a plain `*`, which stops at `/`.
        out += '[^/]*';
      }
      i = end;
    } else if (ch === '?') {
      out += '[^/]';
      i++;
    } else if (ch === '[') {
      const cls = compileBracket(glob, i);
      if (!cls) return undefined;
      out += cls.source;
      i = cls.end;
    } else if (ch === '\\') {
      if (i + 1 >= glob.length) return undefined;
      out += escapeRegex(glob[i + 1]!);
      i += 2;
    } else {
      out += escapeRegex(ch);
      i++;
    }
  }
  return out;
}

/** Compiles the bracket expression starting at glob[start] === '['; undefined if git would abort. */
function compileBracket(glob: string, start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  const negated = glob[i] === '!' || glob[i] === '^';
  if (negated) i++;
  let items = '';
  // The previous single character, for `a-z`; reset after a range or class, as in wildmatch.
  let prev: string | undefined;
  // wildmatch reads one item before looking for `]`, so a leading `]` is literal: `[]a]`.
  let first = true;
  while (first || glob[i] !== ']') {
    first = false;
    if (i >= glob.length) return undefined;
    let ch = glob[i]!;
    if (ch === '\\') {
      i++;
      if (i >= glob.length) return undefined;
      ch = glob[i]!;
      items += escapeClassChar(ch);
      prev = ch;
      i++;
    } else if (ch === '-' && prev !== undefined && i + 1 < glob.length && glob[i + 1] !== ']') {
      i++;
      let hi = glob[i]!;
      if (hi === '\\') {
        i++;
        if (i >= glob.length) return undefined;
        hi = glob[i]!;
      }
      // A reversed range matches nothing (a JS regex would reject it).
      if (prev <= hi) items += `${escapeClassChar(prev)}-${escapeClassChar(hi)}`;
      prev = undefined;
      i++;
    } else if (ch === '[' && glob[i + 1] === ':') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) return undefined;
      if (glob[close - 1] !== ':' || close - 1 < i + 2) {
        // No `:]` before the next `]`: the `[` is an ordinary member.
        items += escapeClassChar('[');
        prev = '[';
        i++;
        continue;
      }
      const named = POSIX_CLASSES.get(glob.slice(i + 2, close - 1));
      if (named === undefined) return undefined;
      items += named;
      prev = undefined;
      i = close + 1;
    } else {
      items += escapeClassChar(ch);
      prev = ch;
      i++;
    }
  }
  // With WM_PATHNAME a bracket expression never matches `/`.
  const source = negated ? `[^/${items}]` : items === '' ? '(?!)' : `(?!/)[${items}]`;
  return { source, end: i + 1 };
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function escapeClassChar(ch: string): string {
  return /[\\\]\[^-]/.test(ch) ? `\\${ch}` : ch;
}
