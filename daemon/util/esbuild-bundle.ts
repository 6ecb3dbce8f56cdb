// The build's bundles (the `isg` command's and the daemon's, daemon/cli/bundle.ts, and the plugin
// worker's, daemon/plugins/wasm/bundle-worker.ts) are made the same way: one file for Node 20 with a linked
// source map, a warning is an error, and the inputs are listed with a hash of each so that a
// stale bundle can be told from a current one.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import type { BundleManifest } from './bundle-manifest.ts';
import { sha256Of } from './hash.ts';
import { packageRoot } from './package-root.ts';

export interface Bundled {
  output: Metafile['outputs'][string];
  /** Source path (from the package root) to the SHA-256 (hex) of its contents when bundled. */
  inputs: Record<string, string>;
}

export async function bundleFile(options: BuildOptions & { entryPoints: string[]; outfile: string }): Promise<Bundled> {
  const root = packageRoot();
  const result = await build({
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    ...options,
  });
  if (result.warnings.length) throw new Error(`esbuild warned:\n${result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`);
  const output = result.metafile!.outputs[options.outfile]!;
  const inputs = Object.fromEntries(
    Object.keys(output.inputs)
      // a plugin's virtual module is named `<namespace>:<path>`; it has no file to hash
      .filter((file) => !/^[a-z-]+:/.test(file))
      .sort()
      .map((file) => [file, sha256Of(readFileSync(join(root, file)))]),
  );
  return { output, inputs };
}

/** Writes `manifest` (a path from the package root) for the bundle `outfile`, and says so. */
export function writeManifest(outfile: string, manifest: string, { output, inputs }: Bundled): void {
  const external = [...new Set(output.imports.filter((i) => i.external).map((i) => i.path))].sort();
  writeFileSync(join(packageRoot(), manifest), `${JSON.stringify({ inputs, external } satisfies BundleManifest, null, 2)}\n`);
  console.log(`isg: bundled ${Object.keys(inputs).length} modules into ${outfile} (${(output.bytes / 1024).toFixed(0)} KB)`);
}
