// The parse pool turns TurboFan's inlining off while it runs (parse-pool.ts says why): from the
// first of overlapping pools to the last, and never when the user set the flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inliningSwitch } from '../daemon/ingest/parse-pool.ts';

test('inlining is off from the first overlapping pool to enter until the last one leaves', () => {
  const set: string[] = [];
  const lean = inliningSwitch((flags) => set.push(flags), false);
  lean.enter();
  lean.enter();
  lean.leave();
  assert.deepEqual(set, ['--no-turbo-inlining'], 'one pool still runs');
  lean.leave();
  assert.deepEqual(set, ['--no-turbo-inlining', '--turbo-inlining']);
  lean.enter();
  lean.leave();
  assert.deepEqual(set.slice(2), ['--no-turbo-inlining', '--turbo-inlining'], 'and again for a later pool');
});

test('a user who set inlining keeps it', () => {
  const set: string[] = [];
  const lean = inliningSwitch((flags) => set.push(flags), true);
  lean.enter();
  lean.leave();
  assert.deepEqual(set, []);
});
