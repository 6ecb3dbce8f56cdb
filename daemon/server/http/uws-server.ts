// The HTTP gateway on hyper-express (uWebSockets.js underneath): the default on Node. One
// catch-all route hands every request to the gateway, which does its own routing, so this
// adapter and node-server.ts behave the same. Importing this module loads uWS, a native addon:
// gateway.ts imports it only when it starts, and falls back to node:http when the import fails.
import { Buffer } from 'node:buffer';
import HyperExpress from 'hyper-express';
import type { Request, Response } from 'hyper-express';
import { IsgError } from '../../errors.ts';
import type { HttpExchange, HttpGateway, HttpListener, StreamSink } from './gateway.ts';

/** The largest maxFrameBytes isg.config.json allows (config.ts). */
const MAX_BODY_BYTES = 1 << 30;

export async function listen(gateway: HttpGateway, host: string, port: number): Promise<HttpListener> {
  // No body limit here: the gateway checks Content-Length against maxFrameBytes (live from the
  // config) and answers 413 itself, with an error naming the limit instead of an empty body.
  // auto_close off: the daemon decides when to close, not a process signal handler of hyper-express.
  const server = new HyperExpress.Server({ max_body_length: Number.MAX_SAFE_INTEGER, auto_close: false });
  // The body's readable stream may hold a whole body: hyper-express 6.8.2 pauses the request for
  // good when a chunk that came with the headers (before the stream flows) passes the
  // highWaterMark, so a body over 16 KiB would never arrive. Bodies are at most maxFrameBytes
  // (at most 1 GiB), checked before they are read. Set per route: the server-wide option is not
  // applied to routes in this version.
  // (The route options of its type declarations are older than its code.)
  const route = server.any as unknown as (pattern: string, options: object, handler: (request: Request, response: Response) => void) => void;
  route.call(server, '/*', { streaming: { readable: { highWaterMark: MAX_BODY_BYTES } } }, (request, response) => void gateway.serve(exchange(request, response)));
  server.set_error_handler((_request, response, error) => {
    if (!response.completed) response.status(500).type('json').send(JSON.stringify({ ok: false, error: { code: 'internal', message: `internal error: ${error.message}` } }));
  });
  // uWS binds with SO_REUSEPORT unless told otherwise: a second daemon on the same port would
  // then share it and get half of this one's requests. hyper-express's listen() passes no
  // options, so its call to the app's listen gets the exclusive flag added here.
  const app = server.uws_instance as unknown as { listen: (...args: unknown[]) => unknown };
  const uwsListen = app.listen.bind(app);
  app.listen = (h: unknown, p: unknown, done: unknown) => uwsListen(h, p, (HyperExpress.compressors as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT, done);
  try {
    await server.listen(port, host);
  } catch {
    throw new IsgError('io', `cannot serve HTTP on ${host}:${port}: the address is in use or cannot be bound here`);
  }
  return {
    kind: 'hyper-express',
    address: `${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    stopListening: () => void server.close(),
    close: async () => {
      server.close();
      // Every connection, idle keep-alive ones included.
      (server.uws_instance as unknown as { close?: () => void }).close?.();
    },
  };
}

function exchange(request: Request, response: Response): HttpExchange {
  return {
    method: request.method.toUpperCase(),
    path: request.path,
    query: request.path_query ?? '',
    header: (name) => request.headers[name],
    // A client gone before its whole body came would leave the read waiting for good.
    body: () =>
      new Promise<Uint8Array>((resolve, reject) => {
        response.once('abort', () => reject(clientGone()));
        request.buffer().then(resolve, reject);
      }),
    reply(status, headers, body, close) {
      if (response.completed) return;
      response.status(status);
      for (const [name, value] of Object.entries(headers)) response.header(name, value);
      response.send(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength), close);
    },
    stream(status, headers) {
      response.status(status);
      for (const [name, value] of Object.entries(headers)) response.header(name, value);
      return eventSink(response);
    },
  };
}

function clientGone(): IsgError {
  return new IsgError('io', 'the client closed the connection before its request body arrived');
}

function eventSink(response: Response): StreamSink {
  let queued = 0;
  let closed = false;
  const listeners: (() => void)[] = [];
  const closeOnce = () => {
    if (closed) return;
    closed = true;
    for (const l of listeners) l();
  };
  // 'close' follows both the client going away ('abort') and our own end (send()).
  response.on('close', closeOnce);
  return {
    write(text) {
      if (response.completed) return;
      const bytes = Buffer.byteLength(text);
      queued += bytes;
      // The callback runs once uWS has taken the chunk (at once, or after a drain).
      response.write(text, () => (queued -= bytes));
    },
    get queuedBytes() {
      return queued;
    },
    end() {
      if (!response.completed) response.send();
      closeOnce();
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
}
