// wasm: the WebAssembly plugin tier. Load time with the transpile cached on disk (fresh process),
// per-call overhead in both isolations (HDR histograms: a no-op op, a 64 KiB payload, a QuickJS
// op, an AssemblyScript one, graph imports), the same calls under each jco version and binding
// option (inline, so only the bindings differ), and memory per active plugin (RSS of a fresh
// process), worker plugins sharing workers or having one each. `wasm-calls`: the per-call table
// alone (seconds, not minutes: for alternating builds), which `wasm` prints too.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { GraphHost } from '../daemon/host.ts';
import type { Isolation, PluginManifest, PluginRuntime } from '../daemon/plugins/api.ts';
import { WasmTierLoader } from '../daemon/plugins/wasm-tier.ts';
import { DEFAULT_PROFILE, transpileCached, type TranspileProfile } from '../daemon/plugins/wasm/transpile.ts';
import { DEFAULT_TENANTS_PER_WORKER } from '../daemon/plugins/wasm/worker-pool.ts';
import { TRIM_IDLE_MS } from '../daemon/util/malloc-trim.ts';
import { pluginContext } from '../test/support/wasm-plugin-context.ts';
import { WASM_PLUGINS, wasmManifest } from '../test/support/wasm-plugins.ts';
import type { LoadReport, MemoryReport } from './wasm-child.ts';
import { corpusRoot, fixed, heading, latencyHistogram, mb, median, now, repoRoot, since, summarize, table, verdict, type BenchContext, type LatencySummary } from './util.ts';

const LOAD_TARGET_MS = 100;
const MEMORY_TARGET_MB = 5;
const CALL_TARGET_US = 1000;
const LOAD_RUNS = 5;
const MEMORY_INSTANCES = 8;
const UPDATES = 200;
/** WAT, WAT on the graph, AssemblyScript, QuickJS. */
const PLUGINS = ['fixtures/echo', 'fan', 'arch-rules', 'fixtures/hooks'];

interface CallCase {
  label: string;
  plugin: string;
  op: string;
  args: unknown;
  calls: number;
}

const PAYLOAD = randomBytes(64 * 1024);
const CASES: CallCase[] = [
  { label: 'no-op (WAT)', plugin: 'fixtures/echo', op: 'noop', args: null, calls: 20_000 },
  { label: '64 KiB echo (WAT)', plugin: 'fixtures/echo', op: 'echo', args: PAYLOAD, calls: 4_000 },
  { label: 'no-op (QuickJS)', plugin: 'fixtures/hooks', op: 'seen', args: null, calls: 4_000 },
  { label: 'arch-rules rules (AssemblyScript)', plugin: 'arch-rules', op: 'rules', args: null, calls: 4_000 },
  { label: 'fan top 10 (rxjs)', plugin: 'fan', op: 'top', args: null, calls: 2_000 },
];

const PROFILES: TranspileProfile[] = [
  { jco: '1.10.2', validLifting: true },
  { jco: '1.10.2', validLifting: false },
  { jco: '1.35.0', validLifting: true },
  { jco: '1.35.0', validLifting: false },
];

function profileName(p: TranspileProfile): string {
  const isDefault = p.jco === DEFAULT_PROFILE.jco && p.validLifting === DEFAULT_PROFILE.validLifting;
  return `jco ${p.jco}${p.validLifting ? ' --valid-lifting-optimization' : ''}${isDefault ? ' (default)' : ''}`;
}

async function start(loader: WasmTierLoader, plugin: string, isolation: Isolation, host: GraphHost): Promise<PluginRuntime> {
  const { manifest, dir } = wasmManifest(plugin, { isolation, budget: { ceilingMs: 60_000 } as PluginManifest['budget'] });
  return loader.load(manifest, dir, pluginContext({ name: manifest.name, granted: ['graph:read', 'source:read'], host }));
}

function measure(rt: PluginRuntime, c: CallCase): LatencySummary {
  for (let i = 0; i < Math.min(1000, c.calls / 4); i++) rt.call(c.op, c.args);
  const h = latencyHistogram();
  for (let i = 0; i < c.calls; i++) {
    const t0 = now();
    rt.call(c.op, c.args);
    h.recordValue(since(t0));
  }
  return summarize(h);
}

interface CallFigures extends LatencySummary {
  /** CPU time per call, all threads of the process (the worker's included), µs. */
  cpuUs: number;
  /** GCs of the daemon's thread during the measured calls, and their time, ms. */
  gcs: number;
  gcMs: number;
}

/** The per-call table: each case in both isolations, with CPU per call and the daemon's thread's GCs. */
async function callTable(loader: WasmTierLoader, host: GraphHost): Promise<Record<string, CallFigures>> {
  heading('wasm: per-call overhead through PluginRuntime.call (msgpack in and out), µs');
  const gc = { count: 0, ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // GC entries arrive a task after the GC
  const settle = () => new Promise((resolveTask) => setTimeout(resolveTask, 10));
  const rows: (string | number)[][] = [];
  const calls: Record<string, CallFigures> = {};
  for (const isolation of ['inline', 'worker'] as const) {
    for (const c of CASES) {
      const rt = await start(loader, c.plugin, isolation, host);
      await settle();
      const before = { ...gc };
      const cpu = process.cpuUsage();
      const s = measure(rt, c);
      const { user, system } = process.cpuUsage(cpu);
      await settle();
      await rt.dispose();
      const f: CallFigures = { ...s, cpuUs: (user + system) / c.calls, gcs: gc.count - before.count, gcMs: gc.ms - before.ms };
      calls[`${c.label} ${isolation}`] = f;
      rows.push([c.label, isolation, f.count, fixed(f.p50Us), fixed(f.p90Us), fixed(f.p99Us), fixed(f.maxUs), fixed(f.cpuUs), `${f.gcs} (${fixed(f.gcMs)} ms)`, `p99 <= ${CALL_TARGET_US}`, verdict(f.p99Us, CALL_TARGET_US)]);
    }
  }
  observer.disconnect();
  console.log(table(['call', 'isolation', 'calls', 'p50', 'p90', 'p99', 'max', 'CPU µs / call', "daemon thread's GCs", 'contract', 'status'], rows));
  console.log('(CPU: all threads of the process, the worker\'s included; GCs: during the measured calls, after a warm-up)');
  return calls;
}

export async function wasmCalls(ctx: BenchContext): Promise<void> {
  const host = await GraphHost.index(corpusRoot('rxjs'));
  ctx.results['wasm-calls'] = { calls: await callTable(new WasmTierLoader(), host) };
}

function child<T>(args: string[]): T {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'bench', 'wasm-child.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ISG_BENCH_ROOT: corpusRoot('rxjs') },
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`wasm-child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

export async function wasm(ctx: BenchContext): Promise<void> {
  const host = await GraphHost.index(corpusRoot('rxjs'));
  const loader = new WasmTierLoader();
  // the disk cache is warm for every benchmark below
  for (const p of PLUGINS) {
    const { manifest, dir } = wasmManifest(p);
    await transpileCached(readFileSync(join(dir, manifest.entry)));
  }
  const results: Record<string, unknown> = {};

  heading(`wasm: load time, transpile cached on disk (fresh process each, median of ${LOAD_RUNS})`);
  const loadRows: (string | number)[][] = [];
  const loads: Record<string, unknown> = {};
  for (const p of PLUGINS) {
    for (const isolation of ['worker', 'inline'] as const) {
      const runs = Array.from({ length: LOAD_RUNS }, () => child<LoadReport>(['load', p, isolation]));
      const load = median(runs.map((r) => r.loadMs));
      const prepared = median(Array.from({ length: LOAD_RUNS }, () => child<LoadReport>(['load-prepared', p, isolation]).loadMs));
      const size = readFileSync(join(WASM_PLUGINS, p, wasmManifest(p).manifest.entry)).length;
      loads[`${p} ${isolation}`] = { loadMs: load, preparedLoadMs: prepared, firstCallMs: median(runs.map((r) => r.firstCallMs)), reloadMs: median(runs.map((r) => r.reloadMs)), componentBytes: size };
      loadRows.push([p, isolation, fixed(size / 1024, 1), fixed(load, 1), fixed(prepared, 1), fixed(median(runs.map((r) => r.firstCallMs)), 2), fixed(median(runs.map((r) => r.reloadMs)), 1), `<= ${LOAD_TARGET_MS}`, `${verdict(load, LOAD_TARGET_MS)} / ${verdict(prepared, LOAD_TARGET_MS)}`]);
    }
  }
  console.log(table(['plugin', 'isolation', 'component KiB', 'load ms', 'load ms, prepared', 'first call ms', 'next load ms (compiled, worker running)', 'target ms', 'status (load / prepared)'], loadRows));
  console.log('(prepared: registered first, as a daemon does before its first index, so its worker booted meanwhile; next load: a second instance in the same process, which joins the running worker)');
  results.load = loads;

  results.calls = await callTable(loader, host);

  heading('wasm: arch-rules on-update, one file of rxjs edited per generation, µs');
  const updateRows: (string | number)[][] = [];
  const updates: Record<string, LatencySummary> = {};
  const edited = 'internal/operators/debounceTime.ts';
  const original = readFileSync(join(corpusRoot('rxjs'), edited), 'utf8');
  for (const isolation of ['inline', 'worker'] as const) {
    const { manifest, dir } = wasmManifest('arch-rules', { isolation, budget: { ceilingMs: 60_000 } as PluginManifest['budget'] });
    const rule = { from: 'internal/operators/', mustNotImport: 'internal/scheduler/' };
    const rt = await loader.load(manifest, dir, pluginContext({ name: manifest.name, granted: ['graph:read', 'source:read'], host, config: { rules: [rule] } }));
    rt.call('violations', { limit: 0 });
    const h = latencyHistogram();
    for (let i = 0; i < UPDATES; i++) {
      const s = host.applyChanges([{ path: edited, text: i % 2 ? original : `${original}\n// edit ${i}\n` }]);
      const t0 = now();
      // Awaited: a worker digests the update asynchronously, and its time is the promise's.
      await rt.onUpdate!({ type: 'update', generation: s.generation, files: s.files, added: s.added, removed: s.removed, changed: s.changed });
      h.recordValue(since(t0));
    }
    const sum = summarize(h);
    updates[isolation] = sum;
    updateRows.push([isolation, sum.count, fixed(sum.p50Us), fixed(sum.p90Us), fixed(sum.p99Us), fixed(sum.maxUs), `p99 <= ${manifest.budget.updateP99Us}`, verdict(sum.p99Us, manifest.budget.updateP99Us)]);
    await rt.dispose();
  }
  host.applyChanges([{ path: edited, text: original }]);
  console.log(table(['isolation', 'updates', 'p50', 'p90', 'p99', 'max', 'contract', 'status'], updateRows));
  results.onUpdate = updates;

  heading('wasm: jco version and binding options (inline: the generated bindings alone), µs');
  const jcoRows: (string | number)[][] = [];
  const jco: Record<string, Record<string, LatencySummary>> = {};
  const cacheDir = mkdtempSync(join(tmpdir(), 'isg-bench-jco-'));
  for (const profile of PROFILES) {
    const l = new WasmTierLoader({ cacheDir, profile });
    const byCase: Record<string, LatencySummary> = {};
    for (const c of CASES) {
      const rt = await start(l, c.plugin, 'inline', host);
      byCase[c.label] = measure(rt, c);
      await rt.dispose();
    }
    jco[profileName(profile)] = byCase;
    jcoRows.push([profileName(profile), ...CASES.flatMap((c) => [fixed(byCase[c.label]!.p50Us), fixed(byCase[c.label]!.p99Us)])]);
  }
  rmSync(cacheDir, { recursive: true, force: true });
  console.log(table(['bindings', ...CASES.flatMap((c) => [`${c.label} p50`, 'p99'])], jcoRows));
  results.jco = jco;

  heading(`wasm: memory per active plugin (RSS of a fresh process, 12 s after its index, settled after each of ${MEMORY_INSTANCES} instances; worker plugins share workers, ${DEFAULT_TENANTS_PER_WORKER} at most, or have one each)`);
  const memRows: (string | number)[][] = [];
  const memory: Record<string, unknown> = {};
  const layouts: [Isolation, number | undefined, string][] = [
    ['worker', undefined, `worker, shared (${DEFAULT_TENANTS_PER_WORKER} per worker)`],
    ['worker', 1, 'worker, one each'],
    ['inline', undefined, 'inline'],
  ];
  for (const p of PLUGINS) {
    for (const [isolation, tenants, label] of layouts) {
      const r = child<MemoryReport>(['memory', p, isolation, String(MEMORY_INSTANCES), ...(tenants === undefined ? [] : [String(tenants)])]);
      const first = r.rssFirst - r.rssBefore;
      const further = (r.rssAll - r.rssFirst) / (r.count - 1);
      const perPlugin = (r.rssAll - r.rssBefore) / r.count;
      const perPluginIdle = (r.rssIdle - r.rssBefore) / r.count;
      memory[`${p} ${label}`] = { ...r, firstBytes: first, furtherBytesEach: further, perPluginBytes: perPlugin, perPluginIdleBytes: perPluginIdle };
      const trims = r.trim.available ? `${r.trim.trims} (${fixed(r.trim.totalMs, 2)} ms)` : 'no addon';
      memRows.push([p, label, r.workers, fixed(mb(first), 1), fixed(mb(further), 1), fixed(mb(perPlugin), 1), verdict(mb(perPlugin), MEMORY_TARGET_MB), fixed(mb(perPluginIdle), 1), trims, verdict(mb(perPluginIdle), MEMORY_TARGET_MB), fixed(mb(r.linearMemoryBytes / r.count), 2)]);
    }
  }
  console.log(
    table(['plugin', 'isolation', 'workers', 'first instance MB', 'each further MB', `per active plugin MB (${MEMORY_INSTANCES} in all)`, `status (<= ${MEMORY_TARGET_MB})`, 'same, idle MB', 'trims', 'status idle', 'linear memory MB'], memRows),
  );
  console.log('(per active plugin: the RSS added by all of them over their number, their workers included; an idle Node worker is ~7.6 MB)');
  console.log(`(idle: ${TRIM_IDLE_MS + 500} ms later with no plugin work, after the daemon's own malloc trim when its addon is built: daemon/util/malloc-trim.ts; the benchmark does not trim)`);
  results.memory = memory;
  ctx.results.wasm = results;
}
