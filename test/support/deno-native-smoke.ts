// Run by test/native-deno.test.ts as `deno run -A` on the .ts sources: the native tier under
// Deno's Node compatibility (process.dlopen, child processes with a pipe on fd 3). Prints one
// JSON line; exits non-zero when an answer differs.
import process from 'node:process';
import { GraphHost } from '../../daemon/host.ts';
import { NATIVE_FALLBACKS } from '../../daemon/plugins/graph-algorithms.ts';
import { nativeTierLoader } from '../../daemon/plugins/native-tier.ts';
import { pluginContext, readManifest } from './plugin-context.ts';

const [root, dir] = process.argv.slice(2) as [string, string];
// Parse workers are left out: they do not run under Deno yet (parse-worker.ts uses parentPort.close).
const host = await GraphHost.index(root, { workers: 0 });
const ctx = pluginContext(host, 'scc');
const args = { kinds: ['imports'] };
const inline = await nativeTierLoader.load(readManifest(dir), dir, ctx);
const child = await nativeTierLoader.load(readManifest(dir, { isolation: 'process' }), dir, ctx);
const native = JSON.stringify(inline.call('components', args));
const inChild = JSON.stringify(await child.call('components', args));
const ts = JSON.stringify((await NATIVE_FALLBACKS.scc!.activate(ctx)).ops.components!(args));
await child.dispose();
await inline.dispose();
const report = { runtime: 'Deno' in globalThis ? 'deno' : 'node', total: (JSON.parse(native) as { total: number }).total, processSame: inChild === native, typescriptSame: ts === native };
console.log(JSON.stringify(report));
process.exitCode = report.processSame && report.typescriptSame ? 0 : 1;
