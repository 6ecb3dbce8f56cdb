// Run by the wasm benchmark in a fresh process, so nothing is compiled or loaded yet:
//   node dist/bench/wasm-child.js load|load-prepared <plugin dir> <isolation>
//   node dist/bench/wasm-child.js memory <plugin dir> <isolation> <count> [tenants per worker]
// The plugin's transpile is already in the disk cache. Prints one JSON line. It runs under V8's
// default flags, as a daemon does (no --expose-gc: a V8 flag on the command line makes every
// worker boot ~30 ms later, daemon/util/v8-flags.ts); its full GCs come from forceGc.
import { GraphHost } from '../daemon/host.ts';
import type { Isolation, PluginManifest, PluginRuntime } from '../daemon/plugins/api.ts';
import { WasmTierLoader } from '../daemon/plugins/wasm-tier.ts';
import { idleTrimmer, TRIM_IDLE_MS, type TrimStats } from '../daemon/util/malloc-trim.ts';
import { pluginContext } from '../test/support/wasm-plugin-context.ts';
import { wasmManifest } from '../test/support/wasm-plugins.ts';
import { forceGc } from './util.ts';

export interface LoadReport {
  /** `load()` with the transpile on disk: read it, compile the core modules, instantiate (start a worker). */
  loadMs: number;
  firstCallMs: number;
  /** A second load of the same component in the same process: modules compiled, a spare worker booted. */
  reloadMs: number;
}

export interface MemoryReport {
  count: number;
  tenantsPerWorker: number;
  rssBefore: number;
  /** After the first instance, and after all of them. */
  rssFirst: number;
  rssAll: number;
  /** After each instance (settled), the first included. */
  rssSteps: number[];
  /**
   * After all of them, once no plugin work was done for longer than the daemon waits before
   * trimming malloc's free memory (daemon/util/malloc-trim.ts; the bench never trims itself),
   * with what the trimmer did: undefined stats where it is unavailable.
   */
  rssIdle: number;
  trim: (TrimStats & { available: boolean });
  /** Worker threads running the instances. */
  workers: number;
  linearMemoryBytes: number;
}

/** How long the memory benchmark waits after the index before its baseline. */
const BASELINE_QUIET_MS = 12_000;


async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    forceGc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The op each plugin answers cheaply, to make sure it is running. */
const PING: Record<string, [string, unknown]> = { 'fixture-echo': ['noop', null], fan: ['top', 1], 'arch-rules': ['rules', null], 'fixture-hooks': ['seen', null] };

async function main(): Promise<void> {
  const [mode, path, isolation, count, tenants] = process.argv.slice(2) as [string, string, Isolation, string | undefined, string | undefined];
  const host = await GraphHost.index(process.env.ISG_BENCH_ROOT!, { workers: 0 });
  // memory counts the plugins' own workers; the one spare a loader keeps booted is not a plugin's
  const tenantsPerWorker = tenants === undefined ? undefined : Number(tenants);
  const loader = new WasmTierLoader({ spareWorker: mode !== 'memory', tenantsPerWorker });
  const start = async (): Promise<PluginRuntime> => {
    const { manifest, dir } = wasmManifest(path, { isolation, budget: { ceilingMs: 60_000 } as PluginManifest['budget'] });
    return loader.load(manifest, dir, pluginContext({ name: manifest.name, granted: ['graph:read', 'source:read'], host }));
  };
  const ping = (rt: PluginRuntime, name: string) => rt.call(...PING[name]!);
  const name = wasmManifest(path).manifest.name;
  // indexing leaves work queued behind it (finalizers, GC): let it drain, it is not the loader's
  await settle();
  if (mode === 'load-prepared') {
    // as in a daemon: the plugin was registered before the index ran, which booted its worker
    const prepared = wasmManifest(path, { isolation });
    loader.prepare(prepared.manifest, prepared.dir);
    while (loader.spares.booted === 0 && isolation === 'worker') await new Promise((r) => setTimeout(r, 10));
    await settle();
    const t0 = performance.now();
    const rt = await start();
    const loadMs = performance.now() - t0;
    await rt.dispose();
    console.log(JSON.stringify({ loadMs, firstCallMs: 0, reloadMs: 0 } satisfies LoadReport));
    return;
  }
  if (mode === 'load') {
    let t0 = performance.now();
    const rt = await start();
    const loadMs = performance.now() - t0;
    t0 = performance.now();
    ping(rt, name);
    const firstCallMs = performance.now() - t0;
    // the loader boots a spare worker after a worker-isolated load: give it time, as a daemon would have
    await new Promise((r) => setTimeout(r, 1000));
    t0 = performance.now();
    const again = await start();
    const reloadMs = performance.now() - t0;
    await rt.dispose();
    await again.dispose();
    console.log(JSON.stringify({ loadMs, firstCallMs, reloadMs } satisfies LoadReport));
    return;
  }
  const n = Number(count);
  // Quiet after the index, as a daemon is when a plugin is loaded later, so that the plugins are
  // not credited with what the index leaves to be given back after it: the trimmer's (when
  // available) ~10 MB after TRIM_IDLE_MS, and V8's memory reducer's, ~10 MB more ~9 s after it.
  await new Promise((r) => setTimeout(r, BASELINE_QUIET_MS));
  await settle();
  const rssBefore = process.memoryUsage().rss;
  const runtimes: PluginRuntime[] = [];
  const rssSteps: number[] = [];
  for (let i = 0; i < n; i++) {
    runtimes.push(await start());
    await ping(runtimes[i]!, name);
    await settle();
    rssSteps.push(process.memoryUsage().rss);
  }
  const linearMemoryBytes = runtimes.reduce((s, rt) => s + (rt.memoryBytes?.() ?? 0), 0);
  const workers = loader.pool.workers.length;
  // idle, as a daemon between edits: the trimmer (when available) runs TRIM_IDLE_MS after the last work
  await new Promise((r) => setTimeout(r, TRIM_IDLE_MS + 500));
  await settle();
  const rssIdle = process.memoryUsage().rss;
  const trim = { available: idleTrimmer.available, ...idleTrimmer.stats };
  for (const rt of runtimes) await rt.dispose();
  const report: MemoryReport = { count: n, tenantsPerWorker: tenantsPerWorker ?? 0, rssBefore, rssFirst: rssSteps[0]!, rssAll: rssSteps[n - 1]!, rssSteps, rssIdle, trim, workers, linearMemoryBytes };
  console.log(JSON.stringify(report));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
