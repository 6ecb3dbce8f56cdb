// The wasm tier loader (daemon/plugins/wasm-tier.ts) against the components npm run build:wasm
// builds: each misbehaving fixture is caught (refused at load, stopped at its ceiling, a trap
// turned into an error on a fresh instance, memory reported), capabilities are enforced, and
// the daemon's thread keeps serving other plugins throughout. Both isolations where both apply.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IsgError } from '../daemon/errors.ts';
import { buildCsr } from '../daemon/graph/csr.ts';
import { GraphHost, type ChangeSummary } from '../daemon/host.ts';
import type { Capability, Isolation, PluginManifest, PluginRuntime } from '../daemon/plugins/api.ts';
import { WasmTierLoader } from '../daemon/plugins/wasm-tier.ts';
import { planImports } from '../daemon/plugins/wasm/host-imports.ts';
import { pack, packOwn } from '../daemon/plugins/wasm/msgpack.ts';
import { encodeStringsInPlace, parseWorld, routeExecuteLift, transpileCached } from '../daemon/plugins/wasm/transpile.ts';
import { sha256Of } from '../daemon/util/hash.ts';
import { currentBundle, WORKER_BUNDLE, WORKER_BUNDLE_MANIFEST, workerEntry } from '../daemon/plugins/wasm/worker-entry.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { tempDir } from './support/temp-dirs.ts';
import { pluginContext, type TestContext } from './support/wasm-plugin-context.ts';
import { wasmManifest } from './support/wasm-plugins.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');
const loader = new WasmTierLoader();
/** Generous, so a loaded machine does not fail calls that are meant to succeed. */
const RELAXED = { ceilingMs: 10_000 };
let rxjs: GraphHost;

before(async () => {
  rxjs = await GraphHost.index(RXJS);
});

async function load(path: string, options: { isolation?: Isolation; granted?: Capability[]; host?: GraphHost; config?: unknown; manifest?: Partial<PluginManifest> } = {}): Promise<{ rt: PluginRuntime; ctx: TestContext }> {
  const overrides: Partial<PluginManifest> = { ...options.manifest, budget: { ...RELAXED, ...options.manifest?.budget } as PluginManifest['budget'] };
  if (options.isolation) overrides.isolation = options.isolation;
  const { manifest, dir } = wasmManifest(path, overrides);
  const ctx = pluginContext({ name: manifest.name, granted: options.granted ?? [], host: options.host, config: options.config });
  const rt = await loader.load(manifest, dir, ctx);
  loaded.push(rt);
  return { rt, ctx };
}

// Every runtime is disposed at the end, also when a test failed before its own dispose: a live
// worker would keep the test process from exiting.
const loaded: PluginRuntime[] = [];
after(() => Promise.all(loaded.map((rt) => rt.dispose())));

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, pattern: RegExp): Promise<void> {
  const run = typeof p === 'function' ? async () => p() : () => p;
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof IsgError, `an IsgError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IsgError, `an IsgError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('refused at load', () => {
  test('a component importing WASI filesystem is refused, naming the import', async () => {
    await rejectsWith(load('fixtures/wasi-fs'), 'capability-denied', /imports wasi:filesystem\/preopens@0\.2\.3, which isg does not provide/);
  });

  test('a component importing WASI sockets is refused, naming the import', async () => {
    await rejectsWith(load('fixtures/sockets', { isolation: 'inline' }), 'capability-denied', /imports wasi:sockets\/tcp-create-socket@0\.2\.3/);
  });

  test('an isg:plugin version other than the daemon\'s is refused', () => {
    // 0.1.0 had on-update with file paths; 0.2.0 on-graph-update with entity ids, middleware and host.call.
    throwsWith(() => planImports('p', ['isg:plugin/graph@0.1.0'], ['execute'], ['graph:read']), 'plugin-error', /built against isg:plugin\/graph@0\.1\.0, but this daemon provides isg:plugin@0\.2\.0/);
    throwsWith(() => planImports('p', ['isg:plugin/clock@0.2.0'], ['execute'], []), 'capability-denied', /imports isg:plugin\/clock@0\.2\.0/);
    throwsWith(() => planImports('p', [], ['run'], []), 'plugin-error', /does not export "execute"/);
  });

  test('hooks the component cannot serve, a missing entry, and bytes that are no component', async () => {
    await rejectsWith(load('fixtures/echo', { manifest: { hooks: ['onUpdate'] } }), 'plugin-error', /declares the onUpdate hook but its component does not export "on-graph-update": build it for a world that includes isg:plugin\/update-hook/);
    await rejectsWith(load('arch-rules', { manifest: { hooks: ['beforeQuery'] } }), 'plugin-error', /declares the beforeQuery hook but its component does not export "before-query".*isg:plugin\/before-query-hook/);
    await rejectsWith(load('arch-rules', { manifest: { hooks: ['afterQuery'] } }), 'plugin-error', /declares the afterQuery hook but its component does not export "after-query".*isg:plugin\/after-query-hook/);
    await rejectsWith(load('fixtures/echo', { manifest: { entry: 'missing.wasm' } }), 'not-found', /no component at .*missing\.wasm.*npm run build:wasm/);
    await rejectsWith(load('fixtures/echo', { manifest: { entry: 'isg-plugin.json' } }), 'plugin-error', /is not a WebAssembly component/);
  });

  test('the world of a component is read with versions and without inline interface bodies', () => {
    const wit = 'package root:component;\n\nworld root {\n  import isg:plugin/graph@0.2.0;\n  import local: interface {\n    f: func();\n  }\n  export execute: func(op: string) -> string;\n  export on-update: func();\n}\n';
    assert.deepEqual(parseWorld(wit), { imports: ['isg:plugin/graph@0.2.0', 'local'], exports: ['execute', 'on-update'] });
  });
});

test('the bindings hand execute\'s answer to the host\'s hook as a view of linear memory; bindings of another shape are left as they are', async () => {
  const { manifest, dir } = wasmManifest('fixtures/echo');
  const t = await transpileCached(readFileSync(join(dir, manifest.entry)));
  const js = readFileSync(new URL(t.jsUrl), 'utf8');
  assert.match(js, /^export function instantiate\(getCoreModule, imports, .*\n {2}const isgLiftResult = imports\[Symbol\.for\("isg\.lift-result"\)\] \?\? \(\(view\) => view\.slice\(\)\);\n/);
  const execute = js.slice(js.indexOf('function execute('), js.indexOf('return retVal.val;', js.indexOf('function execute(')));
  assert.match(execute, /case 0: \{[^}]*= isgLiftResult\(new Uint8Array\(memory\d+\.buffer\)\.subarray\((ptr\d+), \1 \+ (len\d+) \* 1\)\);/);
  assert.doesNotMatch(execute, /buffer\.slice/);
  const other = 'export function instantiate(getCoreModule, imports) {\n  return { execute() {} };\n}\n';
  assert.equal(routeExecuteLift(other), other);
});

test('strings returned by imports are lowered in place: the same bytes and realloc calls as jco\'s own lowering, a bad pointer still a RangeError', async () => {
  const { manifest, dir } = wasmManifest('fan');
  const t = await transpileCached(readFileSync(join(dir, manifest.entry)));
  const transpiled = readFileSync(new URL(t.jsUrl), 'utf8');
  assert.match(transpiled, /isgAscii\(s\)/);
  assert.doesNotMatch(transpiled, /utf8Encoder\.encode\(s\)/);
  // jco 1.10.2's string lowering, as a module of its own: patched and not, side by side
  const lowering = `    let buf = utf8Encoder.encode(s);
    let ptr = realloc(0, 0, 1, buf.length);
    new Uint8Array(memory.buffer).set(buf, ptr);
    utf8EncodedLen = buf.length;
    return ptr;
`;
  const jco = `export function instantiate(getCoreModule, imports) {
  let utf8EncodedLen = 0;
  const utf8Encoder = new TextEncoder();

  function utf8Encode(s, realloc, memory) {
    if (typeof s !== 'string') throw new TypeError('expected a string');
    if (s.length === 0) {
      utf8EncodedLen = 0;
      return 1;
    }
${lowering}  }
  return { utf8Encode, length: () => utf8EncodedLen };
}
`;
  const patched = encodeStringsInPlace(jco);
  assert.notEqual(patched, jco);
  type Lowering = { utf8Encode(s: string, realloc: (...a: number[]) => number, memory: { buffer: ArrayBuffer }): number; length(): number };
  const load = async (js: string) => ((await import(`data:text/javascript,${encodeURIComponent(js)}`)) as { instantiate(): Lowering }).instantiate();
  const lower = async (js: string, strings: string[]) => {
    const l = await load(js);
    const memory = { buffer: new ArrayBuffer(1024) };
    let top = 8;
    const reallocs: number[][] = [];
    const realloc = (...a: number[]) => {
      reallocs.push(a);
      const at = top;
      top += a[3]!;
      return at;
    };
    const out = strings.map((s) => {
      const ptr = l.utf8Encode(s, realloc, memory);
      return [ptr, l.length()];
    });
    return { out, reallocs, bytes: [...new Uint8Array(memory.buffer)] };
  };
  const strings = ['src/a.ts#Foo.bar', '', 'caf\u00e9', '\u{1F600} x', 'lone \ud800 surrogate', 'x'.repeat(100), '\u00e9'.repeat(90)];
  assert.deepEqual(await lower(patched, strings), await lower(jco, strings));
  // a realloc answering past the memory's end
  for (const js of [jco, patched]) {
    const l = await load(js);
    for (const s of ['ascii', '\u00e9t\u00e9']) assert.throws(() => l.utf8Encode(s, () => 254, { buffer: new ArrayBuffer(256) }), RangeError);
  }
  const other = 'export function instantiate(getCoreModule, imports) {\n  return {};\n}\n';
  assert.equal(encodeStringsInPlace(other), other);
});

describe('stopped at the ceiling', () => {
  test('an on-graph-update past the ceiling stops the worker, and the plugin then says so', async () => {
    const project = smallProject();
    const host = await GraphHost.index(project.root);
    const { rt } = await load('fixtures/hooks', { host, granted: ['graph:read'], manifest: { budget: { ceilingMs: 50 } as PluginManifest['budget'] } });
    project.write('loop.ts', 'export const forever = true;\n'); // the fixture never returns from an update touching loop.ts
    const t0 = performance.now();
    await rejectsWith(rt.onUpdate!(updateOf(host.applyChanges([{ path: 'loop.ts' }]))) as Promise<unknown>, 'budget-exceeded', /plugin fixture-hooks: on-graph-update did not finish within its ceiling of 50 ms, so its worker was terminated/);
    assert.ok(performance.now() - t0 < 5000, 'stopped at the ceiling, not later');
    throwsWith(() => rt.call('seen', null), 'plugin-unavailable', /plugin fixture-hooks is not running: on-graph-update ran past its ceiling of 50 ms and its worker was terminated/);
    await rt.dispose();
  });

  test('a call that loops forever fails with budget-exceeded at the ceiling; its worker is gone, a plugin sharing it starts again in another and serves on', async () => {
    const looping = await load('fixtures/loop', { manifest: { budget: { ceilingMs: 50 } as PluginManifest['budget'] } });
    const other = await load('fixtures/echo');
    assert.equal(looping.rt.call('ok', null), null);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    throwsWith(() => looping.rt.call('loop', null), 'budget-exceeded', /op "loop" did not finish within its ceiling of 50 ms, so its worker was terminated/);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 50, `waited for the ceiling (${elapsed.toFixed(1)} ms)`);
    assert.ok(elapsed < 5000, `and not much longer (${elapsed.toFixed(1)} ms)`);
    // the daemon's thread is free again at once: timers run, another plugin answers
    const before = ticks;
    await new Promise((r) => setTimeout(r, 30));
    clearInterval(timer);
    assert.ok(ticks > before, 'the event loop ran timers after the kill');
    // its co-tenant starts again elsewhere (answering later meanwhile), its state reset
    assert.deepEqual(await other.rt.call('echo', { still: 'here' }), { still: 'here' });
    assert.deepEqual(other.rt.call('echo', { again: 1 }), { again: 1 });
    assert.match(other.ctx.logs.find((l) => l.level === 'warn' && /starts again/.test(l.msg))?.msg ?? '', /^plugin fixture-echo's worker was stopped \(its co-tenant fixture-loop stopped it: op "loop" ran past its ceiling.*\); it starts again in another worker, so its state was reset$/);
    throwsWith(() => looping.rt.call('ok', null), 'plugin-unavailable', /plugin fixture-loop is not running: op "loop" ran past its ceiling/);
    await looping.rt.dispose();
    // loaded again, it gets a worker of its own
    const again = await load('fixtures/loop', { manifest: { budget: { ceilingMs: 50 } as PluginManifest['budget'] } });
    assert.ok(loader.pool.workers.some((w) => w.solo && w.tenants === 1), JSON.stringify(loader.pool.workers));
    await again.rt.dispose();
    await other.rt.dispose();
  });

  test('a call to a plugin whose shared worker digests another plugin\'s update waits for its turn (a promise), without blocking the daemon\'s thread', async () => {
    const shared = new WasmTierLoader({ spareWorker: false });
    const hooks = wasmManifest('fixtures/hooks', { budget: { ceilingMs: 500 } as PluginManifest['budget'] });
    const echo = wasmManifest('fixtures/echo', { budget: { ...RELAXED } as PluginManifest['budget'] });
    const updating = await shared.load(hooks.manifest, hooks.dir, pluginContext({ name: hooks.manifest.name, granted: ['graph:read'], host: rxjs }));
    const waiting = await shared.load(echo.manifest, echo.dir, pluginContext({ name: echo.manifest.name }));
    assert.deepEqual(shared.pool.workers, [{ tenants: 2, solo: false }]);
    assert.equal(waiting.waitTurn!(), undefined);
    // the fixture's update hook loops when a file named loop.ts changed: the worker stays busy until the ceiling
    const update = updating.onUpdate!({ type: 'update', generation: rxjs.generation, files: ['loop.ts'], added: [], removed: [], changed: [] }) as Promise<void>;
    const turn = waiting.waitTurn!();
    assert.ok(turn instanceof Promise, 'the worker is busy with the update');
    const answer = waiting.call('echo', 'later');
    assert.ok(answer instanceof Promise, 'answered later, not by blocking');
    await rejectsWith(update, 'budget-exceeded', /on-graph-update did not finish within its ceiling of 500 ms/);
    // the worker was stopped with the looping plugin; the other started again in another and answers
    assert.equal(await answer, 'later');
    assert.equal(waiting.waitTurn!(), undefined);
    assert.equal(waiting.call('echo', 'now'), 'now');
    await updating.dispose();
    await waiting.dispose();
  });

  test('tenants of a shared worker each ask for the snapshot of the generation they read, on their own first read', async () => {
    const project = smallProject();
    const host = await GraphHost.index(project.root);
    const shared = new WasmTierLoader({ spareWorker: false });
    const start = async (name: string) => {
      const { manifest, dir } = wasmManifest('fixtures/probe', { name, budget: { ...RELAXED } as PluginManifest['budget'] });
      const ctx = pluginContext({ name, granted: ['graph:read'], host });
      return { rt: await shared.load(manifest, dir, ctx), ctx };
    };
    const a = await start('probe-a');
    const b = await start('probe-b');
    assert.deepEqual(shared.pool.workers, [{ tenants: 2, solo: false }]);
    assert.deepEqual([a.ctx.snapshotsBuilt(), b.ctx.snapshotsBuilt()], [0, 0], 'a load builds none');
    const nodes = () => buildCsr(host.store, host.generation).nodeCount;
    assert.equal(a.rt.call('count', null), nodes());
    assert.deepEqual([a.ctx.snapshotsBuilt(), b.ctx.snapshotsBuilt()], [1, 0], 'one tenant\'s read asks for its snapshot alone');
    assert.equal(b.rt.call('count', null), nodes());
    assert.deepEqual([a.ctx.snapshotsBuilt(), b.ctx.snapshotsBuilt()], [1, 1]);
    project.write('d.ts', 'export class D { m(): void {} }\nexport const e = 1;\n');
    host.applyChanges([{ path: 'd.ts' }]);
    assert.equal(b.rt.call('count', null), nodes(), 'the new generation, not the co-tenant\'s');
    assert.equal(a.rt.call('log', null), null);
    assert.deepEqual([a.ctx.snapshotsBuilt(), b.ctx.snapshotsBuilt()], [1, 2]);
    assert.equal(a.rt.call('count', null), nodes());
    assert.deepEqual([a.ctx.snapshotsBuilt(), b.ctx.snapshotsBuilt()], [2, 2]);
    await a.rt.dispose();
    await b.rt.dispose();
  });

  test('an update hook waiting in a shared worker for a co-tenant\'s update is charged its own time, not the wait', async () => {
    const project = smallProject();
    const host = await GraphHost.index(project.root);
    const shared = new WasmTierLoader({ spareWorker: false });
    const start = (name: string) => {
      const { manifest, dir } = wasmManifest('fixtures/hooks', { name, budget: { ...RELAXED } as PluginManifest['budget'] });
      return shared.load(manifest, dir, pluginContext({ name, granted: ['graph:read'], host }));
    };
    const first = await start('hooks-a');
    const second = await start('hooks-b');
    assert.deepEqual(shared.pool.workers, [{ tenants: 2, solo: false }]);
    project.write('d.ts', 'export const added = 1;\n');
    const s = host.applyChanges([{ path: 'd.ts' }]);
    const t0 = performance.now();
    const one = first.onUpdate!(updateOf(s)) as Promise<void>;
    const two = second.onUpdate!(updateOf(s)) as Promise<void>;
    // the first hook asks the daemon's thread for its snapshot while it is busy for 300 ms; the
    // second waits for its turn meanwhile
    const busyUntil = performance.now() + 300;
    while (performance.now() < busyUntil);
    await Promise.all([one, two]);
    const wall = performance.now() - t0;
    assert.ok(wall >= 300);
    for (const rt of [first, second]) {
      assert.deepEqual((rt.call('seen', null) as Seen).update!.added, s.added);
      assert.ok(rt.updateSpentMs! >= 0 && rt.updateSpentMs! < 300, `the wait for the daemon's thread and for the co-tenant are not the hook's (${rt.updateSpentMs} ms)`);
    }
    await first.dispose();
    await second.dispose();
  });

  test('worker plugins share a worker up to tenantsPerWorker; one that calls others runs alone; an unloaded one leaves, the last one stops the worker', async () => {
    const pool = new WasmTierLoader({ spareWorker: false, tenantsPerWorker: 2 });
    const start = (name: string, dependencies: string[] = []) => {
      const { manifest, dir } = wasmManifest('fixtures/echo', { name, dependencies, budget: { ...RELAXED } as PluginManifest['budget'] });
      return pool.load(manifest, dir, pluginContext({ name }));
    };
    const a = await start('a');
    const b = await start('b');
    const caller = await start('caller', ['a']);
    const c = await start('c');
    assert.deepEqual(pool.pool.workers, [{ tenants: 2, solo: false }, { tenants: 1, solo: true }, { tenants: 1, solo: false }]);
    for (const [rt, n] of [[a, 1], [b, 2], [caller, 3], [c, 4]] as const) assert.deepEqual(rt.call('echo', [n]), [n]);
    await a.dispose();
    assert.deepEqual(b.call('echo', 'b stays'), 'b stays');
    await b.dispose();
    await caller.dispose();
    assert.deepEqual(pool.pool.workers, [{ tenants: 1, solo: false }]);
    await c.dispose();
    assert.deepEqual(pool.pool.workers, []);
  });

  test('a busy-waiting call answers when the ceiling allows it and is stopped when it does not', async () => {
    const spin = await load('fixtures/spin');
    const t0 = performance.now();
    assert.equal(spin.rt.call('spin', 1_000_000), 1_000_000);
    assert.ok(performance.now() - t0 > 0);
    throwsWith(() => spin.rt.call('spin', 'fast'), 'bad-args', /spin takes nil or a number of iterations/);
    await spin.rt.dispose();
    const tight = await load('fixtures/spin', { manifest: { budget: { ceilingMs: 1 } as PluginManifest['budget'] } });
    throwsWith(() => tight.rt.call('spin', 2_000_000_000), 'budget-exceeded', /ceiling of 1 ms/);
    await tight.rt.dispose();
  });

  test('a query through a worker reports its own time: the plugin\'s work counts, the wake-ups around it do not', async () => {
    const spin = await load('fixtures/spin');
    assert.equal(spin.rt.querySpentMs, undefined, 'no call yet');
    for (const iterations of [0, 100_000_000]) {
      const t0 = performance.now();
      assert.equal(spin.rt.call('spin', iterations), iterations);
      const roundTrip = performance.now() - t0;
      const spent = spin.rt.querySpentMs!;
      assert.ok(spent >= 0 && spent <= roundTrip, `its own ${spent} ms within the ${roundTrip} ms round trip`);
      // spinning is the plugin's own work: 10^8 turns of a loop take tens of ms of CPU on any
      // machine (CPU time, where the thread clock is built: less than the round trip when other
      // threads had the core meanwhile, such as the last test's terminated worker under Deno)
      if (iterations) assert.ok(spent > 10, `${spent} of ${roundTrip} ms`);
    }
    throwsWith(() => spin.rt.call('spin', 'fast'), 'bad-args', /spin takes nil or a number of iterations/);
    assert.ok(spin.rt.querySpentMs! >= 0, 'a call that failed in the plugin reports its time too');
    await spin.rt.dispose();
  });

  test('kill() stops a worker between calls', async () => {
    const { rt } = await load('fixtures/echo');
    assert.equal(rt.call('noop', null), null);
    rt.kill!();
    throwsWith(() => rt.call('noop', null), 'plugin-unavailable', /is not running: it was killed/);
    await rt.dispose();
  });
});

for (const isolation of ['worker', 'inline'] as const) {
  describe(`${isolation} isolation`, () => {
    test('a trap is an error, and the next call runs on a fresh instance', async () => {
      const { rt, ctx } = await load('fixtures/trap', { isolation });
      assert.equal(rt.call('count', null), 1);
      assert.equal(rt.call('count', null), 2);
      throwsWith(() => rt.call('trap', null), 'plugin-error', /plugin fixture-trap trapped in op "trap": .*unreachable/);
      assert.equal(rt.call('count', null), 1, 'a fresh instance has served one call');
      throwsWith(() => rt.call('recurse', null), 'plugin-error', /trapped in op "recurse": .*(stack|recursion)/i);
      assert.equal(rt.call('count', null), 1);
      assert.equal(ctx.logs.filter((l) => l.level === 'warn' && /state was reset/.test(l.msg)).length, 2);
      await rt.dispose();
    });

    test('malformed msgpack from the component is a plugin-error', async () => {
      const { rt } = await load('fixtures/bad-msgpack', { isolation });
      throwsWith(() => rt.call('bad', null), 'plugin-error', /answered op "bad" with malformed msgpack \(2 bytes/);
      await rt.dispose();
    });

    test('memory grown by the component is reported after each call', async () => {
      const { rt } = await load('fixtures/grow', { isolation });
      const start = rt.memoryBytes!();
      let pages = 0;
      for (let i = 1; i <= 4; i++) {
        pages = rt.call('grow', 16) as number;
        assert.equal(rt.memoryBytes!(), pages * 65536, 'the reported size is the component\'s own page count');
      }
      assert.equal(rt.memoryBytes!() - start, 4 * 16 * 65536);
      await rt.dispose();
    });

    test('payloads round-trip as msgpack, small and larger than the channel\'s first size', async () => {
      const { rt } = await load('fixtures/echo', { isolation });
      const value = { s: 'héllo ✓', n: [1, -2, 3.5, 2 ** 40], nested: { ok: true, none: null }, bin: new Uint8Array([1, 2, 3]) };
      assert.deepEqual(rt.call('echo', value), value);
      const big = 'x'.repeat(3 * 1024 * 1024);
      assert.equal(rt.call('echo', big), big);
      throwsWith(() => rt.call('nope', null), 'plugin-error', /failed in op "nope": unknown op/);
      throwsWith(() => rt.call('echo', { s: Symbol('s') }), 'bad-args', /cannot be sent as msgpack/);
      await rt.dispose();
    });

    test('an answer is the caller\'s own: kept across later calls (which write over the worker\'s channel), it stays as it was', async () => {
      const { rt } = await load('fixtures/echo', { isolation });
      const first = Uint8Array.from({ length: 64 * 1024 }, (_, i) => i % 251);
      const kept = rt.call('echo', { bin: first, s: 'first' }) as { bin: Uint8Array; s: string };
      const keptBin = rt.call('echo', first) as Uint8Array;
      for (let i = 0; i < 3; i++) rt.call('echo', { bin: new Uint8Array(first.length).fill(0xee), s: 'later' });
      rt.call('echo', new Uint8Array(1024 * 1024).fill(7)); // and grow it
      assert.deepEqual(kept, { bin: first, s: 'first' });
      assert.deepEqual(keptBin, first);
      for (const b of [kept.bin, keptBin]) assert.ok(!(b.buffer instanceof SharedArrayBuffer), 'no view of shared memory');
      await rt.dispose();
    });

    test('capabilities: nothing granted, graph only, both; and none beyond the manifest', async () => {
      const file = 'internal/Observable.ts';
      const none = await load('fixtures/probe', { isolation, host: rxjs });
      throwsWith(() => none.rt.call('count', null), 'capability-denied', /was not granted graph:read/);
      throwsWith(() => none.rt.call('read', file), 'capability-denied', /was not granted source:read/);
      await none.rt.dispose();

      const graphOnly = await load('fixtures/probe', { isolation, host: rxjs, granted: ['graph:read'] });
      assert.equal(graphOnly.rt.call('count', null), buildCsr(rxjs.store, rxjs.generation).nodeCount);
      throwsWith(() => graphOnly.rt.call('read', file), 'capability-denied', /source:read/);
      await graphOnly.rt.dispose();

      const both = await load('fixtures/probe', { isolation, host: rxjs, granted: ['graph:read', 'source:read'], config: { answer: 42 } });
      assert.equal(both.rt.call('read', file), both.ctx.source.read(file));
      throwsWith(() => both.rt.call('read', '../../package.json'), 'not-found', /not an indexed file/);
      assert.deepEqual(both.rt.call('config', null), { answer: 42 });
      assert.equal(both.rt.call('log', null), null);
      // Under Deno a worker also logs, at load, that its heap is not capped (tested on its own).
      assert.deepEqual(both.ctx.logs.filter((l) => !/Deno ignores worker resourceLimits/.test(l.msg)), [{ level: 'info', msg: 'probe says hello' }]);
      await both.rt.dispose();

      // granted by the host but not declared in the manifest: still denied
      const undeclared = await load('fixtures/probe', { isolation, host: rxjs, granted: ['graph:read', 'source:read'], manifest: { capabilities: [] } });
      throwsWith(() => undeclared.rt.call('count', null), 'capability-denied', /graph:read/);
      await undeclared.rt.dispose();
    });
  });
}

describe('worker entry', () => {
  test('a worker starts from the bundle while every input it was built from is unchanged, else from the tsc build', () => {
    const root = tempDir('isg-worker-entry-');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, WORKER_BUNDLE_MANIFEST), JSON.stringify({ inputs: { 'a.ts': sha256Of(Buffer.from('export const a = 1;\n')) } }));
    assert.equal(currentBundle(root), undefined, 'no bundle file');
    writeFileSync(join(root, WORKER_BUNDLE), '');
    assert.equal(currentBundle(root)?.pathname, join(root, WORKER_BUNDLE));
    writeFileSync(join(root, 'a.ts'), 'export const a = 2;\n');
    assert.equal(currentBundle(root), undefined, 'a source changed since the bundle');
    rmSync(join(root, 'a.ts'));
    assert.equal(currentBundle(root), undefined, 'a source is gone');
  });

  test('built by npm run build, the bundle is current and the workers of this run start from it (the sources under Deno)', () => {
    if (import.meta.url.endsWith('.ts')) return assert.match(workerEntry().pathname, /\/worker\.ts$/);
    assert.ok(currentBundle(), `${WORKER_BUNDLE} is missing or older than its sources: run npm run build:bin`);
    assert.equal(workerEntry().href, currentBundle()!.href);
  });

  test('a worker-isolated load boots its worker while the component is hashed and compiled', async () => {
    const early = new WasmTierLoader();
    const { manifest, dir } = wasmManifest('fixtures/echo', { budget: { ...RELAXED } as PluginManifest['budget'] });
    const loading = early.load(manifest, dir, pluginContext({ name: manifest.name }));
    assert.equal(early.spares.count, 1, 'booting as the load starts');
    const rt = await loading;
    assert.equal(rt.call('echo', 'up'), 'up');
    await rt.dispose();
  });
});

test('plugin settings are packed into bytes of their own, not a view pinning msgpackr\'s scratch buffer', async () => {
  pack({ big: 'x'.repeat(3_000_000) }); // the shared scratch buffer grows to tens of MB
  const own = packOwn({ answer: 42 });
  assert.equal(own.buffer.byteLength, own.length);
  for (const isolation of ['inline', 'worker'] as const) {
    const { rt } = await load('fixtures/probe', { isolation, config: { answer: 42, list: [1, 2, 3] } });
    for (let i = 0; i < 100; i++) pack({ other: i, text: 'y'.repeat(i * 100) });
    assert.deepEqual(rt.call('config', null), { answer: 42, list: [1, 2, 3] });
    await rt.dispose();
  }
});

/** A project of three files on disk, to edit and index again. */
function smallProject(): { root: string; write(path: string, text: string): void; remove(path: string): void } {
  const root = tempDir('isg-hooks-');
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('a.ts', 'export function kept(): number { return 1; }\nexport function edited(): number { return 1; }\n');
  write('b.ts', 'export const gone = 1;\n');
  write('c.ts', "import { kept } from './a';\nexport const user = kept();\n");
  return { root, write, remove: (path) => rmSync(join(root, path)) };
}

const updateOf = (s: ChangeSummary) => ({ type: 'update' as const, generation: s.generation, files: s.files, added: s.added, removed: s.removed, changed: s.changed });

interface Seen {
  update: { generation: number; files: string[]; added: (string | null)[]; changed: (string | null)[]; removed: string[] } | null;
  before: { op: string; args: unknown; generation: number } | null;
  after: { op: string; args: unknown; answer: unknown; generation: number } | null;
  counts: { update: number; before: number; after: number };
}

for (const isolation of ['worker', 'inline'] as const) {
  describe(`hooks, ${isolation} isolation`, () => {
    test('on-graph-update gets the generation, the files, ids of the added and changed entities (they read back as their keys) and the removed keys', async () => {
      const project = smallProject();
      const host = await GraphHost.index(project.root);
      const { rt } = await load('fixtures/hooks', { isolation, host, granted: ['graph:read'] });
      project.write('a.ts', 'export function kept(): number { return 1; }\nexport function edited(): string { return "1"; }\nexport class Added {}\n');
      project.remove('b.ts');
      const s = host.applyChanges([{ path: 'a.ts' }, { path: 'b.ts', text: null }]);
      assert.deepEqual([s.added, s.changed, s.removed], [['a.ts#Added'], ['a.ts#edited'], ['b.ts#gone', 'b.ts']]);
      await rt.onUpdate!(updateOf(s));
      const seen = rt.call('seen', null) as Seen;
      assert.deepEqual(seen.update, { generation: s.generation, files: s.files, added: s.added, changed: s.changed, removed: s.removed });
      assert.equal(seen.counts.update, 1);
      await rt.dispose();
    });

    test('the graph snapshot is built on a call\'s first graph read, once per generation, and reads the generation asked at', async () => {
      const project = smallProject();
      const host = await GraphHost.index(project.root);
      const hooks = await load('fixtures/hooks', { isolation, host, granted: ['graph:read'] });
      await hooks.rt.onUpdate!({ type: 'update', generation: host.generation, files: ['a.ts'], added: [], removed: [], changed: [] });
      assert.equal((hooks.rt.call('seen', null) as Seen).counts.update, 1);
      assert.equal(hooks.ctx.snapshotsBuilt(), 0, 'neither a load, an update with no ids to read nor an op reading no graph builds one');
      await hooks.rt.dispose();

      const { rt, ctx } = await load('fixtures/probe', { isolation, host, granted: ['graph:read'] });
      assert.equal(rt.call('log', null), null);
      assert.equal(ctx.snapshotsBuilt(), 0);
      assert.equal(rt.call('count', null), buildCsr(host.store, host.generation).nodeCount);
      assert.equal(rt.call('count', null), buildCsr(host.store, host.generation).nodeCount);
      assert.equal(ctx.snapshotsBuilt(), 1);
      project.write('d.ts', 'export class D { m(): void {} }\nexport const e = 1;\n');
      host.applyChanges([{ path: 'd.ts' }]);
      assert.equal(rt.call('log', null), null);
      assert.equal(ctx.snapshotsBuilt(), 1, 'a new generation alone builds nothing');
      assert.equal(rt.call('count', null), buildCsr(host.store, host.generation).nodeCount);
      assert.equal(ctx.snapshotsBuilt(), 2);
      await rt.dispose();
    });

    test('without graph:read the ids are left out (they would mean nothing); files and removed keys are there', async () => {
      const project = smallProject();
      const host = await GraphHost.index(project.root);
      const { rt } = await load('fixtures/hooks', { isolation, host, granted: [] });
      project.write('d.ts', 'export const added = 1;\n');
      project.remove('b.ts');
      const s = host.applyChanges([{ path: 'd.ts' }, { path: 'b.ts', text: null }]);
      assert.ok(s.added.length > 0);
      await rt.onUpdate!(updateOf(s));
      assert.deepEqual((rt.call('seen', null) as Seen).update, { generation: s.generation, files: s.files, added: [], changed: [], removed: s.removed });
      await rt.dispose();
    });

    if (isolation === 'worker') {
      test('an update hook reports the worker\'s own time, not the time it waited for the daemon\'s thread', async () => {
        const project = smallProject();
        const host = await GraphHost.index(project.root);
        const { rt } = await load('fixtures/hooks', { isolation, host, granted: ['graph:read'] });
        project.write('d.ts', 'export const added = 1;\n');
        const s = host.applyChanges([{ path: 'd.ts' }]);
        const t0 = performance.now();
        const done = rt.onUpdate!(updateOf(s));
        // The hook reads the graph: it asks the daemon's thread for the snapshot, which is busy
        // (applying an edit, say) for 300 ms before it gets to the question.
        const busyUntil = performance.now() + 300;
        while (performance.now() < busyUntil);
        await done;
        const wall = performance.now() - t0;
        assert.deepEqual((rt.call('seen', null) as Seen).update!.added, s.added);
        const spent = rt.updateSpentMs!;
        assert.ok(spent >= 0 && spent <= wall, `${spent} ms within the ${wall} ms the call took`);
        assert.ok(spent < 300, `the 300 ms the daemon's thread was busy are not the hook's (${spent} ms)`);
        await rt.dispose();
      });
    }

    test('before-query answers a query itself or lets it run; after-query sees the answer; a failing hook is an error', async () => {
      const { rt } = await load('fixtures/hooks', { isolation });
      const query = (args: unknown) => ({ op: 'lookup', args, generation: 7 });
      assert.deepEqual(await rt.beforeQuery!(query({ cached: [1, 'x'] })), { respond: { cached: [1, 'x'] } });
      assert.equal(await rt.beforeQuery!(query({ name: 'Subject' })), undefined);
      throwsWith(() => rt.beforeQuery!(query({ failBefore: true })), 'plugin-error', /plugin fixture-hooks failed in before-query of "lookup": before-query failed on purpose/);
      assert.deepEqual((rt.call('seen', null) as Seen).before, { op: 'lookup', args: { failBefore: true }, generation: 7 });
      rt.afterQuery!(query({ name: 'Subject' }), { total: 1, matches: ['internal/Subject.ts#Subject'] });
      assert.deepEqual((rt.call('seen', null) as Seen).after, { op: 'lookup', args: { name: 'Subject' }, answer: { total: 1, matches: ['internal/Subject.ts#Subject'] }, generation: 7 });
      throwsWith(() => rt.afterQuery!(query({ failAfter: true }), null), 'plugin-error', /plugin fixture-hooks failed in after-query of "lookup": after-query failed on purpose/);
      throwsWith(() => rt.afterQuery!(query({}), { s: Symbol('s') }), 'plugin-error', /the query answer cannot be sent to it as msgpack/);
      assert.deepEqual((rt.call('seen', null) as Seen).counts, { update: 0, before: 3, after: 2 });
      await rt.dispose();
    });
  });
}
