// Which runtime and which isg this is, for the handshake, status and logs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.ts';

export const RUNTIME: 'node' | 'deno' = 'Deno' in globalThis ? 'deno' : 'node';

export const ISG_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/**
 * How to start another isg process on this runtime: the executable, then its arguments. On Node
 * that is the bin (bin/isg.cjs, which runs the bundle `npm run build` makes); Deno runs the sources.
 */
export function selfCommand(): string[] {
  if (RUNTIME === 'deno') return [process.execPath, 'run', '-A', join(packageRoot(), 'daemon', 'cli', 'main.ts')];
  return [process.execPath, join(packageRoot(), 'bin', 'isg.cjs')];
}
