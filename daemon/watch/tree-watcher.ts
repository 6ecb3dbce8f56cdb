// Live updates: watches a root and hands batches of FileChanges to a callback (the daemon applies
// them through GraphHost.applyChanges, the one mutation entry point; this module never touches
// the graph).
//
// One non-recursive fs.watch per directory that discovery walks, so excluded trees
// (node_modules, build output, .isg/ where snapshots are written) are never watched at all. Node
// 20's `recursive: true` on Linux is emulated in JavaScript with one watcher and one stat per
// file of the whole tree, node_modules included; per-directory watchers (dir-watch.ts) behave
// the same under Node on every platform and under Deno.
//
// Events are only hints: each batch stats the paths they name and compares with what it last
// saw, so ambiguous renames, duplicate events and events from a stale watcher of a moved
// directory all come out right. Structural events (a new or replaced directory, a symlink, a
// .gitignore edit), watcher errors and bursts large enough to have overflowed the kernel's
// queue (which Linux drops silently) trigger a rescan: discovery again, compared with the stat
// of every file.
import { lstatSync, statSync, type Stats } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { Diagnostic } from '../../client/protocol.ts';
import { recordPath, type FileChange, type FileRecord, type FileStat } from '../host.ts';
import { createPathFilter, discoverFiles, isResolutionConfig, languageOf, type DiscoverOptions, type Discovery, type PathFilter } from '../ingest/discover.ts';
import { errorReason } from '../ingest/read-source.ts';
import { statUnchanged } from '../util/stat-check.ts';
import { Coalescer } from '../util/coalescer.ts';
import { watchDirectory, type DirWatch } from './dir-watch.ts';

export interface WatchOptions extends DiscoverOptions {
  /** Receives each batch, in order; the next batch waits for a returned promise. */
  onBatch: (changes: FileChange[]) => void | Promise<void>;
  /** Problems: directories that cannot be watched, watcher errors, a failed batch or rescan. */
  onDiagnostic?: (d: Diagnostic) => void;
  /**
   * What is indexed now, as GraphHost.records() gives it: files whose stat on disk differs are
   * reported in a first batch (they changed between the read and the start of watching).
   * Without it, the tree as found at start is taken to be indexed.
   */
  indexed?: FileRecord[];
  /** A batch goes out once events stop for this long (default 2 ms: an editor's save is a few events within a millisecond)... */
  quietMs?: number;
  /** ...or this long after the first event of a burst that does not stop (default 100 ms). */
  maxDelayMs?: number;
  /** A batch of this many paths, or a callback this slow, may have overflowed the kernel's
   * event queue: the tree is rescanned afterwards (defaults 1000 paths, 250 ms). */
  burstPaths?: number;
  slowBatchMs?: number;
  /** Rescan period while some directory could not be watched (default 2000 ms). */
  pollMs?: number;
}

export interface WatchCounts {
  /** Raw events received from the file system. */
  events: number;
  batches: number;
  changes: number;
  rescans: number;
  /** Directories watched now. */
  directories: number;
}

export class TreeWatcher {
  readonly root: string;
  private readonly options: WatchOptions;
  private readonly filter: PathFilter;
  /** Source files as last reported (or indexed): their stat, undefined when unknown. */
  private readonly known = new Map<string, FileStat | undefined>();
  /** Resolution config files (tsconfig.json, package.json...) as last seen. */
  private readonly configs = new Map<string, FileStat | undefined>();
  private readonly dirs = new Map<string, DirWatch>();
  /** Directories discovery walks that could not be watched: polled by rescans. */
  private readonly unwatched = new Set<string>();
  private readonly pending = new Set<string>();
  private rescanPending = false;
  private readonly coalescer: Coalescer;
  private poll: ReturnType<typeof setInterval> | undefined;
  private reported = new Set<string>();
  private closed = false;
  readonly counts: WatchCounts = { events: 0, batches: 0, changes: 0, rescans: 0, directories: 0 };

  private constructor(root: string, options: WatchOptions) {
    this.root = resolve(root);
    this.options = options;
    this.filter = createPathFilter(this.root, options, (d) => this.report(d));
    this.coalescer = new Coalescer(() => this.flush(), options.quietMs ?? 2, options.maxDelayMs ?? 100, (err) => this.report(problem('watch-failed', `watching ${this.root} failed: ${errorReason(err)}`)));
  }

  /**
   * Starts watching every directory discovery walks under root. A first rescan follows at once:
   * it reports what differs from `options.indexed` and anything created while the watchers
   * were being set up. Throws only when root is missing or not a directory.
   */
  static start(root: string, options: WatchOptions): TreeWatcher {
    const w = new TreeWatcher(root, options);
    const found = discoverFiles(w.root, options);
    const seenAtMs = Date.now();
    if (options.indexed) {
      for (const r of options.indexed) w.known.set(recordPath(r), r.stat);
    } else {
      for (const f of found.files) w.known.set(f.path, { size: f.size, mtimeMs: f.mtimeMs, seenAtMs });
      for (const d of found.diagnostics) if (d.code === 'too-large') w.known.set(d.file, undefined);
    }
    for (const c of found.configFiles) w.configs.set(c.path, { size: c.size, mtimeMs: c.mtimeMs, seenAtMs });
    w.syncDirectories(found.directories);
    w.rescan();
    return w;
  }

  /** Compares the whole tree with what was reported, as after a dropped event; runs in the next batch. */
  rescan(): void {
    this.rescanPending = true;
    this.coalescer.poke();
  }

  /**
   * Events are waiting for their batch, or a batch is running (until `onBatch` settles): a
   * change is on its way. The daemon holds plugins' update hooks meanwhile (update-feed.ts).
   */
  get busy(): boolean {
    return !this.closed && (this.pending.size > 0 || this.rescanPending || this.coalescer.busy);
  }

  /** Resolves once no event is waiting and no batch is running. */
  idle(): Promise<void> {
    return this.coalescer.idle();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.coalescer.close();
    if (this.poll) clearInterval(this.poll);
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
    this.counts.directories = 0;
  }

  // ---- batches ------------------------------------------------------------------------

  private async flush(): Promise<void> {
    const paths = [...this.pending];
    this.pending.clear();
    const out = new Map<string, FileChange>();
    const emit = (path: string, text?: null) => out.set(path, text === null ? { path, text } : { path });
    let rescan = this.rescanPending;
    this.rescanPending = false;
    for (const p of paths) if (this.check(p, emit)) rescan = true;
    if (rescan) this.rescanTree(emit);
    if (this.closed || out.size === 0) return;
    const changes = [...out.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    this.counts.batches++;
    this.counts.changes += changes.length;
    const t0 = performance.now();
    try {
      await this.options.onBatch(changes);
    } catch (err) {
      // Not retried (a callback that fails on these files would fail again at once); the next
      // rescan reports them again, as their stat is forgotten.
      this.report(problem('batch-failed', `applying ${changes.length} file changes failed: ${errorReason(err)}`));
      for (const c of changes) {
        if (this.known.has(c.path)) this.known.set(c.path, undefined);
        if (this.configs.has(c.path)) this.configs.set(c.path, undefined);
      }
    }
    if (changes.length >= (this.options.burstPaths ?? 1000) || performance.now() - t0 >= (this.options.slowBatchMs ?? 250)) this.rescan();
  }

  /**
   * Reconciles one path an event named with the disk; returns true when the whole tree must be
   * rescanned (a directory appeared, a symlink, a .gitignore changed).
   */
  private check(rel: string, emit: (path: string, text?: null) => void): boolean {
    const base = posix.basename(rel);
    if (base === '.gitignore') {
      this.filter.invalidate(posix.dirname(rel) === '.' ? '' : posix.dirname(rel));
      return true;
    }
    let st: Stats | undefined;
    try {
      st = lstatSync(join(this.root, rel));
    } catch {
      st = undefined;
    }
    if (!st?.isDirectory() && this.isTree(rel)) this.removeTree(rel, emit);
    if (!st || !(st.isFile() || st.isDirectory() || st.isSymbolicLink())) {
      if (this.known.delete(rel)) emit(rel, null);
      if (this.configs.delete(rel)) emit(rel);
      return false;
    }
    if (st.isSymbolicLink()) return !this.filter.isExcluded(rel, false);
    if (st.isDirectory()) {
      if (this.known.delete(rel)) emit(rel, null);
      if (this.filter.isExcluded(rel, true)) return false;
      // New, or perhaps replaced under the same name: a watcher follows its inode, and inode
      // numbers are reused, so nothing tells a replaced directory from one whose attributes
      // changed. Watch it and everything below afresh; the rescan finds what changed inside.
      this.unwatchTree(rel);
      return true;
    }
    const map = languageOf(rel) ? this.known : isResolutionConfig(rel) ? this.configs : undefined;
    if (!map || this.filter.isExcluded(rel, false)) return false;
    const seen = map.get(rel);
    if (map.has(rel) && statUnchanged(seen, st)) return false;
    map.set(rel, { size: st.size, mtimeMs: st.mtimeMs, seenAtMs: Date.now() });
    emit(rel);
    return false;
  }

  private rescanTree(emit: (path: string, text?: null) => void): void {
    this.counts.rescans++;
    let found: Discovery;
    const seenAtMs = Date.now();
    try {
      found = discoverFiles(this.root, this.options);
    } catch (err) {
      this.report(problem('watch-failed', `rescanning ${this.root} failed: ${errorReason(err)}`));
      return;
    }
    const present = new Set<string>();
    const compare = (map: Map<string, FileStat | undefined>, path: string, size: number, mtimeMs: number) => {
      present.add(path);
      if (map.has(path) && statUnchanged(map.get(path), { size, mtimeMs })) return;
      map.set(path, { size, mtimeMs, seenAtMs });
      emit(path);
    };
    for (const f of found.files) compare(this.known, f.path, f.size, f.mtimeMs);
    for (const d of found.diagnostics) {
      if (d.code === 'too-large') {
        // Reported so that the host records it as skipped (and drops facts it had for it).
        const s = statOrUndefined(join(this.root, d.file));
        if (s) compare(this.known, d.file, s.size, s.mtimeMs);
      } else this.report(d);
    }
    for (const c of found.configFiles) compare(this.configs, c.path, c.size, c.mtimeMs);
    for (const path of this.known.keys()) {
      if (!present.has(path)) {
        this.known.delete(path);
        emit(path, null);
      }
    }
    for (const path of this.configs.keys()) {
      if (!present.has(path)) {
        this.configs.delete(path);
        emit(path);
      }
    }
    // Files created in a new directory before its watcher started are only found by looking
    // again once it runs.
    if (this.syncDirectories(found.directories)) this.rescan();
  }

  // ---- directories --------------------------------------------------------------------

  /** Watches exactly `dirs`; true when a watcher was started. */
  private syncDirectories(dirs: string[]): boolean {
    const wanted = new Set(dirs);
    for (const rel of [...this.dirs.keys()]) if (!wanted.has(rel)) this.unwatch(rel);
    this.unwatched.clear();
    let started = false;
    for (const rel of dirs) if (!this.dirs.has(rel) && this.watchDir(rel)) started = true;
    this.counts.directories = this.dirs.size;
    if (this.unwatched.size && !this.poll) {
      this.poll = setInterval(() => this.rescan(), this.options.pollMs ?? 2000);
      this.poll.unref?.();
    } else if (!this.unwatched.size && this.poll) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
    return started;
  }

  private watchDir(rel: string): boolean {
    const abs = join(this.root, rel);
    try {
      const watcher = watchDirectory(
        abs,
        (name) => this.onEvent(rel, name),
        (err) => {
          this.report(problem('watch-failed', `watcher of ${rel || '.'} failed: ${errorReason(err)}`));
          this.unwatch(rel);
          this.rescan();
        },
      );
      this.dirs.set(rel, watcher);
      return true;
    } catch (err) {
      // ENOSPC (inotify watch limit), EMFILE, or the directory went away: rescans poll it.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        this.unwatched.add(rel);
        this.report(problem('watch-failed', `cannot watch ${rel || '.'}: ${errorReason(err)}; changes there are found by rescanning every ${this.options.pollMs ?? 2000} ms`));
      }
      return false;
    }
  }

  private unwatch(rel: string): void {
    const w = this.dirs.get(rel);
    if (!w) return;
    w.close();
    this.dirs.delete(rel);
    this.counts.directories = this.dirs.size;
  }

  private onEvent(dir: string, name: string | null): void {
    if (this.closed) return;
    this.counts.events++;
    if (name === null) this.rescanPending = true;
    else {
      const n = name.split('\\').join('/');
      this.pending.add(dir === '' ? n : `${dir}/${n}`);
    }
    this.coalescer.poke();
  }

  /** Whether rel is a directory discovery walked: known files are only ever found below those. */
  private isTree(rel: string): boolean {
    return this.dirs.has(rel) || this.unwatched.has(rel);
  }

  /** Everything at and below rel is gone: report its files deleted and stop watching it. */
  private removeTree(rel: string, emit: (path: string, text?: null) => void): void {
    const prefix = `${rel}/`;
    for (const p of [...this.known.keys()]) {
      if (p.startsWith(prefix)) {
        this.known.delete(p);
        emit(p, null);
      }
    }
    for (const p of [...this.configs.keys()]) {
      if (p.startsWith(prefix)) {
        this.configs.delete(p);
        emit(p);
      }
    }
    this.unwatchTree(rel);
  }

  private unwatchTree(rel: string): void {
    const prefix = `${rel}/`;
    for (const d of [...this.dirs.keys()]) if (d === rel || d.startsWith(prefix)) this.unwatch(d);
  }

  /** Reports a diagnostic once per distinct message, so that rescans do not repeat it. */
  private report(d: Diagnostic): void {
    const key = `${d.code}\0${d.file}\0${d.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.onDiagnostic?.(d);
  }
}

function statOrUndefined(abs: string): Stats | undefined {
  try {
    return statSync(abs);
  } catch {
    return undefined;
  }
}

function problem(code: string, message: string): Diagnostic {
  return { file: '', severity: 'warning', code, message };
}
