// Snapshots of the graph state in <root>/.isg/, so that a restart parses only what changed.
//
// A snapshot holds every file's facts (or the reason it was skipped) with the stat they were
// read at and what resolving it found, plus the config files the module resolver read. On
// start, `loadHost` discovers the tree as a cold index would and keeps the saved facts of files
// whose stat is unchanged (or whose content hash is, when the stat moved or is too recent to be
// trusted). Then either the saved edges still hold and the few changes are applied to the
// restored host, or changed files are parsed and everything is resolved: either way the graph
// equals a cold index of the same files. A snapshot that cannot be trusted is reported and
// ignored, and the start falls back to a cold index.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Diagnostic } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { GraphHost, recordPath, type ConfigReads, type FileChange, type FileRecord, type FileStat, type HostOptions, type PreparedChanges } from '../host.ts';
import { DEFAULT_MAX_FILE_BYTES, discoverFiles, type DiscoveredFile } from '../ingest/discover.ts';
import { outcomePath, type ParseOutcome } from '../ingest/parse-job.ts';
import { MIN_BYTES_FOR_WORKERS, parseAll } from '../ingest/parse-pool.ts';
import { errorReason, readSource } from '../ingest/read-source.ts';
import { LookupFilter } from '../resolve/lookup-filter.ts';
import { contentHash } from '../util/hash.ts';
import { statUnchanged } from '../util/stat-check.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { openSnapshot, SnapshotError, SnapshotWriter, type OpenedSnapshot } from './snapshot-file.ts';
import { resolverVersion, toolVersions, versionMismatches } from './versions.ts';

/**
 * Changed files up to this many bytes in all are applied to a host restored with its saved
 * edges (re-resolving what depends on them; extracted on workers from MIN_BYTES_FOR_WORKERS);
 * beyond, they are parsed in parallel and every file is resolved again.
 */
const REAPPLY_MAX_BYTES = 1 << 20;

export function snapshotPath(root: string): string {
  return join(resolve(root), '.isg', 'snapshot.bin');
}

export interface SaveResult {
  path: string;
  bytes: number;
  generation: number;
  files: number;
  /** Time spent collecting and encoding, on the caller's thread (in slices of about `sliceMs`). */
  encodeMs: number;
  /** The longest of those slices: the longest the caller's thread was held. */
  longestSliceMs: number;
  ms: number;
}

/** Encoding runs this long at most (past one record) before it lets other work run. */
const SLICE_MS = 4;

/**
 * Writes the host's current generation to `path` (default <root>/.isg/snapshot.bin), replacing
 * any previous snapshot atomically. Records are collected and encoded a few at a time, the
 * event loop free in between (`sliceMs`, 0: all at once); a change applied meanwhile makes
 * what was encoded stale, and the save is abandoned: undefined, nothing written.
 */
export async function saveSnapshot(host: GraphHost, path = snapshotPath(host.root), sliceMs = SLICE_MS): Promise<SaveResult | undefined> {
  const t0 = performance.now();
  const generation = host.generation;
  const files = host.recordCount;
  const writer = new SnapshotWriter({ root: resolve(host.root), tools: toolVersions(), resolver: resolverVersion(), writtenAt: new Date().toISOString(), generation, files });
  const lookups = host.lookupFilters();
  writer.add({ configReads: host.resolutionInputs(), missedLookups: lookups.missed, foundLookups: lookups.found, index: host.records().map(indexRow), records: files });
  let encodeMs = 0;
  let longestSliceMs = 0;
  let sliceStart = t0;
  const endSlice = () => {
    const ms = performance.now() - sliceStart;
    encodeMs += ms;
    longestSliceMs = Math.max(longestSliceMs, ms);
  };
  for (const record of host.eachRecord(true)) {
    writer.add(record);
    if (sliceMs > 0 && performance.now() - sliceStart >= sliceMs) {
      endSlice();
      await new Promise((r) => setImmediate(r));
      if (host.generation !== generation) return undefined;
      sliceStart = performance.now();
    }
  }
  const pieces = writer.finish();
  endSlice();
  try {
    await writeFileAtomic(path, pieces);
  } catch (err) {
    throw new IsgError('io', `cannot write the snapshot ${path}: ${errorReason(err)}`);
  }
  return { path, bytes: pieces.reduce((n, p) => n + p.length, 0), generation, files, encodeMs, longestSliceMs, ms: performance.now() - t0 };
}

export interface LoadOptions extends HostOptions {
  /** Where the snapshot is; default <root>/.isg/snapshot.bin. */
  snapshotPath?: string;
  /**
   * From a snapshot of this many bytes up (default 2 MiB), changed files are parsed on a worker
   * while its records are decoded and the host is built; below, after, on the loading thread
   * unless they are many.
   */
  parseWhileDecodingFrom?: number;
}

export interface LoadTimings {
  /** Reading, checking and decoding the snapshot. */
  readMs: number;
  discoverMs: number;
  /** Comparing stats, hashing the files whose stat changed, checking the config files saved edges depend on. */
  checkMs: number;
  /** Parsing changed files; with saved edges, applying them to the restored host (parse and re-resolve). */
  parseMs: number;
  /** Building the host: entities and saved edges, or entities and a resolution of every file. */
  buildMs: number;
  totalMs: number;
}

export interface LoadResult {
  host: GraphHost;
  from: 'snapshot' | 'cold';
  /** Whether the saved edges were reused ('saved') or every file was resolved again. */
  resolution: 'saved' | 'recomputed';
  /** Files read and parsed (or refused: binary, too large...): all of them on a cold start, changed and new ones otherwise. */
  reparsed: number;
  /** Files whose content was hashed because their stat changed or was too recent to trust. */
  hashed: number;
  /** Files in the snapshot that are gone or excluded now. */
  dropped: number;
  /** Whether changed files were parsed on a worker while the snapshot's records were decoded. */
  parsedWhileDecoding: boolean;
  /** Why the snapshot was not used, when there was one. */
  diagnostics: Diagnostic[];
  timings: LoadTimings;
}

/**
 * The host for `root`: from its snapshot brought up to date with the disk, or a cold index when
 * there is no usable snapshot (missing, unreadable, corrupt, or written for another root or by
 * other tool versions).
 */
export async function loadHost(root: string, options: LoadOptions = {}): Promise<LoadResult> {
  const t0 = performance.now();
  const file = options.snapshotPath ?? snapshotPath(root);
  const diagnostics: Diagnostic[] = [];
  const discard = (err: unknown): undefined => {
    if (!(err instanceof SnapshotError)) throw err;
    diagnostics.push({
      file: shownPath(root, file),
      severity: 'warning',
      code: err.problem === 'incompatible' ? 'snapshot-incompatible' : 'snapshot-corrupt',
      message: `snapshot ${file} not used, indexing from scratch: ${err.message}`,
    });
    return undefined;
  };
  const saved = await readSnapshot(root, file).catch(discard);
  const t1 = performance.now();
  const restored = saved && (await reconcile(root, options, saved, t0, t1 - t0).catch(discard));
  if (restored) return restored;
  const host = await GraphHost.index(root, options);
  const t = host.timings;
  const counts = host.fileStats();
  return {
    host,
    from: 'cold',
    resolution: 'recomputed',
    reparsed: counts.files + counts.skipped,
    hashed: 0,
    dropped: 0,
    parsedWhileDecoding: false,
    diagnostics,
    timings: { readMs: t1 - t0, discoverMs: t.discoverMs, checkMs: 0, parseMs: t.parseMs, buildMs: t.resolveMs, totalMs: performance.now() - t0 },
  };
}

/**
 * What the snapshot says of one file, read before the records are decoded: enough to tell
 * whether it changed. Saved as a row of the body's first value (`IndexRow`).
 */
interface IndexEntry {
  path: string;
  stat?: FileStat;
  /** The saved facts' content hash; undefined for a skipped file. */
  contentHash?: string;
  /** Why the file was skipped (a diagnostic code); undefined for a file with facts. */
  skipped?: string;
}

/** `IndexEntry` as saved: -1 for a stat that is absent, '' for a hash or a code that is. */
type IndexRow = [path: string, size: number, mtimeMs: number, seenAtMs: number, contentHash: string, skipped: string];

function indexRow(r: FileRecord): IndexRow {
  const s = r.stat;
  return [recordPath(r), s?.size ?? -1, s?.mtimeMs ?? -1, s?.seenAtMs ?? -1, 'facts' in r ? r.facts.contentHash : '', 'skipped' in r ? r.skipped.code : ''];
}

function indexEntry(row: unknown): IndexEntry | undefined {
  if (!Array.isArray(row) || row.length !== 6) return undefined;
  const [path, size, mtimeMs, seenAtMs, contentHash, skipped] = row as unknown[];
  if (typeof path !== 'string' || typeof size !== 'number' || typeof mtimeMs !== 'number' || typeof seenAtMs !== 'number' || typeof contentHash !== 'string' || typeof skipped !== 'string') return undefined;
  if ((contentHash === '') === (skipped === '')) return undefined;
  const entry: IndexEntry = { path };
  if (size >= 0) entry.stat = { size, mtimeMs, seenAtMs };
  if (contentHash) entry.contentHash = contentHash;
  else entry.skipped = skipped;
  return entry;
}

function entryOf(r: FileRecord): IndexEntry {
  return indexEntry(indexRow(r))!;
}

interface Saved {
  snapshot: OpenedSnapshot;
  /** Every saved file, in saved order (saved edges name files by their index in it). */
  index: IndexEntry[];
  /** The records, once decoded (`savedRecords`). */
  records?: FileRecord[];
  /** Config reads the saved resolutions depend on; absent in a snapshot saved without them. */
  configReads?: ConfigReads;
  /** The lookups the saved resolutions missed and found; absent in a snapshot saved without them. */
  lookups?: { missed: Uint32Array; found: Uint32Array };
  /** Whether the saved edges were resolved by this resolver (`resolverVersion`). */
  sameResolver: boolean;
  bytes: number;
}

/**
 * The snapshot with what it says of each file, undefined when there is none; a SnapshotError
 * when it is unusable. Its records are decoded only when asked for (`savedRecords`), so that
 * the parsing of changed files can start first; a snapshot without an index has them decoded
 * here.
 */
async function readSnapshot(root: string, file: string): Promise<Saved | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SnapshotError('corrupt', `cannot be read (${errorReason(err)})`);
  }
  const snapshot = openSnapshot(bytes);
  const { header } = snapshot;
  if (header.root !== resolve(root)) throw new SnapshotError('incompatible', `written for root ${header.root}`);
  const mismatches = versionMismatches(header.tools as unknown as Record<string, unknown>, toolVersions());
  if (mismatches.length) throw new SnapshotError('incompatible', `written by other versions: ${mismatches.join(', ')}`);
  const head = snapshot.head() as { records?: unknown; configReads?: unknown; missedLookups?: unknown; foundLookups?: unknown; index?: unknown };
  const configReads = Array.isArray(head.configReads) && head.configReads.every(isConfigRead) ? (head.configReads as ConfigReads) : undefined;
  const filter = (words: unknown) => (words instanceof Uint32Array && words.length === LookupFilter.WORDS ? words : undefined);
  const missed = filter(head.missedLookups);
  const found = filter(head.foundLookups);
  const saved: Saved = { snapshot, index: [], configReads, lookups: missed && found ? { missed, found } : undefined, sameResolver: header.resolver === resolverVersion(), bytes: bytes.length };
  if (Array.isArray(head.index)) {
    saved.index = head.index.map((row: unknown, i: number) => {
      const entry = indexEntry(row);
      if (!entry) throw new SnapshotError('corrupt', `index row ${i} is malformed`);
      return entry;
    });
  } else saved.index = savedRecords(saved).map(entryOf);
  return saved;
}

/** The saved records, decoded (once) and checked against the index. */
function savedRecords(saved: Saved): FileRecord[] {
  if (saved.records) return saved.records;
  const body = saved.snapshot.body() as { records?: unknown; index?: unknown };
  if (!Array.isArray(body?.records)) throw new SnapshotError('corrupt', 'the body has no record list');
  const records = body.records as unknown[];
  records.forEach((r: unknown, i: number) => {
    const path = validRecordPath(r);
    if (path === undefined) throw new SnapshotError('corrupt', `record ${i} is malformed`);
  });
  if (Array.isArray(body.index)) {
    // The index said what changed; the records must be those it described.
    if (records.length !== saved.index.length) throw new SnapshotError('corrupt', `${records.length} records for ${saved.index.length} index rows`);
    const other = records.findIndex((r, i) => recordPath(r as FileRecord) !== saved.index[i]!.path);
    if (other >= 0) throw new SnapshotError('corrupt', `record ${other} is not the file its index row names`);
  }
  saved.records = records as FileRecord[];
  return saved.records;
}

/**
 * Snapshots from this size up take long enough to decode and build (~35 ms a MB here) that
 * changed files are parsed meanwhile on a worker, however few; below, they are parsed after, on
 * this thread unless they are many (a worker takes ~50-100 ms to start).
 */
const PARSE_WHILE_DECODING_FROM = 2 << 20;

/**
 * Brings the saved records up to date with the disk. When the saved resolutions still hold (the
 * config files they read are unchanged) and little changed, the host is restored with its saved
 * edges and the changes are applied to it through applyChanges, as the watcher would; otherwise
 * changed files are parsed in parallel and everything is resolved again. What changed is told
 * from the snapshot's index, and a large snapshot's records are decoded while the changed files
 * are parsed.
 */
async function reconcile(root: string, options: LoadOptions, saved: Saved, t0: number, readMs: number): Promise<LoadResult> {
  const t1 = performance.now();
  const seenAtMs = Date.now();
  const found = discoverFiles(root, options);
  const t2 = performance.now();
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const kept = new Set<string>();
  /** Files whose stat moved but whose content did not: their records get the new stat. */
  const restated = new Map<string, FileStat>();
  const toParse: DiscoveredFile[] = [];
  let changedBytes = 0;
  let hashed = 0;
  const unseen = new Map(saved.index.map((e) => [e.path, e]));
  for (const f of found.files) {
    const entry = unseen.get(f.path);
    unseen.delete(f.path);
    if (entry && trusted(entry, f)) {
      kept.add(f.path);
      continue;
    }
    if (entry?.contentHash) {
      hashed++;
      if (sameContent(f, entry.contentHash, maxFileBytes)) {
        kept.add(f.path);
        restated.set(f.path, { size: f.size, mtimeMs: f.mtimeMs, seenAtMs });
        continue;
      }
    }
    toParse.push(f);
    changedBytes += f.size;
  }
  const mayReuseEdges = changedBytes <= REAPPLY_MAX_BYTES && savedResolutionsHold(root, saved);
  const t3 = performance.now();
  const stats = new Map(toParse.map((f) => [f.path, { size: f.size, mtimeMs: f.mtimeMs, seenAtMs }]));
  const parse = (overlapping: boolean): Promise<ParseOutcome[]> =>
    parseAll(
      toParse.map((f) => ({ path: f.path, abs: f.abs, language: f.language, size: f.size })),
      // Overlapping the decoding, a few files go to one worker: the thread is busy anyway, and
      // hands the workers their files at once (it takes nothing back until it is done decoding).
      overlapping && changedBytes < MIN_BYTES_FOR_WORKERS
        ? { maxFileBytes, workers: 1, minBytesForWorkers: 0, callerBusy: true }
        : { maxFileBytes, workers: options.workers, onProgress: options.onProgress, callerBusy: overlapping },
    );
  const early = toParse.length > 0 && saved.bytes >= (options.parseWhileDecodingFrom ?? PARSE_WHILE_DECODING_FROM) && options.workers !== 0 ? parse(true) : undefined;
  // Awaited below, unless decoding fails first: then the load falls back to a cold index.
  early?.catch(() => undefined);
  let host: GraphHost;
  let parseMs: number;
  let buildMs: number;
  let reusedEdges: boolean;
  try {
    const d0 = performance.now();
    const records = savedRecords(saved);
    for (const r of records) {
      const stat = restated.get(recordPath(r));
      if (stat) r.stat = stat;
    }
    readMs += performance.now() - d0;
    reusedEdges = mayReuseEdges && records.every((r) => !('facts' in r) || r.resolution);
    const t4 = performance.now();
    if (reusedEdges) {
      host = GraphHost.restore(root, records, found.diagnostics, options, { configReads: saved.configReads!, lookups: saved.lookups });
      const t5 = performance.now();
      buildMs = t5 - t4;
      const tooLarge = new Set(found.diagnostics.filter((d) => d.code === 'too-large').map((d) => d.file));
      const changes: FileChange[] = toParse.map((f) => ({ path: f.path }));
      // A file now too large is read once more so that the host records it as skipped.
      for (const path of unseen.keys()) changes.push(tooLarge.has(path) ? { path } : { path, text: null });
      let prepared: PreparedChanges | undefined;
      if (early) prepared = new Map((await early).map((o) => [outcomePath(o), { outcome: o, stat: stats.get(outcomePath(o)) }]));
      // Nothing is answered before this load is done, so the thread is free to extract a small
      // batch itself, sooner than workers would start (10 files of effect: ~140 ms against ~300).
      else if (changedBytes >= MIN_BYTES_FOR_WORKERS) prepared = await host.prepareChanges(changes);
      if (changes.length) host.applyChanges(changes, prepared);
      parseMs = performance.now() - t5;
    } else {
      const outcomes = await (early ?? parse(false));
      const t5 = performance.now();
      parseMs = t5 - t4;
      const list: FileRecord[] = records.filter((r) => kept.has(recordPath(r)));
      for (const o of outcomes) list.push(o.ok ? { facts: o.facts, stat: stats.get(o.facts.path)! } : { skipped: o.diagnostic, stat: stats.get(o.path)! });
      host = GraphHost.restore(root, list, found.diagnostics, options);
      buildMs = performance.now() - t5;
    }
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    // Records that passed the checksum but break the host are a bug; it must not keep the daemon down.
    throw new SnapshotError('corrupt', `restoring it failed (${err instanceof Error ? err.message : String(err)})`);
  }
  const t6 = performance.now();
  return {
    host,
    from: 'snapshot',
    resolution: reusedEdges ? 'saved' : 'recomputed',
    reparsed: toParse.length,
    hashed,
    dropped: unseen.size,
    parsedWhileDecoding: early !== undefined,
    diagnostics: [],
    timings: { readMs, discoverMs: t2 - t1, checkMs: t3 - t2, parseMs, buildMs, totalMs: t6 - t0 },
  };
}

/** Whether the file's content, read now, hashes as `hash`. */
function sameContent(f: DiscoveredFile, hash: string, maxFileBytes: number): boolean {
  const read = readSource(f.abs, f.path, maxFileBytes);
  return read.ok && read.hash === hash;
}

/**
 * Saved edges can be reused when this resolver made them and every config file they read reads
 * the same now (and every file has them: checked once the records are decoded).
 */
function savedResolutionsHold(root: string, saved: Saved): boolean {
  if (!saved.sameResolver || !saved.configReads) return false;
  return saved.configReads.every(([path, hash]) => {
    let now: string | null;
    try {
      now = contentHash(readFileSync(join(root, path), 'utf8'));
    } catch {
      now = null;
    }
    return now === hash;
  });
}

function isConfigRead(x: unknown): boolean {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && (x[1] === null || typeof x[1] === 'string');
}

/**
 * Whether a saved record still holds for the file discovered now without reading it: its stat
 * is unchanged (and was not racy), and its verdict depends on the content alone (a permission
 * fix leaves the mtime as it was, so 'unreadable' is always re-checked).
 */
function trusted(entry: IndexEntry, now: DiscoveredFile): boolean {
  return statUnchanged(entry.stat, now) && entry.skipped !== 'unreadable';
}

function validRecordPath(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const { facts, skipped, stat } = r as Record<string, Record<string, unknown> | undefined>;
  if (stat !== undefined && (typeof stat?.size !== 'number' || typeof stat.mtimeMs !== 'number' || typeof stat.seenAtMs !== 'number')) return undefined;
  if (facts && typeof facts.path === 'string' && typeof facts.contentHash === 'string') return facts.path;
  if (skipped && typeof skipped.file === 'string' && typeof skipped.code === 'string') return skipped.file;
  return undefined;
}

/** A path for a diagnostic: relative to root when inside it, as diagnostics are. */
function shownPath(root: string, file: string): string {
  const rel = relative(resolve(root), resolve(file));
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(file) : rel.split('\\').join('/');
}
