// Run by `npm run build:bin` (after the isg command's bundle): bundles the plugin worker
// (worker.ts and everything it imports) into one ES module, dist/wasm-worker.mjs, with
// dist/wasm-worker.json listing its inputs and their hashes. worker-entry.ts says why, and when
// a worker starts from it. An ES module, as the worker imports each component's bindings (ES
// modules that jco generates) anyway.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFile } from '../../util/esbuild-bundle.ts';
import { packageRoot } from '../../util/package-root.ts';
import { WORKER_BUNDLE, WORKER_BUNDLE_MANIFEST, type WorkerBundleManifest } from './worker-entry.ts';

const { output, inputs } = await bundleFile({ entryPoints: ['daemon/plugins/wasm/worker.ts'], outfile: WORKER_BUNDLE, format: 'esm' });
const external = output.imports.filter((i) => i.external && !i.path.startsWith('node:'));
if (external.length) throw new Error(`the plugin worker imports ${external.map((i) => i.path).join(', ')}, which the bundle would leave out`);
writeFileSync(join(packageRoot(), WORKER_BUNDLE_MANIFEST), `${JSON.stringify({ inputs } satisfies WorkerBundleManifest, null, 2)}\n`);
console.log(`isg: bundled ${Object.keys(inputs).length} modules into ${WORKER_BUNDLE} (${(output.bytes / 1024).toFixed(0)} KB)`);
