// The built-in tier: TypeScript plugins in the daemon's own heap. The core queries come
// through here like any other plugin; a builtin found on disk is a JS module whose default
// export is a BuiltinPlugin.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IsgError } from '../errors.ts';
import type { BuiltinInstance, BuiltinPlugin, PluginContext, PluginManifest, PluginRuntime, TierLoader } from './api.ts';
import { validateManifest } from './manifest.ts';
import { sha256Of } from '../util/hash.ts';

/** The full manifest of a plugin registered in-process, validated like one read from disk. */
export function builtinManifest(plugin: BuiltinPlugin): PluginManifest {
  return validateManifest({ tier: 'builtin', entry: '(builtin)', ...plugin.manifest }, `the built-in plugin "${plugin.manifest.name}"`);
}

export function runtimeOf(instance: BuiltinInstance): PluginRuntime {
  return {
    call(op, args) {
      const fn = instance.ops[op];
      if (!fn) throw new IsgError('unknown-op', `op "${op}" is declared but the plugin does not implement it`);
      return fn(args);
    },
    onUpdate: instance.onUpdate?.bind(instance),
    beforeQuery: instance.beforeQuery?.bind(instance),
    afterQuery: instance.afterQuery?.bind(instance),
    dispose: () => instance.deactivate?.(),
  };
}

/** Loads builtins registered in-process by name, or from a module file. */
export class BuiltinLoader implements TierLoader {
  readonly tier = 'builtin' as const;
  private readonly registered = new Map<string, BuiltinPlugin>();

  register(plugin: BuiltinPlugin): void {
    this.registered.set(plugin.manifest.name, plugin);
  }

  async load(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime> {
    const plugin = this.registered.get(manifest.name) ?? (await importPlugin(resolve(dir, manifest.entry), manifest.name));
    const instance = await plugin.activate(ctx);
    for (const op of manifest.ops) {
      if (typeof instance.ops[op.name] !== 'function') throw new IsgError('plugin-error', `plugin "${manifest.name}" declares op "${op.name}" but activate() returned no function for it`);
    }
    return runtimeOf(instance);
  }
}

/**
 * The module at `file`, as it is now: the URL carries the file's SHA-256, so a reload after an
 * edit imports the new text, while an unchanged file is the cached module (ES modules cannot be
 * evicted, so each edit leaves one module behind). Only the entry module is re-imported, not
 * what it imports.
 */
async function importPlugin(file: string, name: string): Promise<BuiltinPlugin> {
  let mod: { default?: BuiltinPlugin };
  try {
    mod = await import(`${pathToFileURL(file).href}?sha256=${sha256Of(readFileSync(file))}`);
  } catch (err) {
    throw new IsgError('plugin-error', `plugin "${name}": cannot import ${file}: ${(err as Error).message}`);
  }
  if (!mod.default || typeof mod.default.activate !== 'function') throw new IsgError('plugin-error', `plugin "${name}": ${file} must export default { manifest, activate(ctx) }`);
  return mod.default;
}
