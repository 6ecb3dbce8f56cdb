// A worker thread hosting WebAssembly plugins (one or several: its tenants): instantiates each
// component, when told to, with the imports its plan allows, and serves calls from the channel
// until told to stop (or terminated). Tenants share the thread and its JS heap, never an
// instance or an import: a component reaches only what its own imports give it. Graph imports
// read the daemon's CSR snapshot through its SharedArrayBuffer, asked for (per tenant) on a
// request's first graph read when the tenant's is of another generation than the one the request
// carries, so a request that reads no graph costs no snapshot; source text is asked of the
// daemon's thread, which holds the only authority over what is indexed. The worker itself has
// no filesystem access to give: the component gets nothing but its imports. Each answer carries
// the worker's own time for the request (its thread's CPU time where the thread-clock addon is
// built), its waits for the daemon's thread left out: that is what the call is charged.
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { IsgError } from '../../errors.ts';
import { fromTransfer, type CsrSnapshot, type CsrTransfer } from '../../graph/csr.ts';
import type { IdUpdate } from '../update-ids.ts';
import { executeParts, fromJson, fromUtf8, HostCall, hostCallParts, Kind, optionalBytes, parseExecute, parseHostReply, parseQueryHook, Status, toJson, utf8, WorkerChannel } from './channel.ts';
import { graphImports } from './graph-imports.ts';
import { buildImports, type ImportPlan, type LogLevel } from './host-imports.ts';
import { ComponentInstance, compileCore, type CoreModules, type Outcome } from './instance.ts';
import type { TranspiledComponent } from './transpile.ts';
import { chargeClock, loadThreadClock } from '../../util/thread-clock.ts';

/** The first message a worker gets: its channel, the port that carries tenants, and the one that carries snapshots. */
export interface WorkerInit {
  sab: SharedArrayBuffer;
  port: MessagePort;
  /** Graph snapshots, each posted during the HostCall.Snapshot that asked for it (a port of its own: tenants may wait in `port`). */
  snapshots: MessagePort;
}

/** One plugin for the worker to host: posted to its port just before the AddTenant request naming it. */
export interface TenantInit {
  plugin: string;
  component: TranspiledComponent;
  /** Compiled in the daemon's thread and shared; undefined where modules cannot be posted. */
  modules?: CoreModules;
  plan: ImportPlan;
  config: Uint8Array;
}

/** The answer to AddTenant, as JSON: the instance's memory, or why it could not start. */
export type TenantHello = { type: 'ready'; memoryBytes: number } | { type: 'error'; code: IsgError['code']; message: string };

/** Log lines a call may leave for the daemon's log, at most. */
const MAX_LOG_LINES = 64;
const MAX_LOG_CHARS = 2000;

interface Tenant {
  plugin: string;
  instance: ComponentInstance;
  csr: CsrSnapshot | undefined;
}

/**
 * What a call is charged by: this thread's CPU time where isg's thread-clock addon loads, as a
 * call's wall time on a busy machine is mostly waiting for a core (util/thread-clock.ts); else
 * wall time.
 */
const threadClock = loadThreadClock();
const clock = chargeClock();

async function main(init: WorkerInit): Promise<void> {
  const channel = new WorkerChannel(init.sab);
  const clockId = threadClock?.clockId();
  if (clockId !== undefined) channel.announceClock(clockId);
  /** Time (by `clock`) the current request spent on the host's part: waiting for the daemon's thread, taking a snapshot in, ms. */
  let waitedMs = 0;
  const hostCall = (kind: (typeof HostCall)[keyof typeof HostCall], ...payload: Uint8Array[]): Uint8Array => {
    const t0 = clock();
    try {
      const reply = parseHostReply(channel.hostCall(...hostCallParts(kind, ...payload)));
      if (reply.ok) return reply.value;
      throw new IsgError(reply.code as IsgError['code'], reply.message);
    } finally {
      waitedMs += clock() - t0;
    }
  };
  const tenants = new Map<number, Tenant>();
  /** The current request: its tenant, the generation it is answered at, whether it read the graph yet. */
  let current = { tenant: 0, generation: -1, checked: false };
  /** The tenant's snapshot, asked of the daemon on the request's first graph read when it is of another generation. */
  const snapshot = (id: number, tenant: Tenant): CsrSnapshot => {
    if (current.tenant === id && !current.checked) {
      current.checked = true;
      if (tenant.csr?.generation !== current.generation) {
        // asking, building and receiving it are the host's part: all left out of the tenant's time
        const before = waitedMs;
        const t0 = clock();
        try {
          const ask = new Uint8Array(12);
          const view = new DataView(ask.buffer);
          view.setUint32(0, id, true);
          view.setFloat64(4, tenant.csr?.generation ?? -1, true);
          if (hostCall(HostCall.Snapshot, ask)[0] === 1) tenant.csr = fromTransfer(latest(init.snapshots, receiveMessage<CsrTransfer>(init.snapshots, 'a graph snapshot')));
        } finally {
          waitedMs = before + (clock() - t0);
        }
      }
    }
    if (!tenant.csr) throw new IsgError('internal', `plugin ${tenant.plugin}: no graph snapshot reached its worker`);
    return tenant.csr;
  };
  // One call runs at a time, whichever tenant it is for: its log lines go with its answer.
  let logs: [LogLevel, string][] = [];
  const log = (level: LogLevel, message: string) => {
    if (logs.length < MAX_LOG_LINES) logs.push([level, message.length > MAX_LOG_CHARS ? `${message.slice(0, MAX_LOG_CHARS)}…` : message]);
  };

  async function addTenant(id: number, t: TenantInit): Promise<TenantHello> {
    const tenant: Tenant = { plugin: t.plugin, instance: undefined as unknown as ComponentInstance, csr: undefined };
    const imports = buildImports(t.plan, {
      plugin: t.plugin,
      graph: () => graphImports(() => snapshot(id, tenant)),
      readSource: (file) => fromUtf8(hostCall(HostCall.Read, utf8(file))),
      call: (op, args) => hostCall(HostCall.Call, ...executeParts(op, args)),
      config: t.config,
      log,
    });
    try {
      const modules = t.modules ?? (await compileCore(t.component));
      // answers are lifted straight into the channel, where they are answered from
      tenant.instance = await ComponentInstance.create(t.plugin, t.component, modules, imports, (message) => log('warn', message), (view) => channel.stage(view));
    } catch (err) {
      const e = err instanceof IsgError ? err : new IsgError('plugin-error', `plugin ${t.plugin} could not be instantiated: ${err instanceof Error ? err.message : String(err)}`);
      return { type: 'error', code: e.code, message: e.message };
    }
    tenants.set(id, tenant);
    return { type: 'ready', memoryBytes: tenant.instance.memoryBytes() };
  }

  for (;;) {
    const request = channel.next();
    if (request.kind === Kind.Stop) break;
    if (request.kind === Kind.AddTenant) {
      current = { tenant: request.tenant, generation: request.generation, checked: false };
      const hello = await addTenant(request.tenant, receiveMessage<TenantInit>(init.port, 'a plugin'));
      const tail = logs.length ? toJson(logs) : undefined;
      logs = [];
      channel.answer(request.tenant, Status.Ok, toJson(hello), tail, hello.type === 'ready' ? hello.memoryBytes : 0);
      continue;
    }
    if (request.kind === Kind.DropTenant) {
      tenants.delete(request.tenant);
      channel.answer(request.tenant, Status.Ok, EMPTY, undefined, 0);
      continue;
    }
    const tenant = tenants.get(request.tenant);
    const t0 = clock();
    channel.takenUp(t0);
    waitedMs = 0;
    current = { tenant: request.tenant, generation: request.generation, checked: false };
    let outcome: Outcome<Uint8Array | undefined>;
    try {
      if (!tenant) throw new Error(`no plugin is tenant ${request.tenant} of this worker`);
      outcome = serve(tenant.instance, request.kind, request.payload);
    } catch (err) {
      outcome = { ok: false, code: 'internal', message: `plugin ${tenant?.plugin ?? `#${request.tenant}`}'s worker failed: ${err instanceof Error ? err.message : String(err)}`, trapped: false };
    }
    const tail = logs.length ? toJson(logs) : undefined;
    logs = [];
    const memory = tenant?.instance.memoryBytes() ?? 0;
    const spentMs = Math.max(0, clock() - t0 - waitedMs);
    const sent = outcome.ok
      ? channel.answer(request.tenant, Status.Ok, outcome.value ?? EMPTY, tail, memory, spentMs)
      : channel.answer(request.tenant, Status.Error, toJson({ code: outcome.code, message: outcome.message, trapped: outcome.trapped }), tail, memory, spentMs);
    if (!sent) channel.answer(request.tenant, Status.Error, toJson({ code: 'plugin-error', message: `plugin ${tenant!.plugin} answered with more than the largest frame allows`, trapped: false }), undefined, memory, spentMs);
  }
  init.port.close();
  init.snapshots.close();
}

const EMPTY = new Uint8Array(0);

function serve(instance: ComponentInstance, kind: Kind, payload: Uint8Array): Outcome<Uint8Array | undefined> {
  switch (kind) {
    case Kind.Execute: {
      const { op, args } = parseExecute(payload);
      return instance.execute(op, args);
    }
    case Kind.Update: {
      const [generation, files, added, changed, removed] = fromJson(payload) as [number, string[], number[], number[], string[]];
      const update: IdUpdate = { generation, files, added: Uint32Array.from(added), changed: Uint32Array.from(changed), removed };
      return instance.onUpdate(update);
    }
    case Kind.BeforeQuery: {
      const q = parseQueryHook(payload, false);
      const outcome = instance.beforeQuery(q.op, q.args, q.generation);
      return outcome.ok ? { ok: true, value: optionalBytes(outcome.value) } : outcome;
    }
    case Kind.AfterQuery: {
      const q = parseQueryHook(payload, true);
      return instance.afterQuery(q.op, q.args, q.answer, q.generation);
    }
    default:
      throw new Error(`unknown request kind ${kind}`);
  }
}

/** What was posted to a port just before the request or host call reply that needs it (a tenant, a snapshot). */
function receiveMessage<T>(port: MessagePort, what: string): T {
  // Delivery to the port is immediate in Node; give other runtimes a moment before giving up.
  const until = performance.now() + 1000;
  do {
    const got = receiveMessageOnPort(port);
    if (got) return got.message as T;
  } while (performance.now() < until);
  throw new IsgError('internal', `${what} was announced to a plugin worker but never arrived`);
}

/** The last message waiting in `port`, or `got` when none is: should an earlier snapshot have been left unread, the latest wins. */
function latest<T>(port: MessagePort, got: T): T {
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) got = next.message as T;
  return got;
}

// Booted ahead of need (its modules load meanwhile), then given its channel.
parentPort!.once('message', (init: WorkerInit) => void main(init));
