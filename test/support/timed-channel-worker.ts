// A plugin worker's end of a channel without a component, for the ceiling tests of
// test/wasm-channel.test.ts: it lets the daemon's thread read its CPU clock, as the plugin worker
// does, and each request's payload says what to do before answering: "sleep N" (wait N ms without
// using the CPU, as a worker the machine starves does) or "spin N" (use N ms of CPU).
import { parentPort } from 'node:worker_threads';
import { fromUtf8, Kind, Status, utf8, WorkerChannel } from '../../daemon/plugins/wasm/channel.ts';
import { loadThreadClock } from '../../daemon/util/thread-clock.ts';

const clock = loadThreadClock()!;
parentPort!.once('message', (sab: SharedArrayBuffer) => {
  const channel = new WorkerChannel(sab);
  channel.announceClock(clock.clockId()!);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const request = channel.next();
    if (request.kind === Kind.Stop) break;
    const t0 = clock.cpuMs();
    channel.takenUp(t0);
    const [what, ms] = fromUtf8(request.payload).split(' ') as [string, string];
    if (what === 'sleep') Atomics.wait(nap, 0, 0, Number(ms));
    else while (clock.cpuMs() - t0 < Number(ms));
    channel.answer(request.tenant, Status.Ok, utf8('done'), undefined, 0, clock.cpuMs() - t0);
  }
});
