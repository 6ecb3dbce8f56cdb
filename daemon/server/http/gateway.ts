// The HTTP gateway: the daemon's ops over HTTP/1.1 for clients that would rather not speak
// msgpack frames. `POST /v1/query` runs one op (core, daemon or `<plugin>/<op>`, batch too) and
// answers the socket's envelope without the id; `GET /v1/status` is the status op; `GET
// /v1/events` streams the subscribe feed as Server-Sent Events. Every request carries the TCP
// endpoint's token as `Authorization: Bearer <token>`.
//
// This module is the gateway's behaviour, the same on every runtime: routing, auth, limits,
// encodings, status codes, event streams. The HTTP server under it is an adapter
// (`HttpExchange`): hyper-express (uWebSockets.js) on Node, node:http on Deno, where uWS does not
// load, and on Node when uWS fails to load. The daemon imports this module only when it serves
// HTTP, and this module imports its server only when it starts.
import type { DaemonEvent, HttpEnvelope, Request, ResyncEvent, SseSubscribed } from '../../../client/protocol.ts';
import { EVENT_TYPES, HTTP_PATHS, HTTP_STATUS_OF_ERROR, SSE_RESYNC, SSE_SUBSCRIBED } from '../../../client/protocol.ts';
import { IsgError, toWireError } from '../../errors.ts';
import type { Logger } from '../../util/log.ts';
import { RUNTIME } from '../../util/runtime.ts';
import { isObject, type Caller } from '../connection.ts';
import { decodeBody, encodeBody } from '../frames.ts';
import type { EventLog } from '../event-log.ts';

export type HttpServerKind = 'hyper-express' | 'node:http';

/** What the gateway needs of the daemon (daemon.ts implements it). */
export interface GatewayHost {
  readonly maxFrameBytes: number;
  readonly maxQueuedBytes: number;
  readonly maxConnections: number;
  readonly log: Logger;
  checkToken(token: unknown): boolean;
  generation(): number;
  /** Answer one request, as for a socket connection; throws (or rejects with) an IsgError. */
  handle(request: Request, caller: Caller): unknown;
  /** Hear every event the daemon publishes, with its id; returns the way to stop. */
  onEvent(listener: (event: DaemonEvent, id: string) => void): () => void;
  /** The last events published, for a stream that resumes (Last-Event-ID). */
  readonly events: EventLog;
}

/** One HTTP request and its answer, as an adapter hands it over. */
export interface HttpExchange {
  /** Upper case. */
  readonly method: string;
  /** The path, without the query string, as sent (not decoded). */
  readonly path: string;
  /** The query string without `?`; '' when there is none. */
  readonly query: string;
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
  /** The whole body; the gateway has checked its Content-Length against the limit first. */
  body(): Promise<Uint8Array>;
  /** Answer and finish (nothing happens when the client is gone); `close`: close the connection after it. */
  reply(status: number, headers: Record<string, string>, body: string | Uint8Array, close?: boolean): void;
  /** Start an answer that stays open (the event stream). */
  stream(status: number, headers: Record<string, string>): StreamSink;
}

export interface StreamSink {
  write(text: string): void;
  /** Bytes written and not yet taken by the client's connection. */
  readonly queuedBytes: number;
  end(): void;
  /** Called once, when the client goes away or the stream is ended. */
  onClose(listener: () => void): void;
}

/** A listening HTTP server, as an adapter returns it. */
export interface HttpListener {
  readonly kind: HttpServerKind;
  /** `host:port`, with the port actually bound (`127.0.0.1:0` binds any free one). */
  readonly address: string;
  /** No new connections; requests in flight go on. */
  stopListening(): void;
  /** Close every connection. */
  close(): Promise<void>;
}

export type HttpListen = (gateway: HttpGateway, host: string, port: number) => Promise<HttpListener>;

/** What the daemon holds of a running gateway. */
export interface HttpGatewayHandle {
  readonly address: string;
  readonly server: HttpServerKind;
  /** Requests being answered (the daemon's stop waits for them). */
  readonly pending: number;
  /** Open event streams. */
  readonly streams: number;
  stopListening(): void;
  close(): Promise<void>;
}

/**
 * Serve HTTP on host:port. `server` picks the adapter; by default hyper-express, except under
 * Deno. When hyper-express (uWS, a native addon) cannot be loaded, node:http serves instead and
 * the log says why.
 */
export async function startHttpGateway(host: GatewayHost, options: { host: string; port: number; server?: HttpServerKind }): Promise<HttpGatewayHandle> {
  const gateway = new HttpGateway(host);
  const wanted = options.server ?? (RUNTIME === 'deno' ? 'node:http' : 'hyper-express');
  let listen: HttpListen | undefined;
  if (wanted === 'hyper-express') {
    try {
      listen = (await import('./uws-server.ts')).listen;
    } catch (err) {
      host.log.warn('hyper-express (uWebSockets.js) did not load; the HTTP gateway runs on node:http', { error: err instanceof Error ? err.message : String(err) });
    }
  }
  listen ??= (await import('./node-server.ts')).listen;
  const listener = await listen(gateway, options.host, options.port);
  gateway.start();
  host.log.info('http gateway listening', { address: listener.address, server: listener.kind });
  return {
    address: listener.address,
    server: listener.kind,
    get pending() {
      return gateway.pending;
    },
    get streams() {
      return gateway.streamCount;
    },
    stopListening: () => listener.stopListening(),
    close: async () => {
      gateway.close();
      await listener.close();
    },
  };
}

/** Path to the one method it takes (a Map: a path is client input, and never an object key). */
const ROUTES: ReadonlyMap<string, string> = new Map([
  [HTTP_PATHS.query, 'POST'],
  [HTTP_PATHS.status, 'GET'],
  [HTTP_PATHS.events, 'GET'],
]);
const ENDPOINTS = [...ROUTES].map(([path, method]) => `${method} ${path}`).join(', ');
/** Subscriptions are the event stream's job: over POST they would have nowhere to go. */
const STREAM_ONLY_OPS = new Set(['subscribe', 'unsubscribe']);
const JSON_TYPE = 'application/json; charset=utf-8';
const MSGPACK_TYPE = 'application/msgpack';
const MSGPACK_TYPES = new Set(['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack']);
/** A comment on every event stream this often, so proxies keep it and a vanished client is noticed. */
const KEEP_ALIVE_MS = 15_000;
/** HTTP requests are authenticated by their header, each on its own: no connection state. */
const HTTP_CALLER: Caller = { authenticated: true, subscriptions: new Map() };

type Format = 'json' | 'msgpack';

interface EventStream {
  readonly sink: StreamSink;
  readonly types: ReadonlySet<DaemonEvent['type']>;
}

/** An event as SSE: its id (what Last-Event-ID sends back), its type and the event as JSON. */
function sseEvent(id: string, event: DaemonEvent): string {
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class HttpGateway {
  /** Requests being answered. */
  pending = 0;
  private readonly host: GatewayHost;
  private readonly streams = new Set<EventStream>();
  private keepAlive?: ReturnType<typeof setInterval>;
  private stopListeningToEvents?: () => void;
  private closed = false;

  constructor(host: GatewayHost) {
    this.host = host;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Hear the daemon's events (one listener for every stream) and keep the streams alive. */
  start(): void {
    this.stopListeningToEvents = this.host.onEvent((event, id) => this.broadcast(event, id));
    this.keepAlive = setInterval(() => {
      for (const s of this.streams) this.write(s, ': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    this.keepAlive.unref?.();
  }

  /** End every event stream. */
  close(): void {
    this.closed = true;
    this.stopListeningToEvents?.();
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const s of this.streams) s.sink.end();
    this.streams.clear();
  }

  /** Answer one request. Never throws: whatever goes wrong is an answer with a status and an error. */
  async serve(ex: HttpExchange): Promise<void> {
    this.pending++;
    try {
      await this.route(ex);
    } catch (err) {
      if (err instanceof IsgError) this.host.log.debug('HTTP request failed', { method: ex.method, path: ex.path, error: err.message });
      else this.host.log.error('internal error answering an HTTP request', { method: ex.method, path: ex.path, error: err instanceof Error ? err.stack : String(err) });
      this.fail(ex, 'json', err);
    } finally {
      this.pending--;
    }
  }

  private async route(ex: HttpExchange): Promise<void> {
    const format = acceptedFormat(ex.header('accept')) ?? 'json';
    const token = bearerToken(ex.header('authorization'));
    if (typeof token !== 'string' || !this.host.checkToken(token)) {
      const message =
        token === undefined
          ? 'missing "Authorization: Bearer <token>" header; the token is in <root>/.isg/token'
          : token === null
            ? 'the Authorization header must be "Bearer <token>", with the token from <root>/.isg/token'
            : 'wrong token in the Authorization header; the token is in <root>/.isg/token';
      const challenge = typeof token === 'string' ? 'Bearer realm="isg", error="invalid_token"' : 'Bearer realm="isg"';
      return this.fail(ex, format, new IsgError('unauthorized', message), { headers: { 'www-authenticate': challenge } });
    }
    const method = ROUTES.get(ex.path);
    if (method === undefined) return this.fail(ex, format, new IsgError('not-found', `no endpoint ${ex.method} ${ex.path}; the endpoints are ${ENDPOINTS}`));
    if (ex.method !== method) return this.fail(ex, format, new IsgError('bad-args', `${ex.path} takes ${method}, not ${ex.method}`), { status: 405, headers: { allow: method } });
    if (ex.path === HTTP_PATHS.events) return this.events(ex, format);
    if (ex.query !== '') return this.fail(ex, format, new IsgError('bad-args', `${ex.path} takes no query parameters, got "?${ex.query}"`));
    if (ex.path === HTTP_PATHS.status) return this.answer(ex, format, 'status', undefined);
    return this.query(ex);
  }

  /** `POST /v1/query`: the body is `{op, args?}`, JSON or msgpack. */
  private async query(ex: HttpExchange): Promise<void> {
    let format = acceptedFormat(ex.header('accept')) ?? 'json';
    if (ex.header('transfer-encoding') !== undefined) {
      return this.fail(ex, format, new IsgError('bad-args', 'send the body with a Content-Length header; chunked request bodies are not accepted'), { status: 411, close: true });
    }
    const lengthHeader = ex.header('content-length') ?? '0';
    if (!/^\d{1,15}$/.test(lengthHeader)) return this.fail(ex, format, new IsgError('bad-args', `Content-Length must be a number of bytes, got "${lengthHeader}"`), { close: true });
    const length = Number(lengthHeader);
    const limit = this.host.maxFrameBytes;
    if (length > limit) {
      // Answered before the body is read, and the connection closed: nothing of it is kept.
      return this.fail(ex, format, new IsgError('frame-too-large', `request body of ${length} bytes is larger than the limit of ${limit} bytes (maxFrameBytes in isg.config.json)`), { close: true });
    }
    const type = mediaType(ex.header('content-type'));
    const bodyFormat: Format | undefined = type === undefined || type === 'application/json' ? 'json' : MSGPACK_TYPES.has(type) ? 'msgpack' : undefined;
    if (!bodyFormat) {
      const hint = type === 'application/x-www-form-urlencoded' ? " (curl -d sends that type: add -H 'Content-Type: application/json')" : '';
      return this.fail(ex, format, new IsgError('bad-args', `Content-Type "${type}" is not accepted; send application/json or application/msgpack${hint}`), { status: 415 });
    }
    format = acceptedFormat(ex.header('accept')) ?? bodyFormat;
    if (length === 0) return this.fail(ex, format, new IsgError('bad-args', 'empty body; POST /v1/query takes {"op": string, "args"?: any}'));
    const body = await ex.body();
    let message: unknown;
    try {
      message = bodyFormat === 'json' ? JSON.parse(utf8Text(body)) : decodeBody(body);
    } catch (err) {
      const what = bodyFormat === 'json' ? 'JSON' : 'msgpack';
      return this.fail(ex, format, new IsgError('bad-args', `request body is not valid ${what}: ${(err as Error).message}`));
    }
    if (!isObject(message) || typeof message.op !== 'string') {
      return this.fail(ex, format, new IsgError('bad-args', `the body must be {"op": string, "args"?: any}; got ${shape(message)}`));
    }
    const op = message.op;
    if (STREAM_ONLY_OPS.has(op)) return this.fail(ex, format, new IsgError('bad-args', `"${op}" is not an HTTP query: GET ${HTTP_PATHS.events} streams the events`));
    return this.answer(ex, format, op, message.args);
  }

  /** Run one op as a socket request would, and answer its envelope. */
  private async answer(ex: HttpExchange, format: Format, op: string, args: unknown): Promise<void> {
    const gen = this.host.generation();
    let result: unknown;
    try {
      result = this.host.handle({ id: 0, op, args }, HTTP_CALLER);
      if (result instanceof Promise) result = await result;
    } catch (err) {
      if (!(err instanceof IsgError)) this.host.log.error('internal error answering an HTTP request', { op, error: err instanceof Error ? err.stack : String(err) });
      return this.fail(ex, format, err);
    }
    const envelope: HttpEnvelope = { ok: true, result, gen };
    let body: string | Uint8Array;
    try {
      body = encode(envelope, format);
    } catch (err) {
      // A result the encoding cannot hold (a plugin returned a BigInt, a cycle...): say so.
      return this.fail(ex, format, new IsgError('internal', `the result could not be encoded as ${format === 'json' ? 'JSON' : 'msgpack'}: ${(err as Error).message}`));
    }
    ex.reply(200, { 'content-type': contentType(format) }, body);
  }

  /** `GET /v1/events?events=update,plugin`: the subscribe feed as Server-Sent Events. */
  private events(ex: HttpExchange, format: Format): void {
    const params = new URLSearchParams(ex.query);
    for (const key of params.keys()) {
      if (key !== 'events') return this.fail(ex, format, new IsgError('bad-args', `unknown query parameter "${key}"; ${HTTP_PATHS.events} takes only "events" (a comma-separated list of ${EVENT_TYPES.join(', ')})`));
    }
    const asked = params.getAll('events').flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    const unknown = asked.find((t) => !EVENT_TYPES.includes(t as DaemonEvent['type']));
    if (unknown !== undefined) return this.fail(ex, format, new IsgError('bad-args', `unknown event type "${unknown}"; "events" is a comma-separated list of ${EVENT_TYPES.join(', ')}`));
    if (this.closed) return this.fail(ex, format, new IsgError('shutting-down', 'the daemon is shutting down; start a new one with `isg serve`'));
    const limit = this.host.maxConnections;
    if (this.streams.size >= limit) {
      return this.fail(ex, format, new IsgError('overloaded', `the daemon serves at most ${limit} event streams at once (maxConnections in isg.config.json); close one, or raise the limit`));
    }
    const types = new Set((asked.length ? asked : EVENT_TYPES) as DaemonEvent['type'][]);
    const sink = ex.stream(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const stream: EventStream = { sink, types };
    this.streams.add(stream);
    sink.onClose(() => this.streams.delete(stream));
    const log = this.host.events;
    const hello: SseSubscribed = { subscribed: [...types], gen: this.host.generation(), lastId: log.lastId };
    this.write(stream, `event: ${SSE_SUBSCRIBED}\ndata: ${JSON.stringify(hello)}\n\n`);
    // An EventSource that reconnects says what it saw last: what it missed comes first.
    const since = ex.header('last-event-id');
    if (since === undefined) return;
    const resume = log.after(since.trim(), types);
    if ('gap' in resume) {
      const resync: ResyncEvent = { type: 'resync', reason: resume.gap };
      this.write(stream, `event: ${SSE_RESYNC}\ndata: ${JSON.stringify(resync)}\n\n`);
    } else for (const { id, event } of resume.missed) this.write(stream, sseEvent(id, event));
  }

  /** One event to every stream that asked for its type, encoded once. */
  private broadcast(event: DaemonEvent, id: string): void {
    let text: string | undefined;
    for (const stream of this.streams) {
      if (!stream.types.has(event.type)) continue;
      text ??= sseEvent(id, event);
      this.write(stream, text);
    }
  }

  private write(stream: EventStream, text: string): void {
    if (!this.streams.has(stream)) return;
    stream.sink.write(text);
    const queued = stream.sink.queuedBytes;
    if (queued > 4 * this.host.maxQueuedBytes) {
      // The client stopped reading: it alone is cut off, as on the socket.
      this.host.log.warn('event stream client stopped reading; stream closed', { queuedBytes: queued });
      this.streams.delete(stream);
      stream.sink.end();
    }
  }

  private fail(ex: HttpExchange, format: Format, err: unknown, options: { status?: number; headers?: Record<string, string>; close?: boolean } = {}): void {
    const error = toWireError(err);
    const envelope: HttpEnvelope = { ok: false, error };
    const status = options.status ?? (Object.hasOwn(HTTP_STATUS_OF_ERROR, error.code) ? HTTP_STATUS_OF_ERROR[error.code] : 500);
    const headers: Record<string, string> = { 'content-type': contentType(format), ...options.headers };
    if (error.code === 'indexing' || error.code === 'shutting-down' || error.code === 'overloaded') headers['retry-after'] = '1';
    let body: string | Uint8Array;
    try {
      body = encode(envelope, format);
    } catch {
      // details a plugin put in its error that cannot be encoded: the code and message still go
      body = encode({ ok: false, error: { code: error.code, message: error.message } }, format);
    }
    ex.reply(status, headers, body, options.close);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function utf8Text(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // the runtimes word this differently: one message on both
    throw new Error('it is not valid UTF-8');
  }
}

function encode(value: unknown, format: Format): string | Uint8Array {
  return format === 'json' ? JSON.stringify(value) : encodeBody(value);
}

function contentType(format: Format): string {
  return format === 'json' ? JSON_TYPE : MSGPACK_TYPE;
}

/** The media type of a Content-Type header, lower case and without parameters. */
function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const type = header.split(';', 1)[0]!.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/** What an Accept header asks for, of the two encodings: the first it names, or undefined for either. */
function acceptedFormat(header: string | undefined): Format | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(',')) {
    const type = mediaType(part);
    if (type === 'application/json') return 'json';
    if (type !== undefined && MSGPACK_TYPES.has(type)) return 'msgpack';
  }
  return undefined;
}

/** The token of `Authorization: Bearer <token>`; undefined without the header, null when it is malformed. */
function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return m ? m[1]! : null;
}


function shape(v: unknown): string {
  if (isObject(v)) return `an object whose "op" is ${v.op === undefined ? 'missing' : `a ${typeof v.op}`}`;
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : `a ${typeof v}`;
}
