// The typed isg client: one connection to a daemon, requests pipelined and matched to their
// responses by id, per-request timeouts and AbortSignals, reconnection with backoff, and
// subscriptions as async iterators. Runs unchanged on Node and Deno (node:net).
import { Buffer } from 'node:buffer';
import { connect as netConnect, type Socket } from 'node:net';
import { decodeBody, encodeFrame, FrameDecoder } from './framing.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type CoreOpName,
  type CoreOps,
  type DaemonEvent,
  type ResyncEvent,
  type SubscribeResult,
  type ErrorCode,
  type EventFrame,
  type ExportArgs,
  type ExportResult,
  type HelloResult,
  type Response,
  type SubscribeArgs,
  type WireError,
} from './protocol.ts';

/** Codes the client itself raises, on top of the daemon's ERROR_CODES. */
export type ClientErrorCode = 'unreachable' | 'disconnected' | 'aborted';

/** An error from the daemon (its code, message and details), or from the client itself. */
export class IsgClientError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: IsgClientError['code'], message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'IsgClientError';
    this.code = code;
    this.details = details;
  }

  static from(e: WireError): IsgClientError {
    return new IsgClientError(e.code, e.message, e.details);
  }
}

export type Endpoint = { socket: string } | { host: string; port: number; token: string };

export interface ReconnectOptions {
  /** First delay between attempts, ms (default 50); doubles up to `maxMs` (default 2000). */
  initialMs?: number;
  maxMs?: number;
  /** Default: keep trying. */
  maxAttempts?: number;
}

export interface ConnectOptions {
  /** Default per-request timeout, ms (0: none). Covers waiting for a reconnect too. */
  timeoutMs?: number;
  /**
   * Reconnect in the background after the connection drops (with backoff) and renew the
   * subscriptions on the new connection. Requests in flight fail with `disconnected` either
   * way; without this, a later request dials once and subscriptions end with `disconnected`.
   */
  reconnect?: boolean | ReconnectOptions;
  /** How long dialling may take, ms (default 5000). */
  connectTimeoutMs?: number;
  client?: string;
  /**
   * Resolve `connect` as soon as the connection is open and hello is written, without waiting
   * for hello's answer, so the first requests go out right behind it (one round trip less; the
   * CLI does this). Their answers are held until hello's has come. If hello is refused, the
   * requests sent meanwhile fail with its error instead, their answers unread, and `refusal`
   * holds it. Reconnections always wait for hello.
   */
  pipelineHello?: boolean;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The result, the graph generation it was computed at, and whether the first index was still running. */
export interface Answer<R> {
  result: R;
  gen: number;
  partial?: boolean;
}

interface Pending {
  op: string;
  socket: Socket;
  /** The hello of a connection: until it is answered, other answers on its socket are held. */
  handshake?: boolean;
  resolve(answer: Answer<unknown>): void;
  reject(err: Error): void;
  timer?: ReturnType<typeof setTimeout>;
  cleanup?: () => void;
}

interface Subscription {
  args: SubscribeArgs;
  queue: (DaemonEvent | ResyncEvent)[];
  /** The id of the last event it got (or of the daemon's latest when it subscribed): where a renewal resumes. */
  lastId?: string;
  waiters: (() => void)[];
  closed: boolean;
  /** Why it ended, thrown once by the iterator after the queued events. */
  error?: IsgClientError;
  /** The id the daemon knows it by on the current connection; unset until renewed there. */
  wireId?: number;
}

/** Errors that mean "no daemon to talk to right now", as opposed to an answer from one. */
const CONNECTION_CODES: ReadonlySet<string> = new Set<ClientErrorCode>(['unreachable', 'disconnected']);

export class IsgClient {
  private socket?: Socket;
  /** Hello (and the renewal of subscriptions) is done on `socket`: requests may go out. */
  private ready = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly subsByWireId = new Map<number, Subscription>();
  /** Subscribe requests not answered yet, by request id. */
  private readonly subscribing = new Map<number, Subscription>();
  private closedByUser = false;
  private corked = false;
  private connecting?: Promise<void>;
  /** The wait between two reconnect attempts, cut short by close(). */
  private backoff?: { timer: ReturnType<typeof setTimeout>; done: () => void };
  private hello?: HelloResult;
  private refused?: IsgClientError;
  /** A hello still unanswered, and the answers that came before it on its socket (pipelined). */
  private helloInFlight?: { socket: Socket; id: number; held: Response[] };
  private readonly endpoint: Endpoint;
  private readonly options: ConnectOptions;

  private constructor(endpoint: Endpoint, options: ConnectOptions) {
    this.endpoint = endpoint;
    this.options = options;
  }

  /** Connect and say hello (with the token on TCP). */
  static async connect(endpoint: Endpoint, options: ConnectOptions = {}): Promise<IsgClient> {
    const client = new IsgClient(endpoint, options);
    await client.reopen(1, options.pipelineHello === true);
    return client;
  }

  /** What the daemon said in the handshake: version, ops, limits. */
  get server(): HelloResult | undefined {
    return this.hello;
  }

  /** The daemon's refusal of the last hello, if it refused it (see ConnectOptions.pipelineHello). */
  get refusal(): IsgClientError | undefined {
    return this.refused;
  }

  get connected(): boolean {
    return this.ready && this.socket !== undefined && !this.socket.destroyed;
  }

  /** Any op, typed for the core ones. */
  async request<Op extends CoreOpName>(op: Op, args: CoreOps[Op][0], options?: RequestOptions): Promise<CoreOps[Op][1]>;
  async request(op: string, args?: unknown, options?: RequestOptions): Promise<unknown>;
  async request(op: string, args?: unknown, options: RequestOptions = {}): Promise<unknown> {
    return (await this.requestWithGen(op, args, options)).result;
  }

  /** Like `request`, also returning the generation the answer was computed at. */
  async requestWithGen(op: string, args?: unknown, options: RequestOptions = {}): Promise<Answer<unknown>> {
    if (this.closedByUser) throw new IsgClientError('disconnected', 'the client was closed');
    if (options.signal?.aborted) throw new IsgClientError('aborted', `${op} was aborted before it was sent`);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 0;
    if (this.connected) return this.send(op, args, { ...options, timeoutMs });
    // Dialling again spends part of the request's time. (Only then: the clock's millisecond
    // ticking between two reads made a request of 100 ms time out "within 99 ms".)
    const started = Date.now();
    await bounded(this.reopen(), op, timeoutMs, options.signal);
    const left = timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - started)) : 0;
    return this.send(op, args, { ...options, timeoutMs: left });
  }

  // One method per core op, so editors complete them and arguments are checked.
  lookup = (args: CoreOps['lookup'][0], o?: RequestOptions) => this.request('lookup', args, o);
  implements = (args: CoreOps['implements'][0], o?: RequestOptions) => this.request('implements', args, o);
  supertypes = (args: CoreOps['supertypes'][0], o?: RequestOptions) => this.request('supertypes', args, o);
  callers = (args: CoreOps['callers'][0], o?: RequestOptions) => this.request('callers', args, o);
  callees = (args: CoreOps['callees'][0], o?: RequestOptions) => this.request('callees', args, o);
  uses = (args: CoreOps['uses'][0], o?: RequestOptions) => this.request('uses', args, o);
  usedBy = (args: CoreOps['used-by'][0], o?: RequestOptions) => this.request('used-by', args, o);
  blastRadius = (args: CoreOps['blast-radius'][0], o?: RequestOptions) => this.request('blast-radius', args, o);
  cycles = (args: CoreOps['cycles'][0] = {}, o?: RequestOptions) => this.request('cycles', args, o);
  outline = (args: CoreOps['outline'][0], o?: RequestOptions) => this.request('outline', args, o);
  stats = (args: CoreOps['stats'][0] = {}, o?: RequestOptions) => this.request('stats', args, o);
  /** Token-budgeted context for an LLM (the bundled `context` plugin's `context/pack`). */
  context = (args: CoreOps['context/pack'][0] = {}, o?: RequestOptions) => this.request('context/pack', args, o);
  status = (o?: RequestOptions) => this.request('status', {}, o);
  batch = (requests: CoreOps['batch'][0]['requests'], o?: RequestOptions) => this.request('batch', { requests }, o);
  plugins = (o?: RequestOptions) => this.request('plugins', {}, o);
  loadPlugin = (args: CoreOps['plugins.load'][0], o?: RequestOptions) => this.request('plugins.load', args, o);
  unloadPlugin = (name: string, o?: RequestOptions) => this.request('plugins.unload', { name }, o);
  reloadPlugin = (name: string, o?: RequestOptions) => this.request('plugins.reload', { name }, o);
  shutdown = (o?: RequestOptions) => this.request('shutdown', {}, o);

  /**
   * The `export` op, all of it: a whole-graph JSON export arrives in pages, which are fetched
   * and joined here; a page from a newer generation starts the export over (three tries).
   * `timeoutMs` and `signal` apply to each page.
   */
  async exportGraph(args: ExportArgs = {}, o?: RequestOptions): Promise<ExportResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let page = await this.request('export', args, o);
      if (page.format !== 'json' || !page.next) return page;
      const { generation } = page;
      const entities = [...page.entities];
      const edges = [...page.edges];
      while (page.format === 'json' && page.next && page.generation === generation) {
        page = await this.request('export', { ...args, ...page.next }, o);
        if (page.format !== 'json' || page.generation !== generation) break;
        for (const e of page.entities) entities.push(e);
        for (const e of page.edges) edges.push(e);
      }
      if (page.format === 'json' && page.generation === generation && !page.next) return { ...page, entities, edges };
    }
    throw new IsgClientError('timeout', 'the graph changed during each of three exports (files are being edited); try again when they settle');
  }

  /**
   * Events as an async iterator. With `reconnect`, the subscription survives reconnects: it is
   * renewed on the new connection from the last event it got, so the events published meanwhile
   * come next, or, when the daemon no longer has them (it restarted, or too many happened), a
   * `resync` event says that whatever was derived from events should be read afresh. Without
   * `reconnect`, a lost connection ends it with `disconnected`, thrown by the iterator after the
   * events already received. `break` out of the loop, or call `return()`, to end it.
   */
  subscribe(args: SubscribeArgs = {}): AsyncIterableIterator<DaemonEvent | ResyncEvent> {
    const sub: Subscription = { args, queue: [], waiters: [], closed: false };
    this.subscriptions.add(sub);
    const started = (this.connected ? this.renew(sub) : this.reopen()).catch((err: unknown) => {
      const e = err instanceof IsgClientError ? err : new IsgClientError('internal', String(err));
      // A lost connection is the reconnect loop's business when there is one; anything else
      // (bad arguments, a daemon refusing) ends this subscription.
      if (!CONNECTION_CODES.has(e.code) || !this.options.reconnect) this.endSubscription(sub, e);
    });
    const end = async () => {
      this.endSubscription(sub);
      if (sub.wireId !== undefined && this.connected) {
        this.subsByWireId.delete(sub.wireId);
        await this.send('unsubscribe', { sub: sub.wireId }, {}).catch(() => undefined);
      }
    };
    const iterator: AsyncIterableIterator<DaemonEvent | ResyncEvent> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        await started;
        while (!sub.queue.length && !sub.closed) await new Promise<void>((r) => sub.waiters.push(r));
        if (sub.queue.length) return { value: sub.queue.shift()!, done: false };
        const error = sub.error;
        if (error) {
          sub.error = undefined;
          throw error;
        }
        return { value: undefined, done: true };
      },
      return: async () => {
        await end();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }

  close(): void {
    this.closedByUser = true;
    if (this.backoff) {
      clearTimeout(this.backoff.timer);
      this.backoff.done();
      this.backoff = undefined;
    }
    const socket = this.socket;
    this.detach();
    socket?.destroy();
    this.failPending(undefined, () => new IsgClientError('disconnected', 'the client was closed'));
    for (const sub of this.subscriptions) this.endSubscription(sub);
  }

  // ---- internals ------------------------------------------------------------------------

  private send(op: string, args: unknown, options: RequestOptions, socket = this.socket, onId?: (id: number) => void, handshake = false): Promise<Answer<unknown>> {
    if (!socket || socket.destroyed) return Promise.reject(new IsgClientError('disconnected', `not connected to the daemon; ${op} was not sent`));
    if (options.signal?.aborted) return Promise.reject(new IsgClientError('aborted', `${op} was aborted before it was sent`));
    const id = this.nextId++;
    onId?.(id);
    return new Promise<Answer<unknown>>((resolve, reject) => {
      const p: Pending = handshake ? { op, socket, resolve, reject, handshake } : { op, socket, resolve, reject };
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 0;
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.settle(id);
          reject(new IsgClientError('timeout', `${op} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = () => {
          this.settle(id);
          reject(new IsgClientError('aborted', `${op} was aborted`));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, p);
      // Requests issued in one tick (a pipelined burst) leave in one write.
      if (!this.corked) {
        this.corked = true;
        socket.cork();
        process.nextTick(() => {
          this.corked = false;
          socket.uncork();
        });
      }
      socket.write(encodeFrame(args === undefined ? { id, op } : { id, op, args }));
    });
  }

  /** Forget a pending request (answered, timed out, aborted, or its connection lost) and its timer and listener. */
  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.subscribing.delete(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.cleanup?.();
    return p;
  }

  /**
   * Dial, say hello, renew the subscriptions; on any failure the new socket is closed again.
   * `pipelined`: done once hello is written (see ConnectOptions.pipelineHello).
   */
  private async open(pipelined = false): Promise<void> {
    const socket = await dial(this.endpoint, this.options.connectTimeoutMs ?? 5000);
    if (this.closedByUser) {
      socket.destroy();
      throw new IsgClientError('disconnected', 'the client was closed');
    }
    this.attach(socket);
    this.refused = undefined;
    const token = 'token' in this.endpoint ? this.endpoint.token : undefined;
    const hello = { protocol: PROTOCOL_VERSION, client: this.options.client ?? 'isg-client', ...(token ? { token } : {}) };
    const answer = this.send('hello', hello, { timeoutMs: 10_000 }, socket, (id) => (this.helloInFlight = { socket, id, held: [] }), true).then((a) => (this.hello = a.result as HelloResult));
    if (pipelined) {
      // A refused hello fails the requests behind it (receive); one that never comes drops the connection.
      answer.catch(() => socket.destroy());
      this.ready = true;
      return;
    }
    try {
      await answer;
      // A subscription added while this runs is in the set before the loop ends (Set iteration
      // visits it), or is renewed by subscribe() itself once `ready` is set.
      for (const sub of this.subscriptions) if (!sub.closed && sub.wireId === undefined) await this.renew(sub, socket);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    if (socket.destroyed) throw new IsgClientError('disconnected', 'the connection to the daemon was lost during the handshake');
    this.ready = true;
  }

  /** (Re)connect with exponential backoff and jitter, or fail with the last error (`unreachable`). */
  private reopen(attempts?: number, pipelined = false): Promise<void> {
    this.connecting ??= (async () => {
      const r = this.options.reconnect;
      const cfg = typeof r === 'object' ? r : {};
      const maxAttempts = attempts ?? (r ? (cfg.maxAttempts ?? Infinity) : 1);
      let delay = cfg.initialMs ?? 50;
      let lastError: Error | undefined;
      try {
        for (let attempt = 0; attempt < maxAttempts && !this.closedByUser; attempt++) {
          try {
            await this.open(pipelined);
            return;
          } catch (err) {
            lastError = err as Error;
            if (!(err instanceof IsgClientError) || !CONNECTION_CODES.has(err.code)) throw err;
          }
          if (attempt + 1 < maxAttempts) await this.pause(delay * (0.8 + 0.4 * Math.random()));
          delay = Math.min(delay * 2, cfg.maxMs ?? 2000);
        }
        throw lastError ?? new IsgClientError('disconnected', 'the client was closed');
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.backoff = undefined;
        done();
      }, ms);
      this.backoff = { timer, done };
    });
  }

  private async renew(sub: Subscription, socket = this.socket): Promise<void> {
    const args = sub.lastId === undefined ? sub.args : { ...sub.args, since: sub.lastId };
    await this.send('subscribe', args, {}, socket, (id) => {
      sub.wireId = id;
      this.subsByWireId.set(id, sub);
      this.subscribing.set(id, sub);
    });
  }

  /**
   * A subscribe answer, taken as it arrives (not a microtask later): the events it carries go
   * before any event frame behind it in the same chunk.
   */
  private subscribed(sub: Subscription, result: SubscribeResult): void {
    if (sub.closed) return;
    if (result.gap !== undefined) sub.queue.push({ type: 'resync', reason: result.gap });
    for (const { event } of result.missed ?? []) sub.queue.push(event);
    if (result.lastId) sub.lastId = result.lastId;
    if (sub.queue.length) wake(sub);
  }

  private attach(socket: Socket): void {
    this.detach();
    this.socket = socket;
    const decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind === 'too-large') return void socket.destroy(new Error(`the daemon sent a frame of ${ev.length} bytes`));
        let frame: Response | EventFrame;
        try {
          frame = decodeBody(ev.body) as Response | EventFrame;
        } catch {
          // the stream is no longer aligned: drop the connection (requests fail as disconnected)
          return void socket.destroy();
        }
        this.receive(frame, socket);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.lost(socket));
  }

  /** The current connection is no longer usable for new requests. */
  private detach(): void {
    this.socket = undefined;
    this.ready = false;
    this.subsByWireId.clear();
    for (const sub of this.subscriptions) sub.wireId = undefined;
  }

  private lost(socket: Socket): void {
    if (this.socket === socket) this.detach();
    if (this.helloInFlight?.socket === socket) this.helloInFlight = undefined;
    this.failPending(socket, (op) => new IsgClientError('disconnected', `the connection to the daemon was lost before it answered ${op}`));
    if (this.closedByUser || this.socket || !this.subscriptions.size) return;
    if (this.options.reconnect) {
      void this.reopen().catch((err: IsgClientError) => {
        for (const sub of this.subscriptions) this.endSubscription(sub, err);
      });
    } else {
      for (const sub of this.subscriptions) this.endSubscription(sub, new IsgClientError('disconnected', 'the connection to the daemon was lost; the subscription ended (connect with {reconnect: true} to keep subscriptions across restarts)'));
    }
  }

  private receive(frame: Response | EventFrame, socket: Socket): void {
    if ('sub' in frame && 'event' in frame) {
      const sub = this.subsByWireId.get(frame.sub);
      if (sub && !sub.closed) {
        sub.queue.push(frame.event);
        sub.lastId = frame.id;
        wake(sub);
      }
      return;
    }
    const hello = this.helloInFlight;
    if (hello?.socket === socket && frame.id !== hello.id && frame.id !== 0) {
      hello.held.push(frame);
      return;
    }
    const subscribing = this.subscribing.get(frame.id);
    if (subscribing && frame.ok) this.subscribed(subscribing, frame.result as SubscribeResult);
    const p = this.settle(frame.id);
    if (!p) {
      // id 0: the daemon could not read a request at all (it closes the connection next)
      if (!frame.ok && frame.id === 0) this.failPending(this.socket, () => IsgClientError.from(frame.error));
      return;
    }
    if (p.handshake && hello?.id === frame.id) this.helloInFlight = undefined;
    if (frame.ok) {
      p.resolve(frame.partial ? { result: frame.result, gen: frame.gen, partial: true } : { result: frame.result, gen: frame.gen });
      if (p.handshake && hello) for (const held of hello.held) this.receive(held, socket);
    } else if (p.handshake) {
      // Requests pipelined behind a refused hello were not meant for this daemon: they fail with
      // the refusal, and their answers (held, or still to come) are never taken for good ones.
      const refusal = IsgClientError.from(frame.error);
      this.refused = refusal;
      p.reject(refusal);
      this.failPending(p.socket, () => refusal);
      p.socket.destroy();
    } else p.reject(IsgClientError.from(frame.error));
  }

  /** Fail the requests sent on `socket` (all of them when undefined). */
  private failPending(socket: Socket | undefined, error: (op: string) => Error): void {
    for (const [id, p] of this.pending) {
      if (socket && p.socket !== socket) continue;
      this.settle(id);
      p.reject(error(p.op));
    }
  }

  private endSubscription(sub: Subscription, error?: IsgClientError): void {
    if (sub.closed) return;
    sub.closed = true;
    if (error) sub.error = error;
    this.subscriptions.delete(sub);
    wake(sub);
  }
}

export function connect(endpoint: Endpoint, options?: ConnectOptions): Promise<IsgClient> {
  return IsgClient.connect(endpoint, options);
}

function wake(sub: Subscription): void {
  for (const w of sub.waiters.splice(0)) w();
}

/** `p`, or a timeout or abort error if those come first. */
function bounded<T>(p: Promise<T>, op: string, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  if (timeoutMs <= 0 && !signal) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = timeoutMs > 0 ? setTimeout(() => finish(() => reject(new IsgClientError('timeout', `${op} got no answer within ${timeoutMs} ms (no connection to the daemon)`))), timeoutMs) : undefined;
    const onAbort = () => finish(() => reject(new IsgClientError('aborted', `${op} was aborted while waiting for a connection to the daemon`)));
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (then: () => void) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      then();
    };
    p.then(
      (v) => finish(() => resolve(v)),
      (err) => finish(() => reject(err)),
    );
  });
}

function dial(endpoint: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = 'socket' in endpoint ? netConnect(endpoint.socket) : netConnect(endpoint.port, endpoint.host);
    const where = 'socket' in endpoint ? endpoint.socket : `${endpoint.host}:${endpoint.port}`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new IsgClientError('unreachable', `no daemon answered at ${where} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new IsgClientError('unreachable', `no daemon at ${where} (${err.code ?? err.message}); start one with \`isg serve\``));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay?.(true);
      resolve(socket);
    });
  });
}
