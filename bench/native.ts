// native: the native plugin tier. Load time of an addon (in a fresh process each time, target
// <= 10 ms), the overhead of a call per isolation mode (a no-op op, inline vs process, the
// latter under both hosts: the Rust process host and the Node child), what
// handing a new generation's snapshot over costs (inline: attach in place; process: a copy
// through the pipe), and the scc and pagerank plugins against their TypeScript twins, cold
// (first call of a generation: the algorithm runs) and warm (later calls: the per-generation
// cache answers). Every call is timed on its own into an HDR histogram.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { buildCsr, fromTransfer, toTransfer, type CsrSnapshot } from '../daemon/graph/csr.ts';
import { GraphHost } from '../daemon/host.ts';
import type { PluginContext, PluginRuntime } from '../daemon/plugins/api.ts';
import { NATIVE_FALLBACKS } from '../daemon/plugins/graph-algorithms.ts';
import { addonCandidates } from '../daemon/plugins/native-addon.ts';
import type { ProcessHost } from '../daemon/plugins/native-process.ts';
import { createNativeTierLoader, nativeTierLoader } from '../daemon/plugins/native-tier.ts';
import type { GraphView } from '../daemon/queries/graph-view.ts';
import { pluginContext, readManifest } from '../test/support/plugin-context.ts';
import { corpusRoot, fixed, fmt, forceGc, heading, latencyHistogram, median, now, repoRoot, since, summarize, table, verdict, type BenchContext, type LatencySummary } from './util.ts';

const LOAD_RUNS = 10;
const LOAD_TARGET_MS = 10;
const INLINE_CALLS = 20_000;
const PROCESS_CALLS = 3_000;
const HANDOVER_RUNS = 20;
const COLD_RUNS = 20;
const WARM_CALLS = 2_000;
const SPIN_MS = 1000;
const STOP_AFTER_MS = 100;
const HOSTS: ProcessHost[] = ['rust', 'node'];
const loaders = { rust: createNativeTierLoader({ processHost: 'rust' }), node: createNativeTierLoader({ processHost: 'node' }) };

/**
 * Manifest overrides for what is measured here: process isolation stops a call at the plugin's
 * ceiling, and these figures are costs, not the contract, so no ceiling may cut one short (nor
 * stop the spin before kill() does).
 */
const benchManifest = (name: string, isolation: 'inline' | 'process') => readManifest(pluginDir(name), { isolation, budget: { ...readManifest(pluginDir(name)).budget, ceilingMs: 600_000 } });
const pluginDir = (name: string) => (name === 'testkit' ? join(repoRoot(), 'test', 'fixtures', 'plugins', 'testkit') : join(repoRoot(), 'native', 'plugins', name));

type Runtime = { call(op: string, args: unknown): unknown };

/**
 * Contexts whose snapshot and view can be moved to a "new generation" without rebuilding:
 * a fresh view over the same SharedArrayBuffer with another generation number, which both the
 * native cache (keyed by generation) and the TypeScript one (keyed by snapshot) treat as new.
 */
class Generations {
  private readonly base: CsrSnapshot;
  private csr: CsrSnapshot;
  private view: GraphView;
  private generation: number;
  private readonly host: GraphHost;

  constructor(host: GraphHost) {
    this.host = host;
    this.base = buildCsr(host.store, host.generation);
    this.csr = this.base;
    this.view = host;
    this.generation = host.generation;
  }

  renew(): void {
    this.generation += 1;
    this.csr = fromTransfer({ ...toTransfer(this.base), generation: this.generation });
    this.view = Object.create(this.host, { generation: { value: this.generation } }) as GraphView;
  }

  context(name: string): PluginContext {
    return { ...pluginContext(this.host, name), graph: { csr: () => this.csr, view: () => this.view } };
  }

  get bytes(): number {
    return this.base.buffer.byteLength;
  }
}

async function time(h: ReturnType<typeof latencyHistogram>, fn: () => unknown): Promise<void> {
  const t0 = now();
  const r = fn();
  if (r instanceof Promise) await r;
  h.recordValue(Math.max(1, since(t0)));
}

async function histogramOf(n: number, before: () => void, fn: () => unknown): Promise<LatencySummary> {
  return (await measured(n, before, fn)).latency;
}

/**
 * Wall time of each call into a histogram, and the median CPU time of this process per call
 * (which a loaded machine inflates much less than wall time; a child's CPU is not in it).
 */
async function measured(n: number, before: () => void, fn: () => unknown): Promise<{ latency: LatencySummary; cpuMs: number }> {
  const h = latencyHistogram();
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    before();
    const c0 = process.cpuUsage();
    await time(h, fn);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { latency: summarize(h), cpuMs: median(cpu) };
}

const ms = (us: number) => us / 1000;

function loadTimes(results: Record<string, unknown>): void {
  heading('native: plugin load (inline, first load in a fresh process)');
  const names = ['scc', 'pagerank', 'testkit'];
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < LOAD_RUNS; i++) {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'bench', 'native-load-child.js'), ...names.map(pluginDir)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`native-load-child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim()) as Record<string, number>;
    for (const n of names) samples[n]!.push(out[n]!);
  }
  const rows = names.map((n) => {
    const xs = samples[n]!;
    return [n, fixed(median(xs), 2), fixed(Math.max(...xs), 2), `<= ${LOAD_TARGET_MS}`, verdict(median(xs), LOAD_TARGET_MS)];
  });
  console.log(table(['plugin', 'median ms', 'max ms', 'target', 'status'], rows));
  console.log(`(${LOAD_RUNS} fresh processes; each loads scc, then pagerank, then testkit: dlopen, export checks. The first load of a process also runs the loader's code for the first time, unoptimized.)`);
  results.loadMs = Object.fromEntries(names.map((n) => [n, { median: median(samples[n]!), max: Math.max(...samples[n]!) }]));
}

async function processLoadTimes(host: GraphHost, results: Record<string, unknown>): Promise<void> {
  const starts: Record<string, unknown> = {};
  for (const processHost of HOSTS) {
    const xs: number[] = [];
    for (let i = 0; i < LOAD_RUNS; i++) {
      const t0 = performance.now();
      const rt = await loaders[processHost].load(benchManifest('testkit', 'process'), pluginDir('testkit'), pluginContext(host, 'testkit', []));
      xs.push(performance.now() - t0);
      await rt.dispose();
    }
    console.log(`\nprocess isolation start (spawn the ${processHost} host, load the addon, handshake), testkit, ${LOAD_RUNS} runs: median ${fixed(median(xs), 1)} ms, max ${fixed(Math.max(...xs), 1)} ms`);
    starts[processHost] = { median: median(xs), max: Math.max(...xs) };
  }
  results.processStartMs = starts;
}

/**
 * Why there is no worker isolation for native code: a worker's terminate() waits for the
 * native call it is in. Both ways of stopping a 1 s call, 100 ms into it.
 */
async function stopping(host: GraphHost, results: Record<string, unknown>): Promise<void> {
  heading('native: stopping a runaway call (a 1,000 ms spin, stopped 100 ms in)');
  const addon = addonCandidates(pluginDir('testkit'), 'testkit.node')[0]!;
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads'); const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(addon)});
     parentPort.on('message', (ms) => parentPort.postMessage(m.exports.call('spin', { ms }))); parentPort.postMessage('ready');`,
    { eval: true },
  );
  await once(worker, 'message');
  worker.postMessage(SPIN_MS);
  await delay(STOP_AFTER_MS);
  let t0 = performance.now();
  await worker.terminate();
  const terminateMs = performance.now() - t0;

  const child = await nativeTierLoader.load(benchManifest('testkit', 'process'), pluginDir('testkit'), pluginContext(host, 'testkit', []));
  const call = (child.call('spin', { ms: SPIN_MS }) as Promise<unknown>).catch(() => undefined);
  await delay(STOP_AFTER_MS);
  t0 = performance.now();
  child.kill!();
  await call;
  const rejectMs = performance.now() - t0;
  await child.dispose();
  const exitMs = performance.now() - t0;
  console.log(table(['how', 'ms until stopped'], [
    ['worker_threads terminate() (waits for the native call to return)', fixed(terminateMs, 1)],
    ['process isolation kill(): the pending call fails', fixed(rejectMs, 1)],
    ['process isolation kill(): the child has exited', fixed(exitMs, 1)],
  ]));
  results.stopping = { terminateMs, rejectMs, exitMs };
}

export async function native(ctx: BenchContext): Promise<void> {
  const results: Record<string, unknown> = {};
  ctx.results.native = results;
  loadTimes(results);
  for (const corpus of ctx.corpora) {
    const host = await GraphHost.index(corpusRoot(corpus));
    const gens = new Generations(host);
    const perCorpus: Record<string, unknown> = { nodes: host.store.idLimit, snapshotBytes: gens.bytes };
    results[corpus] = perCorpus;
    if (corpus === ctx.corpora[0]) {
      await processLoadTimes(host, results);
      await stopping(host, results);
    }

    const runtimes: PluginRuntime[] = [];
    const load = async (name: string, isolation: 'inline' | 'process', processHost: ProcessHost = 'rust') => {
      const rt = await loaders[processHost].load(benchManifest(name, isolation), pluginDir(name), gens.context(name));
      runtimes.push(rt);
      return rt;
    };
    const twin = async (name: 'scc' | 'pagerank'): Promise<Runtime> => {
      const instance = await NATIVE_FALLBACKS[name]!.activate(gens.context(name));
      return { call: (op, args) => instance.ops[op]!(args) };
    };

    heading(`native: call overhead, a no-op op (${corpus})`);
    const inline = await load('testkit', 'inline');
    const child = await load('testkit', 'process', 'rust');
    const nodeChild = await load('testkit', 'process', 'node');
    await child.call('noop', {});
    await nodeChild.call('noop', {});
    inline.call('noop', {});
    forceGc();
    const overhead: [string, LatencySummary][] = [
      ['inline', await histogramOf(INLINE_CALLS, () => undefined, () => inline.call('noop', {}))],
      ['process, Rust host', await histogramOf(PROCESS_CALLS, () => undefined, () => child.call('noop', {}))],
      ['process, Node child', await histogramOf(PROCESS_CALLS, () => undefined, () => nodeChild.call('noop', {}))],
    ];
    console.log(table(['isolation', 'calls', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs'], overhead.map(([n, s]) => [n, s.count, fixed(s.p50Us), fixed(s.p90Us), fixed(s.p99Us), fixed(s.maxUs)])));
    console.log(`process / inline at p50: Rust host ${fixed(overhead[1]![1].p50Us / overhead[0]![1].p50Us, 1)}x, Node child ${fixed(overhead[2]![1].p50Us / overhead[0]![1].p50Us, 1)}x`);
    perCorpus.noopCall = Object.fromEntries(overhead);

    heading(`native: a new generation's snapshot handed over (${corpus}, ${fmt(Math.round(gens.bytes / 1024))} KB)`);
    const handover: [string, LatencySummary][] = [
      ['build the snapshot (buildCsr, for scale)', await histogramOf(5, () => undefined, () => buildCsr(host.store, host.generation))],
      ['inline: attach in place + no-op call', await histogramOf(HANDOVER_RUNS, () => gens.renew(), () => inline.call('noop', {}))],
      ['process, Rust host: copy through the pipe + no-op call', await histogramOf(HANDOVER_RUNS, () => gens.renew(), () => child.call('noop', {}))],
      ['process, Node child: copy through the pipe + no-op call', await histogramOf(HANDOVER_RUNS, () => gens.renew(), () => nodeChild.call('noop', {}))],
    ];
    console.log(table(['what', 'runs', 'p50 ms', 'p99 ms'], handover.map(([n, s]) => [n, s.count, fixed(ms(s.p50Us), 3), fixed(ms(s.p99Us), 3)])));
    perCorpus.handover = Object.fromEntries(handover);

    heading(`native: scc and pagerank, native vs TypeScript (${corpus}, ${fmt(host.store.idLimit)} ids)`);
    const cases: [label: string, plugin: 'scc' | 'pagerank', op: string, args: unknown][] = [
      ['scc imports', 'scc', 'components', { kinds: ['imports'] }],
      ['scc calls+uses-type, inferred', 'scc', 'components', { kinds: ['calls', 'uses-type'], inferred: true }],
      ['pagerank (defaults, top 20)', 'pagerank', 'rank', {}],
      ['pagerank inferred, top 200', 'pagerank', 'rank', { inferred: true, top: 200 }],
    ];
    const rows: (string | number)[][] = [];
    const algos: Record<string, unknown> = {};
    for (const [label, plugin, op, args] of cases) {
      const impls: [string, Runtime][] = [
        ['native inline', await load(plugin, 'inline')],
        ['native process', await load(plugin, 'process', 'rust')],
        ['TypeScript', await twin(plugin)],
      ];
      const cold: Record<string, { latency: LatencySummary; cpuMs: number }> = {};
      const warm: Record<string, LatencySummary> = {};
      for (const [impl, rt] of impls) {
        forceGc();
        cold[impl] = await measured(COLD_RUNS, () => gens.renew(), () => rt.call(op, args));
        warm[impl] = await histogramOf(WARM_CALLS, () => undefined, () => rt.call(op, args));
      }
      const base = cold['native inline']!;
      for (const [impl] of impls) {
        const c = cold[impl]!;
        const cpu = impl === 'native process' ? ['—', '—'] : [fixed(c.cpuMs, 2), fixed(c.cpuMs / base.cpuMs, 1)];
        rows.push([label, impl, fixed(ms(c.latency.p50Us), 2), fixed(ms(c.latency.p99Us), 2), fixed(c.latency.p50Us / base.latency.p50Us, 1), ...cpu, fixed(warm[impl]!.p50Us), fixed(warm[impl]!.p99Us)]);
      }
      algos[label] = { cold, warm };
    }
    console.log(table(['case', 'implementation', 'cold p50 ms', 'cold p99 ms', '/ native', 'cold CPU ms', '/ native', 'warm p50 µs', 'warm p99 µs'], rows));
    console.log(`(cold: ${COLD_RUNS} calls, each the first of a new generation, so the algorithm runs; native inline includes attaching the snapshot, native process (the Rust host) its copy to the child.`);
    console.log(' cold CPU: median CPU time of this process per call; the child of native process is not counted, so it is left out.');
    console.log(` warm: ${WARM_CALLS} calls on one generation, answered from the per-generation cache: filtering, top N, entity refs.)`);
    perCorpus.algorithms = algos;
    for (const rt of runtimes) await rt.dispose();
  }
}
