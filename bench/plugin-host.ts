// What the plugin host's accounting costs per call: a no-op builtin op dispatched through the
// host (routing, latency into the HDR histogram, ceiling and memory checks) against the same
// function called directly, over a million calls each, interleaved in rounds. Also a real core
// query both ways, so the overhead can be read against the work it wraps.
import { GraphHost } from '../daemon/host.ts';
import { buildCsr } from '../daemon/graph/csr.ts';
import type { BuiltinPlugin } from '../daemon/plugins/api.ts';
import { BuiltinLoader } from '../daemon/plugins/builtin-tier.ts';
import { CORE_PLUGIN, corePlugin } from '../daemon/plugins/builtin/core.ts';
import { validateManifest } from '../daemon/plugins/manifest.ts';
import { PluginHost } from '../daemon/plugins/plugin-host.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { createLogger } from '../daemon/util/log.ts';
import { corpusRoot, heading, median, now, since, table, verdict, type BenchContext } from './util.ts';

const CALLS = 1_000_000;
const ROUNDS = 7;

export async function pluginHost(ctx: BenchContext): Promise<void> {
  heading('plugin-host: accounting overhead per call (direct call vs through the plugin host)');
  const graph = await GraphHost.index(corpusRoot('rxjs'));
  const loader = new BuiltinLoader();
  const host = new PluginHost({
    root: graph.root,
    loaders: { builtin: loader },
    graph: { view: () => graph, csr: () => buildCsr(graph.store, graph.generation) },
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
  const plugin: BuiltinPlugin = { manifest: { name: 'noop', version: '1.0.0', ops: [{ name: 'noop' }] }, activate: () => ({ ops: { noop } }) };
  for (const p of [corePlugin, plugin]) {
    loader.register(p);
    host.add(validateManifest({ tier: 'builtin', entry: '(builtin)', ...p.manifest }, p.manifest.name), graph.root, { grant: ['graph:read'] });
  }
  await host.startAll();

  const direct: number[] = [];
  const hosted: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = now();
    for (let i = 0; i < CALLS; i++) noop(i);
    direct.push(since(t0) / CALLS);
    t0 = now();
    for (let i = 0; i < CALLS; i++) host.dispatch('noop/noop', i, 1);
    hosted.push(since(t0) / CALLS);
  }
  const overheadNs = median(hosted) - median(direct);

  const args = { name: 'Subject', mode: 'exact' };
  const QUERY_CALLS = 100_000;
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
  const rows = [
    ['no-op op', CALLS, median(direct), median(hosted), overheadNs, '< 1000 ns', verdict(overheadNs, 1000)],
    ['lookup exact "Subject" (core)', QUERY_CALLS, median(qDirect), median(qHosted), median(qHosted) - median(qDirect), '', ''],
  ];
  console.log(table(['call', 'calls/round', 'direct ns/call', 'hosted ns/call', 'overhead ns/call', 'target', 'status'], rows));
  console.log(`(median of ${ROUNDS} interleaved rounds; the hosted call includes routing, two clock reads, one HDR histogram record and the ceiling check; sink ${sink & 1})`);
  ctx.results['plugin-host'] = { noopDirectNs: median(direct), noopHostedNs: median(hosted), overheadNs, lookupDirectNs: median(qDirect), lookupHostedNs: median(qHosted) };
  await host.dispose();
}
