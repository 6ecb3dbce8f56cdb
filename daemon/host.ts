// GraphHost: the one place the graph changes. `index` builds it; `applyChanges` patches it
// for a batch of file changes atomically and bumps the generation. Queries read `host.store`
// synchronously between mutations, so a query always sees exactly one generation.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, discoverFiles, isResolutionConfig, languageOf, type DiscoverOptions } from './ingest/discover.ts';
import { extractFile, reextract, type Extraction } from './ingest/extract.ts';
import { mapNameStrings, REF_FIELDS, RefRow, refKindOf, type EntityFact, type FileFacts } from './ingest/facts.ts';
import { outcomePath, type ParseOutcome } from './ingest/parse-job.ts';
import { parseAll } from './ingest/parse-pool.ts';
import { readSource } from './ingest/read-source.ts';
import { EDGE_KINDS, type Diagnostic, type EntityKind, type Language } from './model.ts';
import { GraphStore } from './graph/store.ts';
import { createModuleResolver, type ModuleResolver } from './resolve/module-resolver.ts';
import { sameDeclaredTypes, sameList, surfaceDelta, type SurfaceDelta } from './resolve/surface-delta.ts';
import { LookupFilter } from './resolve/lookup-filter.ts';
import { changedContainers } from './resolve/partial.ts';
import { COUNT_FIELDS, paramKey, SymbolResolver, type FileResolution, type ResolutionContext } from './resolve/symbols.ts';
import { contentHash, hash53, hash53Collapsed } from './util/hash.ts';
import { idleTrimmer } from './util/malloc-trim.ts';

export interface HostOptions extends DiscoverOptions {
  /** Parse workers for the initial index; default: one per core. */
  workers?: number;
  onProgress?: (done: number, total: number, bytes: number) => void;
}

/** A file of a batch read and extracted ahead of `applyChanges`, with the stat taken before the read. */
export interface PreparedFile {
  outcome: ParseOutcome;
  stat: FileStat | undefined;
}

export type PreparedChanges = ReadonlyMap<string, PreparedFile>;

/** One file change: new text, `null` for a deletion, or undefined to read the file from disk. */
export interface FileChange {
  path: string;
  text?: string | null;
}

export interface ChangeSummary {
  generation: number;
  files: string[];
  added: string[];
  removed: string[];
  /** Entities whose signature hash changed. */
  changed: string[];
  /** Files whose edges were recomputed (the changed files and those depending on them). */
  reresolved: number;
  /** Files read again whose content was unchanged (a touch, a racy stat): only their stat is new. */
  restated: number;
}

/** The stat of a file taken just before the read its facts came from. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  /** Date.now() just before the stat: a write soon after an mtime this recent may keep the same mtime. */
  seenAtMs: number;
}

/**
 * What resolving a file found, as a snapshot keeps it. `edges` is flat, five numbers an edge:
 * kind (index in EDGE_KINDS), source entity (index in the file's facts, -1 for the module),
 * target file (index in the record list it was saved with), target entity, inferred (0 or 1).
 */
export interface SavedResolution {
  dependencies: string[];
  /** `FileResolution.paramReads`; absent in snapshots saved before it was kept: then taken to be `dependencies` (every entity of those files). */
  paramReads?: string[];
  inferredNames: string[];
  moduleTargets: string[];
  typeOnlyImports: string[];
  counts: FileResolution['counts'];
  edges: number[];
}

/** What a snapshot keeps of one file: facts, or why it could not be indexed, and the stat they go with
 * (absent when the text did not come from disk, e.g. an editor buffer passed to applyChanges). */
export type FileRecord = { facts: FileFacts; stat?: FileStat; resolution?: SavedResolution } | { skipped: Diagnostic; stat?: FileStat };

/** Each resolution config file the module resolver read: its content hash, null when it was missing. */
export type ConfigReads = [path: string, hash: string | null][];

export interface IndexTimings {
  discoverMs: number;
  parseMs: number;
  resolveMs: number;
  totalMs: number;
}

interface FileState {
  facts: FileFacts;
  moduleId: number;
  /** Graph id of each entity in `facts.entities` (a typed array: 4 bytes an entity, not 8 plus slack). */
  ids: Int32Array;
  /** What resolving the file found, less the edges themselves (they live in the store). */
  resolution?: StoredResolution;
  /**
   * The resolution's counts per container (`FileResolution.containerCounts`), kept for files
   * changed since the index: with them, the next edit resolves only the containers it changed.
   */
  containerCounts?: Int32Array;
}

const EXTRACTION_CACHE_SIZE = 16;

/**
 * The content hash of facts edited from a cached extraction, until something reads it
 * (`settledHash`): assembly is not to compute one. Only the facts of a cached extraction are
 * deferred; its text is at hand to hash. (A getter closing over the text, as this was before,
 * made every edit's facts and text outlive the scavenges until the next full GC.)
 */
const DEFERRED = '';
/**
 * A batch is extracted on worker threads (`prepareChanges`) from this many files and bytes. In
 * the thread, a small file costs ~1.2-1.4 ms to extract (rxjs: 92 files of 3 KB, ~120 ms), so 8
 * files or 32 KB would hold every query up for longer than the 12 ms update budget. A worker
 * costs ~50-100 ms to start, but on its own thread: the batch lands later, queries go on.
 */
const PARALLEL_MIN_FILES = 8;
const PARALLEL_MIN_BYTES = 32 * 1024;

interface StoredResolution {
  dependencies: string[];
  paramReads: string[];
  inferredNames: string[];
  moduleTargets: string[];
  typeOnlyImports: ReadonlySet<string>;
  counts: FileResolution['counts'];
}

const NO_IMPORTS: ReadonlySet<string> = new Set();

/**
 * What the resolver reads of a host. A class, not an object of closures: V8 inlines a call whose
 * target it has always seen to be one function, and holds that function in the optimized code,
 * weakly. Closures are a host's own, so the resolver's code optimized while the daemon's edit
 * warm-up ran on a host of its own was thrown away when that host was collected, and compiled
 * again during the first real edits; methods are the same functions for every host.
 */
class HostContext implements ResolutionContext {
  readonly modules: ModuleResolver;
  private readonly files: ReadonlyMap<string, FileState>;
  private readonly store: GraphStore;

  constructor(files: ReadonlyMap<string, FileState>, store: GraphStore, modules: ModuleResolver) {
    this.files = files;
    this.store = store;
    this.modules = modules;
  }

  facts(path: string): FileFacts | undefined {
    return this.files.get(path)?.facts;
  }

  entityId(path: string, index: number): number {
    const f = this.files.get(path)!;
    return index < 0 ? f.moduleId : f.ids[index]!;
  }

  idsNamed(name: string): readonly number[] {
    return this.store.idsNamed(name);
  }

  kindOf(id: number): EntityKind {
    return this.store.kind(id);
  }
}

export class GraphHost {
  readonly root: string;
  readonly store = new GraphStore();
  generation = 0;
  timings: IndexTimings = { discoverMs: 0, parseMs: 0, resolveMs: 0, totalMs: 0 };
  private readonly files = new Map<string, FileState>();
  /** Diagnostics of files that could not be indexed at all (unreadable, binary, too large...). */
  private readonly skipped = new Map<string, Diagnostic>();
  private discoveryDiagnostics: Diagnostic[] = [];
  /** Stat each file's facts (or skip reason) were read at, when they came from disk. */
  private readonly stats = new Map<string, FileStat>();
  /** file -> files whose resolution consulted it. */
  private readonly dependents = new Map<string, Set<string>>();
  /** `paramKey` -> files whose resolution read those parameter types (the file itself too). */
  private readonly paramDependents = new Map<string, Set<string>>();
  /** simple name -> files that name-matched it. */
  private readonly nameDependents = new Map<string, Set<string>>();
  private readonly modules: ModuleResolver;
  private readonly resolver: SymbolResolver;
  private options: HostOptions;
  /** Trees and records of recently changed files, so their next edit re-extracts incrementally. */
  private readonly extractions = new Map<string, Extraction>();
  /** Every config file the module resolver read, with what it found: saved resolutions depend on them. */
  private readonly configReads = new Map<string, string | null>();

  private constructor(root: string, options: HostOptions) {
    this.root = root;
    this.options = options;
    this.modules = createModuleResolver({
      hasFile: (p) => this.files.has(p),
      readText: (p) => {
        let text: string | undefined;
        try {
          text = readFileSync(join(this.root, p), 'utf8');
        } catch {
          text = undefined;
        }
        this.configReads.set(p, text === undefined ? null : contentHash(text));
        return text;
      },
      directories: () => directoriesOf(this.files.keys()),
    });
    this.resolver = new SymbolResolver(new HostContext(this.files, this.store, this.modules));
  }

  /** Index every source file under `root`: discover, parse in parallel, then resolve. */
  static async index(root: string, options: HostOptions = {}): Promise<GraphHost> {
    const host = new GraphHost(root, options);
    const t0 = performance.now();
    const seenAtMs = Date.now();
    const found = discoverFiles(root, options);
    host.setDiscoveryDiagnostics(found.diagnostics);
    const t1 = performance.now();
    const jobs = found.files.map((f) => ({ path: f.path, abs: f.abs, language: f.language, size: f.size }));
    // What of populate() needs one file only is done as its facts arrive, while workers parse on.
    const pool = new Map<string, string>();
    const signatureHashes = new Map<string, Float64Array>();
    const onOutcome = (o: ParseOutcome): void => {
      if (!o.ok) return;
      host.resolver.prepare(internFacts(o.facts, pool));
      signatureHashes.set(o.facts.path, Float64Array.from(o.facts.entities, (e) => signatureHash(e.signature)));
    };
    const outcomes = await parseAll(jobs, { maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, workers: options.workers, onProgress: options.onProgress, onOutcome });
    const t2 = performance.now();
    for (const f of found.files) host.stats.set(f.path, { size: f.size, mtimeMs: f.mtimeMs, seenAtMs });
    host.populate(outcomes, signatureHashes);
    const t3 = performance.now();
    host.timings = { discoverMs: t1 - t0, parseMs: t2 - t1, resolveMs: t3 - t2, totalMs: t3 - t0 };
    // parsing and resolving freed hundreds of MB of malloc'd memory (tree-sitter's trees among it)
    idleTrimmer.noteWork();
    return host;
  }

  /**
   * A host from records saved earlier (a snapshot) and checked against the disk by the caller,
   * without parsing. With `saved`, the records are exactly the list `records(true)` gave, in its
   * order, and their edges are taken as saved too, along with the config reads they depend on
   * (the caller has checked those against the disk); otherwise resolution runs as in `index`.
   * `discoveryDiagnostics` are those of the caller's discovery of the same tree.
   */
  static restore(root: string, records: FileRecord[], discoveryDiagnostics: Diagnostic[], options: HostOptions = {}, saved?: { configReads: ConfigReads; lookups?: { missed: Uint32Array; found: Uint32Array } }): GraphHost {
    const host = new GraphHost(root, options);
    const t0 = performance.now();
    host.setDiscoveryDiagnostics(discoveryDiagnostics);
    for (const r of records) if (r.stat) host.stats.set(recordPath(r), r.stat);
    if (saved) {
      host.populateResolved(records, saved.configReads);
      // Without the filters the saved resolutions were made with, any lookup may have missed or found anything.
      host.resolver.missed = saved.lookups ? new LookupFilter(saved.lookups.missed) : LookupFilter.everything();
      host.resolver.found = saved.lookups ? new LookupFilter(saved.lookups.found) : LookupFilter.everything();
    }
    else host.populate(records.map((r) => ('facts' in r ? { ok: true, facts: r.facts } : { ok: false, path: r.skipped.file, diagnostic: r.skipped })));
    const resolveMs = performance.now() - t0;
    host.timings = { discoverMs: 0, parseMs: 0, resolveMs, totalMs: resolveMs };
    idleTrimmer.noteWork();
    return host;
  }

  /**
   * Every file's facts or skip reason with the stat they were read at: what a snapshot saves;
   * `withResolution` adds what resolving each file found, edges included.
   */
  records(withResolution = false): FileRecord[] {
    return [...this.eachRecord(withResolution)];
  }

  /** How many `records` there are. */
  get recordCount(): number {
    return this.files.size + this.skipped.size;
  }

  /**
   * `records`, made one at a time as they are taken. Taken across turns of the event loop, they
   * are one generation's only while `generation` stays the same (a change between two of them
   * has replaced what the ones before describe).
   */
  *eachRecord(withResolution = false): Generator<FileRecord> {
    const withStat = <R extends FileRecord>(path: string, r: R): R => {
      const stat = this.stats.get(path);
      if (stat) r.stat = stat;
      return r;
    };
    const where = withResolution ? this.entityIndexes() : undefined;
    this.settleHashes();
    for (const [path, f] of this.files) {
      const r: FileRecord = withStat(path, { facts: f.facts });
      if (where && f.resolution) r.resolution = this.savedResolution(f, f.resolution, where);
      yield r;
    }
    for (const [path, d] of this.skipped) yield withStat(path, { skipped: d });
  }

  /** The config reads the current resolutions depend on (see records(true)). */
  resolutionInputs(): ConfigReads {
    return [...this.configReads];
  }

  /** The lookups the current resolutions missed and found (resolve/lookup-filter.ts), as a snapshot saves them. */
  lookupFilters(): { missed: Uint32Array; found: Uint32Array } {
    return { missed: this.resolver.missed.words, found: this.resolver.found.words };
  }

  /** Whether a lookup may have missed on a key `delta` added to `path`, or found one it removed. */
  private reaches(path: string, delta: SurfaceDelta): boolean {
    return delta.added.some((k) => this.resolver.missed.mayHave(path, k)) || delta.removed.some((k) => this.resolver.found.mayHave(path, k));
  }

  applyChange(path: string, text?: string | null): ChangeSummary {
    return this.applyChanges([{ path, text }]);
  }

  /**
   * Read and extract the files of a large batch (a `git checkout`) on the parse pool's worker
   * threads, so the calling thread stays free to answer queries on the current generation
   * meanwhile; `applyChanges(changes, prepared)` then only patches and resolves. Small batches
   * get `undefined`: they are extracted in-thread, re-parsed incrementally from their cached trees.
   */
  async prepareChanges(changes: FileChange[]): Promise<PreparedChanges | undefined> {
    const toRead = changes.filter((c) => c.text === undefined && !isResolutionConfig(c.path) && languageOf(c.path));
    if (toRead.length < PARALLEL_MIN_FILES) return undefined;
    const stats = new Map<string, FileStat | undefined>();
    let bytes = 0;
    for (const c of toRead) {
      const stat = statBeforeRead(join(this.root, c.path));
      stats.set(c.path, stat);
      bytes += stat?.size ?? 0;
    }
    if (bytes < PARALLEL_MIN_BYTES) return undefined;
    const jobs = toRead.map((c) => ({ path: c.path, abs: join(this.root, c.path), language: languageOf(c.path)!, size: stats.get(c.path)?.size ?? 0 }));
    const outcomes = await parseAll(jobs, { maxFileBytes: this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, workers: this.options.workers, minBytesForWorkers: PARALLEL_MIN_BYTES });
    const prepared = new Map<string, PreparedFile>();
    for (const outcome of outcomes) {
      const path = outcomePath(outcome);
      prepared.set(path, { outcome, stat: stats.get(path) });
    }
    return prepared;
  }

  /**
   * Apply a batch of changes atomically: the graph goes from one generation to the next.
   * `prepared`: what `prepareChanges` read and extracted for this batch.
   */
  applyChanges(changes: FileChange[], prepared?: PreparedChanges): ChangeSummary {
    const summary: ChangeSummary = { generation: this.generation, files: [], added: [], removed: [], changed: [], reresolved: 0, restated: 0 };
    const toResolve = new Set<string>();
    /** Changed files whose edges change only in some containers: file -> those containers. */
    const partial = new Map<string, Uint8Array>();
    const changed = new Set<string>();
    let fileSetChanged = false;
    let configChanged = false;
    const last = new Map<string, FileChange>();
    for (const c of changes) last.set(c.path, c);
    for (const change of last.values()) {
      const { path } = change;
      if (isResolutionConfig(path)) {
        // tsconfig paths/baseUrl, workspace packages and exports maps: any file may resolve differently.
        configChanged = true;
        summary.files.push(path);
        continue;
      }
      const language = languageOf(path);
      const old = this.files.get(path);
      const next = language ? this.readAndExtract(path, language, change.text, change.text === undefined ? prepared?.get(path) : undefined) : undefined;
      if (!old && !next) continue;
      // The same bytes again leave the graph as it was: no new generation, no update event.
      // (readAndExtract gives the current facts back for the same text.)
      if (old && next && old.facts === next) {
        summary.restated++;
        continue;
      }
      summary.files.push(path);
      changed.add(path);
      const seen = !old || !next ? 'all' : surfaceChange(old.facts, next);
      const surface = typeof seen === 'string' ? seen : 'delta' in seen ? 'all' : 'params';
      if (!old || !next) fileSetChanged = true;
      if (old && !next) this.clearEdges(path);
      this.resolver.invalidate(path, surface);
      // Declarations added, removed or changed: a file that consulted this one resolves
      // differently only if it looked here for an added one and missed, or for a removed or
      // changed one and found it (resolve/surface-delta.ts, resolve/lookup-filter.ts).
      const reach = typeof seen === 'object' && 'delta' in seen ? this.reaches(path, seen.delta) : surface === 'all';
      if (reach) for (const d of this.dependents.get(path) ?? []) toResolve.add(d);
      // Parameter types: only files that typed a callback by them can resolve differently
      // (the file itself among them, if it did: then it is resolved whole).
      if (typeof seen !== 'string') {
        const params = 'delta' in seen ? seen.delta.params : seen.params;
        for (const key of [paramKey(path), ...params.map((name) => paramKey(path, name))]) for (const d of this.paramDependents.get(key) ?? []) toResolve.add(d);
      }
      const only = old && next && surface !== 'all' ? this.containersToResolve(old, next) : undefined;
      // Read and done with: the extraction's note of which rows it kept from the previous facts
      // would keep those facts alive, and with them the previous text (their strings are slices
      // of it): a large file's text promoted to the old generation by every scavenge.
      const x = this.extractions.get(path);
      if (x) x.sameRows = undefined;
      if (only) partial.set(path, only);
      else toResolve.add(path);
      const names = this.replaceFileEntities(path, old, next, summary);
      for (const n of names) for (const d of this.nameDependents.get(n) ?? []) toResolve.add(d);
    }
    if (fileSetChanged) {
      // Module specifiers may now point elsewhere (x.ts appeared next to x/index.ts, a target vanished).
      this.modules.invalidateFiles();
      this.resolver.invalidateExports();
      for (const [path, state] of this.files) {
        if (state.resolution && !sameTargets(state.resolution.moduleTargets, this.moduleTargetsOf(state.facts))) {
          toResolve.add(path);
          // Names re-exported through `path` (`export * from './x'`, `export { a } from './x'`)
          // may now come from another file, so files that resolved through it are stale too,
          // although neither they nor `path` changed: their dependencies include `path`.
          for (const d of this.dependents.get(path) ?? []) toResolve.add(d);
        }
      }
    }
    if (configChanged) {
      this.modules.invalidateConfig();
      this.modules.invalidateFiles();
      this.resolver.invalidateAll();
      for (const p of this.files.keys()) toResolve.add(p);
    }
    for (const p of toResolve) if (!this.files.has(p)) toResolve.delete(p);
    for (const p of toResolve) this.clearEdges(p);
    for (const [p, only] of partial) {
      if (toResolve.has(p)) partial.delete(p);
      else this.clearContainers(p, only);
    }
    this.collectGarbage(toResolve);
    for (const p of toResolve) partial.delete(p);
    // Counts per container are kept for the files that changed, and those that had them.
    for (const p of toResolve) this.resolve(p, changed.has(p) || this.files.get(p)!.containerCounts !== undefined);
    for (const [p, only] of partial) this.resolveContainers(p, only);
    summary.reresolved = toResolve.size + partial.size;
    if (summary.files.length) this.generation++;
    summary.generation = this.generation;
    // an edit replaces the file's tree-sitter tree (malloc'd): given back once edits stop
    idleTrimmer.noteWork();
    return summary;
  }

  /**
   * Files read from now on are skipped past this size (isg.config.json's maxFileBytes was edited).
   * Files already indexed or skipped stay so until they are read again.
   */
  setMaxFileBytes(bytes: number): void {
    this.options = { ...this.options, maxFileBytes: bytes };
  }

  /** Facts of one indexed file (the extraction, before resolution). */
  factsOf(path: string): FileFacts | undefined {
    const facts = this.files.get(path)?.facts;
    if (facts) this.settledHash(facts);
    return facts;
  }

  filePaths(): IterableIterator<string> {
    return this.files.keys();
  }

  moduleId(path: string): number | undefined {
    return this.files.get(path)?.moduleId;
  }

  /** Modules `path` imports through type-only imports alone. */
  typeOnlyImports(path: string): ReadonlySet<string> {
    return this.files.get(path)?.resolution?.typeOnlyImports ?? NO_IMPORTS;
  }

  diagnostics(): Diagnostic[] {
    const out = [...this.discoveryDiagnostics, ...this.skipped.values()];
    for (const f of this.files.values()) out.push(...f.facts.diagnostics);
    return out;
  }

  resolutionCounts(): { resolved: number; inferred: number; external: number; unresolved: number } {
    const total = { resolved: 0, inferred: 0, external: 0, unresolved: 0 };
    for (const f of this.files.values()) {
      const c = f.resolution?.counts;
      if (!c) continue;
      total.resolved += c.resolved;
      total.inferred += c.inferred;
      total.external += c.external;
      total.unresolved += c.unresolved;
    }
    return total;
  }

  fileStats(): { files: number; bytes: number; lines: number; skipped: number } {
    let bytes = 0;
    let lines = 0;
    for (const f of this.files.values()) {
      bytes += f.facts.bytes;
      lines += f.facts.lines;
    }
    return { files: this.files.size, bytes, lines, skipped: this.skipped.size };
  }

  // ---- internals ----------------------------------------------------------------------

  private setDiscoveryDiagnostics(diagnostics: Diagnostic[]): void {
    // A file refused at discovery as too large is a skipped file, like a binary one (and like a
    // too-large file met later by applyChanges); it used to be reported but not counted in
    // fileStats().skipped.
    this.discoveryDiagnostics = diagnostics.filter((d) => d.code !== 'too-large');
    for (const d of diagnostics) if (d.code === 'too-large') this.skipped.set(d.file, d);
  }

  /** The initial state from saved records with their resolutions: no resolver run. */
  private populateResolved(records: FileRecord[], configReads: ConfigReads): void {
    this.store.reserve(entityCount(records.map((r) => ('facts' in r ? r.facts : undefined))));
    for (const r of records) {
      if ('facts' in r) this.addFile(r.facts);
      else this.skipped.set(r.skipped.file, r.skipped);
    }
    const states = records.map((r) => ('facts' in r ? this.files.get(r.facts.path) : undefined));
    const entity = (f: FileState | undefined, i: number): number => {
      const id = i < 0 ? f?.moduleId : f?.ids[i];
      if (id === undefined) throw new Error(`a saved edge names entity ${i} of a file that has no such entity`);
      return id;
    };
    records.forEach((r, o) => {
      if (!('facts' in r)) return;
      const saved = r.resolution;
      if (!saved) throw new Error(`no saved resolution for ${r.facts.path}`);
      const f = states[o]!;
      const e = saved.edges;
      for (let i = 0; i + 4 < e.length; i += 5) {
        this.store.addEdge(EDGE_KINDS[e[i]!]!, entity(f, e[i + 1]!), entity(states[e[i + 2]!], e[i + 3]!), e[i + 4] ? 'inferred' : 'resolved');
      }
      this.track(r.facts.path, {
        dependencies: new Set(saved.dependencies),
        // A snapshot from before parameter reads were kept: any entity of any file consulted may have been read so.
        paramReads: new Set(saved.paramReads ?? saved.dependencies),
        inferredNames: new Set(saved.inferredNames),
        moduleTargets: saved.moduleTargets,
        typeOnlyImports: new Set(saved.typeOnlyImports),
        counts: saved.counts,
      });
    });
    for (const [p, hash] of configReads) this.configReads.set(p, hash);
    this.store.compact();
    this.generation = 1;
  }

  /** Entity id -> [index of its file among this.files, index in the file's facts (-1: module)]. */
  private entityIndexes(): Map<number, [number, number]> {
    const where = new Map<number, [number, number]>();
    let o = 0;
    for (const f of this.files.values()) {
      where.set(f.moduleId, [o, -1]);
      f.ids.forEach((id, i) => where.set(id, [o, i]));
      o++;
    }
    return where;
  }

  private savedResolution(f: FileState, r: StoredResolution, where: Map<number, [number, number]>): SavedResolution {
    const edges: number[] = [];
    [f.moduleId, ...f.ids].forEach((id, i) => {
      EDGE_KINDS.forEach((kind, k) => {
        for (const t of this.store.rawNeighbors(kind, id, 'out') ?? []) {
          const [file, index] = where.get(t >> 1)!;
          edges.push(k, i - 1, file, index, t & 1);
        }
      });
    });
    return {
      dependencies: [...r.dependencies],
      paramReads: [...r.paramReads],
      inferredNames: [...r.inferredNames],
      moduleTargets: r.moduleTargets,
      typeOnlyImports: [...r.typeOnlyImports],
      counts: r.counts,
      edges,
    };
  }

  /**
   * The initial state from parse outcomes: add every file in path order, then resolve them all.
   * `prepared`: their facts were interned, their scopes prepared and their entities' signature
   * hashes computed (these, by path) as they arrived (index).
   */
  private populate(outcomes: ParseOutcome[], prepared?: Map<string, Float64Array>): void {
    outcomes.sort((a, b) => (outcomePath(a) < outcomePath(b) ? -1 : 1));
    // One copy of each name and path string across all files' facts (they repeat a lot); the
    // pool itself is dropped after indexing, as keeping it would cost more than the duplicates
    // later edits create.
    const pool = new Map<string, string>();
    this.store.reserve(entityCount(outcomes.map((o) => (o.ok ? o.facts : undefined))));
    for (const o of outcomes) {
      if (o.ok) this.addFile(prepared ? o.facts : internFacts(o.facts, pool), prepared?.get(o.facts.path));
      else this.skipped.set(o.path, o.diagnostic);
    }
    for (const path of this.files.keys()) this.resolve(path);
    // Per-file scopes and export lookups are rebuilt on demand by later changes; keeping them
    // for every file would cost more memory than the graph itself.
    this.resolver.invalidateAll();
    this.store.compact();
    this.generation = 1;
  }

  private readAndExtract(path: string, language: Language, text: string | null | undefined, prepared?: PreparedFile): FileFacts | undefined {
    this.stats.delete(path);
    if (prepared) return this.takePrepared(path, prepared);
    if (text === null) {
      this.extractions.delete(path);
      this.skipped.delete(path);
      return undefined;
    }
    let readHash: string | undefined;
    if (text === undefined) {
      const abs = join(this.root, path);
      const stat = statBeforeRead(abs);
      const read = readSource(abs, path, this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
      if (stat) this.stats.set(path, stat);
      if (!read.ok) {
        this.skipped.set(path, read.diagnostic);
        this.extractions.delete(path);
        return undefined;
      }
      text = read.text;
      readHash = read.hash;
    }
    this.skipped.delete(path);
    // A touch, or a watcher reporting a file again: nothing to extract.
    const current = this.files.get(path)?.facts;
    const cached = this.extractions.get(path);
    let extraction: Extraction;
    if (cached && cached.facts === current && cached.language === language) {
      // The text the current facts came from is at hand: compared, not hashed. A text handed
      // over is hashed when first read (a snapshot's save) or when the extraction leaves the
      // cache, not on every edit: it was a sixth of a large file's edit, and of a run of edits
      // only the last text's is ever read. One read from disk came with its hash.
      if (cached.text === text) return current;
      extraction = reextract(cached, text, readHash ?? DEFERRED);
    } else {
      const hash = readHash ?? contentHash(text);
      if (current && this.settledHash(current) === hash) return current;
      extraction = cached && cached.language === language ? reextract(cached, text, hash) : extractFile(path, language, text, hash);
    }
    this.extractions.delete(path);
    this.extractions.set(path, extraction);
    if (this.extractions.size > EXTRACTION_CACHE_SIZE) {
      const [oldest, evicted] = this.extractions.entries().next().value!;
      // A deferred content hash is settled now: the text goes with the extraction.
      this.settledHash(evicted.facts);
      this.extractions.delete(oldest);
    }
    return extraction.facts;
  }

  private takePrepared(path: string, { outcome, stat }: PreparedFile): FileFacts | undefined {
    if (stat) this.stats.set(path, stat);
    const current = this.files.get(path)?.facts;
    if (current) this.settledHash(current);
    // A cached tree is of an older text now.
    this.extractions.delete(path);
    if (!outcome.ok) {
      this.skipped.set(path, outcome.diagnostic);
      return undefined;
    }
    this.skipped.delete(path);
    return current && current.contentHash === outcome.facts.contentHash ? current : outcome.facts;
  }

  /** The content hash of a file's current facts, computed now if it was deferred (`DEFERRED`). */
  private settledHash(facts: FileFacts): string {
    if (facts.contentHash === DEFERRED) facts.contentHash = contentHash(this.extractions.get(facts.path)!.text);
    return facts.contentHash;
  }

  private settleHashes(): void {
    for (const x of this.extractions.values()) this.settledHash(x.facts);
  }

  /** `hashes`: the signature hash of each entity, when computed already. */
  private addFile(facts: FileFacts, hashes?: Float64Array): void {
    const moduleId = this.store.addEntity(facts.path, moduleEntity(facts));
    // A parent comes before its members in `entities`, so its id exists when they are added.
    const ids: number[] = [];
    facts.entities.forEach((e, i) => ids.push(this.store.addEntity(facts.path, entityInput(e, moduleId, ids, hashes?.[i]))));
    this.files.set(facts.path, { facts, moduleId, ids: Int32Array.from(ids) });
  }

  /**
   * Swap a file's entities for its new facts, keeping ids of entities whose qualified name
   * survives (so edges from other files stay valid). Returns simple names that appeared or
   * disappeared: name-matching elsewhere may change.
   */
  private replaceFileEntities(path: string, old: FileState | undefined, next: FileFacts | undefined, summary: ChangeSummary): Set<string> {
    const names = new Set<string>();
    const oldIds = new Map<string, number>();
    /** Graph id -> the fact it was last updated from. */
    const oldFacts = new Map<number, EntityFact>();
    // Most edits keep every entity where it was in the list: matched by position, no maps built.
    if (old && next && sameNames(old.facts.entities, next.entities)) return this.updateFileEntities(path, old, next, summary);
    if (old) {
      old.facts.entities.forEach((e, i) => {
        oldIds.set(e.name, old.ids[i]!);
        oldFacts.set(old.ids[i]!, e);
      });
    }
    if (!next) {
      for (const [name, id] of oldIds) {
        names.add(lastSegment(name));
        summary.removed.push(this.store.key(id));
        this.pendingRemoval.add(id);
      }
      this.pendingRemoval.add(old!.moduleId);
      summary.removed.push(path);
      this.files.delete(path);
      return names;
    }
    const moduleId = old ? old.moduleId : this.store.addEntity(path, moduleEntity(next));
    if (old) this.store.updateEntity(moduleId, moduleEntity(next));
    else summary.added.push(path);
    const added = new Set<number>();
    const ids: number[] = next.entities.map((e) => {
      const id = oldIds.get(e.name);
      if (id !== undefined) {
        oldIds.delete(e.name);
        // Same name, other kind (a field became a method): name matching only counts methods
        // and functions, so files that name-matched this name may resolve differently now.
        if (this.store.kind(id) !== e.kind) names.add(lastSegment(e.name));
        return id;
      }
      names.add(lastSegment(e.name));
      const nid = this.store.addEntity(path, entityInput(e, moduleId, []));
      summary.added.push(this.store.key(nid));
      added.add(nid);
      return nid;
    });
    next.entities.forEach((e, i) => {
      const id = ids[i]!;
      // Most entities of an edited file are unchanged but for their position at most: not
      // worth re-hashing their signatures.
      const before = oldFacts.get(id);
      if (before && samePlace(before, e, old!.ids, ids)) {
        // One copy of the text, shared with the store.
        e.signature = before.signature;
        if (before.doc !== undefined) e.doc = before.doc;
        return;
      }
      // Moved (lines added above it) but the same text: the same hash, not computed again (a
      // large file's entities below an edit are most of its signatures' text).
      const sameText = before !== undefined && before.signature === e.signature;
      if (sameText) e.signature = before.signature;
      const input = entityInput(e, moduleId, ids, sameText ? this.store.signatureHashValue(id) : undefined);
      if (old && !added.has(id) && this.store.signatureHashValue(id) !== input.signatureHash) summary.changed.push(this.store.key(id));
      this.store.updateEntity(id, input);
    });
    for (const [name, id] of oldIds) {
      names.add(lastSegment(name));
      summary.removed.push(this.store.key(id));
      this.pendingRemoval.add(id);
    }
    this.files.set(path, { facts: next, moduleId, ids: Int32Array.from(ids), resolution: old?.resolution, containerCounts: old?.containerCounts });
    return names;
  }

  /**
   * replaceFileEntities when `next` has the entities of `old`, by name and in order: each keeps its
   * id, nothing is added or removed. Returns the simple names whose kind changed.
   */
  private updateFileEntities(path: string, old: FileState, next: FileFacts, summary: ChangeSummary): Set<string> {
    const names = new Set<string>();
    this.store.updateEntity(old.moduleId, moduleEntity(next));
    const ids = old.ids;
    next.entities.forEach((e, i) => {
      const id = ids[i]!;
      if (this.store.kind(id) !== e.kind) names.add(lastSegment(e.name));
      const before = old.facts.entities[i]!;
      if (samePlace(before, e, ids, ids)) {
        e.signature = before.signature;
        if (before.doc !== undefined) e.doc = before.doc;
        return;
      }
      const sameText = before.signature === e.signature;
      if (sameText) e.signature = before.signature;
      const input = entityInput(e, old.moduleId, ids, sameText ? this.store.signatureHashValue(id) : undefined);
      if (this.store.signatureHashValue(id) !== input.signatureHash) summary.changed.push(this.store.key(id));
      this.store.updateEntity(id, input);
    });
    this.files.set(path, { facts: next, moduleId: old.moduleId, ids, resolution: old.resolution, containerCounts: old.containerCounts });
    return names;
  }

  private readonly pendingRemoval = new Set<number>();

  /** Remove entities that vanished, after making sure no edge still points at them. */
  private collectGarbage(toResolve: Set<string>): void {
    for (const id of this.pendingRemoval) {
      this.store.clearOutgoing(id);
      // Any file with an edge into a vanished entity must be re-resolved; dependency tracking
      // should already have scheduled it, this keeps the reverse indexes exact regardless.
      for (const kind of ['calls', 'uses-type', 'extends', 'implements', 'imports', 're-exports', 'contains'] as const) {
        for (const src of this.store.neighbors(kind, id, 'in')) {
          const file = this.store.file(src);
          if (this.files.has(file) && !toResolve.has(file)) {
            toResolve.add(file);
            this.clearEdges(file);
          }
        }
      }
    }
    for (const id of this.pendingRemoval) this.store.removeEntity(id);
    this.pendingRemoval.clear();
  }

  private clearEdges(path: string): void {
    const f = this.files.get(path);
    if (!f) return;
    this.store.clearOutgoing(f.moduleId);
    for (const id of f.ids) this.store.clearOutgoing(id);
    const old = f.resolution;
    if (old) {
      for (const d of old.dependencies) this.dependents.get(d)?.delete(path);
      for (const d of old.paramReads) this.paramDependents.get(d)?.delete(path);
      for (const n of old.inferredNames) this.nameDependents.get(n)?.delete(path);
      f.resolution = undefined;
    }
  }

  private resolve(path: string, perContainer = false): void {
    // Read in place, not taken apart by a rest pattern: the object a rest pattern makes has a
    // map no object keeps past the call (util/keep-shape.ts).
    const r = this.resolver.resolveFile(path, { perContainer });
    for (const e of r.edges) this.store.addEdge(e.kind, e.from, e.to, e.inferred ? 'inferred' : 'resolved');
    this.track(path, r);
    this.files.get(path)!.containerCounts = r.containerCounts;
  }

  /**
   * The containers of a changed file (`old` its state before) whose edges may have changed, when
   * the rest of its edges can be kept: what other files see of it is the same, or only parameter
   * types changed (if the file typed its own callbacks by them, applyChanges resolves it whole).
   * Undefined: resolve it whole.
   */
  private containersToResolve(old: FileState, next: FileFacts): Uint8Array | undefined {
    if (!old.resolution || !old.containerCounts) return undefined;
    // Rows assembly copied from the previous facts need no comparing.
    const x = this.extractions.get(next.path);
    return changedContainers(old.facts, next, x && x.facts === next && x.sameRows?.from === old.facts ? x.sameRows : undefined);
  }

  private clearContainers(path: string, only: Uint8Array): void {
    const f = this.files.get(path)!;
    if (only[0]) this.store.clearOutgoing(f.moduleId);
    for (let i = 0; i < f.ids.length; i++) if (only[i + 1]) this.store.clearOutgoing(f.ids[i]!);
  }

  /**
   * Resolve the references of some containers of `path` again (their edges were cleared). Its
   * other edges stand; its dependencies and names may now be more than it has, never fewer.
   */
  private resolveContainers(path: string, only: Uint8Array): void {
    const f = this.files.get(path)!;
    const before = f.resolution!;
    const counts = f.containerCounts!;
    const r = this.resolver.resolveFile(path, { only, perContainer: true });
    const fresh = r.containerCounts;
    for (const e of r.edges) this.store.addEdge(e.kind, e.from, e.to, e.inferred ? 'inferred' : 'resolved');
    const total = [before.counts.resolved, before.counts.inferred, before.counts.external, before.counts.unresolved];
    for (let c = 0; c < only.length; c++) {
      if (!only[c]) continue;
      for (let k = 0; k < COUNT_FIELDS.length; k++) {
        const o = c * COUNT_FIELDS.length + k;
        total[k]! += fresh![o]! - counts[o]!;
        counts[o] = fresh![o]!;
      }
    }
    for (const d of before.dependencies) r.dependencies.add(d);
    for (const d of before.paramReads) r.paramReads.add(d);
    for (const n of before.inferredNames) r.inferredNames.add(n);
    if (!only[0]) {
      r.moduleTargets = before.moduleTargets;
      r.typeOnlyImports = new Set(before.typeOnlyImports);
    }
    r.counts = { resolved: total[0]!, inferred: total[1]!, external: total[2]!, unresolved: total[3]! };
    this.track(path, r);
  }

  /** Records what resolving `path` found and who depends on what. */
  private track(path: string, r: Omit<FileResolution, 'edges'>): void {
    const f = this.files.get(path)!;
    for (const d of r.dependencies) {
      if (d === path) continue;
      let set = this.dependents.get(d);
      if (!set) this.dependents.set(d, (set = new Set()));
      set.add(path);
    }
    for (const d of r.paramReads) {
      let set = this.paramDependents.get(d);
      if (!set) this.paramDependents.set(d, (set = new Set()));
      set.add(path);
    }
    for (const n of r.inferredNames) {
      let set = this.nameDependents.get(n);
      if (!set) this.nameDependents.set(n, (set = new Set()));
      set.add(path);
    }
    // Kept for every file until its next change: arrays and one shared empty set, not a Set each.
    f.resolution = {
      dependencies: [...r.dependencies],
      paramReads: [...r.paramReads],
      inferredNames: [...r.inferredNames],
      moduleTargets: r.moduleTargets,
      typeOnlyImports: r.typeOnlyImports.size ? r.typeOnlyImports : NO_IMPORTS,
      counts: r.counts,
    };
  }

  private moduleTargetsOf(facts: FileFacts): string[] {
    const out: string[] = [];
    const specs = [...facts.imports.map((i) => i.specifier), ...facts.exports.filter((e) => e.specifier !== undefined).map((e) => e.specifier!)];
    for (const s of specs) {
      const r = this.modules.resolve(facts.path, s);
      out.push(r.kind === 'file' ? r.path : r.kind);
    }
    return out;
  }
}

/** Replace the strings facts repeat across files with one shared copy each. */
function internFacts(facts: FileFacts, pool: Map<string, string>): FileFacts {
  mapNameStrings(facts, (s) => {
    const known = pool.get(s);
    if (known !== undefined) return known;
    pool.set(s, s);
    return s;
  });
  return facts;
}

export function recordPath(r: FileRecord): string {
  return 'facts' in r ? r.facts.path : r.skipped.file;
}

/** Taken before reading, so that a write racing the read leaves a stat that no longer matches. */
function statBeforeRead(abs: string): FileStat | undefined {
  const seenAtMs = Date.now();
  try {
    const s = statSync(abs);
    return { size: s.size, mtimeMs: s.mtimeMs, seenAtMs };
  } catch {
    return undefined;
  }
}

function moduleEntity(facts: FileFacts) {
  return {
    kind: 'module' as const,
    qualifiedName: '',
    parent: -1,
    line: 1,
    column: 1,
    endLine: facts.lines,
    endColumn: 1,
    exported: true,
    signature: facts.path,
    signatureHash: hash53(facts.exports.map((e) => e.exported).join(',')),
  };
}

/** How many entities the files' facts make: theirs and one module each. */
function entityCount(facts: (FileFacts | undefined)[]): number {
  let n = 0;
  for (const f of facts) if (f) n += f.entities.length + 1;
  return n;
}

/** An entity's signature hash: its signature with runs of white space as one space. */
function signatureHash(signature: string): number {
  return hash53Collapsed(signature);
}

/** `hash`: the signature's, when known. */
function entityInput(e: FileFacts['entities'][number], moduleId: number, ids: ArrayLike<number>, hash = signatureHash(e.signature)) {
  return {
    kind: e.kind,
    qualifiedName: e.name,
    parent: e.parent < 0 ? moduleId : (ids[e.parent] ?? -1),
    line: e.line,
    column: e.column,
    endLine: e.endLine,
    endColumn: e.endColumn,
    exported: e.exported,
    signature: e.signature,
    signatureHash: hash,
    doc: e.doc,
  };
}

/**
 * What of a file's surface an edit changed: 'all' (its entities, their declared types, exports,
 * imports, heritage: any file that consulted it may resolve differently), the parameter types of
 * some functions only (`params`, their names: files that typed callbacks by them may, see
 * SymbolResolver.typeOfCallbackParameter), or 'none' (function bodies, comments, positions: no
 * other file's edges can change).
 */
function surfaceChange(old: FileFacts, next: FileFacts): 'all' | 'none' | { params: string[] } | { delta: SurfaceDelta } {
  if (!sameSurface(old, next)) {
    const delta = surfaceDelta(old, next);
    return delta ? { delta } : 'all';
  }
  // Same entities in the same order (the surface lists them).
  // Made with its first name, not empty: an empty literal is an array of small integers to V8
  // until its first string, a change of kind the optimized code met at a real file's first edit.
  let params: string[] | undefined;
  for (let i = 0; i < next.entities.length; i++) {
    if (sameList(old.entities[i]!.paramTypes, next.entities[i]!.paramTypes)) continue;
    const name = next.entities[i]!.name;
    if (params) params.push(name);
    else params = [name];
  }
  return params ? { params } : 'none';
}

/**
 * Whether what other files can see of a file is the same, less parameter types (`surfaceChange`):
 * its entities and their declared types, exports, imports (re-export chains go through them) and
 * heritage. Compared field by field: a large file has thousands of entities, and this runs on
 * every edit.
 */
function sameSurface(a: FileFacts, b: FileFacts): boolean {
  if (a.entities.length !== b.entities.length || a.exports.length !== b.exports.length || a.imports.length !== b.imports.length) return false;
  for (let i = 0; i < a.entities.length; i++) {
    const x = a.entities[i]!;
    const y = b.entities[i]!;
    if (x.name !== y.name || x.parent !== y.parent || !sameDeclaredTypes(x, y)) return false;
  }
  for (let i = 0; i < a.exports.length; i++) {
    const x = a.exports[i]!;
    const y = b.exports[i]!;
    if (x.exported !== y.exported || x.local !== y.local || x.specifier !== y.specifier || x.imported !== y.imported) return false;
  }
  for (let i = 0; i < a.imports.length; i++) {
    const x = a.imports[i]!;
    const y = b.imports[i]!;
    if (x.specifier !== y.specifier || x.imported !== y.imported || x.local !== y.local) return false;
  }
  return sameHeritage(a, b);
}

/** The extends and implements references, in order: (container, kind, path) each. */
function sameHeritage(a: FileFacts, b: FileFacts): boolean {
  let j = 0;
  for (let o = 0; o < a.refs.length; o += REF_FIELDS) {
    const head = a.refs[o + RefRow.head]!;
    const kind = refKindOf(head);
    if (kind !== 'extends' && kind !== 'implements') continue;
    for (; j < b.refs.length; j += REF_FIELDS) {
      const k = refKindOf(b.refs[j + RefRow.head]!);
      if (k === 'extends' || k === 'implements') break;
    }
    if (j >= b.refs.length || b.refs[j + RefRow.head] !== head || a.strings[a.refs[o + RefRow.path]!] !== b.strings[b.refs[j + RefRow.path]!]) return false;
    j += REF_FIELDS;
  }
  for (; j < b.refs.length; j += REF_FIELDS) {
    const k = refKindOf(b.refs[j + RefRow.head]!);
    if (k === 'extends' || k === 'implements') return false;
  }
  return true;
}

/** Whether an entity's fact says the same as before, all that the store keeps of it included. */
function samePlace(a: EntityFact, b: EntityFact, aIds: ArrayLike<number>, bIds: ArrayLike<number>): boolean {
  return (
    a.kind === b.kind &&
    a.exported === b.exported &&
    a.line === b.line &&
    a.column === b.column &&
    a.endLine === b.endLine &&
    a.endColumn === b.endColumn &&
    a.signature === b.signature &&
    a.doc === b.doc &&
    (a.parent < 0 ? -1 : aIds[a.parent]) === (b.parent < 0 ? -1 : bIds[b.parent])
  );
}

function sameNames(a: EntityFact[], b: EntityFact[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name) return false;
  return true;
}

function sameTargets(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function directoriesOf(paths: Iterable<string>): Set<string> {
  const dirs = new Set<string>(['']);
  for (const p of paths) {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const d = p.slice(0, i);
      if (dirs.has(d)) break;
      dirs.add(d);
    }
  }
  return dirs;
}
