// The plugins that ship with isg: native and WASM ones built from source by `npm run build` and
// signed with the installation key (installation-key.ts), and built-in ones. The daemon registers them with the capabilities
// their manifests request, unless isg.config.json says otherwise for that name (a different
// grant, budget or isolation, or `"enabled": false`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.ts';
import type { BuiltinPlugin } from './api.ts';
import { contextPlugin } from './builtin/context.ts';

const BUNDLED_DIRS = ['native/plugins/scc', 'native/plugins/pagerank', 'wasm-plugins/arch-rules', 'wasm-plugins/fan'];

/** Bundled plugins written in TypeScript: registered in-process, no manifest on disk. */
export const BUNDLED_BUILTINS: readonly BuiltinPlugin[] = [contextPlugin];

/** Directories of the bundled plugins that are present in this installation. */
export function bundledPluginDirs(): string[] {
  return BUNDLED_DIRS.map((d) => join(packageRoot(), d)).filter((d) => existsSync(join(d, 'isg-plugin.json')));
}
