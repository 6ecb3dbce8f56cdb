// The TierLoader for tier "native": Rust Node-API addons built against native/isg-plugin.
//
// Isolation `inline` (the default, for trusted plugins) loads the addon into the daemon with
// process.dlopen and calls it synchronously: the snapshot's typed arrays are handed over in
// place, no copy. Isolation `process` runs it in a child (native-process.ts). There is no
// `worker` isolation for native code: a worker's terminate() waits for a running native call,
// so it would stop nothing that inline does not.
//
// A call that never returns cannot be stopped inline, by anyone: native code is not
// preemptible. Only `process` isolation offers kill().
//
// Hooks: onUpdate (the addon's `update` export), with added and changed entities as ids of the
// snapshot it reads. No beforeQuery/afterQuery: middleware runs around every query, and native
// code there would be a crash or a hang of every query in `inline` isolation, or a pipe round
// trip per query in `process` isolation; middleware belongs in the WASM or built-in tiers.
// Memory: what the addon's Rust code holds (its `memory` export, a counting allocator), in both
// isolations.
import { IsgError } from '../errors.ts';
import type { CsrSnapshot } from '../graph/csr.ts';
import type { UpdateEvent } from '../../client/protocol.ts';
import type { BuiltinPlugin, PluginContext, PluginManifest, PluginRuntime, TierLoader } from './api.ts';
import { attachForm, findAddon, loadAddon, nativeError, nativeUpdate, type NativeAddon } from './native-addon.ts';
import { startProcessRuntime, unknownOp, type ProcessHost } from './native-process.ts';
import { entityResults } from './native-results.ts';
import { withIds } from './update-ids.ts';

export interface NativeTierOptions {
  /**
   * By plugin name, a TypeScript implementation to run when the addon is unavailable (not
   * built, or a runtime that cannot load it), with a warning in the plugin's log. Without
   * one, an unavailable addon fails to load, naming the file.
   */
  fallbacks?: Readonly<Record<string, BuiltinPlugin>>;
  /** How long a `process` child may take to start and load its addon, ms. */
  startTimeoutMs?: number;
  /** Which program hosts a `process` plugin (native-process.ts): by default the Rust host when it is built. */
  processHost?: ProcessHost;
}

export function createNativeTierLoader(options: NativeTierOptions = {}): TierLoader {
  return {
    tier: 'native',
    artifact: findAddon,
    async load(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime> {
      checkManifest(manifest);
      try {
        const file = findAddon(manifest, dir);
        if (manifest.isolation === 'process') return await startProcessRuntime(file, manifest, ctx, { startTimeoutMs: options.startTimeoutMs, host: options.processHost });
        return inlineRuntime(loadAddon(file, manifest), manifest, ctx);
      } catch (err) {
        const fallback = options.fallbacks?.[manifest.name];
        if (!fallback || !(err instanceof IsgError) || err.code !== 'plugin-unavailable') throw err;
        ctx.log.warn(`native plugin "${manifest.name}" is unavailable; running its TypeScript implementation instead`, { reason: err.message });
        return fallbackRuntime(fallback, manifest, ctx);
      }
    },
  };
}

/** The loader without fallbacks: a missing or broken addon is an error. */
export const nativeTierLoader: TierLoader = createNativeTierLoader();

function checkManifest(manifest: PluginManifest): void {
  const refuse = (why: string) => new IsgError('plugin-unavailable', `native plugin "${manifest.name}": ${why}`, { plugin: manifest.name });
  if (manifest.tier !== 'native') throw refuse(`the native tier cannot load a plugin of tier "${manifest.tier}"`);
  const middleware = manifest.hooks.filter((h) => h !== 'onUpdate');
  if (middleware.length) throw refuse(`native plugins have no ${middleware.join(' or ')} hook, only onUpdate (middleware runs around every query: write it as a WASM or built-in plugin)`);
  if (manifest.isolation === 'worker') {
    throw refuse('isolation "worker" is not offered for native plugins, since a worker cannot stop a running native call; use "inline" for a trusted plugin or "process" for one that may crash or run away');
  }
}

function inlineRuntime(addon: NativeAddon, manifest: PluginManifest, ctx: PluginContext): PluginRuntime {
  const declared = new Set(manifest.ops.map((o) => o.name));
  const readsGraph = ctx.granted.includes('graph:read');
  let attached: CsrSnapshot | undefined;
  let disposed = false;
  const live = () => {
    if (disposed) throw new IsgError('plugin-unavailable', `native plugin "${manifest.name}" was unloaded`, { plugin: manifest.name });
  };
  /** The current generation's snapshot, attached if the addon has not seen it (throws as the addon does). */
  const attachCurrent = (): CsrSnapshot | undefined => {
    const csr = readsGraph ? ctx.graph.csr() : undefined;
    if (csr && csr !== attached) {
      addon.attach(attachForm(csr));
      attached = csr;
    }
    return csr;
  };
  const { memory, update } = addon;
  return {
    call(op: string, args: unknown): unknown {
      live();
      if (!declared.has(op)) throw unknownOp(manifest, op);
      let csr: CsrSnapshot | undefined;
      let raw: unknown;
      try {
        csr = attachCurrent();
        raw = addon.call(op, args ?? null);
      } catch (err) {
        throw nativeError(manifest.name, op, err);
      }
      return entityResults(manifest.name, raw, csr, () => ctx.graph.view());
    },
    ...(update && {
      onUpdate(u: UpdateEvent): void {
        live();
        try {
          attachCurrent();
          update.call(addon, nativeUpdate(withIds(u, ctx.graph)));
        } catch (err) {
          throw nativeError(manifest.name, 'onUpdate', err);
        }
      },
    }),
    ...(memory && { memoryBytes: () => memory.call(addon) }),
    dispose(): void {
      // The library stays mapped (Node cannot unload an addon); the snapshot is let go.
      if (disposed) return;
      disposed = true;
      addon.detach();
    },
  };
}

async function fallbackRuntime(plugin: BuiltinPlugin, manifest: PluginManifest, ctx: PluginContext): Promise<PluginRuntime> {
  const instance = await plugin.activate(ctx);
  const missing = manifest.ops.map((o) => o.name).filter((op) => !instance.ops[op]);
  if (missing.length) throw new IsgError('plugin-unavailable', `native plugin "${manifest.name}": its TypeScript fallback lacks op${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, { plugin: manifest.name });
  return {
    call(op: string, args: unknown): unknown {
      const run = instance.ops[op];
      if (!run || !manifest.ops.some((o) => o.name === op)) throw unknownOp(manifest, op);
      return run(args);
    },
    dispose: () => instance.deactivate?.(),
  };
}
