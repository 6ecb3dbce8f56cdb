// A stand-in daemon on a Unix socket that answers `hello` and then does what a test needs
// (never answer, drop the connection, answer late), for what a real daemon does only by accident.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { decodeBody, encodeFrame, FrameDecoder } from '../../client/framing.ts';
import { PROTOCOL_VERSION, type HelloResult, type Request } from '../../client/protocol.ts';
import { tempDir } from './temp-dirs.ts';

export type Behaviour = (request: Request, socket: Socket) => void;

export interface FakeDaemon {
  root: string;
  socket: string;
  server: Server;
  /** Requests received (after hello), in order. */
  requests: Request[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export const helloResult = (root: string): HelloResult => ({
  protocol: PROTOCOL_VERSION,
  daemon: { version: '0.0.0-fake', pid: process.pid, runtime: 'node', root },
  ops: ['hello', 'status', 'callers'],
  capabilities: ['pipelining'],
  limits: { maxFrameBytes: 1 << 24, maxConnections: 8, maxQueuedBytes: 1 << 23 },
});

/** Listens on `<root>/.isg/daemon.sock` with a lock naming this process, so the CLI finds it. */
export async function fakeDaemon(behaviour: Behaviour, hello?: Behaviour): Promise<FakeDaemon> {
  const root = tempDir('isg-fake-');
  const answerHello: Behaviour = hello ?? ((r, s) => void s.write(encodeFrame({ id: r.id, ok: true, result: helloResult(root), gen: 1 })));
  const dir = join(root, '.isg');
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  const socket = join(dir, 'daemon.sock');
  const requests: Request[] = [];
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    const decoder = new FrameDecoder(1 << 24);
    s.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind !== 'body') continue;
        const r = decodeBody(ev.body) as Request;
        if (r.op === 'hello') answerHello(r, s);
        else {
          requests.push(r);
          behaviour(r, s);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  writeFileSync(join(dir, 'daemon.lock'), JSON.stringify({ pid: process.pid, socket, startedAt: new Date().toISOString(), runtime: 'node' }));
  return {
    root,
    socket,
    server,
    requests,
    connections: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
