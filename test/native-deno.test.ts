// The native tier under Deno 2 (installed as a devDependency), from the .ts sources: the
// same scc components inline, in process isolation (the Rust host, and a Deno child) and from
// the TypeScript twin, on rxjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../daemon/util/package-root.ts';

const ROOT = packageRoot();
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

test('under Deno, a native plugin loads inline and in process isolation (Rust host, Deno child) and answers as its TypeScript twin', (t) => {
  if (!existsSync(DENO)) return t.skip('deno is not installed');
  const script = join(ROOT, 'test', 'fixtures', 'deno', 'native-smoke.ts');
  const run = spawnSync(DENO, ['run', '--allow-all', script, join(ROOT, 'node_modules', 'rxjs', 'src'), join(ROOT, 'native', 'plugins', 'scc')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `deno exited with ${run.status ?? run.signal}:\n${run.stderr}`);
  const { total, ...report } = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.ok(typeof total === 'number' && total > 0, 'rxjs has import cycles');
  assert.deepEqual(report, { runtime: 'deno', processSame: true, denoProcessSame: true, typescriptSame: true });
});
