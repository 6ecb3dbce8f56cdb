// Giving malloc's free memory back (daemon/util/malloc-trim.ts, native/malloc-trim): the addon
// loads and trims, the trimmer waits for quiet and does nothing without its addon, and a daemon
// with WASM plugins (AssemblyScript and QuickJS) keeps answering across its trims. Nothing here is timed: how much a trim
// gives back is measured by `node dist/bench/run.js --only wasm` (BENCHMARKS.md, section 11).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect } from '../client/client.ts';
import type { LookupResult, PluginsResult } from '../client/protocol.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { idleTrimmer, IdleTrimmer, loadMallocTrim } from '../daemon/util/malloc-trim.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { eventually } from './support/eventually.ts';
import { smallCorpus } from './support/small-corpus.ts';

const ADDON = join(packageRoot(), 'native', 'malloc-trim', `malloc-trim.linux-${process.arch}-gnu.node`);
const glibc = process.platform === 'linux' && !readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
const built = existsSync(ADDON);

test('the addon loads where it is built (Linux, glibc) and trims on its own thread', async (t) => {
  if (!glibc) {
    assert.equal(loadMallocTrim(), undefined, 'no addon is loaded off glibc');
    return t.skip('malloc_trim is glibc only');
  }
  if (!built) return t.skip('native/malloc-trim is not built (no cargo): the daemon does not trim');
  const addon = loadMallocTrim()!;
  assert.equal(typeof addon.start, 'function');
  assert.equal(addon.start(), true);
  const result = await eventually('the trim to finish', () => addon.result() ?? undefined);
  assert.equal(typeof result.released, 'boolean');
  assert.ok(result.ms >= 0);
  assert.equal(addon.start(), true, 'a second trim, with nothing freed meanwhile, starts as well');
  await eventually('the second trim to finish', () => addon.result() ?? undefined);
});

test('without its addon the trimmer is unavailable and noting work does nothing', async () => {
  const trimmer = new IdleTrimmer({ load: () => undefined, idleMs: 20 });
  for (let i = 0; i < 5; i++) trimmer.noteWork();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(trimmer.available, false);
  assert.deepEqual(trimmer.stats, { trims: 0, released: 0, lastMs: 0, totalMs: 0 });
});

test('the trimmer trims once the work has stopped, not while it goes on, and not again while idle', async () => {
  let calls = 0;
  // a trim that ends at once: its result is there when the trimmer first asks
  const trimmer = new IdleTrimmer({ load: () => ({ start: () => (calls++, true), result: () => ({ released: true, ms: 0.1 }) }), idleMs: 100 });
  assert.equal(trimmer.available, true);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(calls, 0, 'no work, no trim');
  // work every 10 ms, far more often than the 25 ms ticks: never four quiet ticks in a row
  for (let i = 0; i < 30; i++) {
    trimmer.noteWork();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(calls, 0, 'no trim while work goes on');
  await eventually('the trim after the work', () => (calls === 1 ? true : undefined));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls, 1, 'idle after a trim: no other');
  trimmer.noteWork();
  await eventually('a trim after new work', () => (calls === 2 ? true : undefined));
  assert.equal(trimmer.stats.trims, 2);
  assert.equal(trimmer.stats.released, 2);
});

test('a trim still running on the addon\'s thread is counted when it ends, and starts no other meanwhile', async () => {
  let starts = 0;
  let polls = 0;
  const trimmer = new IdleTrimmer({ load: () => ({ start: () => (starts++, true), result: () => (++polls < 4 ? null : { released: false, ms: 0.2 }) }), idleMs: 40 });
  trimmer.noteWork();
  await eventually('the trim to be counted', () => (trimmer.stats.trims === 1 ? true : undefined));
  assert.equal(starts, 1);
  assert.ok(polls >= 4);
  assert.deepEqual(trimmer.stats, { trims: 1, released: 0, lastMs: 0.2, totalMs: 0.2 });
});

test('a daemon with WASM plugins (arch-rules, and QuickJS in fixture-hooks) keeps answering across its trims', async (t) => {
  if (!idleTrimmer.available) return t.skip('this process cannot trim (no native/malloc-trim addon)');
  // QuickJS is the plugin whose compilation leaves the most free memory in malloc's arenas.
  const root = smallCorpus('isg-malloc-trim-', {
    log: { level: 'silent' },
    plugins: {
      'arch-rules': { settings: { rules: [{ name: 'src stays off other', from: 'src/', mustNotImport: 'other/' }] } },
      // Its first calls compile QuickJS's code: on a loaded machine (the suite runs two files at
      // once) they have passed the default 50 ms ceiling, and an ejected plugin is not what this
      // test is about.
      'fixture-hooks': { path: join(packageRoot(), 'wasm-plugins', 'fixtures', 'hooks'), grant: ['graph:read'], budget: { ceilingMs: 10_000 } },
    },
  });
  const daemon = await Daemon.start({ root });
  const client = await connect({ socket: daemon.endpoints.socket! });
  try {
    await daemon.ready();
    const lastState = new Map<string, unknown>();
    const active = async (name: string) => {
      const plugin = ((await client.plugins()) as PluginsResult).plugins.find((p) => p.name === name);
      lastState.set(name, plugin);
      return plugin?.state === 'active' ? true : undefined;
    };
    for (const name of ['arch-rules', 'fixture-hooks']) {
      await eventually(`${name} active`, () => active(name)).catch((err: Error) => assert.fail(`${err.message}; it was ${JSON.stringify(lastState.get(name))}`));
    }
    const violations = async () => ((await client.request('arch-rules/violations', { file: 'src/' })) as { violations: { from: string; to: string }[] }).violations;
    const before = idleTrimmer.stats.trims;
    assert.deepEqual(await violations(), []);
    await eventually('a trim once the plugin work is over', () => (idleTrimmer.stats.trims > before ? true : undefined));
    // an edit that breaks the rule: the index, the plugin's update hook and its answer after the trim
    daemon.applyChanges([{ path: 'src/uses-tool.ts', text: "import { tool } from '../other/tool';\nexport const t = tool();\n" }]);
    const found = await eventually('arch-rules to see the new import', async () => {
      const v = await violations();
      return v.length ? v : undefined;
    });
    assert.deepEqual(found.map((v) => `${v.from} -> ${v.to}`), ['src/uses-tool.ts -> other/tool.ts']);
    const trims = idleTrimmer.stats.trims;
    await eventually('a trim after the edit', () => (idleTrimmer.stats.trims > trims ? true : undefined));
    const lookup = (await client.lookup({ name: 'tool' })) as LookupResult;
    assert.ok(lookup.matches.some((m) => m.id === 'other/tool.ts#tool'), 'the daemon answers after its trims');
    const seen = (await client.request('fixture-hooks/seen', {})) as { update: { generation: number } | null };
    assert.equal(seen.update?.generation, daemon.generation(), 'the QuickJS plugin heard of the edit and answers after the trims');
  } finally {
    client.close();
    await daemon.stop();
  }
});
