// The HTTP gateway on node:http: what serves it under Deno (uWebSockets.js, a Node addon, does
// not load there) and on Node when uWS cannot be loaded. The gateway does the routing, limits
// and encodings, so this adapter only moves bytes; it behaves as uws-server.ts does.
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { IsgError } from '../../errors.ts';
import type { HttpExchange, HttpGateway, HttpListener, StreamSink } from './gateway.ts';

export async function listen(gateway: HttpGateway, host: string, port: number): Promise<HttpListener> {
  const server = createServer((req, res) => void gateway.serve(exchange(req, res)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new IsgError('io', `cannot serve HTTP on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    kind: 'node:http',
    address: `${host.includes(':') ? `[${host}]` : host}:${bound}`,
    stopListening: () => void server.close(),
    close: async () => {
      server.close();
      server.closeAllConnections?.();
    },
  };
}

function exchange(req: IncomingMessage, res: ServerResponse): HttpExchange {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const gone = () => res.writableEnded || res.destroyed;
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    header(name) {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    body: () =>
      new Promise<Uint8Array>((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.once('end', () => resolve(Buffer.concat(chunks)));
        // A client gone before its whole body came: 'close' without 'end'.
        req.once('close', () => reject(new IsgError('io', 'the client closed the connection before its request body arrived')));
        req.once('error', () => undefined);
      }),
    reply(status, headers, body, close) {
      if (gone()) return;
      res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)), ...(close ? { connection: 'close' } : {}) });
      res.end(body);
    },
    stream(status, headers) {
      res.writeHead(status, headers);
      res.flushHeaders();
      return eventSink(res);
    },
  };
}

function eventSink(res: ServerResponse): StreamSink {
  let closed = false;
  const listeners: (() => void)[] = [];
  res.on('close', () => {
    closed = true;
    for (const l of listeners) l();
  });
  return {
    write(text) {
      if (!res.writableEnded && !res.destroyed) res.write(text);
    },
    get queuedBytes() {
      return res.writableLength;
    },
    end() {
      if (!res.writableEnded) res.end();
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
}
