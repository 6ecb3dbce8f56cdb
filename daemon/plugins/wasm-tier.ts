// The tier loader for WebAssembly components (tier "wasm"). A component is transpiled with jco
// (cached by content hash), its imports are checked against what isg provides before anything of
// it runs, and it is instantiated either in a worker thread (isolation "worker", the default: a
// worker hosts up to four plugins, wasm/worker-pool.ts says why; calls block on a shared control
// block for at most the plugin's hard ceiling, past which the worker is terminated and its other
// plugins start again in another) or in the daemon's thread (isolation "inline", for trusted
// components: no ceiling can be enforced there, only measured). Payloads are msgpack both ways.
// The hooks a manifest lists are exports the component must have (on-graph-update,
// before-query, after-query); a component is called only for the hooks its manifest lists.
import { resolve } from 'node:path';
import type { UpdateEvent } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { toTransfer, type CsrSnapshot } from '../graph/csr.ts';
import { idleTrimmer } from '../util/malloc-trim.ts';
import { RUNTIME } from '../util/runtime.ts';
import type { BeforeQueryDecision, PluginContext, PluginManifest, PluginRuntime, QueryHookInput, TierLoader } from './api.ts';
import { withIds } from './update-ids.ts';
import {
  executeParts,
  fromJson,
  fromUtf8,
  HostCall,
  hostErrorReply,
  hostReply,
  Kind,
  parseExecute,
  parseOptionalBytes,
  queryHookParts,
  Status,
  toJson,
  utf8,
  type Answer,
} from './wasm/channel.ts';
import { graphImports } from './wasm/graph-imports.ts';
import { buildImports, HOOK_EXPORTS, planImports, type ImportPlan, type LogLevel } from './wasm/host-imports.ts';
import { ComponentInstance, compileCore, type CoreModules, type Outcome } from './wasm/instance.ts';
import { pack, packOwn, packTransient, unpack, unpackCopy } from './wasm/msgpack.ts';
import { cachedTranspile, hashFile, transpileCached, type TranspiledComponent, type TranspileProfile } from './wasm/transpile.ts';
import type { TenantInit } from './wasm/worker.ts';
import { chargeClock } from '../util/thread-clock.ts';
import { DEFAULT_TENANTS_PER_WORKER, WORKER_HEAP_MB, WorkerPool, type Tenancy, type WorkerHouse } from './wasm/worker-pool.ts';

/** The daemon's part of a call it charges (host calls, decoding): this thread's CPU time where the thread-clock addon loads. */
const charged = chargeClock();

export interface WasmTierOptions {
  /** Where transpiled components are kept (default node_modules/.cache/isg-wasm). */
  cacheDir?: string;
  profile?: TranspileProfile;
  /** How long a worker may take to instantiate its component, ms. */
  startTimeoutMs?: number;
  /**
   * Boot workers ahead of worker-isolated loads (default true): those the `prepare`d plugins
   * will need, and after a load one spare when no worker has room for the next plugin.
   */
  spareWorker?: boolean;
  /** Worker-isolated plugins one worker hosts at most (default 4; 1: a worker per plugin). */
  tenantsPerWorker?: number;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;
/** Deno accepts a Worker's resourceLimits and ignores them: said at each worker load, as the budget then rests on the memory check alone. */
const DENO_HEAP_UNLIMITED = `runs in a worker whose JS heap is not capped at ${WORKER_HEAP_MB} MB: Deno ignores worker resourceLimits; its memory budget is enforced by checking its linear memory after each call`;

export class WasmTierLoader implements TierLoader {
  readonly tier = 'wasm' as const;
  private readonly options: WasmTierOptions;
  /** The workers of worker-isolated plugins (exposed for tests and benchmarks). */
  readonly pool: WorkerPool;
  /** Components of prepared plugins being compiled, one after another. */
  private warming: Promise<void> = Promise.resolve();

  constructor(options: WasmTierOptions = {}) {
    this.options = options;
    this.pool = new WorkerPool({ spares: options.spareWorker ?? true, tenantsPerWorker: options.tenantsPerWorker ?? DEFAULT_TENANTS_PER_WORKER });
  }

  get spares(): WorkerPool['spares'] {
    return this.pool.spares;
  }

  /**
   * Boot the worker the plugin will need, and compile its core modules when its transpile is
   * cached (one component at a time, in the background; one that is not cached is left to the
   * load, as transpiling would take the index's cores for hundreds of ms).
   */
  prepare(manifest: PluginManifest, dir: string): void {
    if (manifest.isolation === 'worker') this.spares.expect(manifest.name);
    this.warming = this.warming.then(() => this.warm(manifest, dir));
  }

  private async warm(manifest: PluginManifest, dir: string): Promise<void> {
    try {
      const path = resolve(dir, manifest.entry);
      const component = cachedTranspile({ path, hash: hashFile(path) }, { cacheDir: this.options.cacheDir, profile: this.options.profile });
      if (component) await compileCore(component);
    } catch {
      // the load reports what is wrong
    }
  }

  forget(manifest: PluginManifest): void {
    this.spares.forget(manifest.name);
  }

  async load(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime> {
    try {
      return await this.start(manifest, dir, ctx);
    } finally {
      // compiling and instantiating freed megabytes in malloc's arenas: give them back once idle
      idleTrimmer.noteWork();
      // a load that failed before it took its worker leaves none owed to it
      this.spares.forget(manifest.name);
    }
  }

  private async start(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime> {
    // The worker it will need (when no running one has room) boots now, on its own thread, while
    // this thread hashes and compiles the component: booting is most of a first load.
    if (manifest.isolation === 'worker') this.spares.expect(manifest.name);
    const path = resolve(dir, manifest.entry);
    let hash: string;
    try {
      hash = hashFile(path);
    } catch (err) {
      throw new IsgError('not-found', `plugin ${manifest.name}: no component at ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); build it with npm run build:wasm`);
    }
    const component = await transpileCached({ path, hash }, { cacheDir: this.options.cacheDir, profile: this.options.profile, source: `plugin ${manifest.name} (${path})` });
    // a component gets no import it did not declare in its manifest and was not granted
    const granted = ctx.granted.filter((c) => manifest.capabilities.includes(c));
    const plan = planImports(manifest.name, component.imports, component.exports, granted);
    for (const hook of manifest.hooks) {
      const { name, world } = HOOK_EXPORTS[hook];
      if (!component.exports.includes(name)) {
        throw new IsgError('plugin-error', `plugin ${manifest.name} declares the ${hook} hook but its component does not export "${name}": build it for a world that includes isg:plugin/${world}`);
      }
    }
    if (manifest.isolation === 'process') throw new IsgError('plugin-error', `plugin ${manifest.name}: isolation "process" is not available to WebAssembly plugins; use "worker" or "inline"`);
    const modules = await compileCore(component);
    const setup: Setup = { manifest, ctx, component, modules, plan, config: packOwn(ctx.config ?? null) };
    return manifest.isolation === 'inline' ? InlineRuntime.start(setup) : WorkerRuntime.start(setup, this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, this.pool);
  }
}

interface Setup {
  manifest: PluginManifest;
  ctx: PluginContext;
  component: TranspiledComponent;
  modules: CoreModules;
  plan: ImportPlan;
  config: Uint8Array;
}

/** An op's arguments, packed to be sent at once (`packTransient`: the next value packed is written over them). */
function encodeArgs(plugin: string, op: string, args: unknown): Uint8Array {
  try {
    return packTransient(args ?? null);
  } catch (err) {
    throw new IsgError('bad-args', `plugin ${plugin}: the arguments of op "${op}" cannot be sent as msgpack: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `transient`: the bytes are a view the next call writes over (a worker's answer), so nothing of them may be kept. */
function decodeAnswer(plugin: string, op: string, bytes: Uint8Array, transient: boolean): unknown {
  try {
    return transient ? unpackCopy(bytes) : unpack(bytes);
  } catch (err) {
    throw new IsgError('plugin-error', `plugin ${plugin} answered op "${op}" with malformed msgpack (${bytes.length} bytes: ${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The log lines a worker's answer carries in its tail, as JSON. */
type LogLines = [LogLevel, string][];

function logTo(ctx: PluginContext): (level: LogLevel, message: string) => void {
  return (level, message) => ctx.log[level](message);
}

/** host.call: another plugin's op for the component, msgpack both ways. */
function callFor(ctx: PluginContext): (op: string, args: Uint8Array) => Uint8Array {
  return (op, args) => {
    let value: unknown;
    try {
      value = unpack(args);
    } catch (err) {
      throw new IsgError('bad-args', `plugin ${ctx.name} called "${op}" with arguments that are not msgpack: ${err instanceof Error ? err.message : String(err)}`);
    }
    return pack(ctx.callNow(op, value) ?? null);
  };
}

/** A middleware hook's payloads; what cannot be encoded fails the hook, not the query. */
function hookPayload(plugin: string, what: string, value: unknown): Uint8Array {
  try {
    return pack(value ?? null);
  } catch (err) {
    throw new IsgError('plugin-error', `plugin ${plugin}: the ${what} cannot be sent to it as msgpack: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decision(plugin: string, op: string, answer: Uint8Array | undefined, transient: boolean): BeforeQueryDecision {
  return answer === undefined ? undefined : { respond: decodeAnswer(plugin, `before-query of "${op}"`, answer, transient) };
}

/** An inline component's answer. Its work may have made code hot enough for V8 to tier it up (and free the compile's memory): noted for the trimmer. */
function settled<T>(out: Outcome<T>): T {
  idleTrimmer.noteWork();
  if (!out.ok) throw new IsgError(out.code, out.message);
  return out.value;
}

/** The component in the daemon's thread: calls are plain function calls. */
class InlineRuntime implements PluginRuntime {
  private csr: CsrSnapshot | undefined;
  private readonly setup: Setup;
  private readonly instance: ComponentInstance;

  private constructor(setup: Setup, instance: ComponentInstance) {
    this.setup = setup;
    this.instance = instance;
  }

  static async start(setup: Setup): Promise<InlineRuntime> {
    const { ctx, manifest } = setup;
    let runtime: InlineRuntime | undefined;
    const imports = buildImports(setup.plan, {
      plugin: manifest.name,
      graph: () => graphImports(() => runtime!.snapshot()),
      readSource: (file) => ctx.source.read(file),
      call: callFor(ctx),
      config: setup.config,
      log: logTo(ctx),
    });
    const instance = await ComponentInstance.create(manifest.name, setup.component, setup.modules, imports, (m) => ctx.log.warn(m));
    runtime = new InlineRuntime(setup, instance);
    return runtime;
  }

  call(op: string, args: unknown): unknown {
    const name = this.setup.manifest.name;
    const bytes = encodeArgs(name, op, args);
    this.csr = undefined;
    return decodeAnswer(name, op, settled(this.instance.execute(op, bytes)), false);
  }

  onUpdate(update: UpdateEvent): void {
    this.csr = undefined;
    settled(this.instance.onUpdate(withIds(update, this.setup.ctx.graph)));
  }

  beforeQuery(input: QueryHookInput): BeforeQueryDecision {
    const name = this.setup.manifest.name;
    this.csr = undefined;
    return decision(name, input.op, settled(this.instance.beforeQuery(input.op, hookPayload(name, 'query arguments', input.args), input.generation)), false);
  }

  afterQuery(input: QueryHookInput, result: unknown): void {
    const name = this.setup.manifest.name;
    this.csr = undefined;
    settled(this.instance.afterQuery(input.op, hookPayload(name, 'query arguments', input.args), hookPayload(name, 'query answer', result), input.generation));
  }

  memoryBytes(): number {
    return this.instance.memoryBytes();
  }

  dispose(): void {}

  /** One snapshot per call, asked for on its first graph read: every import of a call reads the same generation. */
  private snapshot(): CsrSnapshot {
    this.csr ??= this.setup.ctx.graph.csr();
    return this.csr;
  }
}

/**
 * The component in a worker thread (of its own or shared with other plugins: worker-pool.ts),
 * called synchronously through the worker's control block.
 */
class WorkerRuntime implements PluginRuntime, Tenancy {
  /** The last update hook's own time: the worker's, and the daemon's for its source reads and host.call. */
  updateSpentMs: number | undefined;
  /** The last synchronous query round trip's own time (api.ts). */
  querySpentMs: number | undefined;
  readonly plugin: string;
  readonly callsOthers: boolean;
  /** Granted the graph imports: only then does a request carry a generation. */
  private readonly readsGraph: boolean;
  private stopped: string | undefined;
  private disposed = false;
  private memory = 0;
  private house!: WorkerHouse;
  private tenant = 0;
  /** Starting again in another worker after a co-tenant stopped the shared one. */
  private restarting: Promise<void> | undefined;
  private readonly setup: Setup;
  private readonly pool: WorkerPool;
  private readonly startTimeoutMs: number;

  private constructor(setup: Setup, pool: WorkerPool, startTimeoutMs: number) {
    this.setup = setup;
    this.pool = pool;
    this.startTimeoutMs = startTimeoutMs;
    this.plugin = setup.manifest.name;
    this.callsOthers = setup.manifest.dependencies.length > 0;
    this.readsGraph = setup.plan.granted.includes('graph');
  }

  static async start(setup: Setup, startTimeoutMs: number, pool: WorkerPool): Promise<WorkerRuntime> {
    const { manifest, ctx } = setup;
    if (RUNTIME === 'deno') ctx.log.warn(`plugin ${manifest.name} ${DENO_HEAP_UNLIMITED}`);
    const runtime = new WorkerRuntime(setup, pool, startTimeoutMs);
    await runtime.enter();
    return runtime;
  }

  /** Become a tenant of a worker with room: instantiate the component there. */
  private async enter(): Promise<void> {
    const { manifest, plan } = this.setup;
    const init: TenantInit = { plugin: manifest.name, component: this.setup.component, modules: this.setup.modules, plan, config: this.setup.config };
    const admission = await this.pool.admit(this, init, this.startTimeoutMs, (request) => this.serveHost(request));
    this.house = admission.house;
    this.tenant = admission.tenant;
    this.memory = admission.memoryBytes;
    if (admission.tail.length) this.log(fromJson(admission.tail) as LogLines);
  }

  workerLost(reason: string, culprit: boolean): void {
    if (culprit || this.disposed || this.stopped) return this.markStopped(reason);
    const { manifest, ctx } = this.setup;
    ctx.log.warn(`plugin ${manifest.name}'s worker was stopped (${reason}); it starts again in another worker, so its state was reset`);
    const restart = this.enter().then(
      () => undefined,
      (err: Error) => this.markStopped(`it could not start again after its worker was stopped (${reason}): ${err.message}`),
    );
    const restarting: Promise<void> = restart.finally(() => {
      if (this.restarting === restarting) this.restarting = undefined;
    });
    this.restarting = restarting;
  }

  waitTurn(): Promise<void> | undefined {
    if (this.restarting) return this.restarting;
    if (!this.stopped && this.house.channel.busyFor(this.tenant)) return this.house.channel.idle();
    return undefined;
  }

  call(op: string, args: unknown): unknown {
    const name = this.setup.manifest.name;
    return this.roundTrip(Kind.Execute, () => executeParts(op, encodeArgs(name, op, args)), `op "${op}"`, (payload) => decodeAnswer(name, op, payload, true));
  }

  /**
   * Without blocking the daemon's thread: queries are answered while the plugin digests the
   * update. Its time (`updateSpentMs`) is what the worker spent on it, not how long the daemon
   * waited for co-tenants' requests before it, or for its own thread to serve the worker's host
   * calls; serving its source reads and host.call is counted, being the plugin's work.
   */
  async onUpdate(update: UpdateEvent): Promise<void> {
    const { manifest, ctx } = this.setup;
    this.updateSpentMs = undefined;
    // sent at once when it can be: a query right after this call must find it in flight
    if (this.restarting) await this.restarting;
    if (this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} is not running: ${this.stopped}; reload it`);
    const u = withIds(update, ctx.graph);
    const parts = [toJson([u.generation, u.files, Array.from(u.added), Array.from(u.changed), u.removed])];
    const served = { ms: 0 };
    const answer = await this.house.channel.callAsync(this.tenant, Kind.Update, parts, this.generation(), manifest.budget.ceilingMs, (request) => this.serveHost(request, served));
    if (!answer && this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} stopped before it finished the update: ${this.stopped}`);
    if (answer?.tenant === this.tenant) this.updateSpentMs = answer.spentMs + served.ms;
    this.settleAnswer(answer, HOOK_EXPORTS.onUpdate.name, () => undefined);
  }

  beforeQuery(input: QueryHookInput): BeforeQueryDecision | Promise<BeforeQueryDecision> {
    const name = this.setup.manifest.name;
    return this.roundTrip(
      Kind.BeforeQuery,
      () => queryHookParts(input.generation, input.op, hookPayload(name, 'query arguments', input.args)),
      `${HOOK_EXPORTS.beforeQuery.name} of "${input.op}"`,
      (payload) => decision(name, input.op, parseOptionalBytes(payload), true),
    );
  }

  afterQuery(input: QueryHookInput, result: unknown): unknown {
    const name = this.setup.manifest.name;
    return this.roundTrip(
      Kind.AfterQuery,
      () => queryHookParts(input.generation, input.op, hookPayload(name, 'query arguments', input.args), hookPayload(name, 'query answer', result)),
      `${HOOK_EXPORTS.afterQuery.name} of "${input.op}"`,
      () => undefined,
    );
  }

  memoryBytes(): number {
    return this.memory;
  }

  kill(): void {
    this.stopWorker('it was killed');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.restarting;
    this.markStopped('it was unloaded');
    await this.house.drop(this.tenant);
  }

  /**
   * One request, answered synchronously (`then` reads the answer where the channel left it, which
   * the next call writes over: it is decoded, never kept); with a promise when the worker is busy with another
   * plugin's update (blocking would hold the daemon's thread for that plugin's work) or this
   * plugin is starting again after a co-tenant stopped their worker. (The host asks `waitTurn`
   * first, so that wait stays off the plugin's clock.)
   */
  private roundTrip<T>(kind: Kind, parts: () => Uint8Array[], what: string, then: (payload: Uint8Array) => T): T | Promise<T> {
    const { manifest } = this.setup;
    const turn = this.waitTurn();
    if (turn) return turn.then(() => this.roundTrip(kind, parts, what, then));
    this.querySpentMs = undefined;
    if (this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} is not running: ${this.stopped}; reload it`);
    const served = { ms: 0 };
    const answer = this.house.channel.call(this.tenant, kind, parts, this.generation(), manifest.budget.ceilingMs, (r) => this.serveHost(r, served));
    const t0 = charged();
    try {
      return this.settleAnswer(answer, what, then);
    } finally {
      // Waking the worker and being woken by it are the host's (0.1-0.2 ms here, several ms when
      // the machine is busy): the plugin is charged what it did, as for updates.
      if (answer?.tenant === this.tenant) this.querySpentMs = answer.spentMs + served.ms + (charged() - t0);
    }
  }

  /** The answer's payload through `then`, its log lines logged after: logging runs code of others, and the answer may be a view of the channel. */
  private settleAnswer<T>(answer: Answer | undefined, what: string, then: (payload: Uint8Array) => T): T {
    const { manifest } = this.setup;
    // the work may have made code hot enough for V8 to tier it up (and free the compile's memory)
    idleTrimmer.noteWork();
    if (!answer) {
      if (this.house.channel.culprit !== this.tenant) {
        // the worker was stopped meanwhile, or another tenant's request ran past its deadline (its runtime stops the worker, and this one starts again)
        if (this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} is not running: ${this.stopped}; reload it`);
        throw new IsgError('plugin-unavailable', `plugin ${manifest.name}: its worker is being stopped, as a plugin sharing it ran past its ceiling; it starts again in another worker`);
      }
      this.stopWorker(`${what} ran past its ceiling of ${manifest.budget.ceilingMs} ms and its worker was terminated`);
      throw new IsgError('budget-exceeded', `plugin ${manifest.name}: ${what} did not finish within its ceiling of ${manifest.budget.ceilingMs} ms, so its worker was terminated`, {
        ceilingMs: manifest.budget.ceilingMs,
      });
    }
    this.memory = answer.memoryBytes;
    const lines = answer.tail.length ? (fromJson(answer.tail) as LogLines) : [];
    try {
      if (answer.status === Status.Error) {
        const e = fromJson(answer.payload) as { code: IsgError['code']; message: string };
        throw new IsgError(e.code, e.message);
      }
      return then(answer.payload);
    } finally {
      this.log(lines);
    }
  }

  private log(lines: LogLines): void {
    for (const [level, message] of lines) this.setup.ctx.log[level](message);
  }

  /** The generation a request is answered at (-1 without a graph): a snapshot of another one is stale in the worker. */
  private generation(): number {
    if (!this.readsGraph) return -1;
    try {
      return this.setup.ctx.graph.view().generation;
    } catch {
      return -1;
    }
  }

  /**
   * What the worker asks of the daemon's thread during this tenant's request: the graph snapshot,
   * source text, or another plugin's op. `served` adds up the time of the last two, which are the
   * plugin's work; building and posting a snapshot is the host's.
   */
  private serveHost(request: Uint8Array, served?: { ms: number }): Uint8Array {
    const { ctx } = this.setup;
    const body = request.subarray(1);
    try {
      if (request[0] === HostCall.Snapshot) {
        const view = new DataView(body.buffer, body.byteOffset, body.length);
        const tenant = view.getUint32(0, true);
        if (tenant !== this.tenant) return hostErrorReply('internal', `plugin ${this.plugin}'s request got a snapshot request for tenant ${tenant} of its worker, not its own (${this.tenant})`);
        const csr = ctx.graph.csr();
        if (csr.generation === view.getFloat64(4, true)) return hostReply(new Uint8Array(0));
        this.house.snapshots.postMessage(toTransfer(csr));
        return hostReply(new Uint8Array([1]));
      }
      const t0 = charged();
      try {
        if (request[0] === HostCall.Read) return hostReply(utf8(ctx.source.read(fromUtf8(body))));
        if (request[0] === HostCall.Call) {
          const { op, args } = parseExecute(body);
          return hostReply(callFor(ctx)(op, args));
        }
      } finally {
        if (served) served.ms += charged() - t0;
      }
      return hostErrorReply('internal', `unknown host call ${request[0]}`);
    } catch (err) {
      return err instanceof IsgError ? hostErrorReply(err.code, err.message) : hostErrorReply('io', err instanceof Error ? err.message : String(err));
    }
  }

  private markStopped(reason: string): void {
    this.stopped ??= reason;
  }

  /** This plugin stops its worker (past its ceiling, or killed): co-tenants start again elsewhere, and it runs alone from its next load on. */
  private stopWorker(reason: string): void {
    this.markStopped(reason);
    if (this.restarting) return;
    this.pool.blame(this.setup.manifest.name);
    this.house.stop(this.tenant, reason);
  }
}
