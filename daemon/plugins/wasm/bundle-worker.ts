// Run by `npm run build:bin` (after the isg command's bundle): bundles the plugin worker
// (worker.ts and everything it imports) into one ES module, dist/wasm-worker.mjs, with
// dist/wasm-worker.json listing its inputs and their hashes. worker-entry.ts says why, and when
// a worker starts from it. An ES module, as the worker imports each component's bindings (ES
// modules that jco generates) anyway.
import { bundleFile, writeManifest } from '../../util/esbuild-bundle.ts';
import { WORKER_BUNDLE, WORKER_BUNDLE_MANIFEST } from './worker-entry.ts';

const bundled = await bundleFile({ entryPoints: ['daemon/plugins/wasm/worker.ts'], outfile: WORKER_BUNDLE, format: 'esm' });
const external = bundled.output.imports.filter((i) => i.external && !i.path.startsWith('node:'));
if (external.length) throw new Error(`the plugin worker imports ${external.map((i) => i.path).join(', ')}, which the bundle would leave out`);
writeManifest(WORKER_BUNDLE, WORKER_BUNDLE_MANIFEST, bundled);
