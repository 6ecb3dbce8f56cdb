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
  type ErrorCode,
  type EventFrame,
  type HelloResult,
  type Response,
  type SubscribeArgs,
  type WireError,
} from './protocol.ts';

/** An error from the daemon (its code and message), or from the client itself. */
export class IsgClientError extends Error {
  readonly code: ErrorCode | 'unreachable' | 'disconnected' | 'aborted';
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

export interface ConnectOptions {
  /** Default per-request timeout, ms (0: none). */
  timeoutMs?: number;
  /** Reconnect after the connection drops; requests in flight fail with `disconnected`. */
  reconnect?: boolean | { initialMs?: number; maxMs?: number; maxAttempts?: number };
  /** How long the first connection may take, ms. */
  connectTimeoutMs?: number;
  client?: string;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The result and the graph generation it was computed at. */
export interface Answer<R> {
  result: R;
  gen: number;
}

interface Pending {
  resolve(answer: Answer<unknown>): void;
  reject(err: Error): void;
  timer?: ReturnType<typeof setTimeout>;
  cleanup?: () => void;
}

interface Subscription {
  args: SubscribeArgs;
  queue: DaemonEvent[];
  wake?: () => void;
  closed: boolean;
  /** The id the daemon knows it by on the current connection. */
  wireId?: number;
}

export class IsgClient {
  private socket?: Socket;
  private decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly subsByWireId = new Map<number, Subscription>();
  private closedByUser = false;
  private corked = false;
  private connecting?: Promise<void>;
  private hello?: HelloResult;
  private readonly endpoint: Endpoint;
  private readonly options: ConnectOptions;

  private constructor(endpoint: Endpoint, options: ConnectOptions) {
    this.endpoint = endpoint;
    this.options = options;
  }

  /** Connect and say hello (with the token on TCP). */
  static async connect(endpoint: Endpoint, options: ConnectOptions = {}): Promise<IsgClient> {
    const client = new IsgClient(endpoint, options);
    await client.open();
    return client;
  }

  /** What the daemon said in the handshake: version, ops, limits. */
  get server(): HelloResult | undefined {
    return this.hello;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
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
    if (!this.connected) await this.reopen();
    return this.send(op, args, options);
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
  status = (o?: RequestOptions) => this.request('status', {}, o);
  batch = (requests: CoreOps['batch'][0]['requests'], o?: RequestOptions) => this.request('batch', { requests }, o);
  plugins = (o?: RequestOptions) => this.request('plugins', {}, o);
  loadPlugin = (args: CoreOps['plugins.load'][0], o?: RequestOptions) => this.request('plugins.load', args, o);
  unloadPlugin = (name: string, o?: RequestOptions) => this.request('plugins.unload', { name }, o);
  reloadPlugin = (name: string, o?: RequestOptions) => this.request('plugins.reload', { name }, o);
  shutdown = (o?: RequestOptions) => this.request('shutdown', {}, o);

  /**
   * Events as an async iterator. The subscription survives reconnects (it is renewed on the
   * new connection); `break` out of the loop, or call `return()`, to end it.
   */
  subscribe(args: SubscribeArgs = {}): AsyncIterableIterator<DaemonEvent> {
    const sub: Subscription = { args, queue: [], closed: false };
    this.subscriptions.add(sub);
    const started = this.connected ? this.renew(sub) : Promise.resolve();
    const end = async () => {
      sub.closed = true;
      sub.wake?.();
      this.subscriptions.delete(sub);
      if (sub.wireId !== undefined && this.connected) {
        this.subsByWireId.delete(sub.wireId);
        await this.send('unsubscribe', { sub: sub.wireId }, {}).catch(() => undefined);
      }
    };
    const iterator: AsyncIterableIterator<DaemonEvent> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        await started;
        while (!sub.queue.length && !sub.closed) await new Promise<void>((r) => (sub.wake = r));
        if (sub.queue.length) return { value: sub.queue.shift()!, done: false };
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
    this.socket?.destroy();
    this.failAll(new IsgClientError('disconnected', 'the client was closed'));
    for (const sub of this.subscriptions) {
      sub.closed = true;
      sub.wake?.();
    }
  }

  // ---- internals ------------------------------------------------------------------------

  private send(op: string, args: unknown, options: RequestOptions): Promise<Answer<unknown>> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new IsgClientError('disconnected', 'not connected to the daemon'));
    if (options.signal?.aborted) return Promise.reject(new IsgClientError('aborted', `${op} was aborted before it was sent`));
    const id = this.nextId++;
    return new Promise<Answer<unknown>>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 0;
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          p.cleanup?.();
          reject(new IsgClientError('timeout', `${op} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      if (options.signal) {
        const onAbort = () => {
          this.pending.delete(id);
          if (p.timer) clearTimeout(p.timer);
          reject(new IsgClientError('aborted', `${op} was aborted`));
        };
        options.signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => options.signal!.removeEventListener('abort', onAbort);
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

  private async open(): Promise<void> {
    const socket = await dial(this.endpoint, this.options.connectTimeoutMs ?? 5000);
    this.attach(socket);
    const token = 'token' in this.endpoint ? this.endpoint.token : undefined;
    this.hello = (await this.send('hello', { protocol: PROTOCOL_VERSION, client: this.options.client ?? 'isg-client', ...(token ? { token } : {}) }, { timeoutMs: 10_000 })).result as HelloResult;
    for (const sub of this.subscriptions) await this.renew(sub);
  }

  /** Reconnect with exponential backoff, or fail with `unreachable`. */
  private reopen(): Promise<void> {
    this.connecting ??= (async () => {
      const r = this.options.reconnect;
      const cfg = typeof r === 'object' ? r : {};
      const maxAttempts = r ? (cfg.maxAttempts ?? Infinity) : 1;
      let delay = cfg.initialMs ?? 50;
      let lastError: Error | undefined;
      try {
        for (let attempt = 0; attempt < maxAttempts && !this.closedByUser; attempt++) {
          try {
            await this.open();
            return;
          } catch (err) {
            lastError = err as Error;
            if (err instanceof IsgClientError && err.code !== 'unreachable' && err.code !== 'disconnected') throw err;
          }
          if (attempt + 1 < maxAttempts) await new Promise((res) => setTimeout(res, delay));
          delay = Math.min(delay * 2, cfg.maxMs ?? 2000);
        }
        throw lastError ?? new IsgClientError('disconnected', 'the client was closed');
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private async renew(sub: Subscription): Promise<void> {
    const id = this.nextId; // the id `send` is about to use
    sub.wireId = id;
    this.subsByWireId.set(id, sub);
    await this.send('subscribe', sub.args, {});
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    this.decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.decoder.push(chunk)) {
        if (ev.kind === 'too-large') return void socket.destroy(new Error(`the daemon sent a frame of ${ev.length} bytes`));
        this.receive(decodeBody(ev.body) as Response | EventFrame);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.subsByWireId.clear();
      this.failAll(new IsgClientError('disconnected', 'the connection to the daemon was lost'));
      if (this.options.reconnect && !this.closedByUser && this.subscriptions.size) void this.reopen().catch(() => this.endSubscriptions());
    });
  }

  private receive(frame: Response | EventFrame): void {
    if ('sub' in frame && 'event' in frame) {
      const sub = this.subsByWireId.get(frame.sub);
      if (sub && !sub.closed) {
        sub.queue.push(frame.event);
        sub.wake?.();
      }
      return;
    }
    const p = this.pending.get(frame.id);
    if (!p) {
      // id 0: the daemon could not read a request at all (it closes the connection next)
      if (!frame.ok && frame.id === 0) this.failAll(IsgClientError.from(frame.error));
      return;
    }
    this.pending.delete(frame.id);
    if (p.timer) clearTimeout(p.timer);
    p.cleanup?.();
    if (frame.ok) p.resolve({ result: frame.result, gen: frame.gen });
    else p.reject(IsgClientError.from(frame.error));
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.cleanup?.();
      p.reject(err);
    }
  }

  private endSubscriptions(): void {
    for (const sub of this.subscriptions) {
      sub.closed = true;
      sub.wake?.();
    }
  }
}

export function connect(endpoint: Endpoint, options?: ConnectOptions): Promise<IsgClient> {
  return IsgClient.connect(endpoint, options);
}

function dial(endpoint: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = 'socket' in endpoint ? netConnect(endpoint.socket) : netConnect(endpoint.port, endpoint.host);
    const where = 'socket' in endpoint ? endpoint.socket : `${endpoint.host}:${endpoint.port}`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new IsgClientError('unreachable', `no daemon answered at ${where} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay?.(true);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new IsgClientError('unreachable', `no daemon at ${where} (${err.code ?? err.message}); start one with \`isg serve\``));
    });
  });
}
