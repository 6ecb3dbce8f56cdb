// The compiler options that steer module resolution (baseUrl, paths, customConditions), read
// from the tsconfig.json nearest to a file, its `extends` chain merged the way tsc merges it.
import { posix } from 'node:path';
import { parseJsonc } from './jsonc.ts';

/** Reads a file under the root by relative posix path; undefined when there is none. */
export type TextReader = (relPath: string) => string | undefined;

/** One `paths` entry. A key `@app/*` has prefix `@app/` and suffix ''. */
export interface PathPattern {
  prefix: string;
  /** Text after the `*`; undefined for a key without a wildcard, which must match exactly. */
  suffix: string | undefined;
  /** Root-relative substitutions, in the order tsc tries them, `*` left in place. */
  substitutions: string[];
}

export interface ResolutionOptions {
  /** Root-relative directory that bare specifiers are also looked up in; undefined if unset. */
  baseUrl: string | undefined;
  /** Exact keys first, then wildcards by decreasing prefix length: the first that matches wins. */
  paths: PathPattern[];
  customConditions: string[];
}

/**
 * Returns the options for a directory (root-relative, '' for the root): those of the nearest
 * tsconfig.json at or above it, undefined when there is none. Cached per directory; make a new
 * lookup after a config changed.
 */
export function createTsconfigLookup(read: TextReader): (dir: string) => ResolutionOptions | undefined {
  const byDir = new Map<string, ResolutionOptions | undefined>();
  const lookup = (dir: string): ResolutionOptions | undefined => {
    if (byDir.has(dir)) return byDir.get(dir);
    const found =
      loadTsconfig(dir === '' ? 'tsconfig.json' : `${dir}/tsconfig.json`, read) ??
      (dir === '' ? undefined : lookup(dir.slice(0, Math.max(0, dir.lastIndexOf('/')))));
    byDir.set(dir, found);
    return found;
  };
  return lookup;
}

/** A setting with the directory of the config file that made it: its paths are relative to that. */
interface Located<T> {
  value: T;
  dir: string;
}

interface RawOptions {
  baseUrl?: Located<string>;
  paths?: Located<Record<string, unknown>>;
  customConditions?: string[];
  references?: Located<unknown[]>;
}

/** The resolution options of one config file (root-relative path), `extends` followed; undefined if it does not exist. */
export function loadTsconfig(configPath: string, read: TextReader): ResolutionOptions | undefined {
  const text = read(configPath);
  if (text === undefined) return undefined;
  const raw = loadRaw(configPath, text, read, new Set());
  // A solution-style config (`files: []` plus `references`, as Vite scaffolds) holds no options
  // itself: the referenced project that sets paths or baseUrl is the one that covers the sources.
  if (!raw.paths && !raw.baseUrl && raw.references) {
    for (const ref of raw.references.value) {
      if (!isObject(ref) || typeof ref.path !== 'string') continue;
      const path = posix.join(raw.references.dir, ref.path);
      const refPath = path.endsWith('.json') ? path : posix.join(path, 'tsconfig.json');
      const refText = read(refPath);
      const referenced = refText === undefined ? {} : loadRaw(refPath, refText, read, new Set([configPath]));
      if (referenced.paths || referenced.baseUrl) return finish(referenced, posix.dirname(refPath));
    }
  }
  return finish(raw, posix.dirname(configPath));
}

/** Reads one config and what it extends; `visiting` holds the chain being read, to stop cycles. */
function loadRaw(configPath: string, text: string, read: TextReader, visiting: Set<string>): RawOptions {
  const json = parseJsonc(text);
  if (!isObject(json)) return {};
  const dir = posix.dirname(configPath);
  let merged: RawOptions = {};
  visiting.add(configPath);
  // TS 5 array form: later entries override earlier ones, the config itself overrides them all.
  const bases = Array.isArray(json.extends) ? json.extends : [json.extends];
  for (const spec of bases) {
    const base = typeof spec === 'string' ? findExtended(dir, spec, read) : undefined;
    if (base !== undefined && !visiting.has(base.path)) {
      merged = { ...merged, ...loadRaw(base.path, base.text, read, visiting) };
    }
  }
  visiting.delete(configPath);
  const options = isObject(json.compilerOptions) ? json.compilerOptions : {};
  if (typeof options.baseUrl === 'string') merged.baseUrl = { value: options.baseUrl, dir };
  if (isObject(options.paths)) merged.paths = { value: options.paths, dir };
  if (Array.isArray(options.customConditions)) {
    merged.customConditions = options.customConditions.filter((c): c is string => typeof c === 'string');
  }
  // `references` are not inherited through extends.
  if (Array.isArray(json.references)) merged.references = { value: json.references, dir };
  else delete merged.references;
  return merged;
}

interface ConfigFile {
  path: string;
  text: string;
}

/** The config file an `extends` names: a relative path (`.json` optional) or a package's config. */
function findExtended(dir: string, spec: string, read: TextReader): ConfigFile | undefined {
  const first = (...paths: (string | undefined)[]): ConfigFile | undefined => {
    for (const path of paths) {
      const text = path === undefined ? undefined : read(path);
      if (path !== undefined && text !== undefined) return { path, text };
    }
    return undefined;
  };
  if (spec.startsWith('./') || spec.startsWith('../')) {
    const path = posix.join(dir, spec);
    return first(path, path.endsWith('.json') ? undefined : `${path}.json`);
  }
  if (posix.isAbsolute(spec)) return undefined; // outside the indexed root
  const isPackageName = spec.split('/').length === (spec.startsWith('@') ? 2 : 1);
  // Walk up the node_modules directories as Node does.
  for (let d = dir; ; d = posix.dirname(d)) {
    const base = posix.join(d, 'node_modules', spec);
    let found: ConfigFile | undefined;
    if (isPackageName) {
      // A bare package name means its package.json `tsconfig` field, else its tsconfig.json.
      const manifest = parseJsonc(read(posix.join(base, 'package.json')) ?? '');
      const named = isObject(manifest) && typeof manifest.tsconfig === 'string' ? posix.join(base, manifest.tsconfig) : undefined;
      found = first(named, posix.join(base, 'tsconfig.json'));
    } else {
      found = first(base, `${base}.json`);
    }
    if (found || d === '.') return found;
  }
}

/** Makes every path root-relative. `${configDir}` (TS 5.5) stands for the leaf config's directory. */
function finish(raw: RawOptions, leafDir: string): ResolutionOptions {
  const place = (dir: string, value: string): string =>
    value.startsWith('${configDir}') ? posix.join(leafDir, value.slice('${configDir}'.length)) : posix.join(dir, value);
  const baseUrl = raw.baseUrl && place(raw.baseUrl.dir, raw.baseUrl.value);
  const paths: PathPattern[] = [];
  if (raw.paths) {
    // Substitutions are relative to baseUrl when there is one, else to the config defining paths.
    const base = baseUrl ?? raw.paths.dir;
    for (const [key, subs] of Object.entries(raw.paths.value)) {
      const star = key.indexOf('*');
      if (!Array.isArray(subs) || star !== key.lastIndexOf('*')) continue; // tsc rejects two wildcards
      paths.push({
        prefix: star < 0 ? key : key.slice(0, star),
        suffix: star < 0 ? undefined : key.slice(star + 1),
        substitutions: subs.filter((s): s is string => typeof s === 'string').map((s) => place(base, s)),
      });
    }
    const rank = (p: PathPattern): number => (p.suffix === undefined ? Number.MAX_SAFE_INTEGER : p.prefix.length);
    paths.sort((a, b) => rank(b) - rank(a));
  }
  return { baseUrl, paths, customConditions: raw.customConditions ?? [] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
