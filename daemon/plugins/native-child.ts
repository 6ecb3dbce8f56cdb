// The Node child process of `process` isolation, used when the Rust host
// (native/process-host, the same protocol without a Node runtime) is not built: loads one
// native addon and answers the parent over fd 3 (length-prefixed msgpack,
// daemon/plugins/pipe-frames.ts). It holds its own copy of the snapshot, sent once per
// generation, on a SharedArrayBuffer like the parent's. The parent checks the addon's exports
// (sent with `ready`) and ends the child by closing the pipe, or with SIGKILL when a call
// runs away.
import net from 'node:net';
import process from 'node:process';
import { fromTransfer } from '../graph/csr.ts';
import { attachForm, describeExports, errorText, openAddon, type NativeAddon } from './native-addon.ts';
import type { FromChild, ToChild } from './native-process.ts';
import { encodeFrame, FrameDecoder } from './pipe-frames.ts';
import { chargeClock } from '../util/thread-clock.ts';

const pipe = new net.Socket({ fd: 3, readable: true, writable: true });
/** What a call is charged by: this thread's CPU time where the thread-clock addon loads (util/thread-clock.ts), else wall time. */
const clock = chargeClock();
const decoder = new FrameDecoder();
let addon: NativeAddon | undefined;
/** Why the last snapshot could not be attached: every call answers with it until the next one. */
let attachError: { code?: string; message: string } | undefined;

const send = (message: FromChild) => {
  for (const chunk of encodeFrame(message)) pipe.write(chunk);
};
const codeOf = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

function handle(m: ToChild): void {
  switch (m.t) {
    case 'load':
      try {
        const exports = openAddon(m.file, m.name);
        addon = exports as unknown as NativeAddon;
        send({ t: 'ready', exports: describeExports(exports), memory: memory() });
      } catch (err) {
        send({ t: 'load-error', message: errorText(err) });
      }
      return;
    case 'snapshot': {
      const buffer = new SharedArrayBuffer(m.payload.byteLength);
      new Uint8Array(buffer).set(m.payload);
      try {
        addon!.attach(attachForm(fromTransfer({ generation: m.generation, nodeCount: m.nodeCount, edgeCount: m.edgeCount, layout: m.layout, fileTable: m.fileTable, buffer })));
        attachError = undefined;
      } catch (err) {
        attachError = { code: codeOf(err), message: errorText(err) };
      }
      return;
    }
    case 'call':
    case 'update':
      if (attachError) {
        send({ t: 'error', id: m.id, ...attachError, memory: memory() });
        return;
      }
      {
        const t0 = clock();
        try {
          const value = m.t === 'call' ? addon!.call(m.op, m.args) : addon!.update!(m.update);
          send({ t: 'result', id: m.id, value: value ?? null, memory: memory(), spent: clock() - t0 });
        } catch (err) {
          send({ t: 'error', id: m.id, code: codeOf(err), message: errorText(err), memory: memory(), spent: clock() - t0 });
        }
      }
  }
}

/** What the plugin holds now, when its addon can say. */
function memory(): number | undefined {
  return typeof addon?.memory === 'function' ? addon.memory() : undefined;
}

pipe.on('data', (chunk: Buffer) => {
  for (const m of decoder.push(chunk)) handle(m as ToChild);
});
pipe.on('end', () => process.exit(0));
pipe.on('error', () => process.exit(1));
