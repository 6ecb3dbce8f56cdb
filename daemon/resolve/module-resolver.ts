// Import specifier -> file of the indexed root, the way TypeScript's bundler/nodenext resolution
// finds it, without the compiler: relative and root-absolute paths with TS's extension rules,
// tsconfig `paths`/`baseUrl`, package.json `imports`, workspace packages; any other bare
// specifier is an external package. Pure: all IO goes through the FileSystemView.
import { posix } from 'node:path';
import { parseJsonc } from './jsonc.ts';
import { createTsconfigLookup, type ResolutionOptions, type TextReader } from './tsconfig.ts';
import { findWorkspacePackages, resolveEntry, resolvePackage, resolveSubpathMap, resolveTarget, type Manifest } from './workspaces.ts';

export type ModuleResolution =
  /** A file of the root (relative, posix). */
  | { kind: 'file'; path: string }
  /** A bare specifier not in the workspace (npm package, node:fs ...). */
  | { kind: 'external'; packageName: string }
  /** Looks local but no such file. */
  | { kind: 'unresolved' };

export interface FileSystemView {
  /** The indexed source files (relative posix paths). The resolver must see additions/removals (it is the live set). */
  hasFile(relPath: string): boolean;
  /** Text of any file under the root (tsconfig.json, package.json, pnpm-workspace.yaml) or undefined. */
  readText(relPath: string): string | undefined;
  /** Directories that exist under the root (relative posix, '' is the root), for workspace glob expansion. */
  directories(): Iterable<string>;
}

export interface ModuleResolver {
  resolve(fromFile: string, specifier: string): ModuleResolution;
  /** Forget cached results after the file set changed (files added or removed). */
  invalidateFiles(): void;
  /** Forget everything after a tsconfig.json or package.json changed. */
  invalidateConfig(): void;
}

/** What a written extension may stand for, in the order TS tries them. */
const TS_ORDER = ['.ts', '.tsx', '.d.ts', '.js', '.jsx'];
const TSX_ORDER = ['.tsx', '.ts', '.d.ts', '.jsx', '.js'];
const MTS_ORDER = ['.mts', '.d.mts', '.mjs'];
const CTS_ORDER = ['.cts', '.d.cts', '.cjs'];
const SUBSTITUTES = new Map([
  ['.js', TS_ORDER], ['.ts', TS_ORDER], ['.d.ts', TS_ORDER],
  ['.jsx', TSX_ORDER], ['.tsx', TSX_ORDER],
  ['.mjs', MTS_ORDER], ['.mts', MTS_ORDER], ['.d.mts', MTS_ORDER],
  ['.cjs', CTS_ORDER], ['.cts', CTS_ORDER], ['.d.cts', CTS_ORDER],
]);
/** Tried after an extensionless path (and after one whose extension led nowhere: `./a.service`). */
const EXTENSIONLESS = [...TS_ORDER, '.mts', '.cts', '.mjs', '.cjs'];
const WRITTEN_EXTENSION = /\.d\.[cm]?ts$|\.[^./]+$/;

/** Export/import conditions honoured besides tsconfig `customConditions`. Any runtime's target maps back to the same source. */
const BASE_CONDITIONS = ['types', 'import', 'require', 'node', 'default', 'source'];

const UNRESOLVED: ModuleResolution = Object.freeze({ kind: 'unresolved' });

export function createModuleResolver(fs: FileSystemView): ModuleResolver {
  // The reader never leaves the root, whatever a config or specifier says.
  const read: TextReader = (path) => (isOutside(path) ? undefined : fs.readText(path));
  /** directory of the importing file -> specifier -> result: all a result depends on. */
  let results = new Map<string, Map<string, ModuleResolution>>();
  /** file -> its directory's map in `results`. */
  let resultsOfFile = new Map<string, Map<string, ModuleResolution>>();
  let tsconfigFor = createTsconfigLookup(read);
  let manifests = new Map<string, Manifest | undefined>();
  let workspaces: Map<string, string> | undefined;

  const manifestAt = (dir: string): Manifest | undefined => {
    if (manifests.has(dir)) return manifests.get(dir);
    const json = parseJsonc(read(posix.join(dir, 'package.json')) ?? '');
    const manifest = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Manifest) : undefined;
    manifests.set(dir, manifest);
    return manifest;
  };

  const firstFile = (stem: string, extensions: readonly string[]): string | undefined => {
    for (const ext of extensions) if (fs.hasFile(stem + ext)) return stem + ext;
    return undefined;
  };

  const loadFile = (path: string): string | undefined => {
    const ext = WRITTEN_EXTENSION.exec(path)?.[0];
    if (ext !== undefined) {
      const stem = path.slice(0, -ext.length);
      const substitutes = SUBSTITUTES.get(ext);
      // Any other extension is taken as written, or as its declaration file (`a.css` -> `a.d.css.ts`).
      const found = substitutes ? firstFile(stem, substitutes) : fs.hasFile(path) ? path : firstFile(`${stem}.d${ext}`, ['.ts']);
      if (found) return found;
    }
    return firstFile(path, EXTENSIONLESS);
  };

  const loadIndex = (dir: string): string | undefined => firstFile(posix.join(dir, 'index'), EXTENSIONLESS);
  const probe = (path: string): string | undefined => {
    const clean = withoutSlash(path);
    return loadFile(clean) ?? loadIndex(clean);
  };
  /** A path as a file, else as a directory: its package.json entry, else its index. */
  const loadPath = (path: string): string | undefined => {
    if (isOutside(path)) return undefined;
    const clean = withoutSlash(path);
    const asFile = loadFile(clean);
    if (asFile) return asFile;
    const manifest = manifestAt(clean);
    return manifest ? resolveEntry(clean, manifest, probe) : loadIndex(clean);
  };

  const conditionsOf = (options: ResolutionOptions | undefined): ReadonlySet<string> =>
    new Set([...BASE_CONDITIONS, ...(options?.customConditions ?? [])]);

  const resolveBare = (dir: string, specifier: string): ModuleResolution => {
    const options = tsconfigFor(dir);
    if (options) {
      // Only the best-matching pattern is used; when none of its substitutions exist, TS goes on.
      const pattern = options.paths.find((p) =>
        p.suffix === undefined
          ? specifier === p.prefix
          : specifier.length >= p.prefix.length + p.suffix.length && specifier.startsWith(p.prefix) && specifier.endsWith(p.suffix),
      );
      if (pattern) {
        const match = pattern.suffix === undefined ? undefined : specifier.slice(pattern.prefix.length, specifier.length - pattern.suffix.length);
        for (const substitution of pattern.substitutions) {
          const found = loadPath(posix.normalize(match === undefined ? substitution : substitution.replace('*', match)));
          if (found) return file(found);
        }
      }
      const found = options.baseUrl === undefined ? undefined : loadPath(posix.join(options.baseUrl, specifier));
      if (found) return file(found);
    }
    const name = packageName(specifier);
    workspaces ??= findWorkspacePackages(manifestAt, read('pnpm-workspace.yaml'), fs.directories());
    const packageDir = workspaces.get(name);
    if (packageDir === undefined) return { kind: 'external', packageName: name };
    const manifest = manifestAt(packageDir);
    const subpath = specifier.slice(name.length + 1);
    const found = manifest && resolvePackage(packageDir, manifest, subpath, conditionsOf(options), probe);
    return found ? file(found) : UNRESOLVED;
  };

  /** `#name`: the `imports` map of the nearest package.json. */
  const resolveSubpathImport = (dir: string, specifier: string): ModuleResolution => {
    let scope = dir;
    let manifest = manifestAt(scope);
    while (!manifest) {
      if (scope === '') return UNRESOLVED;
      scope = parentDir(scope);
      manifest = manifestAt(scope);
    }
    let other = undefined as ModuleResolution | undefined;
    const found = resolveSubpathMap(manifest.imports, specifier, conditionsOf(tsconfigFor(dir)), (target) => {
      if (target.startsWith('./')) return resolveTarget(scope, target, probe);
      // An import may map to a package, which may be external.
      const viaPackage = resolveBare(scope, target);
      if (viaPackage.kind === 'file') return viaPackage.path;
      other ??= viaPackage;
      return undefined;
    });
    return found ? file(found) : (other ?? UNRESOLVED);
  };

  const resolveUncached = (dir: string, specifier: string): ModuleResolution => {
    if (specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../')) {
      return fileOrUnresolved(loadPath(posix.join(dir, specifier)));
    }
    if (specifier.startsWith('/')) return fileOrUnresolved(loadPath(posix.normalize(specifier.slice(1))));
    if (specifier.startsWith('#')) return resolveSubpathImport(dir, specifier);
    return resolveBare(dir, specifier);
  };

  return {
    resolve(fromFile, specifier) {
      // Found by the file first: resolution runs per reference, and a file's path is the same
      // string every time (its hash is kept), where its directory would be a new one.
      let byDir = resultsOfFile.get(fromFile);
      if (byDir === undefined) {
        const dir = parentDir(fromFile);
        byDir = results.get(dir);
        if (byDir === undefined) results.set(dir, (byDir = new Map()));
        resultsOfFile.set(fromFile, byDir);
      }
      let result = byDir.get(specifier);
      if (result === undefined) byDir.set(specifier, (result = resolveUncached(parentDir(fromFile), specifier)));
      return result;
    },
    invalidateFiles() {
      results = new Map();
      resultsOfFile = new Map();
      // Workspace globs are expanded against the directories, which follow the files.
      workspaces = undefined;
    },
    invalidateConfig() {
      results = new Map();
      resultsOfFile = new Map();
      workspaces = undefined;
      tsconfigFor = createTsconfigLookup(read);
      manifests = new Map();
    },
  };
}

/** Whether a root-relative path leaves the root. */
function isOutside(path: string): boolean {
  return path === '..' || path.startsWith('../') || path.startsWith('/');
}

/** `dir/` -> `dir`, and the root ('.' from path functions) as ''. */
function withoutSlash(path: string): string {
  const clean = path.endsWith('/') ? path.slice(0, -1) : path;
  return clean === '.' ? '' : clean;
}

function parentDir(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** `@scope/pkg` or `pkg` (`node:fs` for `node:fs/promises`). */
function packageName(specifier: string): string {
  const parts = specifier.split('/', 2);
  return specifier.startsWith('@') && parts.length === 2 ? `${parts[0]}/${parts[1]}` : parts[0];
}

function file(path: string): ModuleResolution {
  return { kind: 'file', path };
}

function fileOrUnresolved(path: string | undefined): ModuleResolution {
  return path === undefined ? UNRESOLVED : file(path);
}
