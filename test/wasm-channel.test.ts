// The channel between the daemon's thread and a plugin worker (daemon/plugins/wasm/channel.ts),
// driven by a worker without a component (support/channel-worker.ts): an answer staged in the
// shared buffer survives a host call that writes over it, and what a blocking call answers is
// a view that the next call writes over, so the tier must decode it at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CallerChannel, createChannelBuffer, fromUtf8, Kind, Status, utf8 } from '../daemon/plugins/wasm/channel.ts';

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
