// Run by `npm run build:bin` (after the isg command's bundle): bundles the plugin worker
// (worker.ts and everything it imports) into one ES module, dist/wasm-worker.mjs, with
// dist/wasm-worker.json listing its inputs and their hashes. worker-entry.ts says why, and when
// a worker starts from it. An ES module, as the worker imports each component's bindings (ES
// modules that jco generates) anyway.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { packageRoot } from '../../util/package-root.ts';
import { sha256, WORKER_BUNDLE, WORKER_BUNDLE_MANIFEST, type WorkerBundleManifest } from './worker-entry.ts';

const root = packageRoot();
const result = await build({
  absWorkingDir: root,
  entryPoints: ['daemon/plugins/wasm/worker.ts'],
  outfile: WORKER_BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  legalComments: 'none',
  logLevel: 'silent',
});
if (result.warnings.length) throw new Error(`esbuild warned:\n${result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`);
const output = result.metafile.outputs[WORKER_BUNDLE]!;
const external = output.imports.filter((i) => i.external && !i.path.startsWith('node:'));
if (external.length) throw new Error(`the plugin worker imports ${external.map((i) => i.path).join(', ')}, which the bundle would leave out`);
const inputs = Object.fromEntries(
  Object.keys(output.inputs)
    .sort()
    .map((file) => [file, sha256(readFileSync(join(root, file)))]),
);
writeFileSync(join(root, WORKER_BUNDLE_MANIFEST), `${JSON.stringify({ inputs } satisfies WorkerBundleManifest, null, 2)}\n`);
console.log(`isg: bundled ${Object.keys(inputs).length} modules into ${WORKER_BUNDLE} (${(output.bytes / 1024).toFixed(0)} KB)`);
