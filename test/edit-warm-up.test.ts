// The daemon's edit warm-up runs on a host of its own: every step runs, none touches a real graph.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editWarmUpSteps } from '../daemon/edit-warm-up.ts';

test('edit warm-up: every step runs without an error (the daemon stops warming up at the first)', () => {
  const steps = editWarmUpSteps();
  assert.ok(steps.length >= 5, `${steps.length} steps`);
  for (const [i, step] of steps.entries()) assert.doesNotThrow(step, `step ${i}`);
});
