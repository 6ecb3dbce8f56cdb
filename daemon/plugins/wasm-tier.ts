// The tier loader for WebAssembly components (tier "wasm"). A component is transpiled with jco
// (cached by content hash), its imports are checked against what isg provides before anything of
// it runs, and it is instantiated either in a worker thread of its own (isolation "worker", the
// default: calls block on a shared control block for at most the plugin's hard ceiling, past
// which the worker is terminated) or in the daemon's thread (isolation "inline", for trusted
// components: no ceiling can be enforced there, only measured). Payloads are msgpack both ways.
// The hooks a manifest lists are exports the component must have (on-graph-update,
// before-query, after-query); a component is called only for the hooks its manifest lists.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { UpdateEvent } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { toTransfer, type CsrSnapshot } from '../graph/csr.ts';
import { RUNTIME } from '../util/runtime.ts';
import type { BeforeQueryDecision, PluginContext, PluginManifest, PluginRuntime, QueryHookInput, TierLoader } from './api.ts';
import { withIds } from './update-ids.ts';
import {
  CallerChannel,
  createChannelBuffer,
  executeParts,
  FLAG_SNAPSHOT,
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
import { pack, unpack } from './wasm/msgpack.ts';
import { transpileCached, type TranspiledComponent, type TranspileProfile } from './wasm/transpile.ts';
import type { WorkerHello, WorkerInit } from './wasm/worker.ts';

// Built to dist/*.js under Node; run from the .ts sources under Deno.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './wasm/worker.ts' : './wasm/worker.js', import.meta.url);

export interface WasmTierOptions {
  /** Where transpiled components are kept (default node_modules/.cache/isg-wasm). */
  cacheDir?: string;
  profile?: TranspileProfile;
  /** How long a worker may take to instantiate its component, ms. */
  startTimeoutMs?: number;
  /**
   * Boot workers ahead of worker-isolated loads (default true): one for each plugin `prepare`d,
   * and one spare from the first load on.
   */
  spareWorker?: boolean;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;
/** A worker's JS heap holds jco's glue and views of shared memory; WebAssembly memory is not counted here. */
const WORKER_HEAP_MB = 64;
/** Deno accepts a Worker's resourceLimits and ignores them: said at each worker load, as the budget then rests on the memory check alone. */
const DENO_HEAP_UNLIMITED = `runs in a worker whose JS heap is not capped at ${WORKER_HEAP_MB} MB: Deno ignores worker resourceLimits; its memory budget is enforced by checking its linear memory after each call`;

export class WasmTierLoader implements TierLoader {
  readonly tier = 'wasm' as const;
  private readonly options: WasmTierOptions;
  /** Workers booted ahead of loads (exposed for tests and benchmarks). */
  readonly spares: Spares;

  constructor(options: WasmTierOptions = {}) {
    this.options = options;
    this.spares = new Spares(options.spareWorker ?? true);
  }

  prepare(manifest: PluginManifest): void {
    if (manifest.isolation === 'worker') this.spares.expect(manifest.name);
  }

  forget(manifest: PluginManifest): void {
    this.spares.forget(manifest.name);
  }

  async load(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime> {
    try {
      return await this.start(manifest, dir, ctx);
    } finally {
      // a load that failed before it took its worker leaves none owed to it
      this.spares.forget(manifest.name);
    }
  }

  private async start(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime> {
    const path = resolve(dir, manifest.entry);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new IsgError('not-found', `plugin ${manifest.name}: no component at ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); build it with npm run build:wasm`);
    }
    const component = await transpileCached(bytes, { cacheDir: this.options.cacheDir, profile: this.options.profile, source: `plugin ${manifest.name} (${path})` });
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
    const setup: Setup = { manifest, ctx, component, modules, plan, config: pack(ctx.config ?? null) };
    return manifest.isolation === 'inline' ? InlineRuntime.start(setup) : WorkerRuntime.start(setup, this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, this.spares);
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

function encodeArgs(plugin: string, op: string, args: unknown): Uint8Array {
  try {
    return pack(args ?? null);
  } catch (err) {
    throw new IsgError('bad-args', `plugin ${plugin}: the arguments of op "${op}" cannot be sent as msgpack: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decodeAnswer(plugin: string, op: string, bytes: Uint8Array): unknown {
  try {
    return unpack(bytes);
  } catch (err) {
    throw new IsgError('plugin-error', `plugin ${plugin} answered op "${op}" with malformed msgpack (${bytes.length} bytes: ${err instanceof Error ? err.message : String(err)})`);
  }
}

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

function decision(plugin: string, op: string, answer: Uint8Array | undefined): BeforeQueryDecision {
  return answer === undefined ? undefined : { respond: decodeAnswer(plugin, `before-query of "${op}"`, answer) };
}

function settled<T>(out: Outcome<T>): T {
  if (!out.ok) throw new IsgError(out.code, out.message);
  return out.value;
}

/** The component in the daemon's thread: calls are plain function calls. */
class InlineRuntime implements PluginRuntime {
  readonly readsSnapshot: boolean;
  private csr: CsrSnapshot | undefined;
  private readonly setup: Setup;
  private readonly instance: ComponentInstance;

  private constructor(setup: Setup, instance: ComponentInstance) {
    this.setup = setup;
    this.instance = instance;
    this.readsSnapshot = setup.plan.granted.includes('graph');
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
    return decodeAnswer(name, op, settled(this.instance.execute(op, bytes)));
  }

  onUpdate(update: UpdateEvent): void {
    this.csr = undefined;
    settled(this.instance.onUpdate(withIds(update, this.setup.ctx.graph)));
  }

  beforeQuery(input: QueryHookInput): BeforeQueryDecision {
    const name = this.setup.manifest.name;
    this.csr = undefined;
    return decision(name, input.op, settled(this.instance.beforeQuery(input.op, hookPayload(name, 'query arguments', input.args), input.generation)));
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

  /** One snapshot per call: every import of a call reads the same generation. */
  private snapshot(): CsrSnapshot {
    this.csr ??= this.setup.ctx.graph.csr();
    return this.csr;
  }
}

/** The component in a worker thread of its own, called synchronously through a shared control block. */
class WorkerRuntime implements PluginRuntime {
  readonly readsSnapshot: boolean;
  private stopped: string | undefined;
  private sentCsr: CsrSnapshot | undefined;
  private memory: number;
  private readonly setup: Setup;
  private readonly worker: Worker;
  private readonly channel: CallerChannel;
  private readonly port: MessagePort;

  private constructor(setup: Setup, worker: Worker, channel: CallerChannel, port: MessagePort, hello: Extract<WorkerHello, { type: 'ready' }>, csr: CsrSnapshot | undefined) {
    this.setup = setup;
    this.worker = worker;
    this.channel = channel;
    this.port = port;
    this.memory = hello.memoryBytes;
    this.sentCsr = csr;
    this.readsSnapshot = setup.plan.granted.includes('graph');
    worker.on('error', (err) => this.markStopped(`its worker failed: ${err.message}`));
    worker.on('exit', (code) => this.markStopped(`its worker exited (code ${code})`));
  }

  static async start(setup: Setup, startTimeoutMs: number, spares: Spares): Promise<WorkerRuntime> {
    const { manifest, ctx, plan } = setup;
    if (RUNTIME === 'deno') ctx.log.warn(`plugin ${manifest.name} ${DENO_HEAP_UNLIMITED}`);
    const sab = createChannelBuffer();
    const { port1, port2 } = new MessageChannel();
    const csr = plan.granted.includes('graph') ? ctx.graph.csr() : undefined;
    const init: WorkerInit = { plugin: manifest.name, component: setup.component, modules: setup.modules, plan, config: setup.config, sab, port: port2, csr: csr && toTransfer(csr) };
    const worker = spares.take(manifest.name);
    hand(worker, init);
    const hello = await new Promise<WorkerHello>((resolveHello, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new IsgError('timeout', `plugin ${manifest.name} did not start within ${startTimeoutMs} ms (instantiating its component), so its worker was stopped`));
      }, startTimeoutMs);
      worker.once('message', (m: WorkerHello) => {
        clearTimeout(timer);
        resolveHello(m);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(new IsgError('plugin-error', `plugin ${manifest.name}'s worker failed to start: ${err.message}`));
      });
    });
    spares.refill();
    if (hello.type === 'error') {
      await worker.terminate();
      throw new IsgError(hello.code, hello.message);
    }
    return new WorkerRuntime(setup, worker, new CallerChannel(sab), port1, hello, csr);
  }

  call(op: string, args: unknown): unknown {
    const name = this.setup.manifest.name;
    const payload = this.roundTrip(Kind.Execute, executeParts(op, encodeArgs(name, op, args)), `op "${op}"`);
    return decodeAnswer(name, op, payload);
  }

  /** Without blocking the daemon's thread: queries are answered while the plugin digests the update. */
  async onUpdate(update: UpdateEvent): Promise<void> {
    const { manifest, ctx } = this.setup;
    if (this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} is not running: ${this.stopped}; reload it`);
    const flags = this.refreshSnapshot();
    const u = withIds(update, ctx.graph);
    const parts = [toJson([u.generation, u.files, Array.from(u.added), Array.from(u.changed), u.removed])];
    const answer = await this.channel.callAsync(Kind.Update, parts, flags, manifest.budget.ceilingMs, (request) => this.serveHost(request));
    if (!answer && this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} stopped before it finished the update: ${this.stopped}`);
    this.settleAnswer(answer, HOOK_EXPORTS.onUpdate.name);
  }

  beforeQuery(input: QueryHookInput): BeforeQueryDecision {
    const name = this.setup.manifest.name;
    const parts = queryHookParts(input.generation, input.op, hookPayload(name, 'query arguments', input.args));
    return decision(name, input.op, parseOptionalBytes(this.roundTrip(Kind.BeforeQuery, parts, `${HOOK_EXPORTS.beforeQuery.name} of "${input.op}"`)));
  }

  afterQuery(input: QueryHookInput, result: unknown): void {
    const name = this.setup.manifest.name;
    const parts = queryHookParts(input.generation, input.op, hookPayload(name, 'query arguments', input.args), hookPayload(name, 'query answer', result));
    this.roundTrip(Kind.AfterQuery, parts, `${HOOK_EXPORTS.afterQuery.name} of "${input.op}"`);
  }

  memoryBytes(): number {
    return this.memory;
  }

  kill(): void {
    this.terminate('it was killed');
  }

  async dispose(): Promise<void> {
    if (!this.stopped) this.channel.stop();
    this.markStopped('it was unloaded');
    this.port.close();
    await this.worker.terminate();
  }

  private roundTrip(kind: Kind, parts: Uint8Array[], what: string): Uint8Array {
    const { manifest } = this.setup;
    if (this.stopped) throw new IsgError('plugin-unavailable', `plugin ${manifest.name} is not running: ${this.stopped}; reload it`);
    const flags = this.refreshSnapshot();
    return this.settleAnswer(this.channel.call(kind, parts, flags, manifest.budget.ceilingMs, (request) => this.serveHost(request)), what);
  }

  private settleAnswer(answer: Answer | undefined, what: string): Uint8Array {
    const { manifest, ctx } = this.setup;
    if (!answer) {
      this.terminate(`${what} ran past its ceiling of ${manifest.budget.ceilingMs} ms and its worker was terminated`);
      throw new IsgError('budget-exceeded', `plugin ${manifest.name}: ${what} did not finish within its ceiling of ${manifest.budget.ceilingMs} ms, so its worker was terminated`, {
        ceilingMs: manifest.budget.ceilingMs,
      });
    }
    this.memory = answer.memoryBytes;
    if (answer.tail.length) for (const [level, message] of fromJson(answer.tail) as [LogLevel, string][]) ctx.log[level](message);
    if (answer.status === Status.Error) {
      const e = fromJson(answer.payload) as { code: IsgError['code']; message: string };
      throw new IsgError(e.code, e.message);
    }
    return answer.payload;
  }

  /** Post the current generation's snapshot to the worker when it has not seen it yet. */
  private refreshSnapshot(): number {
    if (!this.setup.plan.granted.includes('graph')) return 0;
    const csr = this.setup.ctx.graph.csr();
    if (csr === this.sentCsr) return 0;
    this.port.postMessage(toTransfer(csr));
    this.sentCsr = csr;
    return FLAG_SNAPSHOT;
  }

  /** What the worker asks of the daemon's thread during a call: source text, or another plugin's op. */
  private serveHost(request: Uint8Array): Uint8Array {
    const { ctx } = this.setup;
    const body = request.subarray(1);
    try {
      if (request[0] === HostCall.Read) return hostReply(utf8(ctx.source.read(fromUtf8(body))));
      if (request[0] === HostCall.Call) {
        const { op, args } = parseExecute(body);
        return hostReply(callFor(ctx)(op, args));
      }
      return hostErrorReply('internal', `unknown host call ${request[0]}`);
    } catch (err) {
      return err instanceof IsgError ? hostErrorReply(err.code, err.message) : hostErrorReply('io', err instanceof Error ? err.message : String(err));
    }
  }

  private markStopped(reason: string): void {
    this.stopped ??= reason;
  }

  private terminate(reason: string): void {
    this.markStopped(reason);
    this.channel.stop();
    this.port.close();
    void this.worker.terminate();
  }
}

/**
 * Workers booted ahead of loads: starting a worker (an isolate, Node's bootstrap, the worker's
 * modules) is most of a load's time. Plugins that were registered and will load soon (`expect`,
 * from the host's `prepare`) each get one, booted one at a time so that the boots (a core each
 * for a moment) keep out of the first index's way; after a load, one spare stays booted for the
 * next. A plugin that will not load after all (`forget`) takes its worker back. Spares do not
 * keep the process alive.
 */
export class Spares {
  private readonly ready: Worker[] = [];
  private booting: Worker | undefined;
  /** Plugins expected to load, each owed a booted worker. */
  private readonly expected = new Set<string>();
  /** After a load, keep one spare for the next (the loader's `spareWorker` option). */
  private keepOne = false;
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Booted and booting spares. */
  get count(): number {
    return this.ready.length + (this.booting ? 1 : 0);
  }

  /** Booted spares, waiting for a load. */
  get booted(): number {
    return this.ready.length;
  }

  /** `plugin` will load soon: boot a worker for it, after those already booting. */
  expect(plugin: string): void {
    if (!this.enabled || this.expected.has(plugin)) return;
    this.expected.add(plugin);
    this.fill();
  }

  /** `plugin` will not load after all: its worker goes, unless the spare kept after a load is owed. */
  forget(plugin: string): void {
    if (!this.expected.delete(plugin)) return;
    this.trim();
  }

  /** A worker for `plugin`'s load: a booted one when there is one. */
  take(plugin: string): Worker {
    this.expected.delete(plugin);
    // one still booting is further along than a new one
    const worker = this.ready.shift() ?? this.booting ?? boot();
    if (worker === this.booting) this.booting = undefined;
    worker.ref();
    this.fill();
    return worker;
  }

  /** After a load: keep one worker booted for the next one. */
  refill(): void {
    if (!this.enabled) return;
    this.keepOne = true;
    this.fill();
  }

  private wanted(): number {
    return Math.min(MAX_SPARES, Math.max(this.expected.size, this.keepOne ? 1 : 0));
  }

  /** Boot the next spare when fewer are booted or booting than wanted; one boot at a time. */
  private fill(): void {
    if (this.booting || this.count >= this.wanted()) return;
    const worker = boot();
    worker.unref();
    this.booting = worker;
    const booted = () => {
      if (this.booting !== worker) return;
      this.booting = undefined;
      this.ready.push(worker);
      this.trim();
      this.fill();
    };
    worker.once('online', booted);
    worker.once('error', () => undefined);
    worker.once('exit', () => {
      if (this.booting === worker) this.booting = undefined;
      const i = this.ready.indexOf(worker);
      if (i >= 0) this.ready.splice(i, 1);
      this.fill();
    });
  }

  /** Terminate booted spares beyond what is wanted. */
  private trim(): void {
    while (this.count > this.wanted() && this.ready.length) void this.ready.pop()!.terminate();
  }
}

/** Spares booted at once at most (each is an idle worker, ~8 MB). */
const MAX_SPARES = 4;

function boot(): Worker {
  return new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
}

function hand(worker: Worker, init: WorkerInit): void {
  try {
    worker.postMessage(init, [init.port]);
  } catch (err) {
    // Runtimes that cannot post compiled modules to a worker: it compiles them itself.
    if (!(err instanceof Error) || err.name !== 'DataCloneError') throw err;
    worker.postMessage({ ...init, modules: undefined }, [init.port]);
  }
}
