// The CPU time of the calling thread, through isg's own addon (native/thread-clock, built by
// `npm run build:native` on Linux and macOS): what a plugin worker charges its calls, as their
// wall time on a busy machine is mostly waiting for a core. Each thread loads the addon for
// itself (a worker's registration is its own). Undefined where the addon is not built or this
// runtime cannot load it: callers then fall back to wall time.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canDlopen, dlopenAddon } from './dlopen.ts';
import { packageRoot } from './package-root.ts';

/** The addon's exports (native/thread-clock/src/lib.rs). */
export interface ThreadClock {
  /** The calling thread's CPU time in ms (user and system) since it started. */
  cpuMs(): number;
  /** A number by which any thread of the process reads the calling thread's CPU time with `cpuMsOf` (Linux); undefined elsewhere. */
  clockId(): number | undefined;
  /** The CPU time in ms of the thread whose `clockId` this is, while it runs; undefined when it cannot be read. */
  cpuMsOf(id: number): number | undefined;
}

const ADDON_DIR = join('native', 'thread-clock');

/** What this thread loaded (a module instance is a thread's), by package root. */
const loaded = new Map<string, ThreadClock | undefined>();

/** The addon's clock, or undefined where it is not built or cannot be loaded. Loaded once per thread. */
export function loadThreadClock(root: string = packageRoot()): ThreadClock | undefined {
  if (!loaded.has(root)) loaded.set(root, load(root));
  return loaded.get(root);
}

function load(root: string): ThreadClock | undefined {
  if (!canDlopen()) return undefined;
  const dir = join(root, ADDON_DIR);
  // `napi build --platform` names it for the platform: thread-clock.linux-x64-gnu.node, .darwin-arm64.node, ...
  const prefix = `thread-clock.${process.platform}-${process.arch}`;
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.node')) : undefined;
  if (!file) return undefined;
  try {
    const clock = dlopenAddon(join(dir, file)) as unknown as ThreadClock;
    if (typeof clock.cpuMs !== 'function' || typeof clock.clockId !== 'function' || typeof clock.cpuMsOf !== 'function') return undefined;
    return typeof clock.cpuMs() === 'number' ? clock : undefined;
  } catch {
    // a build for another libc, Deno without --allow-ffi: wall time
    return undefined;
  }
}

/**
 * What this thread times the plugin calls it charges by: its CPU time where the addon loads,
 * else wall time (ms; only differences mean anything).
 */
export function chargeClock(): () => number {
  return loadThreadClock()?.cpuMs ?? (() => performance.now());
}
