import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The directory holding isg's package.json. Non-code assets (the .scm queries) are read from
 * the source tree relative to it, so the same lookup works from dist/ under Node and from the
 * sources under Deno.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'daemon'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`isg: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  cached = dir;
  return dir;
}
