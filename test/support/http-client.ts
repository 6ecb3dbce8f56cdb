// A small HTTP client for the gateway's tests and benchmark: node:http with no agent (every
// request its own connection unless a keep-alive agent is passed), the raw status, headers and
// body, and a reader of Server-Sent Events. It runs on Node and under Deno.
import { Buffer } from 'node:buffer';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON. */
  json<T = any>(): T;
}

export interface HttpCall {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  agent?: Agent;
}

/** `address` is `host:port` as the daemon reports it (`[::1]:port` for IPv6). */
export function httpCall(address: string, call: HttpCall): Promise<HttpAnswer> {
  const { host, port } = split(address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: call.method ?? 'GET', path: call.path, headers: call.headers, agent: call.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(call.body);
  });
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseReader {
  status: number;
  headers: IncomingHttpHeaders;
  /** The next event (comments skipped). */
  next(): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Open `GET path` as an event stream; resolves once the response headers are in. */
export function sse(address: string, path: string, headers: Record<string, string>): Promise<SseReader> {
  const { host, port } = split(address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: 'GET', path, headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res: IncomingMessage) => {
      const queue: SseEvent[] = [];
      const waiters: ((e: SseEvent) => void)[] = [];
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const ev: SseEvent = { event: 'message', data: '' };
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            any = true;
            if (field === 'event') ev.event = value;
            else if (field === 'id') ev.id = value;
            else if (field === 'data') ev.data = ev.data ? `${ev.data}\n${value}` : value;
          }
          if (!any) continue;
          const w = waiters.shift();
          if (w) w(ev);
          else queue.push(ev);
        }
      });
      const ended = new Promise<void>((r) => {
        res.once('end', () => r());
        res.once('close', () => r());
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))),
        ended,
        close: () => req.destroy(),
      });
    });
    req.once('error', reject);
    req.end();
  });
}

function split(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}
