// Where worker-isolated WebAssembly plugins run: workers that each host up to a few plugins
// (tenants), and workers booted ahead of loads (spares).
//
// An idle Node worker costs ~7-8 MB (an isolate and Node's bootstrap; resourceLimits do not
// shrink it), more than a plugin's whole memory budget, while a tenant's own share is its
// component (bindings, instance, linear memory). Sharing a worker keeps each plugin off the
// daemon's thread and stoppable at its ceiling, at two costs: tenants' calls run one at a time
// (a query waits, without blocking the daemon's thread, while a co-tenant digests an update),
// and stopping a plugin stops its worker, so its co-tenants start again in another one, their
// state reset. A plugin that once took its worker down gets a worker of its own from then on,
// so a misbehaving plugin costs its co-tenants one restart, not one per re-admission.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { IsgError } from '../../errors.ts';
import { trackBoot } from '../../util/v8-flags.ts';
import { CallerChannel, createChannelBuffer, fromJson, hostErrorReply, Kind } from './channel.ts';
import { workerEntry } from './worker-entry.ts';
import { loadThreadClock } from '../../util/thread-clock.ts';
import type { TenantHello, TenantInit, WorkerInit } from './worker.ts';

/** A worker's JS heap holds its tenants' jco glue and views of shared memory; WebAssembly memory is not counted here. */
export const WORKER_HEAP_MB = 64;
/** Plugins one worker hosts at most (1: a worker per plugin). */
export const DEFAULT_TENANTS_PER_WORKER = 4;
/** How long a worker may take to let a tenant go before it is stopped. */
const DROP_TIMEOUT_MS = 1000;
/** Spares booted at once at most (each is an idle worker, ~8 MB). */
const MAX_SPARES = 4;

/** What a worker tells each of its tenants. */
export interface Tenancy {
  readonly plugin: string;
  /**
   * It declares dependencies, so it may call other plugins (host.call) while it runs, its worker
   * waiting for the answer: a co-tenant could never give one. It gets a worker of its own, so the
   * tenants of a shared worker never call out.
   */
  readonly callsOthers: boolean;
  /**
   * The worker is gone. `culprit`: this tenant's own request or kill stopped it; otherwise a
   * co-tenant's did (or the worker failed between calls), and `reason` says so.
   */
  workerLost(reason: string, culprit: boolean): void;
}

export interface Admission {
  house: WorkerHouse;
  tenant: number;
  memoryBytes: number;
  /** Log lines the instantiation left (JSON), empty when none. */
  tail: Uint8Array;
}

/** One worker and its tenants, behind one channel. */
export class WorkerHouse {
  readonly channel: CallerChannel;
  /** Carries tenants to the worker, each just before the AddTenant request that needs it. */
  readonly port: MessagePort;
  /** Carries graph snapshots to the worker, each just before the reply to the HostCall.Snapshot that asked for it. */
  readonly snapshots: MessagePort;
  /** Hosts only the plugin it was started for. */
  readonly solo: boolean;
  private readonly worker: Worker;
  private readonly capacity: number;
  private readonly tenants = new Map<number, Tenancy>();
  private readonly onGone: (house: WorkerHouse) => void;
  private nextTenant = 1;
  private gone: string | undefined;

  constructor(worker: Worker, capacity: number, onGone: (house: WorkerHouse) => void) {
    this.worker = worker;
    this.capacity = capacity;
    this.solo = capacity === 1;
    this.onGone = onGone;
    const sab = createChannelBuffer();
    const { port1, port2 } = new MessageChannel();
    const snapshots = new MessageChannel();
    // the daemon's thread reads the worker's CPU clock to judge a call at its ceiling (channel.ts)
    this.channel = new CallerChannel(sab, loadThreadClock()?.cpuMsOf);
    this.port = port1;
    this.snapshots = snapshots.port1;
    worker.postMessage({ sab, port: port2, snapshots: snapshots.port2 } satisfies WorkerInit, [port2, snapshots.port2]);
    worker.on('error', (err) => this.stop(undefined, `its worker failed: ${err.message}`));
    worker.on('exit', (code) => this.stop(undefined, `its worker exited (code ${code})`));
  }

  /** Tenants it can still take. */
  get room(): number {
    return this.gone ? 0 : this.capacity - this.tenants.size;
  }

  get tenantCount(): number {
    return this.tenants.size;
  }

  /** Instantiate a plugin in this worker; rejects with why it could not start. */
  async admit(tenancy: Tenancy, init: TenantInit, timeoutMs: number, serveHost: (request: Uint8Array) => Uint8Array): Promise<Admission> {
    if (this.gone) throw new IsgError('plugin-unavailable', `plugin ${tenancy.plugin} could not start: its worker stopped (${this.gone})`);
    const tenant = this.nextTenant++;
    this.tenants.set(tenant, tenancy);
    postTenant(this.port, init);
    const answer = await this.channel.callAsync(tenant, Kind.AddTenant, [], -1, timeoutMs, serveHost);
    if (!answer) {
      if (this.channel.culprit === tenant) {
        const reason = `plugin ${tenancy.plugin} did not start within ${timeoutMs} ms (instantiating its component)`;
        this.stop(tenant, reason);
        throw new IsgError('timeout', `${reason}, so its worker was stopped`);
      }
      this.tenants.delete(tenant);
      throw new IsgError('plugin-unavailable', `plugin ${tenancy.plugin} could not start: its worker stopped (${this.gone ?? 'a co-tenant ran past its ceiling'})`);
    }
    const hello = fromJson(answer.payload) as TenantHello;
    if (hello.type === 'error') {
      this.tenants.delete(tenant);
      if (!this.tenants.size) this.stop(undefined, 'it has no plugin left');
      throw new IsgError(hello.code, hello.message);
    }
    return { house: this, tenant, memoryBytes: hello.memoryBytes, tail: answer.tail };
  }

  /** A tenant is unloaded: the worker lets it go, and stops when it was the last one. */
  async drop(tenant: number): Promise<void> {
    if (!this.tenants.delete(tenant) || this.gone) return;
    if (!this.tenants.size) return this.stop(undefined, 'it has no plugin left');
    const answer = await this.channel.callAsync(tenant, Kind.DropTenant, [], -1, DROP_TIMEOUT_MS, () => hostErrorReply('internal', 'no host calls while a plugin is let go'));
    if (!answer) this.stop(undefined, `it did not let an unloaded plugin go within ${DROP_TIMEOUT_MS} ms`);
  }

  /**
   * Stop the worker (a tenant ran past its ceiling or was killed: `culprit`); every tenant hears
   * of it, the others with the culprit named.
   */
  stop(culprit: number | undefined, reason: string): void {
    if (this.gone) return;
    this.gone = reason;
    this.channel.stop();
    this.port.close();
    this.snapshots.close();
    void this.worker.terminate();
    const who = culprit === undefined ? undefined : this.tenants.get(culprit)?.plugin;
    const tenants = [...this.tenants];
    this.tenants.clear();
    this.onGone(this);
    for (const [id, t] of tenants) t.workerLost(id === culprit || who === undefined ? reason : `its co-tenant ${who} stopped it: ${reason}`, id === culprit);
  }

  /** Await the worker's exit (tests, dispose). */
  async terminated(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Post a tenant to its worker; runtimes that cannot post compiled modules let the worker compile them. */
function postTenant(port: MessagePort, init: TenantInit): void {
  try {
    port.postMessage(init);
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'DataCloneError') throw err;
    port.postMessage({ ...init, modules: undefined });
  }
}

/** The workers of one loader: houses with room for tenants, and spares. */
export class WorkerPool {
  readonly spares: Spares;
  private readonly houses: WorkerHouse[] = [];
  private readonly tenantsPerWorker: number;
  /** Plugins that once stopped a worker they shared: each gets a worker of its own. */
  private readonly alone = new Set<string>();

  constructor(options: { spares: boolean; tenantsPerWorker: number }) {
    this.tenantsPerWorker = Math.max(1, options.tenantsPerWorker);
    this.spares = new Spares(options.spares, (expected, afterLoad) => this.sparesWanted(expected, afterLoad));
  }

  /** Live workers and their tenants, for tests and benchmarks. */
  get workers(): { tenants: number; solo: boolean }[] {
    return this.houses.map((h) => ({ tenants: h.tenantCount, solo: h.solo }));
  }

  /** Place a plugin in a worker with room (one of its own when it must be alone) and instantiate it there. */
  async admit(tenancy: Tenancy, init: TenantInit, timeoutMs: number, serveHost: (request: Uint8Array) => Uint8Array): Promise<Admission> {
    const solo = this.alone.has(tenancy.plugin) || this.tenantsPerWorker === 1 || tenancy.callsOthers;
    let house = solo ? undefined : this.houses.find((h) => !h.solo && h.room > 0);
    if (house) this.spares.forget(tenancy.plugin);
    else {
      house = new WorkerHouse(this.spares.take(tenancy.plugin), solo ? 1 : this.tenantsPerWorker, (gone) => this.remove(gone));
      this.houses.push(house);
    }
    try {
      return await house.admit(tenancy, init, timeoutMs, serveHost);
    } finally {
      this.spares.loaded();
    }
  }

  /** The plugin stopped a worker (its ceiling, a kill): from its next load on, it runs alone. */
  blame(plugin: string): void {
    this.alone.add(plugin);
  }

  private remove(house: WorkerHouse): void {
    const i = this.houses.indexOf(house);
    if (i >= 0) this.houses.splice(i, 1);
    this.spares.adjust();
  }

  /** New workers the expected loads will need, or one for the next load when every worker is full. */
  private sparesWanted(expected: number, afterLoad: boolean): number {
    let room = 0;
    for (const h of this.houses) if (!h.solo) room += h.room;
    const fresh = Math.ceil(Math.max(0, expected - room) / this.tenantsPerWorker);
    return Math.min(MAX_SPARES, fresh || (afterLoad && room === 0 ? 1 : 0));
  }
}

/**
 * Workers booted ahead of loads: starting a worker (an isolate, Node's bootstrap, the worker's
 * modules) is most of a load's time. Plugins that were registered and will load soon (`expect`,
 * from the host's `prepare`) get the workers they will need, booted one at a time so that the
 * boots (a core each for a moment) keep out of the first index's way; after a load, one spare
 * stays booted when no worker has room for the next. A plugin that will not load after all
 * (`forget`) gives its worker back. Spares do not keep the process alive.
 */
export class Spares {
  private readonly ready: Worker[] = [];
  private booting: Worker | undefined;
  /** Plugins expected to load. */
  private readonly expected = new Set<string>();
  /** A load happened: keep a spare for the next one when it would need a new worker. */
  private afterLoad = false;
  private readonly enabled: boolean;
  private readonly wanted: (expected: number, afterLoad: boolean) => number;

  constructor(enabled: boolean, wanted: (expected: number, afterLoad: boolean) => number) {
    this.enabled = enabled;
    this.wanted = wanted;
  }

  /** Booted and booting spares. */
  get count(): number {
    return this.ready.length + (this.booting ? 1 : 0);
  }

  /** Booted spares, waiting for a load. */
  get booted(): number {
    return this.ready.length;
  }

  /** `plugin` will load soon: boot what it will need, after those already booting. */
  expect(plugin: string): void {
    if (!this.enabled || this.expected.has(plugin)) return;
    this.expected.add(plugin);
    this.adjust();
  }

  /** `plugin` will not load after all (or found room in a running worker). */
  forget(plugin: string): void {
    if (this.expected.delete(plugin)) this.adjust();
  }

  /** A worker for a new house: a booted one when there is one. */
  take(plugin: string): Worker {
    this.expected.delete(plugin);
    // one still booting is further along than a new one
    const worker = this.ready.shift() ?? this.booting ?? boot();
    if (worker === this.booting) this.booting = undefined;
    worker.ref();
    return worker;
  }

  /** After a load: get ready for the next one. */
  loaded(): void {
    if (!this.enabled) return;
    this.afterLoad = true;
    this.adjust();
  }

  /** Terminate booted spares beyond what is wanted, or boot the next one (one boot at a time). */
  adjust(): void {
    const wanted = this.enabled ? this.wanted(this.expected.size, this.afterLoad) : 0;
    while (this.count > wanted && this.ready.length) void this.ready.pop()!.terminate();
    if (this.booting || this.count >= wanted) return;
    const worker = boot();
    worker.unref();
    this.booting = worker;
    worker.once('online', () => {
      if (this.booting !== worker) return;
      this.booting = undefined;
      this.ready.push(worker);
      this.adjust();
    });
    worker.once('error', () => undefined);
    // a spare that dies on its own is not replaced (a worker that cannot boot would boot forever): the next load boots one
    worker.once('exit', () => {
      const i = this.ready.indexOf(worker);
      if (i >= 0) this.ready.splice(i, 1);
      if (this.booting === worker) this.booting = undefined;
    });
  }
}

function boot(): Worker {
  return trackBoot(new Worker(workerEntry(), { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } }));
}

