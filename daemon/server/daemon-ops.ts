// The ops the daemon answers itself (everything else goes to the plugin host): the handshake,
// status, batches, subscriptions, plugin management and shutdown.
import type { BatchResult, DaemonEvent, HelloResult, PluginsResult, StatusResult, SubscribeResult } from '../../client/protocol.ts';
import { EVENT_TYPES, PROTOCOL_VERSION } from '../../client/protocol.ts';
import { IsgError, toWireError } from '../errors.ts';
import { asArgs, optionalInt, optionalString, requiredString } from '../queries/args.ts';
import type { Caller } from './connection.ts';
import { ISG_VERSION, RUNTIME } from '../util/runtime.ts';
import type { Daemon } from './daemon.ts';

type DaemonOp = (daemon: Daemon, args: unknown, conn: Caller, requestId: number) => unknown;

/** Ops a batch may not contain: they act on the connection or the daemon, not on the graph. */
const NOT_IN_BATCH = new Set(['batch', 'hello', 'subscribe', 'unsubscribe', 'shutdown']);
const MAX_BATCH = 10_000;

export const DAEMON_OPS: Record<string, DaemonOp> = {
  hello(daemon, rawArgs, conn): HelloResult {
    const args = asArgs(rawArgs);
    if (!conn.authenticated) {
      if (!daemon.checkToken(args.token)) throw new IsgError('unauthorized', 'wrong or missing token: TCP clients must send {op: "hello", args: {token}} with the contents of <root>/.isg/token');
      conn.authenticated = true;
    }
    const protocol = args.protocol === undefined ? PROTOCOL_VERSION : optionalInt(args, 'protocol', PROTOCOL_VERSION, 0, 1000);
    if (protocol !== PROTOCOL_VERSION) throw new IsgError('bad-args', `this daemon speaks protocol ${PROTOCOL_VERSION}, the client ${protocol}; upgrade the older of the two`);
    return {
      protocol: PROTOCOL_VERSION,
      daemon: { version: ISG_VERSION, pid: process.pid, runtime: RUNTIME, root: daemon.root },
      ops: [...Object.keys(DAEMON_OPS), ...daemon.plugins.ops()].sort(),
      capabilities: ['pipelining', 'batch', 'subscribe', ...(daemon.endpoints.tcp ? ['tcp'] : []), ...(daemon.endpoints.http ? ['http'] : [])],
      limits: { maxFrameBytes: daemon.config.maxFrameBytes, maxConnections: daemon.config.maxConnections, maxQueuedBytes: daemon.config.maxQueuedBytes },
    };
  },

  status(daemon): StatusResult {
    const graph = daemon.graph;
    return {
      state: daemon.state,
      root: daemon.root,
      pid: process.pid,
      runtime: RUNTIME,
      generation: daemon.generation(),
      uptimeMs: Date.now() - daemon.startedAt,
      progress: { ...daemon.progress },
      endpoints: { ...daemon.endpoints },
      connections: daemon.connections.size,
      ...(daemon.http ? { httpStreams: daemon.http.streams } : {}),
      files: graph ? graph.fileStats().files : 0,
      entities: graph ? graph.store.entityCount : 0,
      watching: daemon.watching,
      pendingChanges: daemon.pendingChanges,
      ...(daemon.snapshot ? { snapshot: { ...daemon.snapshot } } : {}),
      plugins: daemon.plugins.activeCount(),
      config: { ...daemon.configStatus, pendingRestart: [...daemon.configStatus.pendingRestart] },
    };
  },

  batch(daemon, rawArgs, conn, requestId): BatchResult | Promise<BatchResult> {
    const args = asArgs(rawArgs);
    const requests = args.requests;
    if (!Array.isArray(requests)) throw new IsgError('bad-args', 'argument "requests" must be a list of {op, args}');
    if (requests.length > MAX_BATCH) throw new IsgError('bad-args', `a batch holds at most ${MAX_BATCH} requests, got ${requests.length}`);
    // Every request is started before any is awaited: the synchronous ones (the core queries)
    // all see the same generation.
    const results = requests.map((r: unknown, i: number): unknown => {
      try {
        if (r === null || typeof r !== 'object' || typeof (r as { op?: unknown }).op !== 'string') throw new IsgError('bad-args', `requests[${i}] must be {op: string, args?: any}`);
        const { op, args: a } = r as { op: string; args?: unknown };
        if (NOT_IN_BATCH.has(op)) throw new IsgError('bad-args', `requests[${i}]: "${op}" cannot be batched`);
        return daemon.handle({ id: requestId, op, args: a }, conn);
      } catch (err) {
        // one failing request fails its own entry, never the batch
        return Promise.reject(err);
      }
    });
    const settle = (v: unknown) => ({ ok: true as const, result: v });
    const fail = (err: unknown) => ({ ok: false as const, error: toWireError(err) });
    if (!results.some((r) => r instanceof Promise)) return results.map(settle);
    return Promise.all(results.map((r) => Promise.resolve(r).then(settle, fail)));
  },

  subscribe(daemon, rawArgs, conn, requestId): SubscribeResult {
    const args = asArgs(rawArgs);
    const events = args.events === undefined ? [...EVENT_TYPES] : args.events;
    if (!Array.isArray(events) || !events.every((e) => EVENT_TYPES.includes(e))) throw new IsgError('bad-args', `argument "events" must be a list of ${EVENT_TYPES.join(', ')}`);
    const since = optionalString(args, 'since');
    const wanted = new Set<DaemonEvent['type']>(events);
    conn.subscriptions.set(requestId, wanted);
    const result: SubscribeResult = { subscribed: events, lastId: daemon.events.lastId };
    // The answer leaves before any event published after it, so what it carries comes first.
    return since === undefined ? result : { ...result, ...daemon.events.after(since, wanted) };
  },

  unsubscribe(_daemon, rawArgs, conn) {
    const sub = optionalInt(asArgs(rawArgs), 'sub', -1, 0, Number.MAX_SAFE_INTEGER);
    if (sub < 0) throw new IsgError('bad-args', 'missing argument "sub" (the id of the subscribe request)');
    return { unsubscribed: conn.subscriptions.delete(sub) };
  },

  plugins(daemon): PluginsResult {
    return { plugins: daemon.plugins.list() };
  },

  async 'plugins.load'(daemon, rawArgs) {
    const args = asArgs(rawArgs);
    if (typeof args.path === 'string') return daemon.plugins.info(await daemon.loadPluginFrom(args.path));
    const name = requiredString(args, 'name');
    await daemon.plugins.load(name);
    return daemon.plugins.info(name);
  },

  async 'plugins.unload'(daemon, rawArgs) {
    const name = requiredString(asArgs(rawArgs), 'name');
    await daemon.plugins.unload(name);
    return daemon.plugins.info(name);
  },

  async 'plugins.reload'(daemon, rawArgs) {
    const name = requiredString(asArgs(rawArgs), 'name');
    await daemon.plugins.reload(name);
    return daemon.plugins.info(name);
  },

  shutdown(daemon) {
    // Answer first: the stop waits for in-flight requests, this one included.
    setImmediate(() => void daemon.stop().then(() => daemon.onStopped?.()));
    return { stopping: true };
  },
};
