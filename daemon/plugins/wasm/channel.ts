// A call channel between the daemon's thread and one plugin worker: a control block
// of Int32 slots and a data area on one growable SharedArrayBuffer, driven with Atomics.wait and
// Atomics.notify (a round trip costs a few microseconds, about half of postMessage's). The
// caller blocks in Atomics.wait for at most the plugin's hard ceiling (queries), or waits with
// Atomics.waitAsync (update hooks, so queries go on meanwhile); the ceiling is of the worker's
// CPU time where the caller can read the worker's clock, with a wall-clock backstop (`timeLeft`),
// else of wall time. While it waits, the worker may
// ask it for something only the daemon has (source text, the graph snapshot) and wait for the answer. A worker may
// host several plugins (tenants): every request names its tenant, and requests of all tenants
// go one at a time.
//
//   caller                          worker
//   REQUEST ─────────────────────▶  runs the component
//           ◀───────────────────── HOST_CALL   (zero or more times)
//   HOST_REPLY ──────────────────▶
//           ◀───────────────────── RESPONSE
//   IDLE
import { DEFAULT_MAX_FRAME_BYTES } from '../../../client/protocol.ts';

const STATE = 0;
const KIND = 1;
const LENGTH = 2;
const STATUS = 3;
/** An answer's payload length: its data is the payload, then the tail. */
const PAYLOAD_LENGTH = 4;
const TENANT = 5;
/** Byte offsets of Float64 slots: the component's linear memory after the last call; */
const MEMORY_AT = 24;
/** the generation the daemon answers a request at (-1 when the tenant reads no graph); */
const GENERATION_AT = 32;
/** the worker's own time for the last request, ms: from the request to the answer, less its host calls; */
const SPENT_AT = 40;
/** the worker's CPU clock when it took the current request up (NaN until it has). */
const STARTED_AT = 56;
/** Int32 slot: the id by which the daemon's thread reads the worker thread's CPU clock (0: none). */
const CLOCK_ID = 12;
const HEADER_BYTES = 64;

/**
 * A call past its ceiling whose worker has had less CPU time than the ceiling was starved by the
 * machine, not running away: it may go on until this many times its ceiling (wall time) has
 * passed. (At 1-minute load ~4 on 2 cores a worker waited 50 ms for a core.)
 */
const STARVED_CEILINGS = 4;

const State = { Idle: 0, Request: 1, HostCall: 2, HostReply: 3, Response: 4 } as const;

export const Kind = { Execute: 1, Update: 2, Stop: 3, BeforeQuery: 4, AfterQuery: 5, AddTenant: 6, DropTenant: 7 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const Status = { Ok: 0, Error: 1 } as const;
export type Status = (typeof Status)[keyof typeof Status];

/** Largest request or answer: the wire cannot carry more in one frame anyway. */
export const MAX_DATA_BYTES = DEFAULT_MAX_FRAME_BYTES;
const INITIAL_DATA_BYTES = 256 * 1024;
/**
 * A blocking call's answer up to this size is copied into one buffer of the caller's, reused
 * call after call; a larger one into bytes of its own, so that one huge answer does not stay
 * allocated for good.
 */
const REUSED_ANSWER_BYTES = 1024 * 1024;
const EMPTY = new Uint8Array(0);

export function createChannelBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + INITIAL_DATA_BYTES, { maxByteLength: HEADER_BYTES + MAX_DATA_BYTES });
}

/** What both ends share: views of the buffer, the data area grown on demand. */
class ChannelViews {
  protected readonly ctrl: Int32Array;
  protected readonly memory: Float64Array;
  protected readonly generation: Float64Array;
  protected readonly spent: Float64Array;
  protected readonly started: Float64Array;
  protected readonly sab: SharedArrayBuffer;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.ctrl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.memory = new Float64Array(sab, MEMORY_AT, 1);
    this.generation = new Float64Array(sab, GENERATION_AT, 1);
    this.spent = new Float64Array(sab, SPENT_AT, 1);
    this.started = new Float64Array(sab, STARTED_AT, 1);
  }

  /** The data area, at least `bytes` long (undefined when that is more than MAX_DATA_BYTES). */
  protected data(bytes = 0): Uint8Array | undefined {
    if (bytes > MAX_DATA_BYTES) return undefined;
    if (HEADER_BYTES + bytes > this.sab.byteLength) this.sab.grow(Math.min(HEADER_BYTES + MAX_DATA_BYTES, Math.max(HEADER_BYTES + bytes, this.sab.byteLength * 2)));
    return new Uint8Array(this.sab, HEADER_BYTES);
  }

  /** Write the parts one after another at the start of the data area. */
  protected write(...parts: Uint8Array[]): boolean {
    this.overwriting();
    let length = 0;
    for (const p of parts) length += p.length;
    const d = this.data(length);
    if (!d) return false;
    let at = 0;
    for (const p of parts) {
      d.set(p, at);
      at += p.length;
    }
    this.ctrl[LENGTH] = length;
    return true;
  }

  /** The data area is about to be written over. */
  protected overwriting(): void {}

  /** The data area's first LENGTH bytes, copied out (the next call overwrites them). */
  protected read(): Uint8Array {
    return this.view().slice();
  }

  /** The data area's first LENGTH bytes in place. */
  protected view(): Uint8Array {
    return new Uint8Array(this.sab, HEADER_BYTES, this.ctrl[LENGTH]!);
  }
}

/**
 * A worker's answer. Its payload and tail are, for a blocking `call`, views of a buffer the
 * channel reuses (up to REUSED_ANSWER_BYTES), to be read before anything else is sent (decoded,
 * never kept: the next call writes over them); for `callAsync`, bytes of their own (other
 * requests may go first).
 */
export interface Answer {
  status: Status;
  payload: Uint8Array;
  /** Extra bytes after the payload (the worker's log lines), empty when there are none. */
  tail: Uint8Array;
  memoryBytes: number;
  /** The tenant the worker answered for. */
  tenant: number;
  /** The worker's own time for the request, ms: its waits for host calls left out. */
  spentMs: number;
}

/** A request sent or to be sent without blocking the daemon's thread (an update hook). */
interface Pending {
  tenant: number;
  kind: Kind;
  parts: Uint8Array[];
  generation: number;
  timeoutMs: number;
  serveHost: (request: Uint8Array) => Uint8Array;
  settle(answer: Answer | undefined): void;
  /** When it was sent (performance.now()). */
  sentAt?: number;
}

/** The daemon's end. */
export class CallerChannel extends ChannelViews {
  /** The async request the worker is running, if any. */
  private inFlight?: Pending;
  /** Async requests not sent yet, in order: they go one at a time. */
  private readonly waiting: Pending[] = [];
  /** Set when a request ran past its deadline: the worker may be running still, so nothing more is sent. */
  private stuck = false;
  /** The tenant whose request ran past its deadline. */
  private stuckTenant: number | undefined;
  /** Resolved whenever the async requests are all done. */
  private drained: (() => void)[] = [];
  /** The daemon's time serving the current request's host calls: the plugin's, like its CPU time. */
  private servedMs = 0;
  /** Reads a thread's CPU clock by its id (util/thread-clock.ts), where the addon is loaded. */
  private readonly cpuMsOf: ((clockId: number) => number | undefined) | undefined;

  constructor(sab: SharedArrayBuffer, cpuMsOf?: (clockId: number) => number | undefined) {
    super(sab);
    this.cpuMsOf = cpuMsOf;
  }

  /**
   * Where blocking calls' answers are copied, call after call: no allocation per call (a 64 KiB
   * answer's ArrayBuffer is external memory, whose growth drives GCs), and not shared memory, from
   * a view of which msgpackr decodes strings several times slower.
   */
  private reused = new Uint8Array(0);

  /**
   * Send a request and block until the answer, serving host calls meanwhile. Undefined when no
   * answer came within `timeoutMs`: the worker must then be stopped, it may be running still.
   * Async requests made before (`callAsync`) are finished first, each within its own deadline,
   * so a query right after an update sees it.
   */
  call(tenant: number, kind: Kind, parts: () => Uint8Array[], generation: number, timeoutMs: number, serveHost: (request: Uint8Array) => Uint8Array): Answer | undefined {
    while (this.inFlight) {
      const pending = this.inFlight;
      this.finish(pending, this.pumpBlocking(pending.sentAt!, pending.timeoutMs, pending.serveHost, true));
    }
    if (this.stuck) return undefined;
    // built only now, once the host calls of requests before it are served: they may be views of
    // a scratch buffer that packing those calls' answers would write over
    this.send(tenant, kind, parts(), generation);
    return this.expire(tenant, this.pumpBlocking(performance.now(), timeoutMs, serveHost, false));
  }

  /**
   * Async requests of a tenant other than `tenant` are running or waiting: a blocking call
   * would hold the daemon's thread for another plugin's work, so it should wait for `idle`.
   */
  busyFor(tenant: number): boolean {
    return (this.inFlight !== undefined && this.inFlight.tenant !== tenant) || this.waiting.some((p) => p.tenant !== tenant);
  }

  /** Resolves when no async request is running or waiting (at once when none is). */
  idle(): Promise<void> {
    if (!this.inFlight) return Promise.resolve();
    return new Promise((resolveIdle) => this.drained.push(resolveIdle));
  }

  /** The tenant whose request ran past its deadline, if that is why the channel is stuck. */
  get culprit(): number | undefined {
    return this.stuckTenant;
  }

  /**
   * The same without blocking the daemon's thread: it waits with Atomics.waitAsync, so queries
   * go on being answered while a plugin digests an update. Requests made this way run one at a
   * time, in order; one is sent at once when the channel is free.
   */
  callAsync(tenant: number, kind: Kind, parts: Uint8Array[], generation: number, timeoutMs: number, serveHost: (request: Uint8Array) => Uint8Array): Promise<Answer | undefined> {
    return new Promise((settle) => {
      const pending: Pending = { tenant, kind, parts, generation, timeoutMs, serveHost, settle };
      if (this.inFlight) this.waiting.push(pending);
      else this.start(pending);
    });
  }

  private start(pending: Pending): void {
    if (this.stuck) {
      pending.settle(undefined);
      return this.finishQueue();
    }
    this.send(pending.tenant, pending.kind, pending.parts, pending.generation);
    pending.sentAt = performance.now();
    this.inFlight = pending;
    void this.pumpAsync(pending);
  }

  /** Settle the request in flight and send the next one at once (not a microtask later). */
  private finish(pending: Pending, answer: Answer | undefined): void {
    this.inFlight = undefined;
    pending.settle(this.expire(pending.tenant, answer));
    this.finishQueue();
  }

  private finishQueue(): void {
    const next = this.waiting.shift();
    if (next) return this.start(next);
    for (const resolveIdle of this.drained.splice(0)) resolveIdle();
  }

  private expire(tenant: number, answer: Answer | undefined): Answer | undefined {
    if (!answer && !this.stuck) {
      this.stuck = true;
      this.stuckTenant = tenant;
    }
    return answer;
  }

  private send(tenant: number, kind: Kind, parts: Uint8Array[], generation: number): void {
    if (!this.write(...parts)) throw new RangeError(`a request larger than ${MAX_DATA_BYTES} bytes`);
    this.ctrl[KIND] = kind;
    this.generation[0] = generation;
    this.ctrl[TENANT] = tenant;
    this.started[0] = NaN;
    this.servedMs = 0;
    Atomics.store(this.ctrl, STATE, State.Request);
    Atomics.notify(this.ctrl, STATE);
  }

  /**
   * How much longer a request sent at `sentAt` may run, ms (0: it is past its ceiling). Its
   * ceiling is `timeoutMs` of the worker's CPU time and the daemon's serving its host calls, where
   * the daemon can read the worker's clock: a worker that had less than that was starved by the
   * machine, and may go on until STARVED_CEILINGS times the ceiling of wall time; elsewhere
   * `timeoutMs` of wall time.
   */
  private timeLeft(sentAt: number, timeoutMs: number): number {
    const now = performance.now();
    const wallLeft = sentAt + timeoutMs - now;
    if (wallLeft > 0) return wallLeft;
    const clockId = this.ctrl[CLOCK_ID]!;
    const cpu = clockId && this.cpuMsOf ? this.cpuMsOf(clockId) : undefined;
    if (cpu === undefined) return 0;
    const started = this.started[0]!;
    // not taken up yet: all of its time so far was waiting for a core
    const used = (Number.isNaN(started) ? 0 : cpu - started) + this.servedMs;
    const backstopLeft = sentAt + STARVED_CEILINGS * timeoutMs - now;
    return used < timeoutMs && backstopLeft > 0 ? Math.min(timeoutMs - used, backstopLeft) : 0;
  }

  private pumpBlocking(sentAt: number, timeoutMs: number, serveHost: (request: Uint8Array) => Uint8Array, copy: boolean): Answer | undefined {
    for (;;) {
      const state = Atomics.load(this.ctrl, STATE);
      if (state === State.Response) return this.take(copy);
      if (state === State.HostCall) {
        this.serve(serveHost);
        continue;
      }
      const left = this.timeLeft(sentAt, timeoutMs);
      if (left <= 0) return undefined;
      Atomics.wait(this.ctrl, STATE, state, left);
    }
  }

  private async pumpAsync(mine: Pending): Promise<void> {
    // A blocking `call` may take over the request (and finish it) between two waits.
    while (this.inFlight === mine) {
      const state = Atomics.load(this.ctrl, STATE);
      if (state === State.Response) return this.finish(mine, this.take(true));
      if (state === State.HostCall) {
        this.serve(mine.serveHost);
        continue;
      }
      const left = this.timeLeft(mine.sentAt!, mine.timeoutMs);
      if (left <= 0) return this.finish(mine, undefined);
      const w = Atomics.waitAsync(this.ctrl, STATE, state, left);
      if (w.async) await w.value;
    }
  }

  private serve(serveHost: (request: Uint8Array) => Uint8Array): void {
    const t0 = performance.now();
    const reply = serveHost(this.read());
    this.servedMs += performance.now() - t0;
    if (!this.write(reply)) this.write(new Uint8Array(0));
    Atomics.store(this.ctrl, STATE, State.HostReply);
    Atomics.notify(this.ctrl, STATE);
  }

  /** The answer in the reused buffer, or (`copy`) in bytes of its own: Answer says when each is. */
  private take(copy: boolean): Answer {
    const all = copy ? this.read() : this.readReused();
    const split = Math.min(this.ctrl[PAYLOAD_LENGTH]!, all.length);
    const answer = { status: this.ctrl[STATUS] as Status, payload: all.subarray(0, split), tail: all.subarray(split), memoryBytes: this.memory[0]!, tenant: this.ctrl[TENANT]!, spentMs: this.spent[0]! };
    Atomics.store(this.ctrl, STATE, State.Idle);
    return answer;
  }

  private readReused(): Uint8Array {
    const length = this.ctrl[LENGTH]!;
    if (length > REUSED_ANSWER_BYTES) return this.read();
    if (length > this.reused.length) this.reused = new Uint8Array(Math.min(REUSED_ANSWER_BYTES, Math.max(length, 2 * this.reused.length)));
    const all = this.reused.subarray(0, length);
    all.set(this.view());
    return all;
  }

  /** Ask the worker to leave its loop, without waiting for it; requests not answered yet get no answer. */
  stop(): void {
    this.stuck = true;
    const pending = [...(this.inFlight ? [this.inFlight] : []), ...this.waiting.splice(0)];
    this.inFlight = undefined;
    for (const p of pending) p.settle(undefined);
    for (const resolveIdle of this.drained.splice(0)) resolveIdle();
    this.ctrl[KIND] = Kind.Stop;
    Atomics.store(this.ctrl, STATE, State.Request);
    Atomics.notify(this.ctrl, STATE);
  }

  get memoryBytes(): number {
    return this.memory[0]!;
  }
}

export interface Request {
  tenant: number;
  kind: Kind;
  /** The generation the daemon answers at (-1 when the tenant reads no graph): a snapshot of another one is stale. */
  generation: number;
  payload: Uint8Array;
}

/** The worker's end. */
export class WorkerChannel extends ChannelViews {
  /** An answer the component lifted straight into the data area (`stage`), and its bytes saved when something wrote over them. */
  private staged: { view: Uint8Array; saved?: Uint8Array } | undefined;

  /** Let the daemon's thread read this thread's CPU clock by `clockId` (util/thread-clock.ts), to judge a call at its ceiling. */
  announceClock(clockId: number): void {
    this.ctrl[CLOCK_ID] = clockId;
  }

  /** The current request is taken up, at `cpuMs` of this thread's clock (announced or not). */
  takenUp(cpuMs: number): void {
    this.started[0] = cpuMs;
  }

  /**
   * Block until the next request. Its payload is in place: valid until this end writes (a host
   * call, a staged answer, the answer).
   */
  next(): Request {
    this.staged = undefined;
    for (;;) {
      const state = Atomics.load(this.ctrl, STATE);
      if (state === State.Request) return { tenant: this.ctrl[TENANT]!, kind: this.ctrl[KIND] as Kind, generation: this.generation[0]!, payload: this.view() };
      Atomics.wait(this.ctrl, STATE, state);
    }
  }

  /**
   * The component's answer, copied from its linear memory straight into the data area, where
   * `answer` finds it in place: one copy, where lifting it (jco slices it out of linear memory)
   * and writing it here were two and a 64 KiB ArrayBuffer per call, whose external memory drives
   * the worker's GCs. Valid until `answer`: a host call made before it (a component may call the
   * host after lifting its answer, from its post-return) saves the bytes first. An answer larger
   * than the data area can be is copied out instead (and refused by `answer`).
   */
  stage(bytes: Uint8Array): Uint8Array {
    const d = this.data(bytes.length);
    if (!d) return bytes.slice();
    this.overwriting();
    d.set(bytes);
    this.staged = { view: d.subarray(0, bytes.length) };
    return this.staged.view;
  }

  protected override overwriting(): void {
    if (this.staged && !this.staged.saved) this.staged.saved = this.staged.view.slice();
  }

  /** Write `tail` after the first `at` bytes of the data area, which stay as they are. */
  private append(at: number, tail: Uint8Array): boolean {
    const d = this.data(at + tail.length);
    if (!d) return false;
    d.set(tail, at);
    this.ctrl[LENGTH] = at + tail.length;
    return true;
  }

  /** Ask the daemon's thread (blocked in `call`) and wait for its reply. */
  hostCall(...request: Uint8Array[]): Uint8Array {
    if (!this.write(...request)) throw new RangeError(`a host call larger than ${MAX_DATA_BYTES} bytes`);
    Atomics.store(this.ctrl, STATE, State.HostCall);
    Atomics.notify(this.ctrl, STATE);
    while (Atomics.load(this.ctrl, STATE) === State.HostCall) Atomics.wait(this.ctrl, STATE, State.HostCall);
    return this.read();
  }

  /**
   * Answer the current request, for `tenant`, with the worker's own time for it (`spentMs`); false
   * (and nothing sent) when the answer is larger than MAX_DATA_BYTES.
   */
  answer(tenant: number, status: Status, payload: Uint8Array, tail: Uint8Array | undefined, memoryBytes: number, spentMs = 0): boolean {
    const staged = this.staged;
    this.staged = undefined;
    const lifted = staged !== undefined && payload === staged.view;
    const sent = lifted && !staged.saved ? this.append(payload.length, tail ?? EMPTY) : this.write(lifted ? staged.saved! : payload, tail ?? EMPTY);
    if (!sent) return false;
    this.ctrl[PAYLOAD_LENGTH] = payload.length;
    this.ctrl[STATUS] = status;
    this.memory[0] = memoryBytes;
    this.spent[0] = spentMs;
    this.ctrl[TENANT] = tenant;
    Atomics.store(this.ctrl, STATE, State.Response);
    Atomics.notify(this.ctrl, STATE);
    return true;
  }
}

// ---- what requests carry ---------------------------------------------------------------
// Payloads of ops and hooks pass through as msgpack bytes; everything else the two ends tell
// each other (updates, errors, log lines) is small JSON, so the worker loads no msgpack codec (a
// worker's start-up time is mostly loading modules).

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const opBytes = new Map<string, Uint8Array>();

/** An execute request: [u32 op length][op, UTF-8][msgpack args]. */
export function executeParts(op: string, args: Uint8Array): Uint8Array[] {
  let head = opBytes.get(op);
  if (!head) {
    const name = encoder.encode(op);
    head = new Uint8Array(4 + name.length);
    new DataView(head.buffer).setUint32(0, name.length, true);
    head.set(name, 4);
    if (opBytes.size < 1024) opBytes.set(op, head);
  }
  return [head, args];
}

export function parseExecute(payload: Uint8Array): { op: string; args: Uint8Array } {
  const n = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
  return { op: decoder.decode(payload.subarray(4, 4 + n)), args: payload.subarray(4 + n) };
}

/**
 * A middleware hook's request: the query's generation as an f64, then its op and msgpack args as
 * in an execute request; afterQuery's adds the msgpack answer, its length first.
 */
export function queryHookParts(generation: number, op: string, args: Uint8Array, answer?: Uint8Array): Uint8Array[] {
  const head = new Uint8Array(answer ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setFloat64(0, generation, true);
  if (!answer) return [head, ...executeParts(op, args)];
  view.setUint32(8, answer.length, true);
  return [head, answer, ...executeParts(op, args)];
}

export function parseQueryHook(payload: Uint8Array, withAnswer: boolean): { generation: number; op: string; args: Uint8Array; answer: Uint8Array } {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const generation = view.getFloat64(0, true);
  const answerLength = withAnswer ? view.getUint32(8, true) : 0;
  const at = withAnswer ? 12 : 8;
  return { generation, answer: payload.subarray(at, at + answerLength), ...parseExecute(payload.subarray(at + answerLength)) };
}

/** beforeQuery's answer: none (let the query run) or some msgpack bytes, told apart by a first byte. */
export function optionalBytes(value: Uint8Array | undefined): Uint8Array {
  if (!value) return new Uint8Array([0]);
  const out = new Uint8Array(1 + value.length);
  out[0] = 1;
  out.set(value, 1);
  return out;
}

export function parseOptionalBytes(payload: Uint8Array): Uint8Array | undefined {
  return payload[0] === 1 ? payload.subarray(1) : undefined;
}

/** What a worker asks of the daemon's thread during a call (a host call): a first byte, then its payload. */
export const HostCall = {
  /** Source text: the file's path, UTF-8. */
  Read: 1,
  /** Another plugin's op (host.call): as an execute request. */
  Call: 2,
  /**
   * The graph snapshot of the generation the daemon answers at, asked on a request's first graph
   * read (snapshots are built on demand): the tenant asking (u32), then the generation it has (f64,
   * -1 for none). The reply is [1] when the current one was posted to the worker's snapshot port
   * just before, [0] when the tenant has it already.
   */
  Snapshot: 3,
} as const;

export function hostCallParts(kind: (typeof HostCall)[keyof typeof HostCall], ...payload: Uint8Array[]): Uint8Array[] {
  return [new Uint8Array([kind]), ...payload];
}

/** A host call's reply: [0][the answer's bytes], or [1][JSON { code, message }]. */
export function hostReply(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + value.length);
  out.set(value, 1);
  return out;
}

export function hostErrorReply(code: string, message: string): Uint8Array {
  const json = toJson({ code, message });
  const out = new Uint8Array(1 + json.length);
  out[0] = 1;
  out.set(json, 1);
  return out;
}

export function parseHostReply(reply: Uint8Array): { ok: true; value: Uint8Array } | { ok: false; code: string; message: string } {
  if (reply[0] === 0) return { ok: true, value: reply.subarray(1) };
  const e = fromJson(reply.subarray(1)) as { code: string; message: string };
  return { ok: false, code: e.code, message: e.message };
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function toJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function fromJson(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes));
}
