// The wire contract between the daemon and its clients (PROTOCOL.md explains it in prose).
// This module is an API boundary: the daemon imports it, it imports nothing from the daemon,
// and a change to it is a change to PROTOCOL_VERSION. Types only, plus a few constants: it
// runs unchanged on Node and Deno.

/** Bumped on any incompatible change to framing, envelopes or an op's arguments or result. */
export const PROTOCOL_VERSION = 1;

/** Frames are a 4-byte big-endian body length, then a msgpack body of that many bytes. */
export const FRAME_HEADER_BYTES = 4;
/** Default largest body the daemon accepts (configurable with `maxFrameBytes`). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

// ---- vocabulary -----------------------------------------------------------------------

export const ENTITY_KINDS = ['module', 'namespace', 'class', 'interface', 'type', 'enum', 'function', 'method', 'constructor', 'property', 'variable'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export const EDGE_KINDS = ['contains', 'extends', 'implements', 'calls', 'uses-type', 'imports', 're-exports'] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

/** How an edge was obtained: through scopes, imports and declared types, or by name matching only. */
export type Resolution = 'resolved' | 'inferred';

export type Severity = 'error' | 'warning' | 'info';

/** A problem found while reading or parsing a file, or while running the daemon. */
export interface Diagnostic {
  /** Path relative to the root, posix separators; '' for problems not tied to one file. */
  file: string;
  severity: Severity;
  /** Stable machine-readable code, e.g. 'binary-file', 'syntax-error', 'too-large'. */
  code: string;
  message: string;
  line?: number;
  column?: number;
}

// ---- envelopes ------------------------------------------------------------------------

export interface Request<A = unknown> {
  /** Chosen by the client, echoed in the response; responses may come out of order. */
  id: number;
  op: string;
  args?: A;
}

export interface OkResponse<R = unknown> {
  id: number;
  ok: true;
  result: R;
  /** The graph generation the answer was computed at. */
  gen: number;
  /** Set while the first index runs: the answer covers only what is indexed so far. */
  partial?: boolean;
}

export interface ErrorResponse {
  /** The request's id, or 0 when the request could not be read at all. */
  id: number;
  ok: false;
  error: WireError;
}

export type Response<R = unknown> = OkResponse<R> | ErrorResponse;

/**
 * A message the daemon pushes to a subscribed connection; `sub` is the subscribe request's id,
 * `id` the event's id (`<epoch>-<n>`), which `subscribe`'s `since` takes to resume after it.
 */
export interface EventFrame {
  sub: number;
  event: DaemonEvent;
  id: string;
}

export type Frame = Response | EventFrame;

export const ERROR_CODES = [
  // arguments and names
  'bad-args',
  'not-found',
  'ambiguous',
  'unknown-op',
  // framing: the connection is closed after these
  'bad-frame',
  'frame-too-large',
  // daemon state
  'indexing',
  'overloaded',
  'shutting-down',
  'unauthorized',
  // plugins
  'plugin-unavailable',
  'plugin-error',
  'capability-denied',
  'budget-exceeded',
  // anything else
  'io',
  'timeout',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  code: ErrorCode;
  /** A sentence a user can act on. */
  message: string;
  /** Machine-readable extras, e.g. `suggestions` for not-found, `candidates` for ambiguous. */
  details?: Record<string, unknown>;
}

// ---- results shared by many ops -------------------------------------------------------

/** How every result names an entity: its id plus where to find it. */
export interface EntityRef {
  /** Stable id: `path#Qualified.Name`, or the path for a module. */
  id: string;
  name: string;
  kind: EntityKind;
  file: string;
  line: number;
  /** `file:line`, clickable in terminals and editors. */
  location: string;
}

export interface RelatedEntity extends EntityRef {
  distance: number;
  resolution: Resolution;
}

// ---- core ops: arguments and results --------------------------------------------------

/** Entity ops name the entity the same way everywhere: an id (`src/a.ts#Foo.bar`) or a name. */
export interface EntityArgs {
  entity: string;
}

export type LookupMode = 'auto' | 'exact' | 'prefix' | 'fuzzy';

export interface LookupArgs {
  name: string;
  mode?: LookupMode;
  kind?: EntityKind[] | string;
  /** File path prefix. */
  path?: string;
  limit?: number;
}

export interface LookupResult {
  mode: Exclude<LookupMode, 'auto'>;
  total: number;
  matches: (EntityRef & { exported: boolean; signature: string })[];
}

export interface RelationArgs extends EntityArgs {
  transitive?: boolean;
  depth?: number;
  inferred?: boolean;
  limit?: number;
}

export interface RelationResult {
  entity: EntityRef;
  total: number;
  results: RelatedEntity[];
}

export interface BlastRadiusArgs extends EntityArgs {
  depth?: number;
  kinds?: EdgeKind[] | string;
  members?: boolean;
  inferred?: boolean;
  limit?: number;
}

export interface BlastRadiusResult {
  entity: EntityRef;
  depth: number;
  kinds: EdgeKind[];
  total: number;
  files: number;
  byDistance: { distance: number; count: number; entities: (EntityRef & { resolution: Resolution })[] }[];
  byFile: { file: string; count: number; minDistance: number }[];
}

export interface CyclesArgs {
  kind?: 'imports' | 'calls';
  ignoreTypeOnly?: boolean;
  inferred?: boolean;
  selfLoops?: boolean;
  limit?: number;
}

export interface CyclesResult {
  kind: 'imports' | 'calls';
  total: number;
  /** Largest first; each lists its members (modules or entities). */
  cycles: { size: number; members: EntityRef[] }[];
}

export interface OutlineArgs {
  file: string;
}

export interface OutlineResult {
  file: string;
  entities: (EntityRef & { depth: number; exported: boolean; signature: string; doc?: string })[];
}

export interface StatsArgs {
  diagnostics?: number;
}

export interface StatsResult {
  generation: number;
  files: number;
  bytes: number;
  lines: number;
  skippedFiles: number;
  entities: number;
  entitiesByKind: Record<string, number>;
  edges: { resolved: number; inferred: number };
  edgesByKind: Record<string, { resolved: number; inferred: number }>;
  /** References: resolved to an entity, name-matched, bound outside the root (npm, globals), or not resolved. */
  references: { resolved: number; inferred: number; external: number; unresolved: number };
  diagnostics: { total: number; byCode: Record<string, number>; first: Diagnostic[] };
}

/** One entity of an export (schema isg-graph/1, SCHEMA.md). */
export interface ExportedEntity {
  id: string;
  kind: EntityKind;
  name: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  exported: boolean;
  signature: string;
  signatureHash: string;
  doc?: string;
}

export interface ExportedEdge {
  kind: EdgeKind;
  from: string;
  to: string;
  resolution: Resolution;
}

/** The `isg export` / `isg index --export` document: entities by file and position, edges by kind, from, to. */
export interface ExportedGraph {
  schema: 'isg-graph/1';
  root: string;
  generation: number;
  entities: ExportedEntity[];
  edges: ExportedEdge[];
}

export type ExportFormat = 'json' | 'dot' | 'mermaid';

export interface ExportArgs {
  /** Default json. DOT and Mermaid draw a neighbourhood, so they need `focus`. */
  format?: ExportFormat;
  /** Export the neighbourhood of this entity (id or name) instead of the whole graph. */
  focus?: string;
  /** How many hops from `focus` (default 1). */
  depth?: number;
  /** Edge kinds to follow and draw around `focus` (default all but contains). */
  kinds?: EdgeKind[] | string;
  /** The whole graph comes in pages of at most `limit` items, entities first, then edges: pass `next` back. */
  entityOffset?: number;
  edgeOffset?: number;
  limit?: number;
}

/** JSON: one page of the graph (the whole neighbourhood with `focus`); `next` is set while more remain. */
export interface ExportJsonResult extends ExportedGraph {
  format: 'json';
  focus?: EntityRef;
  totalEntities: number;
  totalEdges: number;
  /** The neighbourhood hit its size cap (400 entities). */
  truncated: boolean;
  next?: { entityOffset: number; edgeOffset: number };
}

export interface ExportPictureResult {
  format: 'dot' | 'mermaid';
  focus: EntityRef;
  nodes: number;
  edges: number;
  truncated: boolean;
  text: string;
}

export type ExportResult = ExportJsonResult | ExportPictureResult;

// ---- context for an LLM (op `context/pack`, answered by the bundled `context` plugin) --------

export interface ContextArgs {
  /** The focus: an entity (id or name), several, and/or files. None: the codebase's most central declarations. */
  entity?: string;
  entities?: string[];
  files?: string[];
  /** Tokens the text may take (estimated as an LLM tokenizer counts them); default 2000, 64-200000. */
  budget?: number;
  /** Hops from the focus to look at, 0-4; default 2. */
  depth?: number;
  /** The focus's source (when it fits 60% of the budget); default true when the plugin may read sources. */
  bodies?: boolean;
  /** Doc comments: none, the first sentence (default) or whole. */
  docs?: 'none' | 'summary' | 'full';
  /** Also follow name-matched (inferred) edges; default false. */
  inferred?: boolean;
}

export interface ContextItem extends EntityRef {
  /** Why it is in the pack: focus, callee, type used, supertype, member, caller, subtype, implementation, user, central. */
  relation: string;
  /** Hops from the focus (0: the focus). */
  distance: number;
  /** Nearness x relation weight x centrality, in (0, 1]; items were taken best first. */
  score: number;
  /** Estimated tokens the item added to the text. */
  tokens: number;
  /** Its source is in the text, not only its signature. */
  body: boolean;
}

export interface ContextResult {
  generation: number;
  focus: EntityRef[];
  budget: number;
  /** Estimated tokens of `text`: never above `budget`. */
  tokens: number;
  /** Where centrality came from: the pagerank plugin, or fan-in when it was unavailable. */
  ranking: 'pagerank' | 'fan-in';
  /** Entities considered, and how many of them did not fit. */
  candidates: number;
  omitted: number;
  items: ContextItem[];
  /** The pack: signatures grouped by file, members in their class, each line with its line number and relation. */
  text: string;
}

// ---- daemon ops -----------------------------------------------------------------------

export interface HelloArgs {
  /** Protocol version the client speaks. */
  protocol?: number;
  client?: string;
  /** Required on TCP connections: the contents of `<root>/.isg/token`. */
  token?: string;
}

export interface HelloResult {
  protocol: number;
  daemon: { version: string; pid: number; runtime: 'node' | 'deno'; root: string };
  /** Every op this daemon answers now, core and plugin ops alike. */
  ops: string[];
  capabilities: string[];
  limits: { maxFrameBytes: number; maxConnections: number; maxQueuedBytes: number };
}

export type IndexState = 'indexing' | 'ready';

export interface StatusResult {
  state: IndexState;
  root: string;
  pid: number;
  runtime: 'node' | 'deno';
  generation: number;
  uptimeMs: number;
  progress: { filesDone: number; filesTotal: number; bytesDone: number };
  /** Where the daemon listens; `http` is the HTTP gateway's `host:port` (PROTOCOL.md, "HTTP"). */
  endpoints: { socket?: string; tcp?: string; http?: string };
  /** Socket connections (TCP included); `httpStreams` the open `GET /v1/events` streams. */
  connections: number;
  httpStreams?: number;
  files: number;
  entities: number;
  watching: boolean;
  /** Changed files seen by the watcher and not applied yet (a large batch is being extracted). */
  pendingChanges: number;
  snapshot?: { path: string; savedAt?: string; loadedFrom?: boolean };
  plugins: { active: number; total: number };
  /**
   * isg.config.json: `error` when its last edit was not applied (the daemon kept its config),
   * `pendingRestart` the keys edited that take effect at the next start (where it listens, trusted keys, policy).
   */
  config: { path: string; error?: string; pendingRestart: string[] };
}

// ---- the HTTP gateway ------------------------------------------------------------------
// `isg serve --http HOST:PORT`: the same ops over HTTP/1.1 (PROTOCOL.md, "HTTP"). Every request
// carries `Authorization: Bearer <token>`; bodies and answers are JSON, or msgpack when the
// Content-Type (or Accept) says `application/msgpack`.

export const HTTP_PATHS = {
  /** POST `{op, args?}`: answered with an `HttpEnvelope`. */
  query: '/v1/query',
  /** GET: the `status` op's result in an `HttpEnvelope`. */
  status: '/v1/status',
  /** GET: Server-Sent Events, `?events=update,plugin` (default all); see `SSE_SUBSCRIBED`. */
  events: '/v1/events',
} as const;

/** The socket's response envelope without the id: one request per HTTP request. */
export type HttpEnvelope<R = unknown> = { ok: true; result: R; gen: number } | { ok: false; error: WireError };

/** The HTTP status an error code is answered with (the body's `error.code` is the precise word). */
export const HTTP_STATUS_OF_ERROR: Readonly<Record<ErrorCode, number>> = {
  'bad-args': 400,
  ambiguous: 400,
  'bad-frame': 400,
  unauthorized: 401,
  'not-found': 404,
  'unknown-op': 404,
  'frame-too-large': 413,
  'capability-denied': 500,
  'plugin-error': 500,
  io: 500,
  internal: 500,
  indexing: 503,
  overloaded: 503,
  'shutting-down': 503,
  'plugin-unavailable': 503,
  'budget-exceeded': 504,
  timeout: 504,
};

/**
 * The first event of every `GET /v1/events` stream (`event: subscribed`): the event types it
 * carries and the generation the graph was at, so a client knows from when on it hears of changes.
 * Every later event is `id: <event id>`, `event: <DaemonEvent type>`, `data: <the DaemonEvent as
 * JSON>`. A request with `Last-Event-ID` gets the events it missed after `subscribed`, or one
 * `event: resync` (data: a ResyncEvent) when they are gone.
 */
export const SSE_SUBSCRIBED = 'subscribed';
export interface SseSubscribed {
  subscribed: DaemonEvent['type'][];
  gen: number;
  /** The id of the latest event before this stream began ('' when none was published yet). */
  lastId: string;
}

export interface BatchArgs {
  requests: { op: string; args?: unknown }[];
}

/** One entry per request, in order; each is ok or an error on its own. */
export type BatchResult = ({ ok: true; result: unknown } | { ok: false; error: WireError })[];

export interface SubscribeArgs {
  /** Which events: default all. */
  events?: DaemonEvent['type'][];
  /**
   * Resume: the id of the last event received (an EventFrame's `id`, or an earlier answer's
   * `lastId`); the answer then carries the events published after it, or why it cannot.
   */
  since?: string;
}

export interface SubscribeResult {
  subscribed: DaemonEvent['type'][];
  /** The id of the latest event published before this subscription ('' when none was). */
  lastId: string;
  /** With `since`: the events after it, of the types subscribed, oldest first. */
  missed?: LoggedEvent[];
  /** With `since`, instead of `missed`: why the events after it cannot be given (a restart, too many). */
  gap?: string;
}

/** An event as the daemon keeps it for subscribers that resume. */
export interface LoggedEvent {
  id: string;
  event: DaemonEvent;
}

/**
 * Said to a subscriber that resumed after events it can no longer get (the daemon restarted, or
 * too many happened): whatever it derived from events should be read afresh.
 */
export interface ResyncEvent {
  type: 'resync';
  reason: string;
}

/** The name of the SSE event that carries a ResyncEvent. */
export const SSE_RESYNC = 'resync';

export interface UpdateEvent {
  type: 'update';
  generation: number;
  files: string[];
  added: string[];
  removed: string[];
  changed: string[];
}

export interface IndexingEvent {
  type: 'indexing';
  state: IndexState;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
}

export type PluginState = 'discovered' | 'loading' | 'active' | 'ejected' | 'quarantined' | 'failed' | 'unloaded';

export interface PluginEvent {
  type: 'plugin';
  plugin: string;
  from: PluginState;
  to: PluginState;
  reason?: string;
}

export type DaemonEvent = UpdateEvent | IndexingEvent | PluginEvent;

/** Every event type, in the order `subscribe` and `/v1/events` list them. */
export const EVENT_TYPES: readonly DaemonEvent['type'][] = ['update', 'indexing', 'plugin'];

export interface PluginInfo {
  name: string;
  version: string;
  tier: 'wasm' | 'native' | 'builtin';
  isolation: 'inline' | 'worker' | 'process';
  state: PluginState;
  ops: string[];
  hooks: string[];
  capabilities: string[];
  budget: { queryP99Us: number; updateP99Us: number; memoryMb: number; ceilingMs: number };
  /**
   * Live latency of its query calls over the sliding window, µs: what the plugin was charged (a
   * worker's own time, without the wake-ups around it). Each op's first call after a load is
   * left out: it compiles the plugin's code.
   */
  latency: { calls: number; p50Us: number; p99Us: number; maxUs: number };
  /** The same per op (hooks appear as `onUpdate`, `beforeQuery`, `afterQuery`). */
  opLatency: Record<string, { calls: number; p50Us: number; p99Us: number; maxUs: number }>;
  memoryBytes?: number;
  ejections: number;
  lastEjection?: { at: string; reason: string; histogram: { p50Us: number; p90Us: number; p99Us: number; maxUs: number; count: number } };
  error?: string;
}

export interface PluginsResult {
  plugins: PluginInfo[];
}

export interface PluginNameArgs {
  name: string;
}

/** Ops the daemon itself answers, with argument and result types for the typed client. */
export interface CoreOps {
  hello: [HelloArgs, HelloResult];
  status: [Record<string, never>, StatusResult];
  stats: [StatsArgs, StatsResult];
  export: [ExportArgs, ExportResult];
  lookup: [LookupArgs, LookupResult];
  implements: [RelationArgs, RelationResult];
  supertypes: [RelationArgs, RelationResult];
  callers: [RelationArgs, RelationResult];
  callees: [RelationArgs, RelationResult];
  uses: [RelationArgs, RelationResult];
  'used-by': [RelationArgs, RelationResult];
  'blast-radius': [BlastRadiusArgs, BlastRadiusResult];
  cycles: [CyclesArgs, CyclesResult];
  outline: [OutlineArgs, OutlineResult];
  /** Answered by the bundled `context` plugin. */
  'context/pack': [ContextArgs, ContextResult];
  batch: [BatchArgs, BatchResult];
  subscribe: [SubscribeArgs, SubscribeResult];
  unsubscribe: [{ sub: number }, { unsubscribed: boolean }];
  plugins: [Record<string, never>, PluginsResult];
  'plugins.load': [{ path: string } | PluginNameArgs, PluginInfo];
  'plugins.unload': [PluginNameArgs, PluginInfo];
  'plugins.reload': [PluginNameArgs, PluginInfo];
  shutdown: [Record<string, never>, { stopping: true }];
}

export type CoreOpName = keyof CoreOps;
