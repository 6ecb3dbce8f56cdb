// The parse pool turns TurboFan's inlining off while it runs (parse-pool.ts says why): from the
// first of overlapping pools to the last, and never when the user set the flag. Its chunks
// shrink as the queue empties, so that the workers finish together.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { discoverFiles } from '../daemon/ingest/discover.ts';
import type { Language } from '../daemon/model.ts';
import { chunkBytesFor, inliningSwitch, parseAll } from '../daemon/ingest/parse-pool.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

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

test('chunks shrink from 512 KiB to 32 KiB as the queue empties', () => {
  const KiB = 1024;
  assert.equal(chunkBytesFor(21.6e6, 2), 512 * KiB, 'a large corpus starts at the cap');
  assert.equal(chunkBytesFor(1.6e6, 2), 1.6e6 / 16, 'an eighth of a worker\'s share of what is left');
  assert.equal(chunkBytesFor(200 * KiB, 2), 32 * KiB, 'the last chunks at the floor');
  let left = 21.6e6;
  let chunks = 0;
  while (left > 0) {
    const next = chunkBytesFor(left, 2);
    assert.ok(next <= 512 * KiB && next >= 32 * KiB);
    left -= next;
    chunks++;
  }
  assert.ok(chunks > 21.6e6 / (512 * KiB) && chunks < 120, `${chunks} chunks for effect's 21.6 MB: few messages, small ones last`);
});

test('on zod\'s sources, the pool hands out large chunks first and small ones last', async () => {
  const files = discoverFiles(join(packageRoot(), 'node_modules', 'zod', 'src')).files;
  // Each batch a worker sends back is one chunk: its bytes are the growth of the bytes done.
  const done: number[] = [0];
  const outcomes = await parseAll(
    files.map((f) => ({ path: f.path, abs: f.abs, language: f.language, size: f.size })),
    { maxFileBytes: 5 << 20, workers: 2, minBytesForWorkers: 0, onProgress: (_files, _total, bytes) => void done.push(bytes) },
  );
  assert.equal(outcomes.length, files.length);
  assert.equal(done.at(-1), files.reduce((n, f) => n + f.size, 0));
  const chunks = done.slice(1).map((b, i) => b - done[i]!);
  assert.ok(chunks[0]! > 128 * 1024, `first chunk ${chunks[0]} bytes`);
  // A chunk goes over its size only by its first file; the last ones hold small files.
  for (const c of chunks.slice(-4)) assert.ok(c <= 40 * 1024, `last chunks: ${chunks.slice(-4).join(', ')} bytes`);
});

test('the pool turns inlining off once its workers have booted, before the first file is parsed, and on again after the last', async () => {
  const files = discoverFiles(join(packageRoot(), 'node_modules', 'zod', 'src')).files;
  const events: string[] = [];
  await parseAll(
    files.map((f) => ({ path: f.path, abs: f.abs, language: f.language, size: f.size })),
    {
      maxFileBytes: 5 << 20,
      workers: 2,
      minBytesForWorkers: 0,
      onOutcome: () => void (events.at(-1) !== 'file' && events.push('file')),
      jit: { enter: () => void events.push('enter'), leave: () => void events.push('leave') },
    },
  );
  assert.deepEqual(events, ['enter', 'file', 'leave']);
});

test('a busy caller hands each worker its share at once, and the workers parse it while the caller stays busy', async () => {
  // ~256 KB of zod's files: a fraction of a second of parsing, against a caller busy for 4 s
  // (the test suite runs files two at a time on two cores)
  const jobs: { path: string; abs: string; language: Language; size: number }[] = [];
  let bytes = 0;
  for (const f of discoverFiles(join(packageRoot(), 'node_modules', 'zod', 'src')).files) {
    if (bytes + f.size > 256 * 1024) continue;
    jobs.push({ path: f.path, abs: f.abs, language: f.language, size: f.size });
    bytes += f.size;
  }
  assert.ok(jobs.length > 20, `${jobs.length} files`);
  for (const workers of [1, 2]) {
    const batches: number[] = [];
    let last = 0;
    const done = parseAll(jobs, { maxFileBytes: 5 << 20, workers, minBytesForWorkers: 0, callerBusy: true, onProgress: (n) => void (batches.push(n - last), (last = n)) });
    // The caller is busy (as while decoding a snapshot): no chunk could be handed out meanwhile.
    const until = Date.now() + 4000;
    while (Date.now() < until);
    assert.deepEqual(batches, [], 'nothing is taken in while the caller is busy');
    // Without waiting on a timer, only on messages already there: the workers parsed during the block.
    for (let i = 0; i < 3 && last < jobs.length; i++) await new Promise((r) => setImmediate(r));
    assert.equal(last, jobs.length, `${workers} worker(s): every file was parsed while the caller was busy`);
    assert.equal(batches.length, workers, `one batch per worker: ${batches.join(', ')} files`);
    assert.equal((await done).length, jobs.length);
  }
});
