// What the plugin host costs, on rxjs:
// - per call: a no-op op called directly, through the builtin tier's runtime, and through the
//   host (routing, latency into the HDR histogram, ceiling and memory checks), a million calls
//   each, interleaved in rounds; a real core query both ways, to read the overhead against work;
// - per tier, the update hooks as the host measures them (the onUpdate p50/p99 its update budget
//   judges), over edits of one rxjs file: a no-op builtin hook, the hooks fixture (WASM, QuickJS)
//   in both isolations, the testkit (native) inline and in process isolation;
// - per native plugin in process isolation, memory: its child's RSS (under each host: the Rust
//   process host and the Node child) against what the plugin itself holds (its allocator's
//   count, what the memory budget judges);
// - a daemon's start on a copy of zod: how long after "indexed" its three WASM worker plugins
//   are all active (their workers boot while the index runs).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr, type CsrSnapshot } from '../daemon/graph/csr.ts';
import { GraphHost } from '../daemon/host.ts';
import type { BuiltinPlugin, PluginManifest } from '../daemon/plugins/api.ts';
import { DEFAULT_POLICY } from '../daemon/plugins/budget.ts';
import { BuiltinLoader, runtimeOf } from '../daemon/plugins/builtin-tier.ts';
import { CORE_PLUGIN, corePlugin } from '../daemon/plugins/builtin/core.ts';
import { readManifest, validateManifest } from '../daemon/plugins/manifest.ts';
import { findAddon } from '../daemon/plugins/native-addon.ts';
import type { ProcessHost } from '../daemon/plugins/native-process.ts';
import { createNativeTierLoader, nativeTierLoader } from '../daemon/plugins/native-tier.ts';
import { PluginHost } from '../daemon/plugins/plugin-host.ts';
import { sha256Of } from '../daemon/util/hash.ts';
import { WasmTierLoader } from '../daemon/plugins/wasm-tier.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { createLogger } from '../daemon/util/log.ts';
import { pluginContext, readManifest as manifestWithDefaults } from '../test/support/plugin-context.ts';
import { cliPath, copyCorpus, corpusRoot, fixed, heading, mb, median, now, repoRoot, since, table, verdict, type BenchContext } from './util.ts';

const CALLS = 1_000_000;
const ROUNDS = 7;
const QUERY_CALLS = 100_000;
const OVERHEAD_TARGET_NS = 1000;
const UPDATES = 200;
const MEMORY_TARGET_MB = 5;
/** Figures here are costs, not the contract: no ceiling may cut a measurement short. */
const NO_CEILING = { ceilingMs: 60_000 };

export async function pluginHost(ctx: BenchContext): Promise<void> {
  const graph = await GraphHost.index(corpusRoot('rxjs'));
  const results: Record<string, unknown> = {};
  ctx.results['plugin-host'] = results;
  await callOverhead(graph, results);
  await updateHooks(graph, results);
  await processMemory(graph, results);
  await workerPluginsAtStart(results);
}

/** The graph capability a daemon gives: the snapshot built once per generation. */
function graphOf(graph: GraphHost) {
  let csr: CsrSnapshot | undefined;
  return { view: () => graph, csr: () => (csr?.generation === graph.generation ? csr : (csr = buildCsr(graph.store, graph.generation))) };
}

async function callOverhead(graph: GraphHost, results: Record<string, unknown>): Promise<void> {
  heading('plugin-host: accounting overhead per call (direct, builtin runtime, through the host)');
  const loader = new BuiltinLoader();
  const host = new PluginHost({
    root: graph.root,
    loaders: { builtin: loader },
    graph: graphOf(graph),
    source: { read: () => '' },
    log: createLogger({ level: 'silent' }),
    protectedPlugins: [CORE_PLUGIN],
    unprefixedPlugin: CORE_PLUGIN,
    checkEveryMs: 0,
  });
  let sink = 0;
  const noop = (args: unknown) => {
    sink += (args as number) & 1;
    return sink;
  };
  // No ceiling: a no-op stalled by the machine (a 308 ms pause under load 10 once) is not what
  // this measures, and an ejection would end the run.
  const plugin: BuiltinPlugin = { manifest: { name: 'noop', version: '1.0.0', ops: [{ name: 'noop' }], budget: NO_CEILING as PluginManifest['budget'] }, activate: () => ({ ops: { noop } }) };
  for (const p of [corePlugin, plugin]) {
    loader.register(p);
    host.add(validateManifest({ tier: 'builtin', entry: '(builtin)', ...p.manifest }, p.manifest.name), graph.root, { grant: ['graph:read'] });
  }
  await host.startAll();
  // the builtin tier's runtime around the same function, as the host holds it
  const runtime = runtimeOf({ ops: { noop } });

  const direct: number[] = [];
  const tiered: number[] = [];
  const hosted: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = now();
    for (let i = 0; i < CALLS; i++) noop(i);
    direct.push(since(t0) / CALLS);
    t0 = now();
    for (let i = 0; i < CALLS; i++) runtime.call('noop', i);
    tiered.push(since(t0) / CALLS);
    t0 = now();
    for (let i = 0; i < CALLS; i++) host.dispatch('noop/noop', i, 1);
    hosted.push(since(t0) / CALLS);
  }
  const tierNs = median(tiered) - median(direct);
  const accountingNs = median(hosted) - median(tiered);

  const args = { name: 'Subject', mode: 'exact' };
  const qDirect: number[] = [];
  const qHosted: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = now();
    for (let i = 0; i < QUERY_CALLS; i++) runQuery(graph, 'lookup', args);
    qDirect.push(since(t0) / QUERY_CALLS);
    t0 = now();
    for (let i = 0; i < QUERY_CALLS; i++) host.dispatch('lookup', args, 1);
    qHosted.push(since(t0) / QUERY_CALLS);
  }
  console.log(
    table(
      ['no-op op', 'calls/round', 'ns/call', 'added ns/call'],
      [
        ['called directly', CALLS, fixed(median(direct)), ''],
        ['through the builtin tier\'s runtime', CALLS, fixed(median(tiered)), fixed(tierNs)],
        ['through the plugin host', CALLS, fixed(median(hosted)), fixed(accountingNs)],
      ],
    ),
  );
  console.log(`\naccounting overhead per call (host - builtin runtime): ${fixed(accountingNs)} ns; target < ${OVERHEAD_TARGET_NS} ns: ${verdict(accountingNs, OVERHEAD_TARGET_NS)}`);
  console.log(`builtin tier call overhead (runtime - direct): ${fixed(tierNs)} ns (a few ns either way is V8 inlining, not the tier)`);
  console.log(`lookup exact "Subject" (core): ${fixed(median(qDirect))} ns direct, ${fixed(median(qHosted))} ns through the host (+${fixed(median(qHosted) - median(qDirect))} ns)`);
  console.log(`(median of ${ROUNDS} interleaved rounds; the host adds routing, two clock reads, one HDR histogram record and the ceiling and memory checks; sink ${sink & 1})`);
  results.calls = {
    noopDirectNs: median(direct),
    noopBuiltinRuntimeNs: median(tiered),
    noopHostedNs: median(hosted),
    builtinTierNs: tierNs,
    accountingNs,
    lookupDirectNs: median(qDirect),
    lookupHostedNs: median(qHosted),
  };
  await host.dispose();
}

const TESTKIT = join(repoRoot(), 'test', 'fixtures', 'plugins', 'testkit');
const HOOKS_FIXTURE = join(repoRoot(), 'wasm-plugins', 'fixtures', 'hooks');

async function updateHooks(graph: GraphHost, results: Record<string, unknown>): Promise<void> {
  heading(`plugin-host: update hooks per tier, as the host measures them (${UPDATES} edits of one rxjs file), µs`);
  const builtins = new BuiltinLoader();
  const host = new PluginHost({
    root: graph.root,
    loaders: { builtin: builtins, wasm: new WasmTierLoader(), native: nativeTierLoader },
    graph: graphOf(graph),
    source: { read: (file) => readFileSync(join(graph.root, file), 'utf8') },
    log: createLogger({ level: 'silent' }),
    // every update stays in the window read at the end
    policy: { ...DEFAULT_POLICY, windowCalls: 1e9, windowMs: 1e12 },
    checkEveryMs: 0,
  });
  const hooked: [label: string, name: string][] = [];
  const add = (label: string, manifest: PluginManifest, dir: string, settings: { isolation?: PluginManifest['isolation']; sha256?: string }) => {
    host.add({ ...manifest, hooks: ['onUpdate'] }, dir, { grant: ['graph:read'], budget: NO_CEILING, ...settings });
    hooked.push([label, manifest.name]);
  };
  const noopHook: BuiltinPlugin = { manifest: { name: 'noop-hook', version: '1.0.0', hooks: ['onUpdate'], ops: [] }, activate: () => ({ ops: {}, onUpdate: () => undefined }) };
  builtins.register(noopHook);
  add('builtin, a no-op hook', validateManifest({ tier: 'builtin', entry: '(builtin)', ...noopHook.manifest }, 'noop-hook'), graph.root, {});
  const wasm = readManifest(HOOKS_FIXTURE);
  add('WASM (QuickJS) hooks fixture, worker', wasm.manifest, wasm.dir, { isolation: 'worker' });
  add('WASM (QuickJS) hooks fixture, inline', { ...wasm.manifest, name: 'fixture-hooks-inline' }, wasm.dir, { isolation: 'inline' });
  const native = readManifest(TESTKIT);
  const sha256 = sha256Of(readFileSync(findAddon(native.manifest, native.dir)));
  add('native testkit, inline', native.manifest, native.dir, { isolation: 'inline', sha256 });
  add('native testkit, process', { ...native.manifest, name: 'testkit-process' }, native.dir, { isolation: 'process', sha256 });
  await host.startAll();
  for (const [label, name] of hooked) if (host.info(name).state !== 'active') throw new Error(`${label} did not load: ${host.info(name).error}`);

  const edited = 'internal/operators/debounceTime.ts';
  const original = readFileSync(join(graph.root, edited), 'utf8');
  for (let i = 0; i < UPDATES; i++) {
    const s = graph.applyChanges([{ path: edited, text: i % 2 ? original : `${original}\nexport const edit${i} = ${i};\n` }]);
    await host.notifyUpdate({ type: 'update', generation: s.generation, files: s.files, added: s.added, removed: s.removed, changed: s.changed });
  }
  graph.applyChanges([{ path: edited, text: original }]);
  const rows: (string | number)[][] = [];
  const byPlugin: Record<string, unknown> = {};
  for (const [label, name] of hooked) {
    const info = host.info(name);
    const s = info.opLatency.onUpdate!;
    byPlugin[label] = s;
    rows.push([label, s.calls, fixed(s.p50Us, 0), fixed(s.p99Us, 0), fixed(s.maxUs, 0), `p99 <= ${info.budget.updateP99Us}`, verdict(s.p99Us, info.budget.updateP99Us)]);
  }
  console.log(table(['hook', 'updates', 'p50', 'p99', 'max', 'contract', 'status'], rows));
  console.log('(each update adds one entity or removes it again; the first WASM or native hook of an update also maps its keys to ids, shared by the others. WASM and native hooks read the keys of the ids back through the graph.)');
  results.updateHooks = byPlugin;
  await host.dispose();
}

/** RSS of this process's children by pid, KB → bytes (`ps`; undefined where there is none). */
function childRss(): Map<number, number> | undefined {
  const ps = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' });
  if (ps.status !== 0) return undefined;
  const out = new Map<number, number>();
  for (const line of ps.stdout.split('\n')) {
    const [pid, ppid, rss] = line.trim().split(/\s+/).map(Number);
    if (ppid === process.pid && pid !== undefined && rss !== undefined) out.set(pid, rss * 1024);
  }
  return out;
}

async function processMemory(graph: GraphHost, results: Record<string, unknown>): Promise<void> {
  heading('plugin-host: native plugins in process isolation, memory per plugin (rxjs)');
  const plugins: [dir: string, op: string, args: unknown][] = [
    [TESTKIT, 'noop', {}],
    [join(repoRoot(), 'native', 'plugins', 'scc'), 'components', { kinds: ['imports'] }],
    [join(repoRoot(), 'native', 'plugins', 'pagerank'), 'rank', {}],
  ];
  const rows: (string | number)[][] = [];
  const byPlugin: Record<string, unknown> = {};
  const snapshotBytes = buildCsr(graph.store, graph.generation).buffer.byteLength;
  const runtimes = [];
  for (const processHost of ['rust', 'node'] as ProcessHost[]) {
    const loader = createNativeTierLoader({ processHost });
    for (const [dir, op, args] of plugins) {
      const manifest = manifestWithDefaults(dir, { isolation: 'process', budget: { ...manifestWithDefaults(dir).budget, ...NO_CEILING } });
      const before = childRss();
      const rt = await loader.load(manifest, dir, pluginContext(graph, manifest.name));
      runtimes.push(rt);
      await rt.call(op, args); // the snapshot is copied to the child, the op runs
      const after = childRss();
      const pid = after && [...after.keys()].find((p) => !before?.has(p));
      const rss = pid === undefined ? undefined : after!.get(pid)!;
      const own = rt.memoryBytes?.() ?? 0;
      byPlugin[`${manifest.name}, ${processHost} host`] = { childRssBytes: rss, pluginBytes: own, snapshotBytes };
      rows.push([`${manifest.name} (${op})`, processHost, rss === undefined ? 'n/a' : fixed(mb(rss), 1), fixed(mb(own), 2), fixed(mb(snapshotBytes), 2), `<= ${MEMORY_TARGET_MB}`, `${verdict(mb(own), MEMORY_TARGET_MB)} / ${rss === undefined ? 'n/a' : verdict(mb(rss), MEMORY_TARGET_MB)}`]);
    }
  }
  console.log(table(['plugin', 'host', 'child RSS MB', 'plugin holds MB', 'snapshot copy MB', 'target MB', 'status (plugin / child)'], rows));
  console.log('(child RSS: the whole child process, from `ps`: the Rust process host (native/process-host) or a Node runtime, with the addon and its copy of the snapshot; plugin holds: what its Rust code allocated, which the memory budget judges)');
  results.processMemory = byPlugin;
  for (const rt of runtimes) await rt.dispose();
}

const START_RUNS = 5;
/** The worker-isolated WASM plugins a daemon starts: the two bundled ones and a fixture. */
const WORKER_PLUGINS = ['arch-rules', 'fan', 'fixture-echo'];

/** One daemon start: ms from its "indexed" log line to the last of WORKER_PLUGINS going active. */
export async function workerPluginsWait(cli: string, root: string): Promise<{ indexedMs: number; waitMs: number }> {
  const child = spawn(process.execPath, [cli, 'serve', root, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const started = Date.now();
  try {
    return await new Promise((resolveWait, reject) => {
      let indexed: number | undefined;
      const active = new Map<string, number>();
      let buffered = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          let r: { t: string; msg: string; plugin?: string; to?: string };
          try {
            r = JSON.parse(line) as typeof r;
          } catch {
            continue;
          }
          const t = Date.parse(r.t);
          if (r.msg === 'indexed') indexed = t;
          if (r.msg === 'plugin state' && r.to === 'active' && WORKER_PLUGINS.includes(r.plugin!)) active.set(r.plugin!, t);
          if (r.msg === 'plugin state' && r.to === 'failed') reject(new Error(`${r.plugin} failed to load: ${line}`));
          if (indexed !== undefined && active.size === WORKER_PLUGINS.length) resolveWait({ indexedMs: indexed - started, waitMs: Math.max(...active.values()) - indexed });
        }
      });
      child.once('exit', (code) => reject(new Error(`the daemon exited with code ${code} before its plugins were active`)));
    });
  } finally {
    child.kill();
  }
}

/** A copy of zod with the fixture configured as a third worker plugin and no snapshot (every start indexes). */
export function workerPluginsRoot(): string {
  const root = join(tmpdir(), `isg-bench-start-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  copyCorpus('zod', root);
  const config = { snapshot: { enabled: false }, watch: { enabled: false }, plugins: { 'fixture-echo': { path: join(repoRoot(), 'wasm-plugins', 'fixtures', 'echo') } } };
  writeFileSync(join(root, 'isg.config.json'), JSON.stringify(config));
  return root;
}

async function workerPluginsAtStart(results: Record<string, unknown>): Promise<void> {
  heading(`plugin-host: daemon start on zod, ${WORKER_PLUGINS.length} WASM worker plugins (${WORKER_PLUGINS.join(', ')}) active after "indexed" (fresh daemon each, median of ${START_RUNS})`);
  const root = workerPluginsRoot();
  try {
    const runs = [];
    for (let i = 0; i < START_RUNS; i++) runs.push(await workerPluginsWait(cliPath(), root));
    const wait = median(runs.map((r) => r.waitMs));
    const indexed = median(runs.map((r) => r.indexedMs));
    console.log(table(['start to "indexed" ms', 'then until all active ms', 'runs (wait ms)'], [[fixed(indexed, 0), fixed(wait, 0), runs.map((r) => r.waitMs).join(' ')]]));
    console.log('(their workers boot while the index runs, one at a time: a load after "indexed" instantiates the component in a booted worker)');
    results.workerPluginsAtStart = { indexedMs: indexed, waitMs: wait, runs };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
