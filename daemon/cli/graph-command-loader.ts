// How the bundled `isg` command (dist/isg.cjs) starts `serve` and `index`: from the daemon's
// bundle, dist/isg-daemon.cjs, one CommonJS file required at once, instead of ~130 ES modules
// resolved, read and linked one by one (70-80 ms of a daemon's start; daemon/cli/bundle.ts).
// The bundle is used only when it was made after the tsc build of every module it holds: the
// daemon's workers (parse-worker.js, native-child.js) still start from the tsc build, so a bundle
// older than it (after a `tsc` alone) could speak an older protocol than they do; the tsc build
// is imported instead. ~130 stats, about a millisecond.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsedArgs } from './argv.ts';
import { readManifest } from '../util/bundle-manifest.ts';
import { packageRoot } from '../util/package-root.ts';

/** The bundle and its manifest, relative to the package root. */
export const DAEMON_BUNDLE = 'dist/isg-daemon.cjs';
export const DAEMON_BUNDLE_MANIFEST = 'dist/isg-daemon.cjs.json';

type GraphCommand = 'serve' | 'index';
type Run = (args: ParsedArgs, name: string, summary: string) => Promise<number>;

/** A command's `run`, loading its module on the first call. */
export function graphCommand(name: GraphCommand): Run {
  return async (args, cmd, summary) => (await load(name)).run(args, cmd, summary);
}

async function load(name: GraphCommand): Promise<{ run: Run }> {
  const root = packageRoot();
  if (bundleIsCurrent(root)) return (createRequire(import.meta.url)(join(root, DAEMON_BUNDLE)) as Record<GraphCommand, { run: Run }>)[name];
  return (await import(pathToFileURL(join(root, 'dist', 'daemon', 'cli', `${name}-command.js`)).href)) as { run: Run };
}

/** The bundle exists, and no tsc output of a module it holds was written after it. */
export function bundleIsCurrent(root: string): boolean {
  try {
    const built = statSync(join(root, DAEMON_BUNDLE)).mtimeMs;
    const { inputs } = readManifest(root, DAEMON_BUNDLE_MANIFEST);
    for (const file of Object.keys(inputs)) {
      if (statSync(join(root, 'dist', file.replace(/\.ts$/, '.js'))).mtimeMs > built) return false;
    }
    return true;
  } catch {
    return false;
  }
}
