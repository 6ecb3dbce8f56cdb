// A plugin worker's end of a channel without a component, for test/wasm-channel.test.ts: each
// request's payload, reversed, is staged as a component's lifted answer would be; then, when
// the request is an Execute, a host call writes over the data area before the answer, as a
// component calling the host from its post-return would.
import { parentPort } from 'node:worker_threads';
import { HostCall, hostCallParts, Kind, Status, utf8, WorkerChannel } from '../../daemon/plugins/wasm/channel.ts';

parentPort!.once('message', (sab: SharedArrayBuffer) => {
  const channel = new WorkerChannel(sab);
  for (;;) {
    const request = channel.next();
    if (request.kind === Kind.Stop) break;
    const lifted = channel.stage(request.payload.slice().reverse());
    if (request.kind === Kind.Execute) channel.hostCall(...hostCallParts(HostCall.Read, utf8('after the lift')));
    channel.answer(request.tenant, Status.Ok, lifted, utf8('tail'), 0);
  }
});
