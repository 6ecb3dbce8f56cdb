// Monorepo workspace packages: which directory each package name lives in, and which source
// file a package specifier (`name`, `name/sub/path`) lands on. Workspace packages usually point
// their manifests at build output, which is not indexed, so targets are mapped back to source.
import { posix } from 'node:path';

/** A parsed package.json. */
export type Manifest = Readonly<Record<string, unknown>>;

/**
 * The indexed source file for a root-relative path written in a manifest, read the way TS reads
 * a specifier (`.js` standing for `.ts`, an extensionless path, a directory's index), or undefined.
 */
export type Probe = (path: string) => string | undefined;

/**
 * Maps each workspace package name to its directory ('' for the root). The globs come from the
 * root package.json `workspaces` and from pnpm-workspace.yaml. The root package is included too:
 * a package may import itself by its own name.
 */
export function findWorkspacePackages(
  manifestAt: (dir: string) => Manifest | undefined,
  pnpmWorkspace: string | undefined,
  directories: Iterable<string>,
): Map<string, string> {
  const root = manifestAt('');
  const globs = [...workspaceGlobs(root?.workspaces), ...(pnpmWorkspace === undefined ? [] : parsePnpmPackages(pnpmWorkspace))];
  const include = globs.filter((g) => !g.startsWith('!')).map(compileGlob);
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => compileGlob(g.slice(1)));
  const packages = new Map<string, string>();
  if (include.length > 0) {
    for (const dir of directories) {
      // npm and pnpm never take packages from node_modules, whatever the glob says.
      if (dir === '' || /(?:^|\/)node_modules(?:\/|$)/.test(dir)) continue;
      const parts = dir.split('/');
      if (!include.some((g) => matchGlob(g, parts, 0, 0)) || exclude.some((g) => matchGlob(g, parts, 0, 0))) continue;
      const name = manifestAt(dir)?.name;
      if (typeof name === 'string' && !packages.has(name)) packages.set(name, dir);
    }
  }
  if (typeof root?.name === 'string' && !packages.has(root.name)) packages.set(root.name, '');
  return packages;
}

/** npm/yarn `workspaces`: an array of globs, or `{ packages: [...] }` (yarn classic). */
function workspaceGlobs(field: unknown): string[] {
  const list = Array.isArray(field) ? field : isObject(field) && Array.isArray(field.packages) ? field.packages : [];
  return list.filter((g): g is string => typeof g === 'string');
}

/**
 * The `packages:` list of a pnpm-workspace.yaml. Only that key is read, as a block list
 * (`- 'packages/*'`) or a flow list (`['a', 'b']`): that is all pnpm puts there.
 */
export function parsePnpmPackages(yaml: string): string[] {
  const lines = yaml.split(/\r?\n/);
  const start = lines.findIndex((line) => /^packages\s*:/.test(line));
  if (start < 0) return [];
  const inline = lines[start].slice(lines[start].indexOf(':') + 1).trim();
  if (inline.startsWith('[')) {
    return inline.slice(1, inline.lastIndexOf(']')).split(',').map(scalar).filter((g) => g !== '');
  }
  const globs: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(?:#.*)?$/.test(line)) continue;
    const item = /^\s*-\s*(.*)$/.exec(line);
    if (!item) break;
    globs.push(scalar(item[1]));
  }
  return globs;
}

/** A YAML scalar: the inside of a leading quoted string, else the text before a ` #` comment. */
function scalar(text: string): string {
  const t = text.trim();
  const quoted = /^(['"])(.*?)\1/.exec(t);
  return quoted ? quoted[2] : t.replace(/(?:^|\s+)#.*$/, '');
}

/** A glob as one matcher per path segment; '**' matches any number of segments. */
type Glob = (RegExp | '**')[];

function compileGlob(glob: string): Glob {
  const parts = glob.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  return parts.map((part) =>
    part === '**' ? '**' : new RegExp(`^${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`),
  );
}

function matchGlob(glob: Glob, parts: string[], gi: number, pi: number): boolean {
  if (gi === glob.length) return pi === parts.length;
  const g = glob[gi];
  if (g === '**') return matchGlob(glob, parts, gi + 1, pi) || (pi < parts.length && matchGlob(glob, parts, gi, pi + 1));
  return pi < parts.length && g.test(parts[pi]) && matchGlob(glob, parts, gi + 1, pi + 1);
}

/**
 * The source file for `subpath` ('' for the package itself) of the package at `dir`: through
 * `exports` first; without exports, or when they lead nowhere, through the entry fields for the
 * package itself and directly for a subpath.
 */
export function resolvePackage(
  dir: string,
  manifest: Manifest,
  subpath: string,
  conditions: ReadonlySet<string>,
  probe: Probe,
): string | undefined {
  const key = subpath === '' ? '.' : `./${subpath}`;
  const exported =
    manifest.exports == null ? undefined : resolveSubpathMap(manifest.exports, key, conditions, (t) => resolveTarget(dir, t, probe));
  return exported ?? (subpath === '' ? resolveEntry(dir, manifest, probe) : resolveTarget(dir, subpath, probe));
}

/** The fields naming a package's entry point, most source-like first. */
const ENTRY_FIELDS = ['source', 'types', 'typings', 'module', 'main'];

/** The entry file of the package (or directory with a package.json) at `dir`. */
export function resolveEntry(dir: string, manifest: Manifest, probe: Probe): string | undefined {
  for (const field of ENTRY_FIELDS) {
    const target = manifest[field];
    const found = typeof target === 'string' ? resolveTarget(dir, target, probe) : undefined;
    if (found) return found;
  }
  return probe(posix.join(dir, 'src/index')) ?? probe(posix.join(dir, 'index'));
}

const OUTPUT_DIR = /^(?:dist|build|lib|out)\/(.+)$/;

/**
 * A manifest target (relative to the package at `dir`) as a source file. When the target itself
 * is not indexed and lies in a build directory, the same path under `src/` is tried, and then
 * without its first segment, for layouts like `dist/esm/x.js` or `dist/types/x.d.ts` built from
 * `src/x.ts`. (The probe maps the output extension back to the source one.)
 */
export function resolveTarget(dir: string, target: string, probe: Probe): string | undefined {
  const rel = posix.normalize(target);
  const found = probe(posix.join(dir, rel));
  const output = found === undefined ? OUTPUT_DIR.exec(rel) : null;
  if (!output) return found;
  const rest = output[1];
  const slash = rest.indexOf('/');
  return probe(posix.join(dir, 'src', rest)) ?? (slash < 0 ? undefined : probe(posix.join(dir, 'src', rest.slice(slash + 1))));
}

/**
 * Looks `key` up in an `exports` map ('.', './sub') or an `imports` map ('#x'), with Node's
 * subpath patterns (`./*`, the longest prefix winning). `tryTarget` turns a target string into a
 * file. Unlike Node, a condition or array entry whose target is not found falls through to the
 * next one: we want the file that exists, not the one a given runtime would load.
 */
export function resolveSubpathMap(
  map: unknown,
  key: string,
  conditions: ReadonlySet<string>,
  tryTarget: (target: string) => string | undefined,
): string | undefined {
  // A string, an array or an object of conditions is shorthand for `{ ".": map }`.
  if (!isObject(map) || !Object.keys(map).some((k) => k.startsWith('.') || k.startsWith('#'))) {
    return key === '.' ? resolveConditional(map, undefined, conditions, tryTarget) : undefined;
  }
  if (Object.hasOwn(map, key) && !key.includes('*')) return resolveConditional(map[key], undefined, conditions, tryTarget);
  let best: string | undefined;
  for (const pattern of Object.keys(map)) {
    const star = pattern.indexOf('*');
    if (star < 0 || star !== pattern.lastIndexOf('*')) continue;
    const matches = key.length >= pattern.length && key.startsWith(pattern.slice(0, star)) && key.endsWith(pattern.slice(star + 1));
    if (matches && (best === undefined || comparePatterns(pattern, best) < 0)) best = pattern;
  }
  if (best === undefined) return undefined;
  const star = best.indexOf('*');
  const match = key.slice(star, key.length - (best.length - star - 1));
  return resolveConditional(map[best], match, conditions, tryTarget);
}

/** Node's PATTERN_KEY_COMPARE: the longer prefix first, then the longer pattern. */
function comparePatterns(a: string, b: string): number {
  return b.indexOf('*') - a.indexOf('*') || b.length - a.length;
}

function resolveConditional(
  value: unknown,
  match: string | undefined,
  conditions: ReadonlySet<string>,
  tryTarget: (target: string) => string | undefined,
): string | undefined {
  if (typeof value === 'string') return tryTarget(match === undefined ? value : value.replaceAll('*', match));
  const options = Array.isArray(value) ? value : isObject(value) ? Object.entries(value).filter(([c]) => conditions.has(c)).map(([, v]) => v) : [];
  for (const option of options) {
    const found = resolveConditional(option, match, conditions, tryTarget);
    if (found) return found;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
