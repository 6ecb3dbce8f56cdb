// Finds the source files under a root: a synchronous walk honouring the configured includes,
// .gitignore files, the default and configured excludes, and symlinks (followed, with loops and
// duplicates refused).
// The exclusion rules live in a PathFilter so the file watcher can judge one path the same way
// without re-walking.
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Diagnostic, Language } from '../model.ts';
import { lastMatch, parseIgnoreFile, type IgnoreRule } from './gitignore.ts';
import { createIncludeFilter } from './include.ts';
import { diagnostic, errorReason, tooLargeDiagnostic } from './read-source.ts';

export interface DiscoverOptions {
  /**
   * Globs relative to root naming the source files to index (include.ts); absent or empty:
   * every file. Directories no pattern can reach are not walked. Excludes apply on top.
   */
  include?: string[];
  /**
   * gitignore-syntax patterns relative to root, applied on top of DEFAULT_EXCLUDES and with
   * precedence over .gitignore files (like git's command-line excludes): `!dist/` re-includes.
   */
  exclude?: string[];
  /** Files larger than this are reported as too-large and skipped. */
  maxFileBytes?: number;
}

export interface DiscoveredFile {
  /** Relative to root, posix separators. */
  path: string;
  abs: string;
  size: number;
  mtimeMs: number;
  language: Language;
}

export interface Discovery {
  files: DiscoveredFile[];
  diagnostics: Diagnostic[];
  /** Every directory walked ('' for root): what a watcher must watch to see every change. */
  directories: string[];
  /** Files that decide how modules resolve (isResolutionConfig), not excluded, with their stat. */
  configFiles: { path: string; size: number; mtimeMs: number }[];
}

export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Directories never indexed, at any depth: dependencies, VCS data, build output, our own state. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  'node_modules/',
  '.git/',
  'dist/',
  'build/',
  'out/',
  'coverage/',
  '.isg/',
  '.next/',
  '.turbo/',
];

const LANGUAGES = new Map<string, Language>([
  ['.ts', 'typescript'],
  ['.mts', 'typescript'],
  ['.cts', 'typescript'],
  // JavaScript goes through the TSX grammar: it accepts JSX and is a superset of JS syntax.
  ['.tsx', 'tsx'],
  ['.js', 'tsx'],
  ['.jsx', 'tsx'],
  ['.mjs', 'tsx'],
  ['.cjs', 'tsx'],
]);

/** Files that decide how import specifiers resolve (tsconfig.ts, workspaces.ts). */
const RESOLUTION_CONFIG = /(^|\/)(tsconfig(\.[\w-]+)?\.json|jsconfig\.json|package\.json|pnpm-workspace\.yaml)$/;

export function isResolutionConfig(filePath: string): boolean {
  return RESOLUTION_CONFIG.test(filePath);
}

/** The language of a source path, or undefined if it is not one we index. `.d.ts` counts. */
export function languageOf(filePath: string): Language | undefined {
  return LANGUAGES.get(path.posix.extname(filePath));
}

export interface PathFilter {
  /** Whether relPath (posix, relative to root) is excluded, itself or through an ancestor directory. */
  isExcluded(relPath: string, isDir: boolean): boolean;
  /**
   * Whether a rule excludes relPath itself, or the includes leave it out (a source file they do
   * not include, a directory they cannot reach); for the walk, which never enters excluded directories.
   */
  excludesEntry(relPath: string, isDir: boolean): boolean;
  /** Drop the cached .gitignore of a directory ('' for root), e.g. after it changed on disk. */
  invalidate(dirRelPath: string): void;
}

/**
 * The exclusion rules for root. .gitignore files are read lazily, once per directory; problems
 * reading one are reported through onDiagnostic and the file is treated as empty.
 */
export function createPathFilter(
  root: string,
  options: DiscoverOptions = {},
  onDiagnostic: (d: Diagnostic) => void = () => {},
): PathFilter {
  const configured = parseIgnoreFile([...DEFAULT_EXCLUDES, ...(options.exclude ?? [])].join('\n'));
  const include = createIncludeFilter(options.include ?? []);
  const gitignores = new Map<string, readonly IgnoreRule[]>();

  function gitignoreOf(dir: string): readonly IgnoreRule[] {
    let rules = gitignores.get(dir);
    if (rules === undefined) {
      const rel = dir === '' ? '.gitignore' : `${dir}/.gitignore`;
      try {
        rules = parseIgnoreFile(readFileSync(path.join(root, rel), 'utf8'));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') onDiagnostic(diagnostic(rel, 'unreadable', `cannot be read (${errorReason(err)})`));
        rules = [];
      }
      gitignores.set(dir, rules);
    }
    return rules;
  }

  function excludesEntry(relPath: string, isDir: boolean): boolean {
    // Includes name source files: the config files that decide resolution are not theirs to drop.
    if (include && (isDir ? !include.mayContain(relPath) : languageOf(relPath) !== undefined && !include.includesFile(relPath))) return true;
    const verdict = lastMatch(configured, relPath, isDir);
    if (verdict !== undefined) return verdict;
    // Every .gitignore from root down to the parent, each matched relative to its directory;
    // the deepest one with a matching rule decides.
    let ignored = false;
    let slash = -1;
    do {
      const v = lastMatch(gitignoreOf(relPath.slice(0, Math.max(slash, 0))), relPath.slice(slash + 1), isDir);
      if (v !== undefined) ignored = v;
      slash = relPath.indexOf('/', slash + 1);
    } while (slash >= 0);
    return ignored;
  }

  return {
    excludesEntry,
    isExcluded(relPath, isDir) {
      // git never looks inside an excluded directory, so nothing below it can be re-included.
      for (let slash = relPath.indexOf('/'); slash >= 0; slash = relPath.indexOf('/', slash + 1)) {
        if (excludesEntry(relPath.slice(0, slash), true)) return true;
      }
      return excludesEntry(relPath, isDir);
    },
    invalidate(dirRelPath) {
      gitignores.delete(dirRelPath);
    },
  };
}

interface DirVisit {
  rel: string;
  real: string;
  /** Realpaths of the directories above this one on the walked path, to spot symlink loops. */
  ancestors: readonly string[];
}

interface LinkedFile {
  rel: string;
  abs: string;
  real: string;
  stat: Stats;
}

/**
 * Every source file under root that no exclude rule covers, sorted by path, plus a diagnostic
 * for each entry skipped because of a problem (never for excluded ones). Throws only when root
 * itself is missing or not a directory.
 */
export function discoverFiles(root: string, options: DiscoverOptions = {}): Discovery {
  const rootAbs = path.resolve(root);
  let rootReal: string;
  try {
    rootReal = realpathSync(rootAbs);
  } catch {
    throw new Error(`root not found: ${root}`);
  }
  if (!statSync(rootReal).isDirectory()) throw new Error(`root is not a directory: ${root}`);

  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const files: DiscoveredFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const directories: string[] = [];
  const configFiles: Discovery['configFiles'] = [];
  const report = (d: Diagnostic) => diagnostics.push(d);
  const filter = createPathFilter(rootAbs, options, report);
  // realpath -> relative path under which it was indexed, to index each file and directory once.
  const seenDirs = new Map<string, string>();
  const seenFiles = new Map<string, string>();
  // Real directories are walked before symlinked ones and symlinked files are taken last, so
  // that something reachable both ways is indexed under its real path.
  const realDirs: DirVisit[] = [{ rel: '', real: rootReal, ancestors: [] }];
  const linkedDirs: DirVisit[] = [];
  const linkedFiles: LinkedFile[] = [];

  function addFile(rel: string, abs: string, real: string, stat: Stats): void {
    const earlier = seenFiles.get(real);
    if (stat.size > maxBytes) report(tooLargeDiagnostic(rel, stat.size, maxBytes));
    else if (earlier !== undefined) report(diagnostic(rel, 'symlink-duplicate', `same file as ${earlier}`));
    else {
      seenFiles.set(real, rel);
      files.push({ path: rel, abs, size: stat.size, mtimeMs: stat.mtimeMs, language: languageOf(rel)! });
    }
  }

  function addConfigFile(rel: string, abs: string): void {
    try {
      const stat = statSync(abs);
      configFiles.push({ path: rel, size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      // Gone since readdir: nothing to resolve through.
    }
  }

  function walk(dir: DirVisit): void {
    const earlier = seenDirs.get(dir.real);
    if (earlier !== undefined) {
      const looped = dir.ancestors.includes(dir.real);
      const reason = looped ? `symlink loop back to ${earlier || '.'}` : `same directory as ${earlier || '.'}`;
      report(diagnostic(dir.rel, looped ? 'symlink-loop' : 'symlink-duplicate', reason));
      return;
    }
    seenDirs.set(dir.real, dir.rel);
    directories.push(dir.rel);
    const dirAbs = path.join(rootAbs, dir.rel);
    let entries;
    try {
      entries = readdirSync(dirAbs, { withFileTypes: true });
    } catch (err) {
      report(diagnostic(dir.rel, 'unreadable', `directory cannot be read (${errorReason(err)})`));
      return;
    }
    const ancestors = [...dir.ancestors, dir.real];
    for (const entry of entries) {
      const rel = dir.rel === '' ? entry.name : `${dir.rel}/${entry.name}`;
      const abs = path.join(dirAbs, entry.name);
      if (entry.isDirectory()) {
        if (!filter.excludesEntry(rel, true)) realDirs.push({ rel, real: path.join(dir.real, entry.name), ancestors });
      } else if (entry.isFile()) {
        if (languageOf(rel) === undefined) {
          if (isResolutionConfig(rel) && !filter.excludesEntry(rel, false)) addConfigFile(rel, abs);
          continue;
        }
        if (filter.excludesEntry(rel, false)) continue;
        try {
          addFile(rel, abs, path.join(dir.real, entry.name), statSync(abs));
        } catch (err) {
          report(diagnostic(rel, 'unreadable', `cannot be read (${errorReason(err)})`));
        }
      } else if (entry.isSymbolicLink()) {
        let stat: Stats;
        let real: string;
        try {
          stat = statSync(abs);
          real = realpathSync(abs);
        } catch (err) {
          if (filter.excludesEntry(rel, false)) continue;
          const loop = (err as NodeJS.ErrnoException).code === 'ELOOP';
          report(diagnostic(rel, loop ? 'symlink-loop' : 'unreadable', loop ? 'symlink loop' : `symlink target cannot be read (${errorReason(err)})`));
          continue;
        }
        if (stat.isDirectory()) {
          if (!filter.excludesEntry(rel, true)) linkedDirs.push({ rel, real, ancestors });
        } else if (stat.isFile() && languageOf(rel) !== undefined && !filter.excludesEntry(rel, false)) {
          linkedFiles.push({ rel, abs, real, stat });
        }
      }
      // Sockets, FIFOs and devices are not source files (and reading a FIFO would block).
    }
  }

  let next: DirVisit | undefined;
  while ((next = realDirs.pop() ?? linkedDirs.shift())) walk(next);
  for (const link of linkedFiles) addFile(link.rel, link.abs, link.real, link.stat);

  files.sort((a, b) => compare(a.path, b.path));
  diagnostics.sort((a, b) => compare(a.file, b.file) || compare(a.code, b.code));
  directories.sort(compare);
  configFiles.sort((a, b) => compare(a.path, b.path));
  return { files, diagnostics, directories, configFiles };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
