// The socket benchmark's floor: a server that speaks isg's framing over a Unix socket and
// answers every request with a fixed result, doing no graph work. Measured from the same
// client in the same run as the daemon, it shows what the machine's socket, scheduling and
// msgpack cost at that moment, so the daemon's figures can be read as "floor + isg".
import { createServer, type Socket } from 'node:net';
import { decodeBody, encodeFrame, FrameDecoder } from '../daemon/server/frames.ts';
import { PROTOCOL_VERSION, type HelloResult } from '../client/protocol.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: socket-floor-child <socket path>');

const hello: HelloResult = {
  protocol: PROTOCOL_VERSION,
  daemon: { version: 'floor', pid: process.pid, runtime: 'node', root: '' },
  ops: ['hello'],
  capabilities: ['pipelining'],
  limits: { maxFrameBytes: 16 << 20, maxConnections: 256, maxQueuedBytes: 16 << 20 },
};

const server = createServer((socket: Socket) => {
  socket.setNoDelay(true);
  const decoder = new FrameDecoder(16 << 20);
  socket.on('data', (chunk: Buffer) => {
    for (const ev of decoder.push(chunk)) {
      if (ev.kind !== 'body') return socket.destroy();
      const { id, op } = decodeBody(ev.body) as { id: number; op: string };
      socket.write(encodeFrame({ id, ok: true, result: op === 'hello' ? hello : { op }, gen: 1 }));
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(path, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
