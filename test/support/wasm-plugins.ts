// The components under wasm-plugins/ (built by npm run build:wasm) as the plugin host would hand
// them to the wasm tier: manifest read from isg-plugin.json with the defaults filled in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BUDGET, type PluginManifest } from '../../daemon/plugins/api.ts';
import { packageRoot } from '../../daemon/util/package-root.ts';

export const WASM_PLUGINS = join(packageRoot(), 'wasm-plugins');

/** `path` is relative to wasm-plugins/ (`fixtures/echo`, `arch-rules`). */
export function wasmManifest(path: string, overrides: Partial<PluginManifest> = {}): { manifest: PluginManifest; dir: string } {
  const dir = join(WASM_PLUGINS, path);
  const raw = JSON.parse(readFileSync(join(dir, 'isg-plugin.json'), 'utf8')) as Partial<PluginManifest> & { ops: PluginManifest['ops'] };
  const manifest: PluginManifest = {
    hooks: [],
    capabilities: [],
    dependencies: [],
    lazy: false,
    isolation: 'worker',
    ...raw,
    budget: { ...DEFAULT_BUDGET, ...raw.budget },
  } as PluginManifest;
  return { manifest: { ...manifest, ...overrides, budget: { ...manifest.budget, ...overrides.budget } }, dir };
}
