// The plugin boundary: what a plugin declares (its manifest), what it is given (its context,
// holding only the capabilities granted to it), and what every tier's loader hands back to the
// plugin host (a PluginRuntime). Versioned like the wire protocol: the core queries, the
// native addons and the WebAssembly components all come through here.
import type { UpdateEvent } from '../../client/protocol.ts';
import type { CsrSnapshot } from '../graph/csr.ts';
import type { GraphView } from '../queries/graph-view.ts';

export const PLUGIN_API_VERSION = 1;

export const TIERS = ['wasm', 'native', 'builtin'] as const;
export type Tier = (typeof TIERS)[number];

export const ISOLATIONS = ['inline', 'worker', 'process'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** Everything a plugin can be granted. Nothing else exists: no filesystem, network or clock. */
export const CAPABILITIES = ['graph:read', 'source:read'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const HOOKS = ['onUpdate', 'beforeQuery', 'afterQuery'] as const;
export type Hook = (typeof HOOKS)[number];

export interface Budget {
  /** p99 of query calls (ops, beforeQuery, afterQuery) over the sliding window, µs. */
  queryP99Us: number;
  /** p99 of onUpdate calls over the sliding window, µs. */
  updateP99Us: number;
  /** Memory the plugin may hold (WASM linear memory, worker heap), MB. */
  memoryMb: number;
  /** No single call may take longer than this, ms. */
  ceilingMs: number;
}

export const DEFAULT_BUDGET: Budget = { queryP99Us: 1000, updateP99Us: 12000, memoryMb: 5, ceilingMs: 50 };

export interface OpDeclaration {
  /** Called over the wire as `<plugin>/<name>` (the `core` plugin's ops have no prefix). */
  name: string;
  summary?: string;
}

/** `isg-plugin.json`, validated (daemon/plugins/manifest.ts) and with defaults filled in. */
export interface PluginManifest {
  name: string;
  version: string;
  tier: Tier;
  /** Path of the artifact relative to the manifest: a .wasm component, a .node addon, a JS module. */
  entry: string;
  ops: OpDeclaration[];
  hooks: Hook[];
  capabilities: Capability[];
  budget: Budget;
  isolation: Isolation;
  /** Plugins that load first and whose ops this one may call through `ctx.call`. */
  dependencies: string[];
  /** Load on the first call to one of its ops instead of at start-up. */
  lazy: boolean;
}

/** A query passing through `beforeQuery`/`afterQuery` middleware. */
export interface QueryHookInput {
  op: string;
  args: unknown;
  generation: number;
}

/** What `beforeQuery` may decide: answer the query itself (a cache hit), or let it run. */
export type BeforeQueryDecision = { respond: unknown } | undefined | void;

/** Read access to the graph: only present when `graph:read` is granted. */
export interface GraphCapability {
  /** The in-process view of the current generation (built-in plugins). */
  view(): GraphView;
  /**
   * The current generation as CSR typed arrays on a SharedArrayBuffer (native and WASM tiers),
   * built on the first call of a generation: ask for it when about to read the graph, not
   * before. The host does not charge the build to the plugin.
   */
  csr(): CsrSnapshot;
}

/** Read access to indexed source files: only present when `source:read` is granted. */
export interface SourceCapability {
  /** The text of an indexed file (path relative to the root); not-found for anything else. */
  read(file: string): string;
}

export interface PluginLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * What a plugin is given. A capability that was not granted is a stub whose every method
 * throws a `capability-denied` error naming it: never silently available, never undefined.
 */
export interface PluginContext {
  readonly name: string;
  readonly root: string;
  readonly granted: readonly Capability[];
  /** The plugin's own settings from isg.config.json; undefined when it has none. */
  readonly config?: unknown;
  readonly graph: GraphCapability;
  readonly source: SourceCapability;
  /** Call an op of a plugin listed in `dependencies` (its time counts against this plugin too). */
  call(op: string, args: unknown): Promise<unknown>;
  /**
   * The same for a caller that cannot wait (a WebAssembly component's host.call runs inside a
   * synchronous call): the op must answer at once. One that would answer later (its plugin is
   * loading or on probation, in process isolation, or an async op) fails with
   * plugin-unavailable; one of this plugin's own with capability-denied (a component cannot be
   * entered again while it runs). Not passed through beforeQuery/afterQuery middleware, which may
   * answer later.
   */
  callNow(op: string, args: unknown): unknown;
  readonly log: PluginLogger;
}

/**
 * What a tier's loader returns for one loaded plugin. Calls may answer synchronously (the
 * host's fast path) or with a promise (worker and process isolation).
 */
export interface PluginRuntime {
  /**
   * The time the last `onUpdate` spent in the plugin itself, ms, for a runtime that can tell it
   * from the time the host waited (a worker's hook waits for co-tenants' requests and for the
   * daemon's thread to serve it): what the host charges the hook instead of its wall time.
   * Undefined when it cannot tell, or the hook got no answer.
   */
  readonly updateSpentMs?: number;
  /**
   * The same for the query call (an op or a query hook) that just returned synchronously: a
   * worker's own time, the daemon's for its host calls and for decoding the answer, without the
   * wake-ups that carry the call across threads. Read by the host right after the call returns,
   * before anything else can call the runtime. Undefined when it cannot tell (inline runtimes,
   * whose wall time is their own).
   */
  readonly querySpentMs?: number;
  /**
   * For a call answered with a promise: its own time once it settled (a process-isolated
   * child's, without the pipe and the wake-ups of two processes), looked up by that promise.
   */
  spentOn?(answer: Promise<unknown>): number | undefined;
  /** Every call answers with a promise (process isolation): `callNow` refuses it before calling. */
  readonly answersLater?: boolean;
  /**
   * A promise when the runtime cannot take a call now (a worker it shares is busy with another
   * plugin's work, or it is starting again in another worker): the host waits for it before a
   * call's clock starts, as that wait is not the plugin's time. Undefined when a call can go.
   */
  waitTurn?(): Promise<void> | undefined;
  call(op: string, args: unknown): unknown;
  onUpdate?(update: UpdateEvent): unknown;
  beforeQuery?(input: QueryHookInput): BeforeQueryDecision | Promise<BeforeQueryDecision>;
  afterQuery?(input: QueryHookInput, result: unknown): unknown;
  /** Memory the plugin holds now, bytes (checked against the budget after each call). */
  memoryBytes?(): number;
  /** Stop at once (terminate a worker, kill a process): a call passed the hard ceiling. */
  kill?(): void;
  /** Release everything on unload. */
  dispose(): void | Promise<void>;
}

export interface TierLoader {
  readonly tier: Tier;
  /**
   * The file `load` would load, when it is not simply `manifest.entry` (native addons carry a
   * platform suffix): the one whose trust is checked. Throws plugin-unavailable when absent.
   */
  artifact?(manifest: PluginManifest, dir: string): string;
  /**
   * A plugin that is not lazy was registered: its load follows soon (once the first index is
   * done). The loader may get ready meanwhile (boot a worker), in the background and without
   * failing: a problem is `load`'s to report.
   */
  prepare?(manifest: PluginManifest, dir: string): void;
  /** A prepared plugin will not be loaded after all (removed, unloaded or failed first): release what `prepare` readied. */
  forget?(manifest: PluginManifest): void;
  /** `dir` is the directory holding the manifest; `manifest.entry` is relative to it. */
  load(manifest: PluginManifest, dir: string, ctx: PluginContext): Promise<PluginRuntime>;
}

/** A built-in (TypeScript) plugin: its manifest and how to start it. */
export interface BuiltinPlugin {
  manifest: Omit<Partial<PluginManifest>, 'name' | 'version' | 'ops'> & Pick<PluginManifest, 'name' | 'version' | 'ops'>;
  activate(ctx: PluginContext): BuiltinInstance | Promise<BuiltinInstance>;
}

export interface BuiltinInstance {
  ops: Record<string, (args: unknown) => unknown>;
  onUpdate?(update: UpdateEvent): unknown;
  beforeQuery?(input: QueryHookInput): BeforeQueryDecision | Promise<BeforeQueryDecision>;
  afterQuery?(input: QueryHookInput, result: unknown): unknown;
  deactivate?(): void | Promise<void>;
}
