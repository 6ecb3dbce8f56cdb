// isg.config.json's `include`: globs relative to the root naming the source files to index
// (none: every file). The syntax is exclude's (git's wildmatch: `*`, `?`, `[...]`, `**`), but a
// pattern is always anchored at the root, as in tsconfig's `include`, and a directory that
// matches includes everything below it. Excludes and .gitignore files still apply on top.
import { lastMatch, NEVER, parseIgnoreLine, type IgnoreRule } from './gitignore.ts';

export interface IncludeFilter {
  /** Whether a source file (relative to root, posix) is included, itself or by a directory above it. */
  includesFile(relPath: string): boolean;
  /**
   * Whether a directory may hold included files: it is included, or a pattern may match below
   * it. Directories no pattern can reach are neither walked nor watched.
   */
  mayContain(relPath: string): boolean;
}

/** Why `pattern` cannot be an include pattern, or undefined when it can (for config errors). */
export function includeProblem(pattern: string): string | undefined {
  if (pattern.startsWith('!')) return 'cannot be negated; put the exception in "exclude"';
  if (pattern.startsWith('/') || pattern.split('/').some((s) => s === '.' || s === '..')) return 'must be relative to the root, without a leading /, ./ or ..';
  const rule = parseIgnoreLine(`/${pattern}`);
  if (!rule || rule.regex === NEVER) return 'is not a glob that can match anything (an unclosed [ or an unknown [:class:]?)';
  return undefined;
}

/** The filter for `patterns`, or undefined when there are none (everything is included). */
export function createIncludeFilter(patterns: readonly string[]): IncludeFilter | undefined {
  if (!patterns.length) return undefined;
  // A leading slash anchors a gitignore pattern to its directory, here the root.
  const rules = patterns.map((p) => parseIgnoreLine(`/${p}`)).filter((r): r is IgnoreRule => r !== undefined);
  const prefixes = patterns.map(literalPrefix);
  const matches = (relPath: string, isDir: boolean) => lastMatch(rules, relPath, isDir) === true;
  // Directories are few and judged again for every file below them: each is judged once.
  const included = new Map<string, boolean>();
  const dirIncluded = (relPath: string): boolean => {
    if (relPath === '') return false;
    let verdict = included.get(relPath);
    if (verdict === undefined) {
      verdict = matches(relPath, true) || dirIncluded(parentOf(relPath));
      included.set(relPath, verdict);
    }
    return verdict;
  };
  return {
    includesFile: (relPath) => matches(relPath, false) || dirIncluded(parentOf(relPath)),
    mayContain: (relPath) => relPath === '' || dirIncluded(relPath) || prefixes.some((prefix) => agrees(prefix, relPath.split('/'))),
  };
}

/** The leading path segments of a pattern that hold no wildcard: any match lies below them. */
function literalPrefix(pattern: string): string[] {
  const segments = pattern.replace(/\/+$/, '').split('/');
  const end = segments.findIndex((s) => /[*?[\\]/.test(s));
  return end < 0 ? segments : segments.slice(0, end);
}

/** Whether a directory lies on the way to a prefix, or below it. */
function agrees(prefix: readonly string[], dir: readonly string[]): boolean {
  const n = Math.min(prefix.length, dir.length);
  for (let i = 0; i < n; i++) if (prefix[i] !== dir[i]) return false;
  return true;
}

function parentOf(relPath: string): string {
  const slash = relPath.lastIndexOf('/');
  return slash < 0 ? '' : relPath.slice(0, slash);
}
