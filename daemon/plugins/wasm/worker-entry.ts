// The file a plugin worker starts from. A worker's first load in a process waits for Node to
// boot the worker and then for the worker's entry module to load: as ~10 ES modules (worker.ts and
// what it imports), resolved, read and linked one by one, that is 15-30 ms of it; as one file,
// bundled by `npm run build:bin` (bundle-worker.ts), it is a single read. The bundle is used only
// when it was built from the sources as they are now (its manifest lists each input with a hash,
// checked once per process): a bundle older than the sources would speak an older channel
// protocol than the daemon's thread, so then the worker starts from the tsc build instead.
// Under Deno, which runs the sources, the worker starts from worker.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { changedInputs, readManifest } from '../../util/bundle-manifest.ts';
import { packageRoot } from '../../util/package-root.ts';

/** The bundle and its manifest, relative to the package root. */
export const WORKER_BUNDLE = 'dist/wasm-worker.mjs';
export const WORKER_BUNDLE_MANIFEST = 'dist/wasm-worker.json';

let chosen: URL | undefined;

/** The worker's entry: the bundle when it is current, else worker.js (worker.ts under Deno). */
export function workerEntry(): URL {
  chosen ??= import.meta.url.endsWith('.ts') ? new URL('./worker.ts', import.meta.url) : (currentBundle() ?? new URL('./worker.js', import.meta.url));
  return chosen;
}

/** The bundle's URL when every input it was built from is unchanged, else undefined. */
export function currentBundle(root = packageRoot()): URL | undefined {
  try {
    if (changedInputs(root, readManifest(root, WORKER_BUNDLE_MANIFEST)).length) return undefined;
  } catch {
    return undefined;
  }
  const bundle = join(root, WORKER_BUNDLE);
  return existsSync(bundle) ? pathToFileURL(bundle) : undefined;
}
