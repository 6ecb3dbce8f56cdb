import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPathFilter, DEFAULT_EXCLUDES, discoverFiles, languageOf } from '../daemon/ingest/discover.ts';
import { lastMatch, parseIgnoreFile, parseIgnoreLine } from '../daemon/ingest/gitignore.ts';
import { includeProblem } from '../daemon/ingest/include.ts';
import { readSource } from '../daemon/ingest/read-source.ts';
import { contentHash } from '../daemon/util/hash.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = packageRoot();
/** Node runs this file from dist/ (the modules beside it are .js), Deno from the .ts sources. */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) {
    // chmod back first so that the cleanup itself can enter directories the tests locked.
    execFileSync('chmod', ['-R', 'u+rwx', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'isg-discover-'));
  tempDirs.push(dir);
  return dir;
}

/** Writes files (path -> content) under root, creating directories. */
function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

/** Every file under root (not following symlinks), relative, posix; .git skipped. */
function allFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== '.git') out.push(...allFiles(root, child));
    } else out.push(child);
  }
  return out.sort();
}

/** What git itself does not ignore under root: the oracle for the matcher. */
function gitUntracked(root: string): string[] {
  // No user or system config, so no global excludes file can change the verdicts.
  const env = { ...process.env, HOME: root, XDG_CONFIG_HOME: root, GIT_CONFIG_NOSYSTEM: '1' };
  execFileSync('git', ['init', '-q', root], { env });
  const out = execFileSync('git', ['-C', root, 'ls-files', '-z', '--others', '--exclude-standard'], { env });
  return out.toString().split('\0').filter(Boolean).sort();
}

describe('gitignore patterns', () => {
  const matches = (pattern: string, relPath: string, isDir = false) => lastMatch(parseIgnoreFile(pattern), relPath, isDir);

  test('comments, blanks, escapes and trailing spaces', () => {
    assert.equal(parseIgnoreLine('# note'), undefined);
    assert.equal(parseIgnoreLine(''), undefined);
    assert.equal(parseIgnoreLine('   '), undefined);
    assert.equal(matches('\\#a', '#a'), true);
    assert.equal(matches('\\!a', '!a'), true);
    assert.equal(matches('a.ts   ', 'a.ts'), true);
    assert.equal(matches('a\\ ', 'a '), true);
    assert.equal(matches('a\\ ', 'a'), undefined);
    assert.equal(matches('a\\', 'a'), undefined, 'a trailing backslash never matches');
  });

  test('negation: the last matching rule wins', () => {
    assert.equal(matches('*.ts\n!keep.ts', 'keep.ts'), false);
    assert.equal(matches('!keep.ts\n*.ts', 'keep.ts'), true);
    assert.equal(matches('!keep.ts', 'other.ts'), undefined);
  });

  test('directory-only patterns', () => {
    assert.equal(matches('out/', 'out', true), true);
    assert.equal(matches('out/', 'out', false), undefined);
    assert.equal(matches('out/', 'a/b/out', true), true);
  });

  test('anchoring: leading or middle slash', () => {
    assert.equal(matches('/a.ts', 'a.ts'), true);
    assert.equal(matches('/a.ts', 'x/a.ts'), undefined);
    assert.equal(matches('a.ts', 'x/a.ts'), true);
    assert.equal(matches('x/a.ts', 'x/a.ts'), true);
    assert.equal(matches('x/a.ts', 'y/x/a.ts'), undefined);
  });

  test('wildcards never cross a slash', () => {
    assert.equal(matches('src/*.ts', 'src/a.ts'), true);
    assert.equal(matches('src/*.ts', 'src/sub/a.ts'), undefined);
    assert.equal(matches('a?c', 'abc'), true);
    assert.equal(matches('a/?/c', 'a///c'), undefined);
    assert.equal(matches('a[/]c', 'a/c'), undefined);
    assert.equal(matches('a[!x]c', 'a/c'), undefined);
  });

  test('bracket expressions', () => {
    assert.equal(matches('[a-c]x', 'bx'), true);
    assert.equal(matches('[a-c]x', 'dx'), undefined);
    assert.equal(matches('[!a-c]x', 'dx'), true);
    assert.equal(matches('[^a-c]x', 'ax'), undefined);
    assert.equal(matches('[]a]x', ']x'), true);
    assert.equal(matches('[a-]x', '-x'), true);
    assert.equal(matches('[[:digit:]]x', '7x'), true);
    assert.equal(matches('[[:upper:][:digit:]]x', 'Qx'), true);
    assert.equal(matches('[[:nope:]]x', 'nx'), undefined, 'an unknown class never matches');
    assert.equal(matches('[[:constructor:]]x', 'cx'), undefined);
    assert.equal(matches('[abc', '[abc'), undefined, 'an unterminated bracket never matches');
    // As in wildmatch, the range start is also a member on its own: `[z-a]` matches just `z`.
    assert.equal(matches('[z-a]x', 'zx'), true);
    assert.equal(matches('[z-a]x', 'ax'), undefined);
    assert.equal(matches('[z-a]x', 'mx'), undefined);
    assert.equal(matches('[\\]]x', ']x'), true);
  });

  test('double star', () => {
    assert.equal(matches('**/foo', 'foo'), true);
    assert.equal(matches('**/foo', 'a/b/foo'), true);
    assert.equal(matches('foo/**', 'foo/a/b'), true);
    assert.equal(matches('foo/**', 'foo', true), undefined);
    assert.equal(matches('a/**/b', 'a/b'), true);
    assert.equal(matches('a/**/b', 'a/x/y/b'), true);
    assert.equal(matches('a/**/b', 'a/xb'), undefined);
    assert.equal(matches('a**b', 'a/b'), undefined, '** inside a segment is a plain *');
    assert.equal(matches('a**b', 'axyb'), true);
    // git quirk: after a literal prefix, `**/` spans directories (see compileGlob).
    assert.equal(matches('foo**/bar', 'foo/x/bar'), true);
    assert.equal(matches('foo**/bar', 'foobar'), true);
    assert.equal(matches('x/foo**/bar', 'x/foo/bar'), true);
    assert.equal(matches('a*b**/c', 'axb/y/c'), undefined, 'only right after the literal prefix');
  });
});

describe('gitignore layering agrees with git', () => {
  // Each .gitignore exercises a family of rules; the oracle is `git ls-files --others
  // --exclude-standard` on the same tree.
  const root = tempDir();
  writeTree(root, {
    '.gitignore': [
      '# comment',
      '\\#hash.ts',
      '\\!bang.ts',
      '*.log',
      '!keep.log',
      '/rootonly.ts',
      'docs/*.md',
      '**/deep/x.ts',
      'logs/**',
      '!logs/keep.ts',
      '!logs/sub/keep.ts',
      'a/**/b.ts',
      '?.ts',
      '[abc]z.ts',
      '[!q]y.ts',
      'num[[:digit:]].ts',
      'trail.ts   ',
      'esc\\ .ts',
      'star\\*.ts',
      'dironly/',
      'ignoreddir/',
      '!ignoreddir/f.ts',
      'foo/bar.ts',
      '*.gen.ts',
      'range[a-c-].ts',
      'rev[z-a].ts',
      '[]x]w.ts',
      '**/generated',
      'tmp*/',
      '**/cache/',
      'pre**/deep.ts',
      '',
    ].join('\n'),
    '#hash.ts': '',
    '!bang.ts': '',
    'hash.ts': '',
    'x.log': '',
    'keep.log': '',
    'sub/y.log': '',
    'rootonly.ts': '',
    'sub/rootonly.ts': '',
    'docs/a.md': '',
    'docs/sub/b.md': '',
    'sub/docs/a.md': '',
    'deep/x.ts': '',
    'p/q/deep/x.ts': '',
    'deep/y.ts': '',
    'logs/a.ts': '',
    'logs/keep.ts': '',
    'logs/sub/keep.ts': '',
    'a/b.ts': '',
    'a/x/y/b.ts': '',
    'x/a/b.ts': '',
    'z.ts': '',
    'zz.ts': '',
    'az.ts': '',
    'dz.ts': '',
    'py.ts': '',
    'qy.ts': '',
    'num1.ts': '',
    'numx.ts': '',
    'trail.ts': '',
    'esc .ts': '',
    'esc.ts': '',
    'star*.ts': '',
    'starx.ts': '',
    'dironly/f.ts': '',
    'sub/dironly': '',
    'ignoreddir/f.ts': '',
    'foo/bar.ts': '',
    'sub/foo/bar.ts': '',
    'm.gen.ts': '',
    'sub/n.gen.ts': '',
    'generated': '',
    'sub/generated/z1.ts': '',
    'tmp1/f.ts': '',
    'tmpfile': '',
    'rangeb.ts': '',
    'range-.ts': '',
    'ranged.ts': '',
    'revz.ts': '',
    'reva.ts': '',
    'revm.ts': '',
    ']w.ts': '',
    'xw.ts': '',
    'yw.ts': '',
    'sub/.gitignore': '!*.gen.ts\n/anchored.ts\n*.tmp.ts\n!important.tmp.ts\ninner/\n',
    'sub/anchored.ts': '',
    'sub/deeper/anchored.ts': '',
    'anchored.ts': '',
    'sub/a.tmp.ts': '',
    'sub/important.tmp.ts': '',
    'sub/inner/f.ts': '',
    'inner/f.ts': '',
    'other.tmp.ts': '',
    'sub/deeper/.gitignore': '*\n!*.ts\n!*/\n!/a.tmp.ts\n',
    'sub/deeper/a.tmp.ts': '',
    'sub/deeper/readme.md': '',
    'sub/deeper/d2/x.ts': '',
    'sub/deeper/d2/x.md': '',
    'crlf/.gitignore': 'xx.ts\r\n!y.ts\r\n',
    'crlf/xx.ts': '',
    'crlf/y.ts': '',
    'crlf/zzz.ts': '',
    'bom/.gitignore': '\uFEFFbb.ts\n',
    'bom/bb.ts': '',
    'bom/cc.ts': '',
    'c1/cache/f.ts': '',
    'c2/cache': '',
    'prefix/a/deep.ts': '',
    'predeep.ts': '',
    'other/pre/deep.ts': '',
  });
  const gitList = gitUntracked(root);

  test('the fixture exercises both outcomes', () => {
    assert.ok(gitList.includes('logs/keep.ts') && !gitList.includes('logs/sub/keep.ts'));
    assert.ok(gitList.length >= 25 && allFiles(root).length - gitList.length >= 25);
  });

  test('PathFilter.isExcluded matches git on every file', () => {
    const filter = createPathFilter(root);
    assert.deepEqual(
      allFiles(root).filter((f) => !filter.isExcluded(f, false)),
      gitList,
    );
  });

  test('discoverFiles returns exactly the source files git does not ignore', () => {
    const { files, diagnostics } = discoverFiles(root);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      files.map((f) => f.path),
      gitList.filter((f) => languageOf(f) !== undefined),
    );
  });
});

test('randomised trees and patterns agree with git', () => {
  let seed = 20240601;
  // mulberry32: a fixed seed keeps failures reproducible.
  const random = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
  const names = ['a', 'b', 'ab', 'ba', 'a.b', 'b-a'];
  const atoms = ['a', 'b', '*', '?', '**', '/', '**/', '[ab]', '[!a]', '[a-]', '[]a]', '[[:alpha:]]', '\\a', ' ', '\\ ', '.', '-'];
  const pattern = () => {
    let p = random(4) === 0 ? '!' : '';
    for (let n = 1 + random(4); n > 0; n--) p += pick(atoms);
    return random(4) === 0 ? `${p}/` : p;
  };
  for (let round = 0; round < 40; round++) {
    const root = tempDir();
    const paths = Array.from({ length: 20 }, () => Array.from({ length: 1 + random(3) }, () => pick(names)).join('/'));
    const files = paths.filter((f) => !paths.some((g) => g.startsWith(`${f}/`)));
    writeTree(root, Object.fromEntries(files.map((f) => [f, ''])));
    const dirs = ['', ...files.filter((f) => f.includes('/')).map((f) => path.posix.dirname(f))];
    for (let k = 0; k < 3; k++) {
      const lines = Array.from({ length: 1 + random(5) }, pattern);
      fs.writeFileSync(path.join(root, pick(dirs), '.gitignore'), `${lines.join('\n')}\n`);
    }
    const filter = createPathFilter(root, { exclude: [] });
    const ours = allFiles(root).filter((f) => !filter.isExcluded(f, false));
    const rules = Object.fromEntries(allFiles(root).filter((f) => f.endsWith('.gitignore')).map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8')]));
    assert.deepEqual(ours, gitUntracked(root), `round ${round}: ${JSON.stringify(rules)}`);
  }
});

describe('discoverFiles', () => {
  const outside = tempDir();
  writeTree(outside, { 'o.ts': 'export const o = 1;\n' });
  const outsideFile = path.join(tempDir(), 'o2.ts');
  fs.writeFileSync(outsideFile, 'export const o2 = 2;\n');
  const root = tempDir();
  writeTree(root, {
    '.gitignore': 'ignored.ts\n/gen/\n!gen/keep.ts\n',
    'src/a.ts': 'export const a = 1;\n',
    'src/b.tsx': 'export const b = <div/>;\n',
    'src/c.d.ts': 'export declare const c: number;\n',
    'src/d.mjs': 'export const d = 1;\n',
    'src/e.cts': '',
    'src/readme.md': '# not source\n',
    'src/.gitignore': '*.skip.ts\n!important.skip.ts\n',
    'src/x.skip.ts': '',
    'src/important.skip.ts': '',
    'ignored.ts': '',
    'gen/keep.ts': '',
    'node_modules/pkg/index.ts': '',
    'src/node_modules/p.ts': '',
    'dist/out.js': '',
    'packages/p/dist/x.js': '',
    'packages/p/index.ts': '',
    'custom/skip-me.ts': '',
    'big.ts': 'x'.repeat(200),
    'binary.ts': Buffer.from([0x65, 0x78, 0x00, 0x01, 0x02]),
    'latin1.ts': Buffer.from('const s = "caf\xe9";\n', 'latin1'),
    'bom.ts': '\uFEFFexport const bom = 1;\n',
  });
  fs.mkdirSync(path.join(root, 'loop'));
  fs.writeFileSync(path.join(root, 'loop/l.ts'), '');
  fs.symlinkSync('..', path.join(root, 'loop/up'));
  fs.symlinkSync('selfie', path.join(root, 'selfie'));
  fs.symlinkSync('nowhere.ts', path.join(root, 'dangling.ts'));
  fs.symlinkSync(outside, path.join(root, 'linked'));
  fs.symlinkSync('src', path.join(root, 'alias'));
  fs.symlinkSync(outsideFile, path.join(root, 'file-link.ts'));
  fs.symlinkSync('src/a.ts', path.join(root, 'dup-link.ts'));
  execFileSync('mkfifo', [path.join(root, 'fifo.ts')]);
  const options = { exclude: ['custom/'], maxFileBytes: 100 };

  test('finds the source files, sorted, with language and stat data', () => {
    const { files } = discoverFiles(root, options);
    assert.deepEqual(
      files.map((f) => [f.path, f.language]),
      [
        ['binary.ts', 'typescript'],
        ['bom.ts', 'typescript'],
        ['file-link.ts', 'typescript'],
        ['latin1.ts', 'typescript'],
        ['linked/o.ts', 'typescript'],
        ['loop/l.ts', 'typescript'],
        ['packages/p/index.ts', 'typescript'],
        ['src/a.ts', 'typescript'],
        ['src/b.tsx', 'tsx'],
        ['src/c.d.ts', 'typescript'],
        ['src/d.mjs', 'tsx'],
        ['src/e.cts', 'typescript'],
        ['src/important.skip.ts', 'typescript'],
      ],
    );
    const a = files.find((f) => f.path === 'src/a.ts')!;
    assert.equal(a.abs, path.join(root, 'src/a.ts'));
    assert.equal(a.size, 20);
    assert.equal(a.mtimeMs, fs.statSync(a.abs).mtimeMs);
  });

  test('reports each problem once, as a warning on the relative path', () => {
    const { diagnostics } = discoverFiles(root, options);
    assert.deepEqual(
      diagnostics.map((d) => [d.file, d.code]),
      [
        ['alias', 'symlink-duplicate'],
        ['big.ts', 'too-large'],
        ['dangling.ts', 'unreadable'],
        ['dup-link.ts', 'symlink-duplicate'],
        ['loop/up', 'symlink-loop'],
        ['selfie', 'symlink-loop'],
      ],
    );
    assert.ok(diagnostics.every((d) => d.severity === 'warning' && d.message.startsWith(`skipped ${d.file}: `)));
    const message = (file: string) => diagnostics.find((d) => d.file === file)!.message;
    assert.equal(message('big.ts'), 'skipped big.ts: 200 bytes exceeds the 100 bytes limit (maxFileBytes)');
    assert.equal(message('alias'), 'skipped alias: same directory as src');
    assert.equal(message('dup-link.ts'), 'skipped dup-link.ts: same file as src/a.ts');
    assert.equal(message('loop/up'), 'skipped loop/up: symlink loop back to .');
  });

  test('directories walked and resolution config files are listed for the watcher', () => {
    const dir = tempDir();
    writeTree(dir, {
      'tsconfig.json': '{}',
      'src/a.ts': '',
      'src/empty/.keep': '',
      'pkg/package.json': '{}',
      'pkg/tsconfig.build.json': '{}',
      'node_modules/x/package.json': '{}',
      '.isg/snapshot.bin': '',
      'README.md': '',
    });
    const found = discoverFiles(dir);
    assert.deepEqual(found.directories, ['', 'pkg', 'src', 'src/empty']);
    assert.deepEqual(
      found.configFiles.map((f) => [f.path, f.size]),
      [
        ['pkg/package.json', 2],
        ['pkg/tsconfig.build.json', 2],
        ['tsconfig.json', 2],
      ],
    );
  });

  test('options.exclude takes precedence over .gitignore and defaults, both ways', () => {
    const exclude = ['src/', 'alias', 'linked', '*.ts', '!ignored.ts', '!/binary.ts', '!dist/'];
    const { files } = discoverFiles(root, { exclude });
    assert.deepEqual(
      files.map((f) => f.path),
      ['binary.ts', 'dist/out.js', 'ignored.ts', 'packages/p/dist/x.js'],
    );
  });

  test('options.include narrows to the files it names; unreachable directories are not walked', () => {
    const dir = tempDir();
    writeTree(dir, {
      'tsconfig.json': '{}',
      'top.ts': '',
      'src/a.ts': '',
      'src/deep/b.tsx': '',
      'src/deep/skip.ts': '',
      'lib/x/c.ts': '',
      'lib/x/c.js': '',
      'lib/y/d.ts': '',
      'docs/e.ts': '',
      'docs/package.json': '{}',
      'tools/gen/f.ts': '',
    });
    const found = discoverFiles(dir, { include: ['src', 'lib/*/*.ts', 'tools/**/f.ts'], exclude: ['skip.ts'] });
    // A matching directory includes everything below it; excludes still apply on top.
    assert.deepEqual(
      found.files.map((f) => f.path),
      ['lib/x/c.ts', 'lib/y/d.ts', 'src/a.ts', 'src/deep/b.tsx', 'tools/gen/f.ts'],
    );
    assert.deepEqual(found.directories, ['', 'lib', 'lib/x', 'lib/y', 'src', 'src/deep', 'tools', 'tools/gen'], 'docs/ is neither walked nor watched');
    assert.deepEqual(found.configFiles.map((f) => f.path), ['tsconfig.json'], 'config files in walked directories are kept');
    assert.equal(discoverFiles(dir, { include: [] }).files.length, 9, 'no include: everything');
    const filter = createPathFilter(dir, { include: ['src'] });
    assert.equal(filter.isExcluded('src/new/x.ts', false), false);
    assert.equal(filter.isExcluded('top.ts', false), true);
    assert.equal(filter.isExcluded('docs', true), true);
    assert.equal(filter.isExcluded('package.json', false), false, 'includes judge source files only');
  });

  test('includeProblem names what a pattern cannot be', () => {
    assert.equal(includeProblem('src/**/*.ts'), undefined);
    assert.match(includeProblem('!src/gen')!, /cannot be negated; put the exception in "exclude"/);
    assert.match(includeProblem('../elsewhere')!, /must be relative to the root/);
    assert.match(includeProblem('/src')!, /must be relative to the root/);
    assert.match(includeProblem('src/[a')!, /not a glob that can match anything/);
  });

  test('the default maxFileBytes is 5 MB', () => {
    assert.ok(discoverFiles(root).files.some((f) => f.path === 'big.ts'));
  });

  test('readSource refuses binary and non-UTF-8 files and strips a BOM', () => {
    const read = (rel: string, max = 100) => readSource(path.join(root, rel), rel, max);
    // the hash is the text's (the BOM is not part of it), computed from the bytes read
    assert.deepEqual(read('bom.ts'), { ok: true, text: 'export const bom = 1;\n', bytes: 25, hash: contentHash('export const bom = 1;\n') });
    const binary = read('binary.ts');
    assert.ok(!binary.ok && binary.diagnostic.code === 'binary-file');
    assert.equal(binary.ok ? '' : binary.diagnostic.message, 'skipped binary.ts: binary content (NUL byte at offset 2)');
    const latin1 = read('latin1.ts');
    assert.ok(!latin1.ok && latin1.diagnostic.code === 'invalid-utf8' && latin1.diagnostic.message === 'skipped latin1.ts: not valid UTF-8');
  });

  test('readSource refuses too-large, missing, non-regular files without throwing', () => {
    const code = (rel: string, max = 100) => {
      const r = readSource(path.join(root, rel), rel, max);
      return r.ok ? 'ok' : `${r.diagnostic.code}: ${r.diagnostic.message}`;
    };
    assert.equal(code('big.ts', 199), 'too-large: skipped big.ts: 200 bytes exceeds the 199 bytes limit (maxFileBytes)');
    assert.equal(code('big.ts', 200), 'ok');
    assert.equal(code('nope.ts'), 'unreadable: skipped nope.ts: cannot be read (no such file (ENOENT))');
    assert.equal(code('src'), 'unreadable: skipped src: not a regular file');
    assert.equal(code('fifo.ts'), 'unreadable: skipped fifo.ts: not a regular file');
    assert.equal(code('dangling.ts'), 'unreadable: skipped dangling.ts: cannot be read (no such file (ENOENT))');
  });

  test('too-large messages use readable units', () => {
    const big = path.join(tempDir(), 'big.ts');
    fs.writeFileSync(big, Buffer.alloc(Math.round(6.2 * 1024 * 1024), 0x20));
    const r = readSource(big, 'src/big.ts', 5 * 1024 * 1024);
    assert.equal(r.ok ? '' : r.diagnostic.message, 'skipped src/big.ts: 6.2 MB exceeds the 5 MB limit (maxFileBytes)');
    const close = readSource(big, 'src/big.ts', Math.round(6.2 * 1024 * 1024) - 1);
    assert.match(close.ok ? '' : close.diagnostic.message, /^skipped src\/big\.ts: 6501171 bytes exceeds the 6501170 bytes limit/);
  });

  test('throws only for a missing root', () => {
    assert.throws(() => discoverFiles(path.join(root, 'missing')), { message: `root not found: ${path.join(root, 'missing')}` });
    assert.throws(() => discoverFiles(path.join(root, 'src/a.ts')), /root is not a directory/);
  });

  test('unreadable files and directories are reported, not thrown', () => {
    // chmod 000 does not stop root, and the suite runs as root in CI containers: then the
    // check runs in a child process as the unprivileged user "nobody" (uid 65534).
    const fixture = tempDir();
    fs.chmodSync(fixture, 0o755);
    writeTree(fixture, { 'ok.ts': 'export {};\n', 'locked.ts': 'export {};\n', 'closed/inner.ts': '', '.gitignore': '' });
    writeTree(fixture, { 'sub/.gitignore': 'x\n', 'sub/y.ts': '' });
    fs.chmodSync(path.join(fixture, 'locked.ts'), 0o000);
    fs.chmodSync(path.join(fixture, 'closed'), 0o000);
    fs.chmodSync(path.join(fixture, 'sub/.gitignore'), 0o000);
    const url = (rel: string) => pathToFileURL(path.join(here, rel)).href;
    const script = `
      import { discoverFiles } from ${JSON.stringify(url(`../daemon/ingest/discover${ext}`))};
      import { readSource } from ${JSON.stringify(url(`../daemon/ingest/read-source${ext}`))};
      const { files, diagnostics } = discoverFiles(${JSON.stringify(fixture)});
      const reads = files.map((f) => readSource(f.abs, f.path, 1000));
      console.log(JSON.stringify({ files: files.map((f) => f.path), diagnostics, reads }));`;
    const asRoot = process.getuid?.() === 0;
    // Deno as "nobody" needs a cache directory it may write.
    const denoDir = tempDir();
    fs.chmodSync(denoDir, 0o777);
    const deno = 'Deno' in globalThis;
    const child = spawnSync(process.execPath, deno ? ['eval', '--ext=ts', script] : ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: deno ? { ...process.env, DENO_DIR: denoDir, NO_COLOR: '1' } : process.env,
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout);
    assert.deepEqual(out.files, ['locked.ts', 'ok.ts', 'sub/y.ts']);
    assert.deepEqual(
      out.diagnostics.map((d: { file: string; code: string; message: string }) => [d.file, d.code, d.message]),
      [
        ['closed', 'unreadable', 'skipped closed: directory cannot be read (permission denied (EACCES))'],
        ['sub/.gitignore', 'unreadable', 'skipped sub/.gitignore: cannot be read (permission denied (EACCES))'],
      ],
    );
    assert.deepEqual(out.reads[0], {
      ok: false,
      diagnostic: { file: 'locked.ts', severity: 'warning', code: 'unreadable', message: 'skipped locked.ts: cannot be read (permission denied (EACCES))' },
    });
    assert.equal(out.reads[1].ok, true);
  });
});

describe('PathFilter for single paths', () => {
  const root = tempDir();
  writeTree(root, { '.gitignore': 'gen/\n!gen/keep.ts\n', 'src/.gitignore': '*.tmp.ts\n' });
  const filter = createPathFilter(root, { exclude: ['secret.ts'] });

  test('applies ancestors, nested files and the default and custom excludes', () => {
    assert.equal(filter.isExcluded('gen/keep.ts', false), true, 'the parent directory is excluded');
    assert.equal(filter.excludesEntry('gen/keep.ts', false), false, 'only the entry itself');
    assert.equal(filter.isExcluded('src/a.tmp.ts', false), true);
    assert.equal(filter.isExcluded('a.tmp.ts', false), false);
    assert.equal(filter.isExcluded('a/b/node_modules/x/y.ts', false), true);
    assert.equal(filter.isExcluded('lib/secret.ts', false), true);
    assert.equal(filter.isExcluded('src/a.ts', false), false);
    for (const dir of DEFAULT_EXCLUDES) assert.equal(filter.isExcluded(`x/${dir}f.ts`, false), true, dir);
  });

  test('invalidate re-reads a changed .gitignore', () => {
    fs.writeFileSync(path.join(root, 'src/.gitignore'), '');
    assert.equal(filter.isExcluded('src/a.tmp.ts', false), true, 'cached');
    filter.invalidate('src');
    assert.equal(filter.isExcluded('src/a.tmp.ts', false), false);
  });
});

test('languageOf', () => {
  const cases: Record<string, string | undefined> = {
    'a.ts': 'typescript',
    'a.mts': 'typescript',
    'a.cts': 'typescript',
    'a.d.ts': 'typescript',
    'a.d.mts': 'typescript',
    'a.tsx': 'tsx',
    'a.js': 'tsx',
    'a.jsx': 'tsx',
    'a.mjs': 'tsx',
    'a.cjs': 'tsx',
    'a.json': undefined,
    'ts': undefined,
    '.ts': undefined,
    'dir.ts/a.md': undefined,
  };
  for (const [file, language] of Object.entries(cases)) assert.equal(languageOf(file), language, file);
});

test('the rxjs sources: every .ts file, nothing else, no diagnostics', () => {
  // `find node_modules/rxjs/src -name '*.ts' | wc -l` gives 251; the tree also holds .json
  // and one .js file (Rx.global.js), which is a source file too.
  const { files, diagnostics } = discoverFiles(path.join(repoRoot, 'node_modules/rxjs/src'));
  assert.deepEqual(diagnostics, []);
  assert.equal(files.filter((f) => f.path.endsWith('.ts')).length, 251);
  assert.deepEqual(
    files.filter((f) => !f.path.endsWith('.ts')).map((f) => f.path),
    ['Rx.global.js'],
  );
  assert.ok(files.every((f, i) => i === 0 || files[i - 1]!.path < f.path));
});
