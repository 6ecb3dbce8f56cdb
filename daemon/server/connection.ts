// One client connection: frames in, requests dispatched (answered as they finish, so out of
// order), frames out, with backpressure of its own. A client that sends garbage or stops
// reading loses its own connection and nothing else.
import type { Socket } from 'node:net';
import { decodeBody, encodeFrame, FrameDecoder } from './frames.ts';
import type { DaemonEvent, ErrorResponse, EventFrame, Request, WireError } from '../../client/protocol.ts';
import { IsgError, toWireError } from '../errors.ts';
import type { Logger } from '../util/log.ts';

export interface ConnectionHost {
  readonly maxFrameBytes: number;
  readonly maxQueuedBytes: number;
  /** Answer one request; throws (or rejects with) an IsgError for a wire error. */
  handle(request: Request, conn: Caller): unknown;
  /** The graph generation answers are computed at now, and whether it is still the first index. */
  generation(): number;
  partial(): boolean;
  closed(conn: Connection): void;
  log: Logger;
}

/**
 * Who sent a request, as the daemon's own ops see it: whether it proved the token, and its
 * subscriptions. A socket connection is one; an HTTP request is a stateless one of its own.
 */
export interface Caller {
  authenticated: boolean;
  /** Subscription ids (the subscribe request's id) and the event types each wants. */
  readonly subscriptions: Map<number, ReadonlySet<DaemonEvent['type']>>;
}

/** Reading pauses while this many requests of one connection are unanswered. */
const MAX_IN_FLIGHT = 1024;

let nextConnectionId = 1;

export class Connection implements Caller {
  readonly id = nextConnectionId++;
  /** Unix-socket clients are trusted by the socket's file mode; TCP clients must say hello with the token. */
  authenticated: boolean;
  /** Subscription ids (the subscribe request's id) and the event types each wants. */
  readonly subscriptions = new Map<number, ReadonlySet<DaemonEvent['type']>>();
  private readonly socket: Socket;
  private readonly host: ConnectionHost;
  private readonly decoder: FrameDecoder;
  private inFlight = 0;
  private pausedForBackpressure = false;
  private closing = false;
  private corked = false;

  constructor(socket: Socket, host: ConnectionHost, authenticated: boolean) {
    this.socket = socket;
    this.host = host;
    this.authenticated = authenticated;
    this.decoder = new FrameDecoder(host.maxFrameBytes);
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => host.log.debug('connection error', { conn: this.id, error: err.message }));
    socket.on('close', () => {
      this.closing = true;
      host.closed(this);
    });
  }

  get isOpen(): boolean {
    return !this.closing;
  }

  /** Unanswered requests, so shutdown can wait for them. */
  get pending(): number {
    return this.inFlight;
  }

  push(sub: number, event: DaemonEvent, id: string): void {
    this.send({ sub, event, id } satisfies EventFrame);
  }

  /** Answer with an error and close: the stream can no longer be trusted. */
  fatal(id: number, error: WireError): void {
    this.send({ id, ok: false, error } satisfies ErrorResponse);
    this.closing = true;
    this.socket.end();
  }

  close(): void {
    this.closing = true;
    this.socket.end();
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'too-large') {
        this.host.log.warn('frame too large; connection closed', { conn: this.id, bytes: ev.length });
        return this.fatal(0, { code: 'frame-too-large', message: `frame of ${ev.length} bytes is larger than the limit of ${this.host.maxFrameBytes} bytes (maxFrameBytes); connection closed` });
      }
      let message: unknown;
      try {
        message = decodeBody(ev.body);
      } catch (err) {
        this.host.log.warn('undecodable frame; connection closed', { conn: this.id, error: (err as Error).message });
        return this.fatal(0, { code: 'bad-frame', message: `frame body is not valid msgpack (${(err as Error).message}); connection closed` });
      }
      this.request(message);
      if (this.closing) return;
    }
  }

  private request(message: unknown): void {
    const id = isObject(message) && Number.isSafeInteger(message.id) ? (message.id as number) : 0;
    if (!isObject(message) || !Number.isSafeInteger(message.id) || typeof message.op !== 'string') {
      this.send({ id, ok: false, error: { code: 'bad-args', message: `a request is a map {id: integer, op: string, args?: any}; got ${shape(message)}` } });
      return;
    }
    const request = message as unknown as Request;
    if (!this.authenticated && request.op !== 'hello') {
      return this.fatal(id, { code: 'unauthorized', message: 'this TCP connection must start with {op: "hello", args: {token}}; the token is in <root>/.isg/token' });
    }
    const gen = this.host.generation();
    let result: unknown;
    try {
      result = this.host.handle(request, this);
    } catch (err) {
      return this.replyError(id, err);
    }
    if (result instanceof Promise) {
      this.inFlight++;
      if (this.inFlight >= MAX_IN_FLIGHT) this.socket.pause();
      result.then(
        (value) => this.reply(id, value, gen),
        (err) => this.replyError(id, err),
      ).finally(() => {
        this.inFlight--;
        this.maybeResume();
      });
      return;
    }
    this.reply(id, result, gen);
  }

  private reply(id: number, result: unknown, gen: number): void {
    const response = this.host.partial() ? { id, ok: true, result, gen, partial: true } : { id, ok: true, result, gen };
    this.send(response);
  }

  private replyError(id: number, err: unknown): void {
    if (!(err instanceof IsgError)) this.host.log.error('internal error answering a request', { conn: this.id, id, error: err instanceof Error ? err.stack : String(err) });
    const error = toWireError(err);
    this.send({ id, ok: false, error });
    if (error.code === 'unauthorized') this.close();
  }

  private send(frame: unknown): void {
    if (this.socket.destroyed) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
    } catch (err) {
      // A result msgpack cannot encode (a plugin returned a function, a cycle...): say so.
      const id = isObject(frame) && typeof frame.id === 'number' ? frame.id : 0;
      bytes = encodeFrame({ id, ok: false, error: { code: 'internal', message: `the result could not be encoded as msgpack: ${(err as Error).message}` } });
    }
    // Responses produced while handling one chunk of pipelined requests leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
    const queued = this.socket.writableLength;
    if (queued > 4 * this.host.maxQueuedBytes) {
      // The client stopped reading (events pile up): it alone is cut off.
      this.host.log.warn('client stopped reading; connection closed', { conn: this.id, queuedBytes: queued });
      this.socket.destroy();
    } else if (queued > this.host.maxQueuedBytes && !this.pausedForBackpressure) {
      this.pausedForBackpressure = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (this.pausedForBackpressure && this.socket.writableLength <= this.host.maxQueuedBytes) this.pausedForBackpressure = false;
    if (!this.pausedForBackpressure && this.inFlight < MAX_IN_FLIGHT && !this.closing) this.socket.resume();
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function shape(v: unknown): string {
  if (!isObject(v)) return Array.isArray(v) ? 'a list' : v === null ? 'nil' : typeof v;
  const parts: string[] = [];
  if (!Number.isSafeInteger(v.id)) parts.push(`id ${v.id === undefined ? 'missing' : `of type ${typeof v.id}`}`);
  if (typeof v.op !== 'string') parts.push(`op ${v.op === undefined ? 'missing' : `of type ${typeof v.op}`}`);
  return `a map with ${parts.join(' and ')}`;
}
