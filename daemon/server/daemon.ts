// The daemon: one root, one graph, one plugin host, many connections. It listens on a 0600
// Unix socket (and, with a token, on TCP), indexes in the background while already answering
// `hello` and `status`, applies file changes through one entry point, publishes what changed,
// and stops cleanly. Only this folder knows about sockets and msgpack.
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeFrame } from '../../client/framing.ts';
import type { DaemonEvent, IndexState, Request, UpdateEvent } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { buildCsr, type CsrSnapshot } from '../graph/csr.ts';
import { GraphHost, recordPath, type ChangeSummary, type FileChange, type PreparedChanges } from '../host.ts';
import { discoverFiles, languageOf, type DiscoverOptions } from '../ingest/discover.ts';
import { editWarmUpSteps } from '../edit-warm-up.ts';
import { warmUpSteps } from '../ingest/extract.ts';
import { queryWarmUpSteps } from '../queries/warm-up.ts';
import { loadHost, saveSnapshot, snapshotPath } from '../persist/snapshot.ts';
import { watchDirectory, type DirWatch } from '../watch/dir-watch.ts';
import { TreeWatcher } from '../watch/tree-watcher.ts';
import { BuiltinLoader, builtinManifest } from '../plugins/builtin-tier.ts';
import type { PluginManifest } from '../plugins/api.ts';
import { BUNDLED_BUILTINS, bundledPluginDirs } from '../plugins/bundled.ts';
import { NATIVE_FALLBACKS } from '../plugins/graph-algorithms.ts';
import { installationPublicKey } from '../plugins/installation-key.ts';
import { createNativeTierLoader } from '../plugins/native-tier.ts';
import { WasmTierLoader } from '../plugins/wasm-tier.ts';
import { CORE_PLUGIN, corePlugin } from '../plugins/builtin/core.ts';
import { readManifest } from '../plugins/manifest.ts';
import { PluginHost } from '../plugins/plugin-host.ts';
import { UpdateFeed } from '../plugins/update-feed.ts';
import { parsePublicKey } from '../plugins/trust.ts';
import type { GraphView } from '../queries/graph-view.ts';
import { Coalescer } from '../util/coalescer.ts';
import { createLogger, type Logger, type LogSink } from '../util/log.ts';
import { packageRoot } from '../util/package-root.ts';
import { RUNTIME } from '../util/runtime.ts';
import { CONFIG_FILE, isLoopback, loadConfig, parseHostPort, type IsgConfig, type PluginConfig } from './config.ts';
import { configChange } from './config-reload.ts';
import { EventLog } from './event-log.ts';
import { Connection, type Caller, type ConnectionHost } from './connection.ts';
import type { HttpGatewayHandle, HttpServerKind } from './http/gateway.ts';
import { DAEMON_OPS } from './daemon-ops.ts';
import { acquireLock, ensurePrivateDir, ensureToken, removeStaleSocket, stateDir } from './state-dir.ts';

export interface DaemonOptions {
  root: string;
  /** Overrides of isg.config.json (command-line flags). */
  tcp?: string;
  /** `host:port` for the HTTP gateway (server/http/). */
  http?: string;
  allowRemote?: boolean;
  /** Which HTTP server runs the gateway; default: hyper-express on Node, node:http on Deno (or when uWS does not load). */
  httpServer?: HttpServerKind;
  socket?: string;
  logLevel?: IsgConfig['log']['level'];
  /** Parse workers for the first index (default: one per core). */
  workers?: number;
  onProgress?: (done: number, total: number, bytes: number) => void;
}

/**
 * Plugins hear of updates once they have stopped for this long (at most the max delay after the
 * first): the queries that follow an update event are answered first (update-feed.ts).
 */
const PLUGIN_UPDATE_QUIET_MS = 10;
const PLUGIN_UPDATE_MAX_DELAY_MS = 50;
/** ...and are held while a change is on its way (the watcher has events, a batch waits), at most this long. */
const PLUGIN_UPDATE_HOLD_MS = 50;
/**
 * A periodic snapshot waits until changes have stopped for this long (for at most
 * SNAPSHOT_MAX_WAIT_MS, or an interval when that is longer): one packs every file's facts, in
 * slices on the daemon's thread, and an edit in the middle of a burst would abandon it.
 */
const SNAPSHOT_QUIET_MS = 2000;
const SNAPSHOT_MAX_WAIT_MS = 30_000;
/**
 * After the first index, the daemon's thread runs the core queries over its graph
 * (queryWarmUpSteps), compiles the extraction queries and runs the edit path on texts of its own
 * (warmUpSteps, editWarmUpSteps), one step at a time, once nothing
 * happened for this long (a request, a change on its way), and then step after step while
 * nothing does.
 */
const WARM_UP_IDLE_MS = 100;
/** isg.config.json is read once its events stop for this long: an editor's save is several writes. */
const CONFIG_QUIET_MS = 50;
const CONFIG_MAX_DELAY_MS = 500;

export class Daemon implements ConnectionHost {
  readonly root: string;
  config: IsgConfig;
  readonly log: Logger;
  readonly plugins: PluginHost;
  private readonly pluginUpdates: UpdateFeed;
  readonly startedAt = Date.now();
  state: IndexState = 'indexing';
  /** Called once the daemon has stopped after a `shutdown` op (the serve command exits). */
  onStopped?: () => void;
  progress = { filesDone: 0, filesTotal: 0, bytesDone: 0 };
  /** Undefined until the first index is done. */
  graph?: GraphHost;
  endpoints: { socket?: string; tcp?: string; http?: string } = {};
  readonly connections = new Set<Connection>();
  private readonly logSink: LogSink;
  private readonly options: DaemonOptions;
  private servers: Server[] = [];
  /** The HTTP gateway, loaded only when one is configured. */
  http?: HttpGatewayHandle;
  /** Listeners of every published event besides the socket subscriptions (the HTTP gateway's event streams). */
  private readonly eventListeners = new Set<(event: DaemonEvent, id: string) => void>();
  /** The last events published, for subscribers that resume after a lost connection. */
  readonly events = new EventLog();
  private token?: string;
  private releaseLock?: () => void;
  private csrCache?: CsrSnapshot;
  private stopping?: Promise<void>;
  private indexing?: Promise<void>;
  /** The plugins' start after the first index. */
  private pluginsStarting?: Promise<void>;
  private configWatcher?: DirWatch;
  private readonly configReloads: Coalescer;
  /** The last edit of isg.config.json that was not applied, and the keys waiting for a restart. */
  configStatus: { path: string; error?: string; pendingRestart: string[] };
  private readonly builtins = new BuiltinLoader();
  private lastProgressEvent = 0;
  private watcher?: TreeWatcher;
  private snapshotTimer?: ReturnType<typeof setInterval>;
  /** A periodic snapshot waiting for the changes to stop. */
  private snapshotWait?: ReturnType<typeof setTimeout>;
  /** Changes since the last snapshot, and when the last one came (performance.now()). */
  private dirty = false;
  /** The last save was abandoned for a change: the next one is encoded at once, so saves keep up with a steady stream of edits. */
  private saveAbandoned = false;
  private lastChangeAt = 0;
  /** When the last request came (performance.now()): the warm-up waits for quiet. */
  private lastRequestAt = 0;
  private warmUpTimer?: ReturnType<typeof setTimeout>;
  /** The snapshot being written, if any (saveIfDirty). */
  private saving: Promise<void> = Promise.resolve();
  /** The watcher's batches waiting their turn (enqueueChanges), and how many files they hold. */
  private changeQueue: Promise<void> = Promise.resolve();
  pendingChanges = 0;
  snapshot?: { path: string; savedAt?: string; loadedFrom?: boolean };

  private constructor(options: DaemonOptions, config: IsgConfig) {
    this.options = options;
    this.root = options.root;
    this.config = config;
    this.logSink = { level: config.log.level, ...(config.log.file ? { file: config.log.file } : {}) };
    this.log = createLogger(this.logSink, 'isg');
    this.configStatus = { path: join(this.root, CONFIG_FILE), pendingRestart: [] };
    this.configReloads = new Coalescer(() => this.reloadConfig(), CONFIG_QUIET_MS, CONFIG_MAX_DELAY_MS, (err) =>
      this.log.error('isg.config.json not applied', { error: err instanceof Error ? err.stack : String(err) }),
    );
    this.plugins = new PluginHost({
      root: this.root,
      loaders: { builtin: this.builtins, native: createNativeTierLoader({ fallbacks: NATIVE_FALLBACKS }), wasm: new WasmTierLoader() },
      graph: { view: () => this.view(), csr: () => this.csr() },
      source: { read: (file) => this.readSource(file) },
      trustedKeys: [...config.trustedKeys.map(parsePublicKey), ...optional(installationPublicKey())],
      policy: config.policy,
      log: this.log.child('plugins'),
      onTransition: (event) => this.publish(event),
      protectedPlugins: [CORE_PLUGIN],
      unprefixedPlugin: CORE_PLUGIN,
      // Until the first index parses (or is done): a warm start from a snapshot is read and
      // decoded on this thread, and a plugin's worker booting meanwhile on the other core
      // (and its modules compiling) slowed it by a sixth (BENCHMARKS.md section 20).
      holdPrepares: true,
    });
    this.pluginUpdates = new UpdateFeed(
      (u) => this.plugins.notifyUpdate(u),
      PLUGIN_UPDATE_QUIET_MS,
      PLUGIN_UPDATE_MAX_DELAY_MS,
      (err) => this.log.error('plugin update hooks failed', { error: err instanceof Error ? err.stack : String(err) }),
      { while: () => this.changeOnItsWay(), maxMs: PLUGIN_UPDATE_HOLD_MS },
    );
  }

  /** Validate the config, take the lock, listen, load plugins, and start the first index. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const config = withOverrides(loadConfig(options.root), options);
    const daemon = new Daemon(options, config);
    try {
      await daemon.listen();
      daemon.registerPlugins();
      await daemon.plugins.load(CORE_PLUGIN);
      daemon.indexing = daemon.firstIndex();
      // Logged by firstIndex and given to whoever waits in ready(); never an unhandled rejection,
      // which would end the process (a root removed while a stopped daemon's index ran did, in a test).
      daemon.indexing.catch(() => undefined);
      daemon.watchConfig();
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  /** Resolves when the first index is done (or failed). */
  ready(): Promise<void> {
    return this.indexing ?? Promise.resolve();
  }

  // ---- ConnectionHost ---------------------------------------------------------------------

  get maxFrameBytes(): number {
    return this.config.maxFrameBytes;
  }

  get maxQueuedBytes(): number {
    return this.config.maxQueuedBytes;
  }

  get maxConnections(): number {
    return this.config.maxConnections;
  }

  generation(): number {
    return this.graph?.generation ?? 0;
  }

  partial(): boolean {
    return false;
  }

  handle(request: Request, conn: Caller): unknown {
    // read only by the idle warm-up, so the clock is read only while one is pending
    if (this.warmUpTimer) this.lastRequestAt = performance.now();
    if (this.stopping && request.op !== 'status' && request.op !== 'hello') throw new IsgError('shutting-down', 'the daemon is shutting down; start a new one with `isg serve`');
    const own = DAEMON_OPS[request.op];
    if (own) return own(this, request.args, conn, request.id);
    // Plugins other than the core load once the first index is done: they read the graph.
    if (!this.graph && this.plugins.ownerOf(request.op) !== undefined && this.plugins.ownerOf(request.op) !== CORE_PLUGIN) throw this.indexingError();
    return this.plugins.dispatch(request.op, request.args, this.generation());
  }

  closed(conn: Connection): void {
    this.connections.delete(conn);
  }

  // ---- used by the ops ------------------------------------------------------------------

  /** Constant-time comparison of a client's token with ours. */
  checkToken(token: unknown): boolean {
    if (!this.token || typeof token !== 'string') return false;
    const digest = (s: string) => createHash('sha256').update(s).digest();
    return timingSafeEqual(digest(token), digest(this.token));
  }

  publish(event: DaemonEvent): void {
    const id = this.events.append(event);
    for (const conn of this.connections) {
      for (const [sub, types] of conn.subscriptions) if (types.has(event.type)) conn.push(sub, event, id);
    }
    for (const listener of this.eventListeners) listener(event, id);
  }

  /** Hear every published event, with its id (until the returned function is called). */
  onEvent(listener: (event: DaemonEvent, id: string) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * The one way the daemon changes the graph: a batch of file changes, applied atomically.
   * `prepared`: the batch's files already extracted on worker threads (see `enqueueChanges`).
   */
  applyChanges(changes: FileChange[], prepared?: PreparedChanges): ChangeSummary | undefined {
    const graph = this.graph;
    if (!graph || !changes.length) return undefined;
    let summary: ChangeSummary;
    try {
      summary = graph.applyChanges(changes, prepared);
    } catch (err) {
      // A file that breaks the update path must not take the daemon down; the rest stays served.
      this.log.error('changes not applied', { files: changes.length, error: err instanceof Error ? err.stack : String(err) });
      return undefined;
    }
    // New stats alone are worth saving: a warm start would otherwise read those files again.
    if (summary.restated) this.markDirty();
    if (!summary.files.length) return summary;
    this.markDirty();
    const event: UpdateEvent = { type: 'update', generation: summary.generation, files: summary.files, added: summary.added, removed: summary.removed, changed: summary.changed };
    this.publish(event);
    this.pluginUpdates.push(event);
    return summary;
  }

  /**
   * Batches from the watcher and from config changes, applied in arrival order. A large one (a
   * checkout) is first read and extracted on worker threads, and queries go on meanwhile
   * against the current generation; later batches wait their turn, so an older read never
   * lands after a newer one.
   */
  private enqueueChanges(changes: FileChange[]): void {
    this.pendingChanges += changes.length;
    this.changeQueue = this.changeQueue.then(async () => {
      try {
        const graph = this.graph;
        if (!graph || this.stopping) return;
        let prepared: PreparedChanges | undefined;
        try {
          prepared = await graph.prepareChanges(changes);
        } catch (err) {
          // The batch is still applied, extracted in-thread.
          this.log.warn('parallel extraction failed', { files: changes.length, error: err instanceof Error ? err.message : String(err) });
        }
        if (this.stopping || graph !== this.graph) return;
        const t0 = performance.now();
        const summary = this.applyChanges(changes, prepared);
        if (prepared) this.log.info('large batch applied', { files: changes.length, extractedOnWorkers: prepared.size, applyMs: Math.round(performance.now() - t0), generation: summary?.generation });
      } finally {
        this.pendingChanges -= changes.length;
      }
    });
  }

  /** Load a plugin from a directory at run time (the `plugins.load` op); its grants come from the config. */
  async loadPluginFrom(path: string): Promise<string> {
    const { manifest, dir } = readManifest(path);
    const { path: _configured, enabled: _enabled, ...settings } = this.config.plugins[manifest.name] ?? { enabled: true };
    if (!this.plugins.has(manifest.name)) this.plugins.add(manifest, dir, { ...settings, grant: settings.grant ?? [] });
    await this.plugins.load(manifest.name);
    return manifest.name;
  }

  /** Stop: refuse new work, let in-flight requests finish, unload plugins, remove the socket. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.configWatcher?.close();
      this.configReloads.close();
      this.watcher?.close();
      if (this.snapshotTimer) clearInterval(this.snapshotTimer);
      clearTimeout(this.snapshotWait);
      clearTimeout(this.warmUpTimer);
      this.pluginUpdates.close();
      for (const s of this.servers) s.close();
      this.http?.stopListening();
      const deadline = Date.now() + 5000;
      while (([...this.connections].some((c) => c.pending > 0) || (this.http?.pending ?? 0) > 0) && Date.now() < deadline) await sleep(5);
      // A plugin still loading would come up after the dispose, and its worker would keep the process alive.
      await this.pluginsStarting?.catch(() => undefined);
      await this.plugins.dispose();
      await this.saveIfDirty();
      for (const c of this.connections) c.close();
      await this.http?.close();
      if (this.endpoints.socket) rmSync(this.endpoints.socket, { force: true });
      this.releaseLock?.();
      this.log.info('stopped', { root: this.root });
    })();
    return this.stopping;
  }

  /** The watcher has events waiting or a batch running, or a batch waits to be applied. */
  private changeOnItsWay(): boolean {
    return this.pendingChanges > 0 || (this.watcher?.busy ?? false);
  }

  get watching(): boolean {
    return this.watcher !== undefined;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  // ---- internals ------------------------------------------------------------------------

  private view(): GraphView {
    if (!this.graph) throw this.indexingError();
    return this.graph;
  }

  indexingError(): IsgError {
    const p = this.progress;
    const pct = p.filesTotal ? Math.floor((100 * p.filesDone) / p.filesTotal) : 0;
    return new IsgError('indexing', `the first index of ${this.root} is running (${p.filesDone}/${p.filesTotal} files, ${pct}%); ask again in a moment`, { ...p });
  }

  private csr(): CsrSnapshot {
    const graph = this.graph;
    if (!graph) throw this.indexingError();
    if (!this.csrCache || this.csrCache.generation !== graph.generation) this.csrCache = buildCsr(graph.store, graph.generation, this.csrCache);
    return this.csrCache;
  }

  private readSource(file: string): string {
    const graph = this.graph;
    if (!graph) throw this.indexingError();
    if (!graph.factsOf(file)) throw new IsgError('not-found', `no indexed file ${file}`);
    return readFileSync(join(this.root, file), 'utf8');
  }

  private async listen(): Promise<void> {
    const dir = stateDir(this.root);
    ensurePrivateDir(dir);
    const socket = this.config.socket;
    this.releaseLock = await acquireLock(dir, { pid: process.pid, socket, tcp: this.config.tcp, startedAt: new Date().toISOString(), runtime: RUNTIME });
    if (this.config.tcp) {
      const { host, port } = this.tokenEndpoint(dir, this.config.tcp, 'listen');
      const srv = createServer((s) => this.accept(s, false));
      await this.serve(srv, (s, done) => s.listen(port, host, done));
      const addr = srv.address();
      this.endpoints.tcp = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : this.config.tcp;
    }
    if (this.config.http) {
      const { host, port } = this.tokenEndpoint(dir, this.config.http, 'serve HTTP');
      // Loaded here only: a daemon without --http never loads the gateway or its server.
      const { startHttpGateway } = await import('./http/gateway.ts');
      this.http = await startHttpGateway(this, { host, port, server: this.options.httpServer });
      this.endpoints.http = this.http.address;
    }
    // The Unix socket last: a client that reaches it (`isg serve --detach`, spawnDaemon) finds
    // every endpoint up, and a TCP or HTTP address that cannot be bound fails the start.
    removeStaleSocket(socket);
    await this.serve(createServer((s) => this.accept(s, true)), (srv, done) => srv.listen(socket, done));
    // The directory is 0700 already; 0600 on the socket says the same to anyone who checks.
    chmodSync(socket, 0o600);
    this.endpoints.socket = socket;
    this.log.info('listening', { root: this.root, ...this.endpoints, pid: process.pid, runtime: RUNTIME });
  }

  /** A TCP or HTTP endpoint: loopback unless allowed beyond, and always behind the token. */
  private tokenEndpoint(dir: string, address: string, verb: string): { host: string; port: number } {
    const { host, port } = parseHostPort(address);
    if (!isLoopback(host) && !this.config.allowRemote) {
      throw new IsgError('bad-args', `refusing to ${verb} on ${address}: not a loopback address; pass --allow-remote (or "allowRemote": true) to expose the daemon beyond this machine (the token is still required)`);
    }
    this.token = ensureToken(dir);
    return { host, port };
  }

  private serve(server: Server, listen: (s: Server, done: () => void) => void): Promise<void> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new IsgError('io', `cannot listen: ${err.message}`)));
      listen(server, () => {
        server.on('error', (err) => this.log.error('server error', { error: err.message }));
        resolve();
      });
    });
  }

  private accept(socket: Socket, trusted: boolean): void {
    if (this.stopping) return void socket.destroy();
    const limit = this.config.maxConnections;
    if (this.connections.size >= limit) {
      // Told, not dropped (as net.Server's maxConnections does): the client can say why it failed.
      this.log.warn('connection refused: the connection limit is reached', { maxConnections: limit });
      socket.on('error', () => undefined);
      socket.end(encodeFrame({ id: 0, ok: false, error: { code: 'overloaded', message: `the daemon serves at most ${limit} connections at once (maxConnections in isg.config.json); close one, or raise the limit` } }));
      return;
    }
    const conn = new Connection(socket, this, trusted);
    this.connections.add(conn);
  }

  private registerPlugins(): void {
    this.builtins.register(corePlugin);
    this.plugins.add(builtinManifest(corePlugin), packageRoot(), { grant: ['graph:read'] });
    for (const b of BUNDLED_BUILTINS) this.builtins.register(b);
    for (const [name, p] of pluginsToRegister(this.config.plugins, (msg, fields) => this.log.error(msg, fields))) this.addPlugin(name, p);
  }

  private addPlugin(name: string, p: ResolvedPlugin): void {
    try {
      const { manifest, dir } = p.builtin ? { manifest: p.builtin, dir: packageRoot() } : readManifest(p.dir);
      if (manifest.name !== name) throw new IsgError('bad-args', `isg.config.json plugins.${name}: the manifest at ${p.dir} names the plugin "${manifest.name}"`);
      this.plugins.add(manifest, dir, { ...p.settings, grant: p.settings.grant ?? (p.bundled ? [...manifest.capabilities] : []) });
    } catch (err) {
      this.log.error('plugin not registered', { plugin: name, error: (err as Error).message });
    }
  }

  /** Which files are indexed: the same for the first index, a warm start, the watcher and rescans. */
  private discoverOptions(): DiscoverOptions {
    return { include: this.config.include, exclude: this.config.exclude, maxFileBytes: this.config.maxFileBytes };
  }

  /** Load the snapshot (or index cold), then watch, save, and let the plugins in. */
  private async firstIndex(): Promise<void> {
    const t0 = performance.now();
    const discover = this.discoverOptions();
    const options = {
      ...discover,
      workers: this.options.workers,
      onProgress: (done: number, total: number, bytes: number) => this.indexProgress(done, total, bytes),
    };
    try {
      let graph: GraphHost;
      if (this.config.snapshot.enabled) {
        const loaded = await loadHost(this.root, options);
        for (const d of loaded.diagnostics) this.log.warn(d.message, { code: d.code });
        graph = loaded.host;
        this.snapshot = { path: snapshotPath(this.root), loadedFrom: loaded.from === 'snapshot' };
        const t = loaded.timings;
        this.log.info('loaded', {
          from: loaded.from,
          resolution: loaded.resolution,
          reparsed: loaded.reparsed,
          dropped: loaded.dropped,
          parsedWhileDecoding: loaded.parsedWhileDecoding,
          ms: Math.round(t.totalMs),
          phasesMs: { read: Math.round(t.readMs), discover: Math.round(t.discoverMs), check: Math.round(t.checkMs), parse: Math.round(t.parseMs), build: Math.round(t.buildMs) },
        });
        this.dirty = loaded.from === 'cold' || loaded.reparsed > 0 || loaded.dropped > 0;
      } else {
        graph = await GraphHost.index(this.root, options);
      }
      if (this.stopping) return;
      this.graph = graph;
      this.state = 'ready';
      const files = [...graph.filePaths()];
      this.progress = { filesDone: files.length, filesTotal: files.length, bytesDone: graph.fileStats().bytes };
      this.log.info('indexed', { files: files.length, entities: graph.store.entityCount, ms: Math.round(performance.now() - t0) });
      this.publish({ type: 'indexing', state: 'ready', ...this.progress });
      // Requests that came during the load are answered before the watcher and the plugins
      // start (their loads may not wait on any I/O before they are done). Two turns: this runs
      // from an I/O callback, and the check phase of its own turn comes before the next poll.
      for (let turn = 0; turn < 2; turn++) await new Promise((r) => setImmediate(r));
      if (this.stopping) return;
      // isg.config.json may have been edited while the index ran.
      if (JSON.stringify(discover) !== JSON.stringify(this.discoverOptions())) this.rediscover();
      else this.startWatching();
      this.startSnapshots();
      this.warmUp([...queryWarmUpSteps(() => this.graph), ...warmUpSteps(files.map(languageOf).filter((l) => l !== undefined)), ...editWarmUpSteps()]);
      this.pluginsStarting = this.plugins.startAll();
      await this.pluginsStarting;
      // Through the feed, so no other update reaches the plugins while this one does.
      this.pluginUpdates.push({ type: 'update', generation: graph.generation, files, added: [], removed: [], changed: [] });
      await this.pluginUpdates.idle();
    } catch (err) {
      this.log.error('first index failed', { error: (err as Error).message });
      throw err;
    }
  }

  /**
   * The first queries would run unoptimized code, and the first edit would compile the extraction
   * queries on this thread (the first index ran on worker threads) and run the edit path
   * unoptimized: done here instead, a step at a time, when the daemon is idle.
   */
  private warmUp(steps: (() => void)[]): void {
    const next = () => {
      this.warmUpTimer = undefined;
      if (this.stopping || !steps.length) return;
      let ran = false;
      if (!this.changeOnItsWay() && performance.now() - this.lastRequestAt >= WARM_UP_IDLE_MS) {
        try {
          steps.shift()!();
          ran = true;
        } catch (err) {
          this.log.warn('warm-up failed', { error: err instanceof Error ? err.message : String(err) });
          steps.length = 0;
          return;
        }
      }
      // Still idle: the next step at once (a request that came meanwhile is read first, and
      // stops the run until the daemon is idle again).
      this.warmUpTimer = setTimeout(next, ran ? 0 : WARM_UP_IDLE_MS);
      this.warmUpTimer.unref?.();
    };
    this.warmUpTimer = setTimeout(next, WARM_UP_IDLE_MS);
    this.warmUpTimer.unref?.();
  }

  /** Live updates: the watcher hands batches to applyChanges, the one mutation entry point. (Re)started with the config's settings. */
  private startWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    const graph = this.graph;
    if (!graph || !this.config.watch.enabled || this.stopping) return;
    try {
      this.watcher = TreeWatcher.start(this.root, {
        ...this.discoverOptions(),
        indexed: graph.records(),
        quietMs: this.config.watch.debounceMs,
        maxDelayMs: this.config.watch.maxDelayMs,
        onBatch: (changes) => this.enqueueChanges(changes),
        onDiagnostic: (d) => this.log.warn(d.message, { code: d.code, file: d.file }),
      });
    } catch (err) {
      this.log.error('cannot watch the root; the graph will not follow file changes', { error: (err as Error).message });
    }
  }

  /**
   * Snapshots: after a cold index, then every intervalMs while changes come in, once they have
   * stopped for SNAPSHOT_QUIET_MS (saveWhenQuiet), and at stop. (Re)started with the config's settings.
   */
  private startSnapshots(): void {
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    clearTimeout(this.snapshotWait);
    this.snapshotTimer = this.snapshotWait = undefined;
    if (!this.graph || !this.config.snapshot.enabled || this.stopping) return;
    this.snapshotTimer = setInterval(() => this.saveWhenQuiet(), this.config.snapshot.intervalMs);
    this.snapshotTimer.unref?.();
    if (this.dirty) setImmediate(() => void this.saveIfDirty());
  }

  private markDirty(): void {
    this.dirty = true;
    this.lastChangeAt = performance.now();
  }

  /** The periodic snapshot: now if changes stopped SNAPSHOT_QUIET_MS ago, else once they have (by `deadline` at the latest). */
  private saveWhenQuiet(deadline = performance.now() + Math.max(SNAPSHOT_MAX_WAIT_MS, this.config.snapshot.intervalMs)): void {
    if (this.snapshotWait || !this.dirty || this.stopping) return;
    const now = performance.now();
    const quietFor = now - this.lastChangeAt;
    if (quietFor >= SNAPSHOT_QUIET_MS || now >= deadline) return void this.saveIfDirty();
    this.snapshotWait = setTimeout(() => {
      this.snapshotWait = undefined;
      this.saveWhenQuiet(deadline);
    }, Math.min(SNAPSHOT_QUIET_MS - quietFor, deadline - now));
    this.snapshotWait.unref?.();
  }

  /**
   * Writes a snapshot if anything changed since the last. One at a time: a call waits for the
   * write before it, so a stop does not end the process in the middle of a periodic one.
   */
  saveIfDirty(): Promise<void> {
    const run = this.saving.then(() => this.saveNow());
    this.saving = run.catch(() => undefined);
    return run;
  }

  private async saveNow(): Promise<void> {
    const graph = this.graph;
    if (!graph || !this.dirty || !this.config.snapshot.enabled) return;
    this.dirty = false;
    try {
      // Encoded in slices so queries are answered meanwhile. A change applied in between
      // abandons it; the next save (the periodic one, once changes pause) and the one at stop
      // encode at once, so that a steady stream of edits cannot keep the snapshot behind.
      const r = await saveSnapshot(graph, undefined, this.stopping || this.saveAbandoned ? 0 : undefined);
      this.saveAbandoned = !r;
      if (!r) {
        this.dirty = true;
        this.log.debug('snapshot abandoned: the graph changed while it was encoded', { generation: this.graph?.generation });
        return;
      }
      this.snapshot = { ...this.snapshot, path: r.path, savedAt: new Date().toISOString() };
      this.log.debug('snapshot saved', { bytes: r.bytes, generation: r.generation, encodeMs: Math.round(r.encodeMs), longestSliceMs: Math.round(r.longestSliceMs), ms: Math.round(r.ms) });
    } catch (err) {
      this.dirty = true;
      this.log.error('snapshot not saved', { error: (err as Error).message });
    }
  }

  private indexProgress(done: number, total: number, bytes: number): void {
    // Files are being parsed: an index of seconds, which the plugins' preparation can overlap.
    this.plugins.releasePrepares();
    this.progress = { filesDone: done, filesTotal: total, bytesDone: bytes };
    this.options.onProgress?.(done, total, bytes);
    const now = Date.now();
    if (now - this.lastProgressEvent >= 100) {
      this.lastProgressEvent = now;
      this.publish({ type: 'indexing', state: 'indexing', ...this.progress });
    }
  }

  /** isg.config.json is re-read when it changes (watchDirectory: Deno's node:fs watch would watch the whole tree). */
  private watchConfig(): void {
    const changed = (name: string | null) => {
      if (name === null || name === CONFIG_FILE) this.configReloads.poke();
    };
    try {
      this.configWatcher = watchDirectory(this.root, changed, (err) => this.log.warn('watching isg.config.json failed; edits need a restart', { error: err.message }));
    } catch (err) {
      this.log.warn('cannot watch isg.config.json; edits need a restart', { error: (err as Error).message });
    }
  }

  /**
   * Applies an edit of isg.config.json: every key at once, except where the daemon listens and
   * the plugin host's trusted keys and policy, which wait for the next start (config-reload.ts).
   * An edit that does not validate is reported and ignored: the daemon keeps its config.
   */
  private async reloadConfig(): Promise<void> {
    let edited: IsgConfig;
    try {
      edited = withOverrides(loadConfig(this.root), this.options);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.configStatus.error) this.log.error('isg.config.json not applied; the daemon keeps its current config', { error: message });
      this.configStatus.error = message;
      return;
    }
    delete this.configStatus.error;
    const { effective, changed, pendingRestart } = configChange(this.config, edited);
    for (const key of pendingRestart) {
      if (!this.configStatus.pendingRestart.includes(key)) this.log.warn(`config key "${key}" changed; it takes effect at the next start`, { key });
    }
    this.configStatus.pendingRestart = pendingRestart;
    if (!changed.size) return;
    const prev = this.config;
    this.config = effective;
    this.logSink.level = effective.log.level;
    if (effective.log.file) this.logSink.file = effective.log.file;
    else delete this.logSink.file;
    if (changed.has('snapshot')) this.startSnapshots();
    if (changed.has('plugins')) await this.reconcilePlugins(prev.plugins, effective.plugins);
    if (changed.has('include') || changed.has('exclude') || changed.has('maxFileBytes')) this.rediscover();
    else if (changed.has('watch')) this.startWatching();
    this.log.info('isg.config.json applied', { changed: [...changed] });
  }

  private async reconcilePlugins(prev: Record<string, PluginConfig>, next: Record<string, PluginConfig>): Promise<void> {
    const log = (msg: string, fields: Record<string, unknown>) => this.log.error(msg, fields);
    const before = pluginsToRegister(prev, () => undefined);
    const after = pluginsToRegister(next, log);
    for (const [name, p] of before) {
      if (JSON.stringify(p) !== JSON.stringify(after.get(name)) && this.plugins.has(name)) {
        await this.plugins.remove(name).catch((err: Error) => this.log.error('plugin not removed', { plugin: name, error: err.message }));
      }
    }
    for (const [name, p] of after) {
      if (this.plugins.has(name)) continue;
      this.addPlugin(name, p);
      if (this.plugins.has(name) && !p.settings.lazy) await this.plugins.load(name).catch(() => undefined);
    }
  }

  /** After the includes, excludes or size limit changed: index what is now in, drop what is now out. */
  private rediscover(): void {
    const graph = this.graph;
    if (!graph) return;
    graph.setMaxFileBytes(this.config.maxFileBytes);
    const found = discoverFiles(this.root, this.discoverOptions());
    const next = new Set(found.files.map((f) => f.path));
    // Read again, so that the host records it as skipped (or no longer skipped) under the new limit.
    const tooLarge = new Set(found.diagnostics.filter((d) => d.code === 'too-large').map((d) => d.file));
    const changes: FileChange[] = [];
    for (const record of graph.records()) {
      const p = recordPath(record);
      if (!next.has(p) && !tooLarge.has(p)) changes.push({ path: p, text: null });
    }
    for (const p of next) if (!graph.factsOf(p)) changes.push({ path: p });
    for (const p of tooLarge) changes.push({ path: p });
    this.enqueueChanges(changes);
    this.startWatching();
  }
}

function withOverrides(config: IsgConfig, o: DaemonOptions): IsgConfig {
  return {
    ...config,
    ...(o.tcp !== undefined ? { tcp: o.tcp } : {}),
    ...(o.http !== undefined ? { http: o.http } : {}),
    ...(o.allowRemote ? { allowRemote: true } : {}),
    ...(o.socket ? { socket: o.socket } : {}),
    ...(o.logLevel ? { log: { ...config.log, level: o.logLevel } } : {}),
  };
}

interface ResolvedPlugin {
  dir: string;
  bundled: boolean;
  /** The manifest of a bundled built-in plugin (it has no directory of its own). */
  builtin?: PluginManifest;
  settings: Omit<PluginConfig, 'path' | 'enabled'>;
}

/**
 * The plugins to register: the bundled ones (unless disabled), with their config entry's
 * overrides, and every other enabled entry of the config, which must say where it is.
 */
function pluginsToRegister(config: Record<string, PluginConfig>, report: (msg: string, fields: Record<string, unknown>) => void): Map<string, ResolvedPlugin> {
  const out = new Map<string, ResolvedPlugin>();
  const bundled = new Map<string, string>();
  for (const dir of bundledPluginDirs()) {
    try {
      bundled.set(readManifest(dir).manifest.name, dir);
    } catch (err) {
      report('bundled plugin not registered', { dir, error: (err as Error).message });
    }
  }
  for (const [name, dir] of bundled) if (!config[name]) out.set(name, { dir, bundled: true, settings: {} });
  for (const b of BUNDLED_BUILTINS) {
    const name = b.manifest.name;
    const entry = config[name];
    if (entry && (!entry.enabled || entry.path !== undefined)) continue;
    const { path: _path, enabled: _enabled, ...settings } = entry ?? { enabled: true };
    out.set(name, { dir: packageRoot(), bundled: true, builtin: builtinManifest(b), settings });
  }
  for (const [name, p] of Object.entries(config)) {
    if (!p.enabled) continue;
    const { path, enabled: _enabled, ...settings } = p;
    if (path === undefined && BUNDLED_BUILTINS.some((b) => b.manifest.name === name)) continue;
    const dir = path ?? bundled.get(name);
    if (!dir) {
      report('plugin not registered', { plugin: name, error: `isg.config.json plugins.${name} has no "path", and no plugin of that name comes with isg (bundled: ${[...bundled.keys()].join(', ')})` });
      continue;
    }
    out.set(name, { dir, bundled: path === undefined, settings });
  }
  return out;
}

function optional<T>(v: T | undefined): T[] {
  return v === undefined ? [] : [v];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
