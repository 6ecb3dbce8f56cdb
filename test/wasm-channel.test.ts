// The channel between the daemon's thread and a plugin worker (daemon/plugins/wasm/channel.ts),
// driven by a worker without a component (support/channel-worker.ts): an answer staged in the
// shared buffer survives a host call that writes over it, and what a blocking call answers is
// a view that the next call writes over, so the tier must decode it at once. And the ceiling of
// a call, with a worker that sleeps or spins (support/timed-channel-worker.ts): of the worker's
// CPU time where the thread clock is built, so a starved worker is not stopped for the machine's
// slowness, up to a wall-clock backstop.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CallerChannel, createChannelBuffer, fromUtf8, Kind, Status, utf8 } from '../daemon/plugins/wasm/channel.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { loadThreadClock } from '../daemon/util/thread-clock.ts';

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
let worker: Worker;
let channel: CallerChannel;
const hostCalls: string[] = [];
const serveHost = (request: Uint8Array) => {
  hostCalls.push(fromUtf8(request.subarray(1)));
  // a reply longer than the answers, so it writes over all of a staged one
  return new Uint8Array(1 + 300 * 1024).fill(0xee);
};

before(() => {
  const sab = createChannelBuffer();
  worker = new Worker(new URL(`./support/channel-worker${ext}`, import.meta.url));
  worker.postMessage(sab);
  channel = new CallerChannel(sab);
});

after(async () => {
  channel.stop();
  await worker.terminate();
});

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251);
}

test('an answer staged in the channel and written over by a host call before the answer is sent as staged', () => {
  for (const n of [0, 5, 64 * 1024, 512 * 1024]) {
    const sent = bytes(n, n);
    const answer = channel.call(1, Kind.Execute, () => [sent], -1, 10_000, serveHost);
    assert.ok(answer);
    assert.equal(answer.status, Status.Ok);
    assert.deepEqual(answer.payload, sent.slice().reverse(), `${n} bytes`);
    assert.equal(fromUtf8(answer.tail), 'tail');
  }
  assert.deepEqual(hostCalls.splice(0), Array(4).fill('after the lift'));
});

test('a blocking call answers with a view the next call writes over; an async one with bytes of its own', async () => {
  const first = channel.call(1, Kind.BeforeQuery, () => [utf8('first')], -1, 10_000, serveHost)!;
  assert.equal(fromUtf8(first.payload), 'tsrif');
  assert.ok(!(first.payload.buffer instanceof SharedArrayBuffer), 'copied out of shared memory');
  channel.call(1, Kind.BeforeQuery, () => [utf8('LATER')], -1, 10_000, serveHost);
  assert.equal(fromUtf8(first.payload), 'RETAL', 'written over by the next call: why the tier decodes it at once');

  const queued = channel.callAsync(1, Kind.BeforeQuery, [utf8('async')], -1, 10_000, serveHost);
  const blocking = channel.call(1, Kind.BeforeQuery, () => [utf8('blocking')], -1, 10_000, serveHost)!;
  const own = (await queued)!;
  assert.equal(fromUtf8(own.payload), 'cnysa');
  assert.ok(!(own.payload.buffer instanceof SharedArrayBuffer), 'copied out: the blocking call went after it');
  assert.equal(fromUtf8(blocking.payload), 'gnikcolb');
  assert.deepEqual(hostCalls, []);
});

describe('the ceiling of a call is of the worker\'s CPU time, with a wall-clock backstop', () => {
  const dir = join(packageRoot(), 'native', 'thread-clock');
  const built = existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`thread-clock.${process.platform}-${process.arch}`) && f.endsWith('.node'));
  const clockIds = built && loadThreadClock()?.clockId() !== undefined;
  const SKIP = 'no thread clock another thread can read here (native/thread-clock on Linux): the ceiling is of wall time';

  /** One call to a fresh timed worker (a call past its ceiling leaves a channel stuck). */
  async function callOnce(what: string, ceilingMs: number): Promise<{ answer: ReturnType<CallerChannel['call']>; wallMs: number }> {
    const sab = createChannelBuffer();
    const timed = new Worker(new URL(`./support/timed-channel-worker${ext}`, import.meta.url));
    timed.postMessage(sab);
    const timedChannel = new CallerChannel(sab, loadThreadClock()!.cpuMsOf);
    try {
      // a first call, with a ceiling no start-up reaches: the worker is up and has announced its clock
      assert.ok(timedChannel.call(1, Kind.Execute, () => [utf8('sleep 0')], -1, 60_000, () => new Uint8Array(1)));
      const t0 = performance.now();
      const answer = timedChannel.call(1, Kind.Execute, () => [utf8(what)], -1, ceilingMs, () => new Uint8Array(1));
      return { answer, wallMs: performance.now() - t0 };
    } finally {
      timedChannel.stop();
      await timed.terminate();
    }
  }

  test('a worker that had less CPU time than its ceiling (starved) goes on past it, and answers', async (t) => {
    if (!clockIds) return t.skip(SKIP);
    const { answer, wallMs } = await callOnce('sleep 90', 40);
    assert.ok(answer, `answered after ${wallMs.toFixed(1)} ms: its 40 ms ceiling of CPU time was not reached`);
    assert.equal(fromUtf8(answer.payload), 'done');
    assert.ok(wallMs >= 85);
  });

  test('a worker spinning past its ceiling of CPU time is stopped', async (t) => {
    if (!clockIds) return t.skip(SKIP);
    const { answer, wallMs } = await callOnce('spin 5000', 30);
    assert.equal(answer, undefined, 'no answer: the worker must be stopped');
    assert.ok(wallMs >= 30 && wallMs < 1000, `given up after ${wallMs.toFixed(1)} ms, long before its 5 s spin's end`);
  });

  test('a starved worker is stopped at the backstop, four ceilings of wall time', async (t) => {
    if (!clockIds) return t.skip(SKIP);
    const { answer, wallMs } = await callOnce('sleep 2000', 30);
    assert.equal(answer, undefined, 'no answer: the worker must be stopped');
    assert.ok(wallMs >= 4 * 30 - 1 && wallMs < 2000, `given up after ${wallMs.toFixed(1)} ms`);
  });
});
