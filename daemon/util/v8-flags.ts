// V8's flags are per process, and while any of them differs from its default V8 refuses the code
// caches that Node's own modules ship with (a cache holds only under the flags it was made with).
// A worker booted then compiles Node's bootstrap from source and starts ~30 ms later (28-52 ms
// against 56-94 here, BENCHMARKS.md section 22); one already running is barely slowed. So isg
// changes a flag only once the workers it is booting have come online: the parse pool turns
// inlining off once its own workers are up (parse-pool.ts), and a WebAssembly module that needs a
// feature Node 20 keeps behind a flag waits for every worker booting at the time (instance.ts).
import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

const booting = new Set<Promise<void>>();

/** Counts `worker` as booting until it runs JavaScript (or fails to start). */
export function trackBoot(worker: Worker): Worker {
  const up = new Promise<void>((resolve) => {
    worker.once('online', resolve);
    worker.once('error', resolve);
    worker.once('exit', resolve);
  });
  booting.add(up);
  void up.then(() => booting.delete(up));
  return worker;
}

/** How long a flag waits for boots at most (a boot here takes 30-100 ms). */
const MAX_WAIT_MS = 1000;

/** Sets V8 flags once the workers booting now are online (`set`: tests pass their own). */
export async function setFlagsOnceBooted(flags: string, set: (flags: string) => void = setFlagsFromString): Promise<void> {
  // The timer also keeps the process alive meanwhile: spares booting are unref()ed workers.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(booting), new Promise((resolve) => (timer = setTimeout(resolve, MAX_WAIT_MS)))]);
  clearTimeout(timer);
  set(flags);
}
