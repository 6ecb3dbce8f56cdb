// A WebAssembly plugin's worker thread: instantiates the component with the imports its plan
// allows, then serves calls from the channel until told to stop (or terminated). Graph imports
// read the daemon's CSR snapshot through its SharedArrayBuffer; source text is asked of the
// daemon's thread, which holds the only authority over what is indexed. The worker itself has
// no filesystem access to give: the component gets nothing but its imports.
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { IsgError } from '../../errors.ts';
import { fromTransfer, type CsrSnapshot, type CsrTransfer } from '../../graph/csr.ts';
import type { IdUpdate } from '../update-ids.ts';
import { executeParts, FLAG_SNAPSHOT, fromJson, fromUtf8, HostCall, hostCallParts, Kind, optionalBytes, parseExecute, parseHostReply, parseQueryHook, Status, toJson, utf8, WorkerChannel } from './channel.ts';
import { graphImports } from './graph-imports.ts';
import { buildImports, type ImportPlan, type LogLevel } from './host-imports.ts';
import { ComponentInstance, compileCore, type CoreModules, type Outcome } from './instance.ts';
import type { TranspiledComponent } from './transpile.ts';

export interface WorkerInit {
  plugin: string;
  component: TranspiledComponent;
  /** Compiled in the daemon's thread and shared; undefined where modules cannot be posted. */
  modules?: CoreModules;
  plan: ImportPlan;
  config: Uint8Array;
  sab: SharedArrayBuffer;
  port: MessagePort;
  csr?: CsrTransfer;
}

/** What the worker posts once, when it is ready to serve or could not start. */
export type WorkerHello = { type: 'ready'; memoryBytes: number } | { type: 'error'; code: IsgError['code']; message: string };

/** Log lines a call may leave for the daemon's log, at most. */
const MAX_LOG_LINES = 64;
const MAX_LOG_CHARS = 2000;

async function main(init: WorkerInit): Promise<void> {
  const channel = new WorkerChannel(init.sab);
  const hostCall = (kind: (typeof HostCall)[keyof typeof HostCall], ...payload: Uint8Array[]): Uint8Array => {
    const reply = parseHostReply(channel.hostCall(...hostCallParts(kind, ...payload)));
    if (reply.ok) return reply.value;
    throw new IsgError(reply.code as IsgError['code'], reply.message);
  };
  let csr: CsrSnapshot | undefined = init.csr && fromTransfer(init.csr);
  let logs: [LogLevel, string][] = [];
  const log = (level: LogLevel, message: string) => {
    if (logs.length < MAX_LOG_LINES) logs.push([level, message.length > MAX_LOG_CHARS ? `${message.slice(0, MAX_LOG_CHARS)}…` : message]);
  };
  const imports = buildImports(init.plan, {
    plugin: init.plugin,
    graph: () =>
      graphImports(() => {
        if (!csr) throw new IsgError('internal', `plugin ${init.plugin}: no graph snapshot reached its worker`);
        return csr;
      }),
    readSource: (file) => fromUtf8(hostCall(HostCall.Read, utf8(file))),
    call: (op, args) => hostCall(HostCall.Call, ...executeParts(op, args)),
    config: init.config,
    log,
  });

  let instance: ComponentInstance;
  try {
    const modules = init.modules ?? (await compileCore(init.component));
    instance = await ComponentInstance.create(init.plugin, init.component, modules, imports, (message) => log('warn', message));
  } catch (err) {
    const e = err instanceof IsgError ? err : new IsgError('plugin-error', `plugin ${init.plugin} could not be instantiated: ${err instanceof Error ? err.message : String(err)}`);
    parentPort!.postMessage({ type: 'error', code: e.code, message: e.message } satisfies WorkerHello);
    return;
  }
  parentPort!.postMessage({ type: 'ready', memoryBytes: instance.memoryBytes() } satisfies WorkerHello);

  for (;;) {
    const request = channel.next();
    if (request.kind === Kind.Stop) break;
    let outcome: Outcome<Uint8Array | undefined>;
    try {
      if (request.flags & FLAG_SNAPSHOT) csr = fromTransfer(receiveSnapshot(init.port));
      outcome = serve(instance, request.kind, request.payload);
    } catch (err) {
      outcome = { ok: false, code: 'internal', message: `plugin ${init.plugin}'s worker failed: ${err instanceof Error ? err.message : String(err)}`, trapped: false };
    }
    const tail = logs.length ? toJson(logs) : undefined;
    logs = [];
    const memory = instance.memoryBytes();
    const sent = outcome.ok
      ? channel.answer(Status.Ok, outcome.value ?? EMPTY, tail, memory)
      : channel.answer(Status.Error, toJson({ code: outcome.code, message: outcome.message, trapped: outcome.trapped }), tail, memory);
    if (!sent) channel.answer(Status.Error, toJson({ code: 'plugin-error', message: `plugin ${init.plugin} answered with more than the largest frame allows`, trapped: false }), undefined, memory);
  }
  init.port.close();
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

/** The snapshot posted just before the request that flagged it. */
function receiveSnapshot(port: MessagePort): CsrTransfer {
  // Delivery to the port is immediate in Node; give other runtimes a moment before giving up.
  const until = performance.now() + 1000;
  do {
    const got = receiveMessageOnPort(port);
    if (got) return got.message as CsrTransfer;
  } while (performance.now() < until);
  throw new IsgError('internal', 'a graph snapshot was announced to a plugin worker but never arrived');
}

// Booted ahead of need (its modules load meanwhile), then given its plugin.
parentPort!.once('message', (init: WorkerInit) => void main(init));
