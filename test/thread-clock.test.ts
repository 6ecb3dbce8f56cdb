// The thread clock (daemon/util/thread-clock.ts, native/thread-clock): the CPU time of the calling
// thread, what a plugin worker charges its calls. It counts the thread's own work, not its
// waits, nor what other threads do meanwhile. No bound here depends on the machine's speed: CPU
// time is compared with wall time, which it can never exceed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../daemon/util/package-root.ts';
import { loadThreadClock } from '../daemon/util/thread-clock.ts';

const DIR = join(packageRoot(), 'native', 'thread-clock');
const built = existsSync(DIR) && readdirSync(DIR).some((f) => f.startsWith(`thread-clock.${process.platform}-${process.arch}`) && f.endsWith('.node'));

test('the thread clock counts the calling thread\'s work, not its waits nor other threads\' work', async (t) => {
  if (!built) return t.skip('native/thread-clock is not built here (no cargo, or not Linux or macOS): workers charge wall time');
  const loaded = loadThreadClock();
  assert.ok(loaded, 'it loads where it is built');
  const clock = loaded.cpuMs;

  const slept = { cpu: clock(), wall: performance.now() };
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60);
  const sleptCpu = clock() - slept.cpu;
  assert.ok(performance.now() - slept.wall >= 55 && sleptCpu < 10, `60 ms asleep cost ${sleptCpu} ms of CPU`);

  const spun = { cpu: clock(), wall: performance.now() };
  while (clock() - spun.cpu < 30);
  assert.ok(performance.now() - spun.wall >= 30, 'CPU time never runs ahead of wall time');

  // a worker loads it for itself and counts its own spin; this thread, waiting meanwhile, hardly moves
  const url = new URL('../daemon/util/thread-clock.' + (import.meta.url.endsWith('.ts') ? 'ts' : 'js'), import.meta.url).href;
  const source = `
    import { parentPort } from 'node:worker_threads';
    const { loadThreadClock } = await import(${JSON.stringify(url)});
    const clock = loadThreadClock().cpuMs;
    const start = clock();
    while (clock() - start < 100);
    parentPort.postMessage(clock() - start);
  `;
  const before = clock();
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
  const workerCpu = await new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  await worker.terminate();
  const mine = clock() - before;
  assert.ok(workerCpu >= 100, `the worker counted its own ${workerCpu} ms`);
  assert.ok(mine < workerCpu / 2, `this thread's clock moved ${mine} ms while the worker spun ${workerCpu}`);
});
