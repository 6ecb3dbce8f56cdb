// Module resolution without the compiler: every rule on small in-memory trees, then every
// relative import of two real code bases (rxjs, zod) must land on a file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript5';
import { parseJsonc } from '../daemon/resolve/jsonc.ts';
import { createModuleResolver, type FileSystemView, type ModuleResolution } from '../daemon/resolve/module-resolver.ts';
import { loadTsconfig } from '../daemon/resolve/tsconfig.ts';
import { parsePnpmPackages } from '../daemon/resolve/workspaces.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const SOURCE = /\.(?:[cm]?[jt]sx?)$/;

interface MemoryFs extends FileSystemView {
  write(path: string, text: string): void;
}

/** A view over an object of files: the source files are the indexed ones, all are readable. */
function memoryFs(initial: Record<string, string>): MemoryFs {
  const files = new Map(Object.entries(initial));
  return {
    hasFile: (path) => SOURCE.test(path) && files.has(path),
    readText: (path) => files.get(path),
    directories() {
      const dirs = new Set(['']);
      for (const path of files.keys()) {
        for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) dirs.add(path.slice(0, i));
      }
      return dirs;
    },
    write: (path, text) => void files.set(path, text),
  };
}

/** Files given as a list of paths (empty sources) plus configs given with their text. */
function tree(paths: string[], configs: Record<string, unknown> = {}): MemoryFs {
  const files: Record<string, string> = Object.fromEntries(paths.map((p) => [p, '']));
  for (const [path, value] of Object.entries(configs)) files[path] = typeof value === 'string' ? value : JSON.stringify(value);
  return memoryFs(files);
}

const file = (path: string): ModuleResolution => ({ kind: 'file', path });
const external = (packageName: string): ModuleResolution => ({ kind: 'external', packageName });
const unresolved: ModuleResolution = { kind: 'unresolved' };

/** Asserts each [from, specifier, expected] row; reports all mismatches at once. */
function expectAll(fs: FileSystemView, rows: [string, string, ModuleResolution][]): void {
  const resolver = createModuleResolver(fs);
  const actual = rows.map(([from, spec]) => [from, spec, resolver.resolve(from, spec)]);
  assert.deepEqual(actual, rows);
}

test('jsonc: comments, trailing commas, strings left alone, bad input is undefined', () => {
  const text = `\uFEFF{
    // line comment
    "a": "x // not a comment, ]", /* block
    comment */ "b": [1, 2, ],
    "c": { "d": "say \\"hi\\"", },
  }`;
  assert.deepEqual(parseJsonc(text), { a: 'x // not a comment, ]', b: [1, 2], c: { d: 'say "hi"' } });
  assert.equal(parseJsonc('{ "a": 1 /* unterminated'), undefined);
  assert.equal(parseJsonc('{ "a": }'), undefined);
  assert.equal(parseJsonc(''), undefined);
});

test('relative specifiers: extension substitution, TS extension order, explicit .ts, root-absolute', () => {
  const fs = tree([
    'src/a.ts', 'src/b.ts', 'src/c.tsx', 'src/m.mts', 'src/k.cts', 'src/v.tsx', 'src/decl.d.ts', 'src/plain.js',
    'src/a.service.ts', 'src/styles.d.css.ts',
    'src/both.ts', 'src/both.tsx', 'src/tsx-or-dts.tsx', 'src/tsx-or-dts.d.ts', 'src/dts-or-js.d.ts', 'src/dts-or-js.js',
    'src/only-mjs.mjs', 'lib/x.ts',
  ]);
  expectAll(fs, [
    ['src/a.ts', './b', file('src/b.ts')],
    ['src/a.ts', './b.js', file('src/b.ts')],
    ['src/a.ts', './b.ts', file('src/b.ts')],
    ['src/a.ts', './c.js', file('src/c.tsx')],
    ['src/a.ts', './v.jsx', file('src/v.tsx')],
    ['src/a.ts', './m.mjs', file('src/m.mts')],
    ['src/a.ts', './k.cjs', file('src/k.cts')],
    ['src/a.ts', './decl', file('src/decl.d.ts')],
    ['src/a.ts', './decl.js', file('src/decl.d.ts')],
    ['src/a.ts', './plain', file('src/plain.js')],
    ['src/a.ts', './a.service', file('src/a.service.ts')],
    ['src/a.ts', './styles.css', file('src/styles.d.css.ts')],
    ['src/a.ts', './both', file('src/both.ts')],
    ['src/a.ts', './both.js', file('src/both.ts')],
    ['src/a.ts', './both.jsx', file('src/both.tsx')],
    ['src/a.ts', './tsx-or-dts', file('src/tsx-or-dts.tsx')],
    ['src/a.ts', './dts-or-js', file('src/dts-or-js.d.ts')],
    ['src/a.ts', './only-mjs', file('src/only-mjs.mjs')],
    ['src/a.ts', '../lib/x.js', file('lib/x.ts')],
    ['src/a.ts', '/lib/x', file('lib/x.ts')],
    ['src/a.ts', './missing', unresolved],
    ['src/a.ts', './b.json', unresolved],
    ['src/a.ts', '../../outside', unresolved],
  ]);
});

test('directories: x.ts before x/index.ts, index files, package.json entry mapped to source', () => {
  const fs = tree(
    ['src/a.ts', 'src/x.ts', 'src/x/index.ts', 'src/dir/index.tsx', 'src/pkg/src/index.ts', 'src/main/lib/entry.ts', 'index.ts'],
    {
      'src/pkg/package.json': { types: './dist/index.d.ts', main: './dist/index.js' },
      'src/main/package.json': { main: 'lib/entry.js' },
    },
  );
  expectAll(fs, [
    ['src/a.ts', './x', file('src/x.ts')],
    ['src/a.ts', './x/index', file('src/x/index.ts')],
    ['src/a.ts', './dir', file('src/dir/index.tsx')],
    ['src/a.ts', './dir/', file('src/dir/index.tsx')],
    ['src/a.ts', './pkg', file('src/pkg/src/index.ts')],
    ['src/a.ts', './main', file('src/main/lib/entry.ts')],
    ['src/dir/index.tsx', '..', unresolved],
    ['src/a.ts', '..', file('index.ts')],
    ['src/a.ts', '.', unresolved],
  ]);
});

test('tsconfig paths: exact keys, longest prefix wins, substitutions in order, then baseUrl, then external', () => {
  const fs = tree(
    ['src/a.ts', 'src/app/one.ts', 'src/special/one.ts', 'src/lib/index.ts', 'src/gen/thing.ts', 'src/thing.ts', 'src/other.ts', 'src/utils/str.ts'],
    {
      'tsconfig.json': `{
        // comments and trailing commas, as tsc allows
        "compilerOptions": {
          "baseUrl": "./src",
          "paths": {
            "@app/*": ["app/*"],
            "@app/special/*": ["special/*"],
            "@lib": ["lib/index.ts"],
            "~/*": ["gen/*", "*"],
            "@none/*": ["nowhere/*"],
          },
        },
      }`,
    },
  );
  expectAll(fs, [
    ['src/a.ts', '@app/one', file('src/app/one.ts')],
    ['src/a.ts', '@app/special/one', file('src/special/one.ts')],
    ['src/a.ts', '@lib', file('src/lib/index.ts')],
    ['src/a.ts', '~/thing', file('src/gen/thing.ts')],
    ['src/a.ts', '~/other', file('src/other.ts')],
    ['src/a.ts', 'utils/str', file('src/utils/str.ts')],
    ['src/a.ts', '@none/x', external('@none/x')],
    ['src/a.ts', 'react', external('react')],
  ]);
});

test('tsconfig extends: chains, .json optional, arrays, packages, ${configDir}, nearest config wins', () => {
  const fs = tree(
    [
      'packages/app/src/main.ts', 'packages/app/src/deep/x.ts', 'configs/shared/s.ts', 'packages/app/local/l.ts',
      'packages/lib/src/main.ts', 'packages/lib/gen/g.ts', 'tools/t.ts', 'node_modules/some-preset/x/y.ts',
    ],
    {
      // paths without baseUrl are relative to the config that defines them (configs/).
      'configs/paths.json': { compilerOptions: { paths: { '@shared/*': ['./shared/*'] } } },
      'tsconfig.base.json': { extends: './configs/paths.json', compilerOptions: { strict: true } },
      'packages/app/tsconfig.json': { extends: '../../tsconfig.base' },
      // A nearer config wins; with a baseUrl, its paths are relative to that.
      'packages/app/local/tsconfig.json': { extends: '../tsconfig.json', compilerOptions: { baseUrl: '.', paths: { '@shared/*': ['./*'] } } },
      // Array form: the later config's paths replace the earlier ones wholesale.
      'packages/lib/tsconfig.json': { extends: ['../../tsconfig.base', '@org/tsconfig'] },
      'node_modules/@org/tsconfig/package.json': { name: '@org/tsconfig', tsconfig: 'base.json' },
      'node_modules/@org/tsconfig/base.json': { compilerOptions: { paths: { '@gen/*': ['${configDir}/gen/*'] } } },
      'tools/tsconfig.json': { extends: './base.json' },
      'tools/base.json': { extends: 'some-preset/tsconfig.json' },
      'node_modules/some-preset/tsconfig.json': { compilerOptions: { paths: { 'preset/*': ['./x/*'] } } },
    },
  );
  expectAll(fs, [
    ['packages/app/src/main.ts', '@shared/s', file('configs/shared/s.ts')],
    ['packages/app/src/deep/x.ts', '@shared/s.js', file('configs/shared/s.ts')],
    ['packages/app/local/l.ts', '@shared/l', file('packages/app/local/l.ts')],
    ['packages/lib/src/main.ts', '@gen/g', file('packages/lib/gen/g.ts')],
    ['packages/lib/src/main.ts', '@shared/s', external('@shared/s')],
    ['tools/t.ts', 'preset/y', file('node_modules/some-preset/x/y.ts')],
  ]);
});

test('tsconfig extends cycles end without hanging and keep what was read', () => {
  const fs = tree(['src/a.ts', 'src/b.ts'], {
    'tsconfig.json': { extends: './one.json' },
    // baseUrl (from two.json) is what one.json's paths are relative to.
    'one.json': { extends: './two', compilerOptions: { paths: { '@b': ['./b.ts'] } } },
    'two.json': { extends: './one.json', compilerOptions: { baseUrl: './src' } },
    'self/tsconfig.json': { extends: './tsconfig.json' },
  });
  expectAll(fs, [
    ['src/a.ts', '@b', file('src/b.ts')],
    ['src/a.ts', 'b', file('src/b.ts')],
    ['self/x.ts', 'b', external('b')],
  ]);
  const options = loadTsconfig('tsconfig.json', fs.readText);
  assert.equal(options?.baseUrl, 'src');
});

test('tsconfig solution style: a referenced project supplies the paths', () => {
  const fs = tree(['src/a.ts', 'src/lib/b.ts'], {
    'tsconfig.json': { files: [], references: [{ path: './tsconfig.node.json' }, { path: './tsconfig.app.json' }] },
    'tsconfig.node.json': { compilerOptions: { strict: true } },
    'tsconfig.app.json': { compilerOptions: { paths: { '@/*': ['./src/*'] } } },
  });
  expectAll(fs, [['src/a.ts', '@/lib/b', file('src/lib/b.ts')]]);
});

test('npm workspaces: names to directories, entry fields mapped from dist to src, subpaths', () => {
  const fs = tree(
    [
      'apps/web/src/main.ts', 'packages/util/src/index.ts', 'packages/util/src/strings.ts', 'packages/esm/src/index.ts',
      'packages/plain/index.ts', 'packages/srconly/src/index.ts', 'apps/tools/cli/src/index.ts', 'packages/broken/src/other.ts',
    ],
    {
      'package.json': { name: 'root', private: true, workspaces: ['packages/*', 'apps/**'] },
      'packages/util/package.json': { name: '@org/util', main: 'dist/index.js', types: 'dist/index.d.ts' },
      'packages/esm/package.json': { name: 'esm', module: './dist/esm/index.mjs' },
      'packages/plain/package.json': { name: 'plain' },
      'packages/srconly/package.json': { name: 'srconly', main: 'build/main.js' },
      'packages/broken/package.json': { name: 'broken', main: 'dist/index.js' },
      'apps/tools/cli/package.json': { name: 'cli' },
      'node_modules/react/package.json': { name: 'react' },
    },
  );
  expectAll(fs, [
    ['apps/web/src/main.ts', '@org/util', file('packages/util/src/index.ts')],
    ['apps/web/src/main.ts', '@org/util/src/strings', file('packages/util/src/strings.ts')],
    ['apps/web/src/main.ts', '@org/util/dist/strings.js', file('packages/util/src/strings.ts')],
    ['apps/web/src/main.ts', 'esm', file('packages/esm/src/index.ts')],
    ['apps/web/src/main.ts', 'plain', file('packages/plain/index.ts')],
    ['apps/web/src/main.ts', 'srconly', file('packages/srconly/src/index.ts')],
    ['apps/web/src/main.ts', 'cli', file('apps/tools/cli/src/index.ts')],
    ['apps/web/src/main.ts', 'broken', unresolved],
    ['apps/web/src/main.ts', 'react', external('react')],
    ['apps/web/src/main.ts', '@org/other/x', external('@org/other')],
    ['apps/web/src/main.ts', 'node:fs', external('node:fs')],
    ['apps/web/src/main.ts', 'node:fs/promises', external('node:fs')],
    ['apps/web/src/main.ts', 'fs', external('fs')],
  ]);
  // yarn classic form
  const yarn = tree(['pkgs/a/src/index.ts', 'main.ts'], {
    'package.json': { workspaces: { packages: ['pkgs/*'] } },
    'pkgs/a/package.json': { name: 'a', types: 'lib/index.d.ts' },
  });
  expectAll(yarn, [['main.ts', 'a', file('pkgs/a/src/index.ts')]]);
});

test('pnpm workspaces: block and flow lists, quotes, comments, negation', () => {
  assert.deepEqual(parsePnpmPackages(`# workspace\npackages:\n  # apps\n  - 'apps/*'\n  - "libs/**" # all libs\n  - tools\n  - '!libs/ignored'\ncatalog:\n  - x\n`), [
    'apps/*', 'libs/**', 'tools', '!libs/ignored',
  ]);
  assert.deepEqual(parsePnpmPackages(`packages: ['a/*', "b"]\n`), ['a/*', 'b']);
  assert.deepEqual(parsePnpmPackages(`catalog: {}\n`), []);
  const fs = tree(['apps/web/main.ts', 'libs/core/src/index.ts', 'libs/ignored/src/index.ts', 'libs/nested/deep/index.ts'], {
    'pnpm-workspace.yaml': `packages:\n  - 'libs/**'\n  - '!libs/ignored'\n`,
    'libs/core/package.json': { name: '@x/core', types: './dist/index.d.ts' },
    'libs/ignored/package.json': { name: 'ignored' },
    'libs/nested/deep/package.json': { name: 'deep' },
  });
  expectAll(fs, [
    ['apps/web/main.ts', '@x/core', file('libs/core/src/index.ts')],
    ['apps/web/main.ts', 'deep', file('libs/nested/deep/index.ts')],
    ['apps/web/main.ts', 'ignored', external('ignored')],
  ]);
});

test('exports maps: sugar, nested conditions, subpath patterns, source and custom conditions', () => {
  const fs = tree(
    [
      'app/main.ts', 'p/sugar/src/index.ts', 'p/nested/src/index.ts', 'p/nested/src/feature/a.ts', 'p/nested/src/feature/deep/b.ts',
      'p/nested/src/internal/x.ts', 'p/src-cond/lib/entry.ts', 'p/custom/src/real.ts', 'p/custom/src/decoy.ts', 'p/flavors/src/index.ts',
      'p/flavors/src/utils/u.ts',
    ],
    {
      'package.json': { workspaces: ['p/*'] },
      'app/tsconfig.json': { compilerOptions: { customConditions: ['@org/source'] } },
      'p/sugar/package.json': { name: 'sugar', exports: './dist/index.js' },
      'p/nested/package.json': {
        name: 'nested',
        exports: {
          '.': { import: { types: './dist/index.d.mts', default: './dist/index.mjs' }, require: './dist/index.cjs' },
          './feature/*': { types: './dist/feature/*.d.ts', default: './dist/feature/*.js' },
          './feature/deep/*': './dist/feature/deep/*.js',
          './internal/*': null,
          './package.json': './package.json',
        },
      },
      'p/src-cond/package.json': { name: 'src-cond', exports: { '.': { source: './lib/entry.ts', default: './dist/x.js' } } },
      'p/custom/package.json': { name: 'custom', exports: { '@org/source': './src/real.ts', browser: './src/decoy.ts', default: './dist/nothing.js' } },
      'p/flavors/package.json': {
        name: 'flavors',
        exports: { '.': { types: './dist/types/index.d.ts', default: './dist/esm5/index.js' }, './utils/*': './dist/cjs/utils/*.js' },
      },
    },
  );
  expectAll(fs, [
    ['app/main.ts', 'sugar', file('p/sugar/src/index.ts')],
    // dist/index.mjs maps to src/index.mts, which does not exist; the condition falls through.
    ['app/main.ts', 'nested', file('p/nested/src/index.ts')],
    ['app/main.ts', 'nested/feature/a', file('p/nested/src/feature/a.ts')],
    ['app/main.ts', 'nested/feature/deep/b', file('p/nested/src/feature/deep/b.ts')],
    ['app/main.ts', 'src-cond', file('p/src-cond/lib/entry.ts')],
    ['app/main.ts', 'custom', file('p/custom/src/real.ts')],
    ['app/main.ts', 'flavors', file('p/flavors/src/index.ts')],
    ['app/main.ts', 'flavors/utils/u', file('p/flavors/src/utils/u.ts')],
  ]);
});

test('package.json imports: #specifiers through the nearest package.json', () => {
  const fs = tree(['pkg/src/a.ts', 'pkg/src/internal/util.ts', 'pkg/src/env.node.ts'], {
    'pkg/package.json': {
      name: 'pkg',
      imports: { '#internal/*': './src/internal/*.js', '#env': { node: './src/env.node.ts' }, '#dep': 'left-pad' },
    },
  });
  expectAll(fs, [
    ['pkg/src/a.ts', '#internal/util', file('pkg/src/internal/util.ts')],
    ['pkg/src/a.ts', '#env', file('pkg/src/env.node.ts')],
    ['pkg/src/a.ts', '#dep', external('left-pad')],
    ['pkg/src/a.ts', '#nope', unresolved],
  ]);
});

test('cache: per directory; invalidateFiles sees added files, invalidateConfig sees changed configs', () => {
  const fs = tree(['src/a.ts', 'src/b.ts', 'src/x/index.ts'], { 'tsconfig.json': { compilerOptions: { paths: { '@/*': ['./src/*'] } } } });
  const resolver = createModuleResolver(fs);
  const first = resolver.resolve('src/a.ts', './x');
  assert.deepEqual(first, file('src/x/index.ts'));
  assert.equal(resolver.resolve('src/b.ts', './x'), first, 'files of one directory share the cached result');
  assert.deepEqual(resolver.resolve('src/a.ts', './new'), unresolved);

  fs.write('src/new.ts', '');
  fs.write('src/x.ts', '');
  resolver.invalidateFiles();
  assert.deepEqual(resolver.resolve('src/a.ts', './new'), file('src/new.ts'));
  assert.deepEqual(resolver.resolve('src/a.ts', './x'), file('src/x.ts'), 'x.ts now wins over x/index.ts');

  assert.deepEqual(resolver.resolve('src/a.ts', '@/b'), file('src/b.ts'));
  fs.write('tsconfig.json', JSON.stringify({ compilerOptions: { paths: { '@/*': ['./src/x/*'] } } }));
  resolver.invalidateConfig();
  assert.deepEqual(resolver.resolve('src/a.ts', '@/index'), file('src/x/index.ts'));
  assert.deepEqual(resolver.resolve('src/a.ts', '@/b'), external('@/b'));
});

test('cache: a cached call stays well under 2 µs', (t) => {
  const fs = tree(['src/deep/dir/a.ts', 'src/deep/dir/b.ts']);
  const resolver = createModuleResolver(fs);
  const specifiers = ['./b', './b.js', 'react', '@scope/pkg', 'node:fs', '../missing'];
  for (const s of specifiers) resolver.resolve('src/deep/dir/a.ts', s);
  const rounds = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    for (const s of specifiers) resolver.resolve('src/deep/dir/a.ts', s);
  }
  const ns = Number(process.hrtime.bigint() - start) / (rounds * specifiers.length);
  t.diagnostic(`cached resolve: ${ns.toFixed(0)} ns/call`);
  assert.ok(ns < 2000, `${ns} ns per cached call`);
});

/** A view over a real directory: its TypeScript files are the indexed set (node_modules excluded). */
function diskFs(root: string): FileSystemView & { files: string[] } {
  const files: string[] = [];
  const dirs = new Set<string>(['']);
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== 'node_modules') {
        dirs.add(path);
        walk(path);
      } else if (entry.isFile() && /\.[cm]?tsx?$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  walk('');
  const set = new Set(files);
  return {
    files,
    hasFile: (path) => set.has(path),
    readText(path) {
      try {
        return readFileSync(join(root, path), 'utf8');
      } catch {
        return undefined;
      }
    },
    directories: () => dirs,
  };
}

const IMPORT_FROM = /\bfrom\s*(['"])([^'"\n]+)\1/g;

/** Every `from '...'` specifier of the files under `under`, with the file it is written in. */
function specifiersOf(fs: ReturnType<typeof diskFs>, under: string): [string, string][] {
  const found: [string, string][] = [];
  for (const path of fs.files.filter((p) => p.startsWith(under))) {
    for (const m of fs.readText(path)!.matchAll(IMPORT_FROM)) found.push([path, m[2]]);
  }
  return found;
}

function failuresOf(resolver: ReturnType<typeof createModuleResolver>, pairs: [string, string][]): string[] {
  return pairs.filter(([from, spec]) => resolver.resolve(from, spec).kind !== 'file').map(([from, spec]) => `${from}: ${spec}`);
}

/**
 * Where TypeScript's own bundler resolution (with the root's tsconfig.json, if any) disagrees
 * with ours: only files of the root count, anything else (node_modules, not found) is no file.
 */
function disagreementsWithTsc(root: string, resolver: ReturnType<typeof createModuleResolver>, pairs: [string, string][]): string[] {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.sys.fileExists(configPath)
    ? ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root).options
    : {};
  const options = { ...config, moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext };
  const cache = ts.createModuleResolutionCache(root, (f) => f, options);
  const out: string[] = [];
  for (const [from, spec] of pairs) {
    const theirs = ts.resolveModuleName(spec, join(root, from), options, ts.sys, cache).resolvedModule?.resolvedFileName;
    const rel = theirs?.startsWith(`${root}/`) ? theirs.slice(root.length + 1) : undefined;
    const expected = rel === undefined || rel.includes('node_modules/') ? undefined : rel;
    const mine = resolver.resolve(from, spec);
    const actual = mine.kind === 'file' ? mine.path : undefined;
    if (actual !== expected) out.push(`${from}: ${spec} -> ${actual} (tsc: ${expected})`);
  }
  return out;
}

test('real corpus: every relative import of rxjs/src resolves, and `rxjs` through its tsconfig paths', (t) => {
  const root = join(packageRoot(), 'node_modules/rxjs');
  const fs = diskFs(root);
  const resolver = createModuleResolver(fs);
  const all = specifiersOf(fs, 'src/');
  const relative = all.filter(([, s]) => s.startsWith('.'));
  const self = all.filter(([, s]) => s === 'rxjs' || s.startsWith('rxjs/'));
  assert.deepEqual(failuresOf(resolver, relative), []);
  assert.deepEqual(failuresOf(resolver, self), []);
  assert.deepEqual(resolver.resolve('src/internal/util/identity.ts', 'rxjs'), file('src/index.ts'));
  assert.deepEqual(disagreementsWithTsc(root, resolver, all), []);
  t.diagnostic(`rxjs: ${relative.length} relative specifiers resolved, ${self.length} 'rxjs' self-imports resolved, ${all.length} specifiers as tsc resolves them`);
  assert.ok(relative.length > 1000, `only ${relative.length} relative specifiers found`);
});

test('real corpus: every relative import of zod/src resolves (.js specifiers naming .ts files)', (t) => {
  const root = join(packageRoot(), 'node_modules/zod');
  const fs = diskFs(root);
  const resolver = createModuleResolver(fs);
  const all = specifiersOf(fs, 'src/');
  const relative = all.filter(([, s]) => s.startsWith('.'));
  assert.deepEqual(failuresOf(resolver, relative), []);
  assert.deepEqual(disagreementsWithTsc(root, resolver, all), []);
  const viaJs = relative.filter(([, s]) => s.endsWith('.js'));
  t.diagnostic(`zod: ${relative.length} relative specifiers resolved (${viaJs.length} written with .js), ${all.length} specifiers as tsc resolves them`);
  assert.ok(viaJs.length > 500, `only ${viaJs.length} .js specifiers found`);
});
