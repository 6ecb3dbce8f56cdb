// The daemon's idle warm-up of the query path (daemon/queries/warm-up.ts) on rxjs's sources:
// it asks every core entity query, answers are errors at worst, and the graph is as it was.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportGraph } from '../daemon/export/graph-json.ts';
import { GraphHost } from '../daemon/host.ts';
import { runQuery } from '../daemon/queries/core.ts';
import type { GraphView } from '../daemon/queries/graph-view.ts';
import { queryWarmUpSteps } from '../daemon/queries/warm-up.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');

test('the query warm-up asks every entity query about the graph and leaves it as it was', async () => {
  const host = await GraphHost.index(RXJS);
  const before = JSON.stringify(exportGraph(host, RXJS));
  const generation = host.generation;
  const asked = new Map<string, number>();
  const failed = new Map<string, number>();
  const steps = queryWarmUpSteps(
    () => host,
    (view, op, args) => {
      asked.set(op, (asked.get(op) ?? 0) + 1);
      try {
        return runQuery(view, op, args);
      } catch (err) {
        failed.set(op, (failed.get(op) ?? 0) + 1);
        throw err;
      }
    },
  );
  for (const step of steps) step();
  for (const op of ['lookup', 'implements', 'supertypes', 'callers', 'callees', 'uses', 'used-by', 'blast-radius', 'outline']) {
    assert.ok((asked.get(op) ?? 0) > 0, `${op} was asked`);
  }
  const calls = [...asked.values()].reduce((a, b) => a + b, 0);
  // rxjs has 1,107 entities, fewer than the sample: each is asked about in both passes.
  assert.ok(calls > 15_000, `${calls} calls`);
  assert.deepEqual(Object.fromEntries(failed), {}, 'every entity asked about exists');
  assert.equal(host.generation, generation);
  assert.equal(JSON.stringify(exportGraph(host, RXJS)), before);
});

test('the query warm-up asks about the graph of the moment: none yet, then one that lost half its files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isg-query-warm-up-'));
  try {
    cpSync(join(RXJS, 'internal', 'operators'), join(dir, 'operators'), { recursive: true });
    const host = await GraphHost.index(dir, { workers: 0 });
    let view: GraphView | undefined;
    const files = new Set<string>();
    const steps = queryWarmUpSteps(
      () => view,
      (v, op, args) => {
        const file = (args as { file?: string }).file;
        if (file) files.add(file);
        return runQuery(v, op, args);
      },
    );
    steps[0]!(); // no graph yet: nothing to ask
    assert.equal(files.size, 0);
    view = host;
    const paths = [...host.filePaths()];
    const removed = paths.slice(0, Math.floor(paths.length / 2));
    host.applyChanges(removed.map((path) => ({ path, text: null })));
    for (const step of steps.slice(1)) step();
    assert.ok(files.size > 0);
    for (const file of removed) assert.ok(!files.has(file), `${file} was removed before the steps ran`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
