// What `npm run build:bin` writes beside each of its bundles (util/esbuild-bundle.ts), and what
// is asked of it: at run time, whether a bundle may be used (the plugin worker's,
// plugins/wasm/worker-entry.ts; the daemon's, cli/graph-command-loader.ts), and in the tests,
// whether the build is current. Apart from esbuild-bundle.ts, which loads esbuild.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Of } from './hash.ts';

export interface BundleManifest {
  /** Source path (from the package root) to the SHA-256 of its contents when bundled. */
  inputs: Record<string, string>;
  /** Imports left to the runtime: built-in modules (and packages, in the daemon's bundle). */
  external: string[];
}

/** The manifest at `path` (from the package `root`). Throws when it is missing or not JSON. */
export function readManifest(root: string, path: string): BundleManifest {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as BundleManifest;
}

/** The inputs whose source is gone or reads otherwise now than when it was bundled. */
export function changedInputs(root: string, manifest: BundleManifest): string[] {
  return Object.entries(manifest.inputs)
    .filter(([file, hash]) => !existsSync(join(root, file)) || sha256Of(readFileSync(join(root, file))) !== hash)
    .map(([file]) => file);
}
