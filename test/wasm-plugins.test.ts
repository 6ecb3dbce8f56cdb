// The example WebAssembly plugins on real code, checked against answers computed here from the
// same graph: fan (WAT) on rxjs's calls edges, arch-rules (AssemblyScript) on rxjs's imports and
// on a small project edited on disk, update by update. Plus the transpile cache, and the tier
// under Deno.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildCsr, CSR_INFERRED_BIT, csrKey, type CsrSnapshot } from '../daemon/graph/csr.ts';
import { GraphHost, type ChangeSummary } from '../daemon/host.ts';
import { EDGE_KINDS, ENTITY_KINDS } from '../daemon/model.ts';
import type { Capability, Isolation, PluginRuntime } from '../daemon/plugins/api.ts';
import { WasmTierLoader } from '../daemon/plugins/wasm-tier.ts';
import { transpileCached } from '../daemon/plugins/wasm/transpile.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { pluginContext } from './support/wasm-plugin-context.ts';
import { tempDir } from './support/temp-dirs.ts';
import { WASM_PLUGINS, wasmManifest } from './support/wasm-plugins.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');
const loader = new WasmTierLoader();
const BOTH: Capability[] = ['graph:read', 'source:read'];
let rxjs: GraphHost;
let csr: CsrSnapshot;

before(async () => {
  rxjs = await GraphHost.index(RXJS);
  csr = buildCsr(rxjs.store, rxjs.generation);
});

// Every runtime is disposed at the end, also when a test failed before its own dispose: a live
// worker would keep the test process from exiting.
const loaded: PluginRuntime[] = [];
after(() => Promise.all(loaded.map((rt) => rt.dispose())));

async function load(path: string, host: GraphHost, isolation: Isolation, config?: unknown): Promise<PluginRuntime> {
  const { manifest, dir } = wasmManifest(path, { isolation, budget: { ceilingMs: 30_000 } as never });
  const rt = await loader.load(manifest, dir, pluginContext({ name: manifest.name, granted: BOTH, host, config }));
  loaded.push(rt);
  return rt;
}

const CALLS = EDGE_KINDS.indexOf('calls');
const MODULE = ENTITY_KINDS.indexOf('module');

/** [key, count] of the `limit` entities with most `calls` edges in `dir`, ties by lower id. */
function topByCalls(dir: 'in' | 'out', limit: number): [string, number][] {
  const [offsets, kinds] = dir === 'in' ? [csr.inOffsets, csr.inKinds] : [csr.outOffsets, csr.outKinds];
  const counts: [number, number][] = [];
  for (let id = 0; id < csr.nodeCount; id++) {
    let n = 0;
    for (let e = offsets[id]!; e < offsets[id + 1]!; e++) if ((kinds[e]! & ~CSR_INFERRED_BIT) === CALLS) n++;
    if (n) counts.push([id, n]);
  }
  counts.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return counts.slice(0, limit).map(([id, n]) => [csrKey(csr, id), n]);
}

describe('fan (WAT)', () => {
  for (const isolation of ['worker', 'inline'] as const) {
    test(`top fan-in and fan-out of calls on rxjs equal the graph's (${isolation})`, async () => {
      const rt = await load('fan', rxjs, isolation);
      const expected = { fanIn: topByCalls('in', 10), fanOut: topByCalls('out', 10) };
      assert.ok(expected.fanIn[0]![1] > 10, 'rxjs has entities with many callers');
      assert.deepEqual(rt.call('top', null), expected);
      assert.deepEqual(rt.call('top', { limit: 25 }), { fanIn: topByCalls('in', 25), fanOut: topByCalls('out', 25) });
      assert.deepEqual(rt.call('top', 3), { fanIn: topByCalls('in', 3), fanOut: topByCalls('out', 3) });
      assert.throws(() => rt.call('top', { limit: 500 }), /bad-args|fan top takes nil, a count or \{ limit: 1\.\.100 \}/);
      await rt.dispose();
    });
  }
});

/** Module-to-module imports and re-exports edges between files under `from` and `to`, as `from -> to (kind)`. */
function importEdges(c: CsrSnapshot, from: string, to: string): string[] {
  const out: string[] = [];
  for (let id = 0; id < c.nodeCount; id++) {
    if (c.entityKinds[id] !== MODULE) continue;
    const file = c.fileTable[c.files[id]!]!;
    if (!file.startsWith(from)) continue;
    for (let e = c.outOffsets[id]!; e < c.outOffsets[id + 1]!; e++) {
      const kind = EDGE_KINDS[c.outKinds[e]! & ~CSR_INFERRED_BIT]!;
      if (kind !== 'imports' && kind !== 're-exports') continue;
      const target = c.fileTable[c.files[c.outTargets[e]!]!]!;
      if (target.startsWith(to)) out.push(`${file} -> ${target} (${kind})`);
    }
  }
  return out.sort();
}

interface Violation {
  rule: string;
  from: string;
  to: string;
  line: number;
  kind: string;
}

interface Violations {
  generation: number;
  rules: number;
  total: number;
  violations: Violation[];
}

describe('arch-rules (AssemblyScript)', () => {
  test('rxjs operators importing schedulers: the violations are the graph\'s edges, with the lines of the imports', async () => {
    const rule = { name: 'operators stay off schedulers', from: 'internal/operators/', mustNotImport: 'internal/scheduler/' };
    const rt = await load('arch-rules', rxjs, 'worker', { rules: [rule] });
    const expected = importEdges(csr, rule.from, rule.mustNotImport);
    assert.ok(expected.length >= 10, `rxjs operators import schedulers (${expected.length})`);
    const got = rt.call('violations', { limit: 1000 }) as Violations;
    assert.equal(got.generation, rxjs.generation);
    assert.equal(got.total, expected.length);
    assert.deepEqual(got.violations.map((v) => `${v.from} -> ${v.to} (${v.kind})`).sort(), expected);
    for (const v of got.violations) {
      assert.equal(v.rule, rule.name);
      const line = readFileSync(join(RXJS, v.from), 'utf8').split('\n')[v.line - 1] ?? '';
      const stem = v.to.slice(v.to.lastIndexOf('/') + 1).replace(/\.ts$/, '');
      assert.ok(line.includes(stem), `${v.from}:${v.line} imports ${v.to}: ${JSON.stringify(line)}`);
    }
    const limited = rt.call('violations', { limit: 2, file: 'internal/operators/d' }) as Violations;
    assert.ok(limited.violations.length <= 2 && limited.violations.every((v) => v.from.startsWith('internal/operators/d')));
    assert.deepEqual(rt.call('rules', null), { rules: [{ name: rule.name, from: rule.from, mustNotImport: [rule.mustNotImport] }], from: 'isg.config.json', lastCheck: { generation: rxjs.generation, files: 'all' } });
    await rt.dispose();
  });

  test('bad rules name what is wrong; check and configure take rules as arguments', async () => {
    const rt = await load('arch-rules', rxjs, 'inline', { rules: [{ from: 'a/' }] });
    assert.throws(() => rt.call('violations', null), (err: Error & { code?: string }) => err.code === 'bad-args' && /rules\[0\]\.mustNotImport must be a path prefix or a list of them/.test(err.message));
    assert.throws(() => rt.call('check', { rules: 'x' }), /rules must be a list of \{ from, mustNotImport \} rules/);
    const rule = { from: 'internal/operators/', mustNotImport: ['internal/scheduler/', 'internal/testing/'] };
    const checked = rt.call('check', { rules: [rule], limit: 0 }) as Violations;
    assert.equal(checked.total, importEdges(csr, rule.from, 'internal/scheduler/').length + importEdges(csr, rule.from, 'internal/testing/').length);
    assert.deepEqual(checked.violations, []);
    assert.deepEqual(rt.call('configure', { rules: [rule] }), { rules: 1, from: 'the configure op' });
    assert.equal((rt.call('violations', { limit: 0 }) as Violations).total, checked.total);
    await rt.dispose();
  });

  for (const isolation of ['worker', 'inline'] as const) {
    test(`checked again on every update: edits, an added file, a removed one (${isolation})`, async () => {
      const root = tempDir('isg-arch-');
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('client/internal/secret.ts', 'export const secret = 1;\n');
      write('client/api.ts', 'export const api = 2;\n');
      write('daemon/a.ts', "import { secret } from '../client/internal/secret';\nexport const a = secret;\n");
      write('daemon/b.ts', "import { api } from '../client/api';\nexport const b = api;\n");
      const host = await GraphHost.index(root);
      const rule = { from: 'daemon/', mustNotImport: 'client/internal' };
      const rt = await load('arch-rules', host, isolation, { rules: [rule] });
      const update = (s: ChangeSummary) => rt.onUpdate!({ type: 'update', generation: s.generation, files: s.files, added: s.added, removed: s.removed, changed: s.changed });
      const seen = () => (rt.call('violations', null) as Violations).violations.map((v) => `${v.from}:${v.line} -> ${v.to}`);
      assert.deepEqual(seen(), ['daemon/a.ts:1 -> client/internal/secret.ts']);

      write('daemon/b.ts', "import { api } from '../client/api';\n\nimport { secret } from '../client/internal/secret';\nexport const b = api + secret;\n");
      update(host.applyChanges([{ path: 'daemon/b.ts' }]));
      assert.deepEqual(seen(), ['daemon/a.ts:1 -> client/internal/secret.ts', 'daemon/b.ts:3 -> client/internal/secret.ts']);

      write('daemon/c.ts', "export { secret as s } from '../client/internal/secret';\n");
      update(host.applyChanges([{ path: 'daemon/c.ts' }]));
      assert.deepEqual(seen(), ['daemon/a.ts:1 -> client/internal/secret.ts', 'daemon/b.ts:3 -> client/internal/secret.ts', 'daemon/c.ts:1 -> client/internal/secret.ts']);

      write('daemon/a.ts', 'export const a = 0;\n');
      rmSync(join(root, 'daemon/c.ts'));
      update(host.applyChanges([{ path: 'daemon/a.ts' }, { path: 'daemon/c.ts', text: null }]));
      assert.deepEqual(seen(), ['daemon/b.ts:3 -> client/internal/secret.ts']);
      assert.equal((rt.call('violations', null) as Violations).generation, host.generation);
      await rt.dispose();
    });
  }
});

describe('arch-rules on merged updates', () => {
  for (const isolation of ['worker', 'inline'] as const) {
    test(`an update merged from several checks only the files it names, and finds their violations (${isolation})`, async () => {
      const root = tempDir('isg-arch-merged-');
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('client/internal/secret.ts', 'export const secret = 1;\n');
      write('client/api.ts', 'export const api = 2;\n');
      for (const f of ['a', 'b', 'c', 'd', 'e', 'f']) write(`daemon/${f}.ts`, "import { api } from '../client/api';\nexport const x = api;\n");
      write('daemon/a.ts', "import { secret } from '../client/internal/secret';\nexport const a = secret;\n");
      const host = await GraphHost.index(root);
      const rt = await load('arch-rules', host, isolation, { rules: [{ from: 'daemon/', mustNotImport: 'client/internal' }] });
      const lastCheck = () => (rt.call('rules', null) as { lastCheck: unknown }).lastCheck;
      const seen = () => (rt.call('violations', null) as Violations).violations.map((v) => `${v.from}:${v.line} -> ${v.to}`);
      await rt.onUpdate!({ type: 'update', generation: host.generation, files: [...host.filePaths()], added: [], removed: [], changed: [] });
      assert.deepEqual(lastCheck(), { generation: host.generation, files: 'all' });

      // Two edits, told as one update (the daemon merges updates that come faster than the hook runs).
      write('daemon/b.ts', "import { api } from '../client/api';\nimport { secret } from '../client/internal/secret';\nexport const x = api + secret;\n");
      const first = host.applyChanges([{ path: 'daemon/b.ts' }]);
      write('daemon/a.ts', 'export const a = 0;\n');
      const second = host.applyChanges([{ path: 'daemon/a.ts' }]);
      await rt.onUpdate!({ type: 'update', generation: second.generation, files: [...first.files, ...second.files], added: [...first.added, ...second.added], removed: [...first.removed, ...second.removed], changed: [...first.changed, ...second.changed] });
      assert.deepEqual(lastCheck(), { generation: second.generation, files: 2 });
      assert.deepEqual(seen(), ['daemon/b.ts:2 -> client/internal/secret.ts']);
      assert.deepEqual(lastCheck(), { generation: second.generation, files: 2 }, 'the query found the state current');

      // What the files of a merged update do not name is not read again, yet stays as it was checked.
      write('daemon/c.ts', "export { secret } from '../client/internal/secret';\n");
      const third = host.applyChanges([{ path: 'daemon/c.ts' }]);
      await rt.onUpdate!({ type: 'update', generation: third.generation, files: third.files, added: third.added, removed: third.removed, changed: third.changed });
      assert.deepEqual(lastCheck(), { generation: third.generation, files: 1 });
      assert.deepEqual(seen(), ['daemon/b.ts:2 -> client/internal/secret.ts', 'daemon/c.ts:1 -> client/internal/secret.ts']);
      await rt.dispose();
    });
  }

  test('with no rules an update checks nothing', async () => {
    const rt = await load('arch-rules', rxjs, 'worker', { rules: [] });
    await rt.onUpdate!({ type: 'update', generation: rxjs.generation, files: [...rxjs.filePaths()], added: [], removed: [], changed: [] });
    assert.deepEqual(rt.call('rules', null), { rules: [], from: 'isg.config.json', lastCheck: null });
    await rt.dispose();
  });
});

describe('transpile cache', () => {
  test('a component is transpiled once, then read from <cache>/<sha256>/', async () => {
    const cacheDir = tempDir('isg-wasm-cache-');
    const bytes = readFileSync(join(WASM_PLUGINS, 'fixtures', 'echo', 'echo.wasm'));
    const first = await transpileCached(bytes, { cacheDir });
    assert.equal(first.fromCache, false);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(readdirSync(cacheDir), [first.hash]);
    assert.deepEqual(first.exports, ['execute']);
    const again = await transpileCached(bytes, { cacheDir });
    assert.equal(again.fromCache, true);
    assert.deepEqual({ ...again, fromCache: false }, first);
    // a damaged entry is transpiled anew
    rmSync(join(again.dir, again.coreFiles[0]!));
    assert.equal((await transpileCached(bytes, { cacheDir })).fromCache, false);
    assert.ok(existsSync(join(again.dir, again.coreFiles[0]!)));
  });
});

describe('Deno', () => {
  test('the tier runs under Deno 2 from the .ts sources, in a worker and inline', () => {
    const deno = join(packageRoot(), 'node_modules', '.bin', 'deno');
    const out = execFileSync(deno, ['run', '-A', join(packageRoot(), 'test', 'support', 'deno-wasm.ts')], { cwd: packageRoot(), encoding: 'utf8', timeout: 240_000 });
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), {
      worker: { echo: { x: [1, 'two'] }, loop: 'budget-exceeded', trap: 'plugin-error', count: 1, echoAgain: 'again' },
      inline: { echo: { x: [1, 'two'] }, trap: 'plugin-error', count: 1 },
    });
  });
});
