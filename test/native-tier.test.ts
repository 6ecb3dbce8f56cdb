// The native tier loader (daemon/plugins/native-tier.ts) with the test-only testkit addon
// (test/fixtures/plugins/testkit) over rxjs: what the addon reads of the snapshot, values both
// ways, errors and panics as JS errors, missing and broken addons, generations, capabilities,
// and process isolation under both of its hosts, the Rust process host and the Node child (the
// same answers, crashes contained, kill() and the ceiling stopping a runaway call, also through
// the plugin host).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { IsgError, type ErrorCode } from '../daemon/errors.ts';
import { buildCsr, csrKey, type CsrSnapshot } from '../daemon/graph/csr.ts';
import { GraphHost } from '../daemon/host.ts';
import { DEFAULT_BUDGET, type Budget, type PluginRuntime } from '../daemon/plugins/api.ts';
import { DEFAULT_POLICY } from '../daemon/plugins/budget.ts';
import { CORE_PLUGIN, corePlugin } from '../daemon/plugins/builtin/core.ts';
import { BuiltinLoader } from '../daemon/plugins/builtin-tier.ts';
import { NATIVE_FALLBACKS } from '../daemon/plugins/graph-algorithms.ts';
import { readManifest as readPluginManifest, validateManifest } from '../daemon/plugins/manifest.ts';
import { addonCandidates, findAddon } from '../daemon/plugins/native-addon.ts';
import { processHostPath, type ProcessHost } from '../daemon/plugins/native-process.ts';
import { createNativeTierLoader, nativeTierLoader } from '../daemon/plugins/native-tier.ts';
import { PluginHost } from '../daemon/plugins/plugin-host.ts';
import { sha256Of } from '../daemon/util/hash.ts';
import { entityRef } from '../daemon/queries/entity-ref.ts';
import type { LookupResult } from '../daemon/queries/lookup.ts';
import { createLogger } from '../daemon/util/log.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { pluginContext, readManifest } from './support/plugin-context.ts';
import { tempDir } from './support/temp-dirs.ts';

const ROOT = packageRoot();
const RXJS = join(ROOT, 'node_modules', 'rxjs', 'src');
const TESTKIT = join(ROOT, 'test', 'fixtures', 'plugins', 'testkit');
const SCC = join(ROOT, 'native', 'plugins', 'scc');
let host: GraphHost;
const loaded: PluginRuntime[] = [];

before(async () => {
  host = await GraphHost.index(RXJS);
});
after(async () => {
  for (const rt of loaded) await rt.dispose();
});

/** Process isolation's two hosts. */
const HOSTS = ['rust', 'node'] as const;

async function load(dir: string, overrides: Parameters<typeof readManifest>[1] = {}, ctx = pluginContext(host, 'testkit'), processHost?: ProcessHost): Promise<PluginRuntime> {
  const loader = processHost ? createNativeTierLoader({ processHost }) : nativeTierLoader;
  const rt = await loader.load(readManifest(dir, overrides), dir, ctx);
  loaded.push(rt);
  return rt;
}

/** Runs `fn` (sync or async) and checks it fails with an IsgError of `code` whose message matches. */
async function rejects(fn: () => unknown, code: ErrorCode, message: RegExp): Promise<IsgError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof IsgError, `expected an IsgError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

/** A plugin directory in a temp dir: the testkit's manifest, and `addon` as its .node (if given). */
function pluginDir(addon?: string | Buffer): string {
  const dir = tempDir('isg-native-');
  copyFileSync(join(TESTKIT, 'isg-plugin.json'), join(dir, 'isg-plugin.json'));
  if (typeof addon === 'string') copyFileSync(addon, addonCandidates(dir, 'testkit.node')[1]!);
  else if (addon) writeFileSync(addonCandidates(dir, 'testkit.node')[1]!, addon);
  return dir;
}

describe('inline isolation', () => {
  test('the addon reads the snapshot in place: counts, id strings, files and out-edges agree with the store', async () => {
    const rt = await load(TESTKIT);
    const csr = buildCsr(host.store, host.generation);
    // The entity with the most out-edges.
    let id = 0;
    for (let v = 0; v < csr.nodeCount; v++) if (csr.outOffsets[v + 1]! - csr.outOffsets[v]! > csr.outOffsets[id + 1]! - csr.outOffsets[id]!) id = v;
    const r = rt.call('graph', { id }) as Record<string, unknown>;
    assert.equal(r.generation, host.generation);
    assert.equal(r.nodeCount, csr.nodeCount);
    assert.equal(r.edgeCount, csr.edgeCount);
    assert.ok(csr.edgeCount > 1000);
    assert.equal(r.live, [...Array(host.store.idLimit).keys()].filter((id) => host.store.isAlive(id)).length);
    assert.equal(r.key, csrKey(csr, id));
    assert.equal(r.key, host.store.key(id));
    assert.equal(r.file, host.store.file(id));
    const targets = Array.from(csr.outTargets.subarray(csr.outOffsets[id], csr.outOffsets[id + 1]));
    assert.ok(targets.length > 10, `${r.key} has many out-edges`);
    // A Uint32Array of ids comes back as entity refs; a `$entity` object has the ref merged in.
    assert.deepEqual(r.targets, targets.map((t) => entityRef(host, t)));
    assert.deepEqual(r.entity, { ...entityRef(host, id), note: 'merged' });
    assert.deepEqual(r.weights, [0.5, 0.25], 'a Float64Array becomes a plain array');
  });

  test('values cross both ways unchanged: nested objects, arrays, unicode, numbers, booleans, null', async () => {
    const rt = await load(TESTKIT);
    const value = { s: 'Zürich → 東京 🚀', n: [0, -1.5, 1e300, 2 ** 53], b: [true, false], z: null, o: { deep: { deeper: ['x'] } }, empty: {} };
    assert.deepEqual(rt.call('echo', { value }), value);
    assert.equal(rt.call('noop', undefined), null);
  });

  test('an error from an op keeps its code; an unknown op is unknown-op; bad call arguments are bad-args', async () => {
    const rt = await load(TESTKIT);
    await rejects(() => rt.call('fail', {}), 'bad-args', /wrong on purpose/);
    await rejects(() => rt.call('nope', {}), 'unknown-op', /no op "nope"; it has: noop, echo/);
    await rejects(() => rt.call('echo', [1, 2]), 'bad-args', /arguments must be an object/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejects(() => rt.call('echo', { value: cyclic }), 'bad-args', /nested deeper than 64 levels/);
  });

  test('a panic in Rust is a JS error naming the plugin, the op, the message and where; the plugin keeps working', async () => {
    const rt = await load(TESTKIT);
    await rejects(() => rt.call('panic', { message: 'index out of range on purpose' }), 'plugin-error', /native plugin "testkit" panicked in op "panic": index out of range on purpose \(at .*lib\.rs:\d+\)/);
    assert.equal(rt.call('noop', {}), null);
    assert.equal((rt.call('graph', {}) as { generation: number }).generation, host.generation);
  });

  test('without graph:read the addon gets no snapshot, and an op that reads the graph says what is missing', async () => {
    const rt = await load(TESTKIT, {}, pluginContext(host, 'testkit', []));
    assert.equal(rt.call('noop', {}), null);
    await rejects(() => rt.call('graph', {}), 'plugin-error', /grant the plugin the graph:read capability/);
  });

  test('a new generation is attached on the next call, once; the old snapshot is let go', async () => {
    const root = tempDir('isg-native-gen-');
    writeFileSync(join(root, 'a.ts'), 'export function a(): number { return 1; }\n');
    const h = await GraphHost.index(root);
    const ctx = pluginContext(h, 'testkit');
    const rt = await load(TESTKIT, {}, ctx);
    const before = rt.call('graph', {}) as { generation: number; live: number };
    rt.call('graph', {});
    assert.equal(ctx.snapshotsBuilt(), 1);
    h.applyChanges([{ path: 'b.ts', text: "import { a } from './a';\nexport function b(): number { return a(); }\n" }]);
    const next = rt.call('graph', {}) as { generation: number; live: number };
    assert.equal(next.generation, before.generation + 1);
    assert.equal(next.live, before.live + 2, 'module b.ts and function b');
    assert.equal(ctx.snapshotsBuilt(), 2);
  });

  test('the same addon loads twice, each copy with its own snapshot and state', async () => {
    const a = await load(TESTKIT);
    const b = await load(TESTKIT, {}, pluginContext(host, 'testkit', []));
    assert.equal((a.call('graph', {}) as { generation: number }).generation, host.generation);
    await rejects(() => b.call('graph', {}), 'plugin-error', /graph:read/);
  });

  test('after dispose, calls fail as unavailable', async () => {
    const rt = await load(TESTKIT);
    await rt.dispose();
    await rejects(() => rt.call('noop', {}), 'plugin-unavailable', /was unloaded/);
  });
});

describe('loading', () => {
  test('a missing addon fails to load with an error naming the file and how to build it', async () => {
    const dir = pluginDir();
    const err = await rejects(() => load(dir), 'plugin-unavailable', /testkit\.linux-x64-gnu\.node does not exist .*npm run build:native/);
    assert.equal(err.details?.file, addonCandidates(dir, 'testkit.node')[0]);
  });

  test('a file that is not a shared library fails to load, naming it', async () => {
    const dir = pluginDir(Buffer.from('this is not an ELF file\n'));
    await rejects(() => load(dir), 'plugin-unavailable', new RegExp(`${addonCandidates(dir, 'testkit.node')[1]!.replace(/[.]/g, '\\.')} could not be loaded as a Node-API addon`));
  });

  test('a real Node-API addon that is not an isg plugin (a tree-sitter grammar) is refused, naming the file', async (t) => {
    const grammar = join(ROOT, 'node_modules', 'tree-sitter-javascript', 'prebuilds', `${process.platform}-${process.arch}`, 'tree-sitter-javascript.node');
    if (!existsSync(grammar)) return t.skip(`no tree-sitter-javascript prebuild for ${process.platform}-${process.arch}`);
    const dir = pluginDir(grammar);
    await rejects(() => load(dir), 'plugin-unavailable', /testkit\.node is not an isg native plugin: it exports no attach\(\)/);
  });

  test('a manifest declaring an op the addon lacks is refused, naming the op', async () => {
    await rejects(() => load(TESTKIT, { ops: [{ name: 'noop' }, { name: 'teleport' }] }), 'plugin-unavailable', /declares op teleport, which it does not have \(it has: noop, echo/);
  });

  test('worker isolation and middleware hooks are refused with the reason; onUpdate needs the addon\'s update export', async () => {
    await rejects(() => load(TESTKIT, { isolation: 'worker' }), 'plugin-unavailable', /a worker cannot stop a running native call; use "inline" .* or "process"/);
    await rejects(() => load(TESTKIT, { hooks: ['onUpdate', 'beforeQuery', 'afterQuery'] }), 'plugin-unavailable', /native plugins have no beforeQuery or afterQuery hook, only onUpdate \(middleware runs around every query: write it as a WASM or built-in plugin\)/);
    await rejects(() => load(SCC, { hooks: ['onUpdate'] }), 'plugin-unavailable', /lists the onUpdate hook, but it exports no update\(\): give its Plugin an on_update/);
    await rejects(() => load(SCC, { hooks: ['onUpdate'], isolation: 'process' }), 'plugin-unavailable', /exports no update\(\)/);
  });

  test('with fallbacks, an unavailable addon runs its TypeScript twin and says so in the log', async () => {
    const dir = tempDir('isg-native-fallback-');
    copyFileSync(join(SCC, 'isg-plugin.json'), join(dir, 'isg-plugin.json'));
    const ctx = pluginContext(host, 'scc');
    const rt = await createNativeTierLoader({ fallbacks: NATIVE_FALLBACKS }).load(readManifest(dir), dir, ctx);
    const native = await load(SCC, {}, pluginContext(host, 'scc'));
    assert.deepEqual(rt.call('components', { kinds: ['imports'] }), native.call('components', { kinds: ['imports'] }));
    assert.equal(ctx.logged.length, 1);
    assert.match(ctx.logged[0]!, /^warn: native plugin "scc" is unavailable; running its TypeScript implementation instead/);
  });
});

for (const processHost of HOSTS) {
  describe(`process isolation, ${processHost} host`, () => {
    test('answers as inline does, with the snapshot copied to the child once per generation', async () => {
      const inline = await load(TESTKIT);
      const child = await load(TESTKIT, { isolation: 'process' }, undefined, processHost);
      assert.deepEqual(await child.call('graph', {}), inline.call('graph', {}));
      const value = { s: 'Zürich → 東京', n: [1.5, -2], o: { x: [true, null] } };
      assert.deepEqual(await child.call('echo', { value }), value);
      assert.equal(await child.call('noop', {}), null);
    });

    test('errors and panics come back as the same JS errors, and the child lives on', async () => {
      const child = await load(TESTKIT, { isolation: 'process' }, undefined, processHost);
      await rejects(() => child.call('fail', {}), 'bad-args', /wrong on purpose/);
      await rejects(() => child.call('panic', { message: 'boom' }), 'plugin-error', /panicked in op "panic": boom/);
      await rejects(() => child.call('nope', {}), 'unknown-op', /no op "nope"/);
      assert.equal(await child.call('noop', {}), null);
    });

    test('an addon that aborts takes down only its child: the call fails, and the plugin is reported dead', async () => {
      // a ceiling the child's death cannot race: an aborting Node child took over the default 50 ms to exit on a loaded machine
      const child = await load(TESTKIT, { isolation: 'process', budget: { ...DEFAULT_BUDGET, ceilingMs: 10_000 } }, undefined, processHost);
      await rejects(() => child.call('abort', {}), 'plugin-error', /native plugin "testkit" exited \(SIGABRT\) while running op "abort"/);
      await rejects(() => child.call('noop', {}), 'plugin-unavailable', /is not running: its process exited \(SIGABRT\)/);
    });

    test('kill() stops a runaway call at once; the plugin is then dead', async () => {
      // a ceiling past the spin, so that kill() is what stops it
      const child = await load(TESTKIT, { isolation: 'process', budget: { ...DEFAULT_BUDGET, ceilingMs: 120_000 } }, undefined, processHost);
      const started = performance.now();
      const runaway = child.call('spin', { ms: 60_000 }) as Promise<unknown>;
      const outcome = runaway.then(
        () => 'returned',
        (err: IsgError) => err,
      );
      setTimeout(() => child.kill!(), 200);
      const err = await outcome;
      assert.ok(err instanceof IsgError, 'the runaway call fails');
      assert.equal(err.code, 'plugin-error');
      assert.match(err.message, /was killed \(SIGKILL\) by the host while running op "spin"/);
      assert.ok(performance.now() - started < 10_000, 'it did not wait for the 60 s spin');
      await rejects(() => child.call('noop', {}), 'plugin-unavailable', /was killed \(SIGKILL\)/);
    });

    test('a call past the ceiling fails with budget-exceeded once the ceiling has passed, and the child is killed', async () => {
      const child = await load(TESTKIT, { isolation: 'process', budget: { ...DEFAULT_BUDGET, ceilingMs: 150 } }, undefined, processHost);
      assert.ok(((await child.call('spin', { ms: 20 })) as number) > 0, 'a call within the ceiling answers (the turns it spun)');
      const started = performance.now();
      await rejects(() => child.call('spin', { ms: 60_000 }), 'budget-exceeded', /native plugin "testkit": op "spin" did not finish within its ceiling of 150 ms, so its process was killed/);
      const took = performance.now() - started;
      assert.ok(took >= 150 && took < 1000, `stopped ${took.toFixed(0)} ms in, at the 150 ms ceiling`);
      await rejects(() => child.call('noop', {}), 'plugin-unavailable', /was killed \(SIGKILL\)/);
    });

    test('a missing addon fails to load in process isolation too, naming the file', async () => {
      await rejects(() => load(pluginDir(), { isolation: 'process' }, undefined, processHost), 'plugin-unavailable', /testkit\.linux-x64-gnu\.node does not exist/);
      const broken = pluginDir(Buffer.from('not an addon'));
      await rejects(() => load(broken, { isolation: 'process' }, undefined, processHost), 'plugin-unavailable', /could not be loaded as a Node-API addon/);
    });
  });
}

describe('the Rust process host', () => {
  /** The command lines of this process's children (`ps`). */
  const children = () => spawnSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim());

  test('is the one process isolation runs when it is built, with no warning', async (t) => {
    if (!existsSync(processHostPath())) return t.skip('the native process host is not built');
    const ctx = pluginContext(host, 'testkit');
    const rt = await load(TESTKIT, { isolation: 'process' }, ctx);
    assert.equal((rt as { host?: ProcessHost }).host, 'rust');
    assert.ok(children().includes(processHostPath()), `a child runs ${processHostPath()} (children: ${children().join(', ')})`);
    assert.deepEqual(ctx.logged, []);
    assert.equal(await rt.call('noop', {}), null);
  });

  test('refuses an addon with the same messages as the Node child', async () => {
    const broken = pluginDir(Buffer.from('not an addon'));
    const cases: [string, Parameters<typeof readManifest>[1]][] = [
      [broken, { isolation: 'process' }],
      [SCC, { hooks: ['onUpdate'], isolation: 'process' }],
    ];
    for (const [dir, overrides] of cases) {
      const messages: string[] = [];
      for (const processHost of HOSTS) {
        const err = await rejects(() => load(dir, overrides, pluginContext(host, 'testkit'), processHost), 'plugin-unavailable', /native plugin/);
        messages.push(err.message);
      }
      // Deno's dlopen adds a hint and the path to what dlerror says, which the Rust host does not.
      if ('Deno' in globalThis) assert.ok(messages[1]!.startsWith(messages[0]!), `${messages[1]} starts with ${messages[0]}`);
      else assert.equal(messages[0], messages[1]);
    }
  });
});

const ISOLATIONS = [['inline'], ['process', 'rust'], ['process', 'node']] as const;
for (const [isolation, processHost] of ISOLATIONS) {
  describe(`update hook and memory, ${isolation} isolation${processHost ? `, ${processHost} host` : ''}`, () => {
    test('the update hook gets the new generation\'s snapshot, ids of the added and changed entities (they read back as their keys) and the removed keys', async () => {
      const root = tempDir('isg-native-update-');
      writeFileSync(join(root, 'a.ts'), 'export function kept(): number { return 1; }\nexport function edited(): number { return 1; }\n');
      writeFileSync(join(root, 'b.ts'), 'export const gone = 1;\n');
      const h = await GraphHost.index(root);
      const rt = await load(TESTKIT, { isolation, budget: { ...DEFAULT_BUDGET, ceilingMs: 10_000 } }, pluginContext(h, 'testkit'), processHost);
      writeFileSync(join(root, 'a.ts'), 'export function kept(): number { return 1; }\nexport function edited(): string { return "1"; }\nexport class Added {}\n');
      const s = h.applyChanges([{ path: 'a.ts' }, { path: 'b.ts', text: null }]);
      assert.deepEqual([s.added, s.changed, s.removed], [['a.ts#Added'], ['a.ts#edited'], ['b.ts#gone', 'b.ts']]);
      const t0 = performance.now();
      await rt.onUpdate!({ type: 'update', generation: s.generation, files: s.files, added: s.added, removed: s.removed, changed: s.changed });
      const wall = performance.now() - t0;
      assert.deepEqual(await rt.call('last-update', {}), { generation: s.generation, snapshotGeneration: s.generation, files: s.files, added: s.added, changed: s.changed, removed: s.removed });
      if (isolation === 'process') {
        // charged the child's own time for the hook, not the pipe's and the scheduler's
        const spent = rt.updateSpentMs;
        assert.ok(typeof spent === 'number' && spent >= 0 && spent <= wall, `the hook's own time ${spent} ms, within the ${wall.toFixed(2)} ms the parent waited`);
      }
    });

    if (isolation === 'process') {
      test('a query is charged the child\'s own time, found by the promise it was answered with: a spin\'s, within the round trip', async () => {
        const rt = await load(TESTKIT, { isolation, budget: { ...DEFAULT_BUDGET, ceilingMs: 10_000 } }, undefined, processHost);
        for (const ms of [0, 30]) {
          const t0 = performance.now();
          const answer = rt.call('spin', { ms }) as Promise<unknown>;
          assert.equal(rt.spentOn!(answer), undefined, 'not before it is answered');
          await answer;
          const wall = performance.now() - t0;
          const spent = rt.spentOn!(answer)!;
          // the addon spins for `ms` of wall time: its thread's CPU time for it (what other
          // threads take of the core meanwhile is not counted, so no lower bound holds under load)
          assert.ok(spent > 0 && spent <= wall, `its own ${spent} ms, within the ${wall.toFixed(2)} ms the parent waited`);
        }
      });
    }

    test('the memory the plugin\'s Rust code holds is reported after each call, as it grows and as it is freed', async () => {
      // a ceiling that a loaded machine cannot reach: this is about memory
      const rt = await load(TESTKIT, { isolation, budget: { ...DEFAULT_BUDGET, ceilingMs: 10_000 } }, undefined, processHost);
      await rt.call('noop', {});
      const before = rt.memoryBytes!();
      assert.equal(await rt.call('hold', { mb: 8 }), 8 << 20);
      const held = rt.memoryBytes!() - before;
      assert.ok(held >= 8 << 20 && held < (8 << 20) + 65536, `8 MiB and the list keeping it (${held} bytes)`);
      await rt.call('release', {});
      assert.ok(Math.abs(rt.memoryBytes!() - before) < 65536, 'given back');
    });
  });
}

describe('process isolation through the plugin host', () => {
  /** The core queries and the testkit in process isolation, with `budget` over its manifest's; ejections last 300 ms. */
  function testkitHost(budget: Partial<Budget>): PluginHost {
    const builtins = new BuiltinLoader();
    builtins.register(corePlugin);
    let csr: CsrSnapshot | undefined;
    const plugins = new PluginHost({
      root: host.root,
      loaders: { builtin: builtins, native: nativeTierLoader },
      graph: { view: () => host, csr: () => (csr?.generation === host.generation ? csr : (csr = buildCsr(host.store, host.generation))) },
      source: { read: () => '' },
      log: createLogger({ level: 'silent' }),
      protectedPlugins: [CORE_PLUGIN],
      unprefixedPlugin: CORE_PLUGIN,
      policy: { ...DEFAULT_POLICY, baseEjectionMs: 300 },
      checkEveryMs: 0,
    });
    plugins.add(validateManifest({ tier: 'builtin', entry: '(builtin)', ...corePlugin.manifest }, 'the core plugin'), host.root, { grant: ['graph:read'] });
    const { manifest, dir } = readPluginManifest(TESTKIT);
    const sha256 = sha256Of(readFileSync(findAddon(manifest, dir)));
    plugins.add(manifest, dir, { grant: ['graph:read'], sha256, isolation: 'process', budget: { ...manifest.budget, ...budget } });
    return plugins;
  }

  test('a call that never returns is stopped at the ceiling and ejects the plugin; the core answers throughout; re-admission starts a fresh child', async () => {
    const plugins = testkitHost({ ceilingMs: 200 });
    const subject = () => (plugins.dispatch('lookup', { name: 'Subject', mode: 'exact', kind: 'class' }, 1) as LookupResult).matches.map((m) => m.id);
    try {
      await plugins.startAll();
      assert.equal(await plugins.dispatch('testkit/noop', {}, 1), null);
      const started = performance.now();
      const runaway = rejects(() => plugins.dispatch('testkit/spin', { ms: 60_000 }, 1), 'budget-exceeded', /op "spin" did not finish within its ceiling of 200 ms, so its process was killed/);
      assert.deepEqual(subject(), ['internal/Subject.ts#Subject'], 'the core answers while the child spins');
      await runaway;
      const took = performance.now() - started;
      assert.ok(took >= 200 && took < 1000, `stopped ${took.toFixed(0)} ms in, at the 200 ms ceiling`);
      const info = plugins.info('testkit');
      assert.equal(info.state, 'ejected');
      assert.match(info.lastEjection!.reason, /^one call to spin took \d+\.\d ms, past the hard ceiling of 200 ms$/);
      assert.deepEqual(subject(), ['internal/Subject.ts#Subject']);
      await rejects(() => plugins.dispatch('testkit/noop', {}, 1), 'plugin-unavailable', /ejected for another 1 s/);
      await delay(400);
      assert.equal(await plugins.dispatch('testkit/noop', {}, 1), null, 'the probe call runs in a new child');
      assert.equal(plugins.info('testkit').state, 'active');
    } finally {
      await plugins.dispose();
    }
  });

  test('a plugin holding more than its memory budget is ejected by the memory rule; re-admitted, its new child holds nothing', async () => {
    const plugins = testkitHost({ memoryMb: 5, ceilingMs: 10_000 });
    try {
      await plugins.startAll();
      assert.equal(await plugins.dispatch('testkit/hold', { mb: 8 }, 1), 8 << 20, 'the call itself is answered');
      const info = plugins.info('testkit');
      assert.equal(info.state, 'ejected');
      assert.match(info.lastEjection!.reason, /^holds 8\.\d MB, over its budget of 5\.0 MB$/);
      await delay(400);
      assert.equal(await plugins.dispatch('testkit/noop', {}, 1), null, 'the probe call runs in a new child');
      const again = plugins.info('testkit');
      assert.equal(again.state, 'active');
      assert.ok(again.memoryBytes! < 1 << 20, `the new child's plugin holds ${again.memoryBytes} bytes`);
    } finally {
      await plugins.dispose();
    }
  });
});
