// The CPU time of the calling thread, through isg's own addon (native/thread-clock, built by
// `npm run build:native` on Linux and macOS): what a plugin worker charges its calls, as their
// wall time on a busy machine is mostly waiting for a core. Each thread loads the addon for
// itself (a worker's registration is its own). Undefined where the addon is not built or this
// runtime cannot load it: callers then fall back to wall time.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canDlopen, dlopenAddon } from './dlopen.ts';
import { packageRoot } from './package-root.ts';

/** The calling thread's CPU time in ms (user and system) since it started. */
export type ThreadClock = () => number;

const ADDON_DIR = join('native', 'thread-clock');

/** The addon's clock, or undefined where it is not built or cannot be loaded. */
export function loadThreadClock(root: string = packageRoot()): ThreadClock | undefined {
  if (!canDlopen()) return undefined;
  const dir = join(root, ADDON_DIR);
  // `napi build --platform` names it for the platform: thread-clock.linux-x64-gnu.node, .darwin-arm64.node, ...
  const prefix = `thread-clock.${process.platform}-${process.arch}`;
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.node')) : undefined;
  if (!file) return undefined;
  try {
    const { cpuMs } = dlopenAddon(join(dir, file));
    if (typeof cpuMs !== 'function') return undefined;
    const clock = cpuMs as ThreadClock;
    return typeof clock() === 'number' ? clock : undefined;
  } catch {
    // a build for another libc, Deno without --allow-ffi: wall time
    return undefined;
  }
}
