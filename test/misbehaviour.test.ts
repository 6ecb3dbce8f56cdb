// The misbehaviour suite: plugins that throw, return malformed data, loop forever (WASM in a
// worker, native in a child process), take 5 ms per call, grow memory without bound, import WASI filesystem or sockets, ask for a capability the
// config does not grant, are native but untrusted, or panic in Rust — each loaded into a real
// daemon (on a copy of rxjs) through isg.config.json, each caught and ejected or refused, and the
// core queries answering correctly after every one of them.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect, IsgClient, IsgClientError } from '../client/client.ts';
import type { LookupResult, PluginInfo, PluginsResult } from '../client/protocol.ts';
import { findAddon } from '../daemon/plugins/native-addon.ts';
import { readManifest } from '../daemon/plugins/manifest.ts';
import { sha256Of } from '../daemon/util/hash.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { tempDir } from './support/temp-dirs.ts';

const FIXTURES = join(packageRoot(), 'wasm-plugins', 'fixtures');
const TESTKIT = join(packageRoot(), 'test', 'fixtures', 'plugins', 'testkit');

let daemon: Daemon;
let client: IsgClient;

/**
 * A copy of the native testkit under another plugin name (one addon file per name: dlopen caches
 * by path). Without its update hook: these plugins misbehave in their ops, and on a loaded
 * machine (Deno, two busy processes beside the daemon) one update hook call in a
 * process-isolated child measured 75-92 ms, past the ceiling, and ejected the plugin before the
 * test of its op. Alone it takes ~0.1 ms.
 */
function testkit(parent: string, name: string): { dir: string; sha256: string } {
  const { manifest } = readManifest(TESTKIT);
  const addon = findAddon(manifest, TESTKIT);
  const dir = join(parent, name);
  mkdirSync(dir);
  cpSync(addon, join(dir, 'testkit.node'));
  writeFileSync(join(dir, 'isg-plugin.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(TESTKIT, 'isg-plugin.json'), 'utf8')), name, hooks: [] }));
  return { dir, sha256: sha256Of(readFileSync(join(dir, 'testkit.node'))) };
}

before(async () => {
  const root = tempDir('isg-misbehaviour-');
  cpSync(join(packageRoot(), 'node_modules', 'rxjs', 'src'), join(root, 'src'), { recursive: true });
  const kits = tempDir('isg-kits-');
  const slow = testkit(kits, 'kit-slow');
  const panicky = testkit(kits, 'kit-panic');
  const untrusted = testkit(kits, 'kit-untrusted');
  const runaway = testkit(kits, 'kit-runaway');
  const fixture = (name: string, extra: object = {}) => ({ path: join(FIXTURES, name), ...extra });
  const plugins = {
    'fixture-loop': fixture('loop'),
    'fixture-trap': fixture('trap'),
    'fixture-bad-msgpack': fixture('bad-msgpack'),
    'fixture-grow': fixture('grow', { budget: { memoryMb: 5 } }),
    'fixture-wasi-fs': fixture('wasi-fs'),
    'fixture-sockets': fixture('sockets'),
    'fixture-probe': fixture('probe', { grant: ['graph:read'] }),
    // Its ceiling far above the 5 ms calls: on a loaded machine one call can take over the
    // default 50 ms, and the ceiling would then eject it before the p99 rule this test is about.
    'kit-slow': { path: slow.dir, sha256: slow.sha256, grant: ['graph:read'], budget: { ceilingMs: 5000 } },
    'kit-panic': { path: panicky.dir, sha256: panicky.sha256, grant: ['graph:read'] },
    'kit-untrusted': { path: untrusted.dir, grant: ['graph:read'] },
    'kit-runaway': { path: runaway.dir, sha256: runaway.sha256, grant: ['graph:read'], isolation: 'process' },
  };
  writeFileSync(join(root, 'isg.config.json'), JSON.stringify({ log: { level: 'silent' }, plugins }));
  daemon = await Daemon.start({ root });
  await daemon.ready();
  client = await connect({ socket: daemon.endpoints.socket! });
});

after(async () => {
  client?.close();
  await daemon?.stop();
});

/** The core keeps answering, and answering right. */
async function coreAnswers(): Promise<void> {
  const r = (await client.lookup({ name: 'Subject', mode: 'exact', kind: 'class' })) as LookupResult;
  assert.deepEqual(r.matches.map((m) => m.id), ['src/internal/Subject.ts#Subject']);
  const callers = await client.callers({ entity: 'src/internal/Subscription.ts#Subscription.unsubscribe' });
  assert.ok(callers.total > 0);
}

async function plugin(name: string): Promise<PluginInfo> {
  // plugins other than the core load once the index is done; wait for them to settle
  for (let i = 0; i < 200; i++) {
    const p = ((await client.plugins()) as PluginsResult).plugins.find((x) => x.name === name)!;
    if (p.state !== 'loading' && p.state !== 'discovered') return p;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`plugin ${name} never settled`);
}

async function fails(op: string, args: unknown, code: string, message: RegExp): Promise<void> {
  await assert.rejects(client.request(op, args), (e: IsgClientError) => {
    assert.equal(e.code, code, `${op}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

test('a component importing WASI filesystem or sockets is refused at load, naming the import', async () => {
  assert.match((await plugin('fixture-wasi-fs')).error!, /wasi:filesystem/);
  assert.match((await plugin('fixture-sockets')).error!, /wasi:sockets/);
  assert.equal((await plugin('fixture-sockets')).state, 'failed');
  await coreAnswers();
});

test('a plugin asking for a capability the config does not grant is refused', async () => {
  const p = await plugin('fixture-probe');
  assert.equal(p.state, 'failed');
  assert.match(p.error!, /requests source:read, which isg\.config\.json does not grant it/);
  await coreAnswers();
});

test('a native plugin nobody vouched for is refused, with the pin to add', async () => {
  const p = await plugin('kit-untrusted');
  assert.equal(p.state, 'failed');
  assert.match(p.error!, /plugin "kit-untrusted" is not trusted: pin its artifact in isg\.config\.json as plugins\.kit-untrusted\.sha256 = "[0-9a-f]{64}"/);
  await coreAnswers();
});

test('a component that loops forever is stopped at its ceiling and ejected', async () => {
  assert.equal((await plugin('fixture-loop')).state, 'active');
  await fails('fixture-loop/loop', {}, 'budget-exceeded', /ceiling of 50 ms/);
  const p = await plugin('fixture-loop');
  assert.equal(p.state, 'ejected');
  assert.match(p.lastEjection!.reason, /past the hard ceiling of 50 ms/);
  await fails('fixture-loop/ok', {}, 'plugin-unavailable', /ejected for another \d+ s/);
  await coreAnswers();
});

test('a native call that never returns, in process isolation, is stopped at its ceiling by killing the child, and ejected', async () => {
  const before = await plugin('kit-runaway');
  assert.equal(before.state, 'active', `ejected before its test: ${before.lastEjection?.reason}`);
  const started = performance.now();
  await fails('kit-runaway/spin', { ms: 60_000 }, 'budget-exceeded', /op "spin" did not finish within its ceiling of 50 ms, so its process was killed/);
  const took = performance.now() - started;
  assert.ok(took >= 50 && took < 1000, `answered ${took.toFixed(0)} ms after the call, at the 50 ms ceiling`);
  const p = await plugin('kit-runaway');
  assert.equal(p.state, 'ejected');
  assert.match(p.lastEjection!.reason, /^one call to spin took \d+\.\d ms, past the hard ceiling of 50 ms$/);
  await fails('kit-runaway/noop', {}, 'plugin-unavailable', /ejected for another \d+ s/);
  await coreAnswers();
});

test('a plugin taking 5 ms per call is ejected by the p99 rule, not the ceiling', async () => {
  // The host checks budgets every 250 ms, off the hot path, so the ejection may come while the
  // calls go on (they are then refused as plugin-unavailable) or just after the last one.
  for (let i = 0; i < 300; i++) {
    const refused = await client.request('kit-slow/spin', { ms: 5 }).then(
      () => false,
      (err: { code?: string }) => (err.code === 'plugin-unavailable' ? true : Promise.reject(err)),
    );
    if (refused) break;
  }
  await new Promise((r) => setTimeout(r, 600));
  const p = await plugin('kit-slow');
  assert.equal(p.state, 'ejected');
  assert.match(p.lastEjection!.reason, /^query p99 \d+ µs over \d+ calls exceeds the budget of 1000 µs$/);
  assert.ok(p.lastEjection!.histogram.maxUs < 5_000_000, 'no call came near the ceiling');
  await coreAnswers();
});

test('a Rust panic is a plugin error; repeated panics trip the circuit breaker', async () => {
  for (let i = 0; i < 5; i++) await fails('kit-panic/panic', { message: `boom ${i}` }, 'plugin-error', new RegExp(`boom ${i}`));
  assert.equal((await plugin('kit-panic')).state, 'active');
  await fails('kit-panic/panic', { message: 'once more' }, 'plugin-error', /once more/);
  const p = await plugin('kit-panic');
  assert.equal(p.state, 'ejected');
  assert.match(p.lastEjection!.reason, /6 errors within one window/);
  await coreAnswers();
});

test('a trap is an error and the next call gets a fresh instance; malformed msgpack is an error', async () => {
  await fails('fixture-trap/trap', {}, 'plugin-error', /unreachable|trap/i);
  assert.equal(typeof (await client.request('fixture-trap/count', {})), 'number');
  await fails('fixture-bad-msgpack/bad', {}, 'plugin-error', /msgpack/i);
  await coreAnswers();
});

test('a component growing its memory past its budget is ejected for it', async () => {
  await client.request('fixture-grow/grow', 200).catch(() => undefined); // 200 pages = 12.5 MiB
  const p = await plugin('fixture-grow');
  assert.equal(p.state, 'ejected');
  assert.match(p.lastEjection!.reason, /holds [\d.]+ MB, over its budget of 5\.0 MB/);
  await coreAnswers();
});
