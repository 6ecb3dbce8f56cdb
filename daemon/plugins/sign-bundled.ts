// Run by `npm run build` after the plugins are compiled: sign each bundled plugin's artifact
// with this installation's key, so the daemon trusts what this installation built.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundledPluginDirs } from './bundled.ts';
import { signArtifacts } from './installation-key.ts';
import { readManifest } from './manifest.ts';
import { findAddon } from './native-addon.ts';

const artifacts: string[] = [];
for (const dir of bundledPluginDirs()) {
  const { manifest } = readManifest(dir);
  try {
    const file = manifest.tier === 'native' ? findAddon(manifest, dir) : resolve(dir, manifest.entry);
    if (existsSync(file)) artifacts.push(file);
  } catch {
    // not built (no cargo): nothing to sign; the daemon reports the plugin unavailable
  }
}
signArtifacts(artifacts);
console.log(`isg: signed ${artifacts.length} bundled plugin artifact(s) with this installation's key`);
