// watch: edit-to-applied latency through the file watcher, on a copy of the corpus: write the
// median-size file (the apply-change benchmark's alternating body and signature edits), the
// TreeWatcher sees the event, waits out its quiet window, stats the path and hands the batch to
// a callback that applies it to the GraphHost. Timed from just before the write to the end of
// applyChanges, per edit, in an HDR histogram; a second plain fs.watch on the file's directory
// splits off the file system's notification delay. Then a burst: hundreds of files rewritten at
// once, as by a `git checkout`, until all are applied.
import { mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GraphHost, type FileChange } from '../daemon/host.ts';
import { languageOf } from '../daemon/ingest/discover.ts';
import { contentHash } from '../daemon/util/hash.ts';
import { TreeWatcher } from '../daemon/watch/tree-watcher.ts';
import { planEdits } from './apply-change.ts';
import { copyCorpus, fixed, fmt, heading, latencyHistogram, load1, now, sample, since, summarize, table, type BenchContext, type LatencySummary } from './util.ts';

const EDITS = 200;
const BURST_FILES = 500;
/** The daemon's target for edit-to-queryable over the socket; the watch + apply share is measured here. */
const TARGET_P99_MS = 12;
const QUIET_SETTINGS = [2, 1, 5];

interface EditRun {
  quietMs: number;
  total: LatencySummary;
  notify: LatencySummary;
  apply: LatencySummary;
  /** total - notify - apply: quiet window, stat, timers and scheduling. */
  watcher: LatencySummary;
  firstEditMs: number;
  batchesPerEdit: number;
}

async function editLoop(host: GraphHost, root: string, path: string, quietMs: number): Promise<EditRun> {
  const abs = join(root, path);
  const base = readFileSync(abs, 'utf8');
  const plan = planEdits(host, path, languageOf(path)!, base);
  let expected = '';
  let applied: (() => void) | undefined;
  let applyNs = 0;
  let batches = 0;
  const watcher = TreeWatcher.start(root, {
    indexed: host.records(),
    quietMs,
    onBatch: (changes: FileChange[]) => {
      batches++;
      const t0 = now();
      host.applyChanges(changes);
      applyNs = since(t0);
      // A late duplicate event of the previous write must not count for this one.
      if (host.factsOf(path)?.contentHash === expected) applied?.();
    },
  });
  await watcher.idle();
  let eventAt: bigint | undefined;
  const probe = watch(dirname(abs), (_e, name) => {
    if (name === basename(abs)) eventAt ??= now();
  });
  const hist = { total: latencyHistogram(), notify: latencyHistogram(), apply: latencyHistogram(), watcher: latencyHistogram() };
  let firstEditMs = 0;
  let b = 0;
  let s = 0;
  const batchesBefore = batches;
  try {
    for (let k = 1; k <= EDITS; k++) {
      if (k % 2) b = k;
      else s = k;
      const text = plan.textAt(b, s);
      expected = contentHash(text);
      const done = new Promise<void>((resolve) => (applied = resolve));
      eventAt = undefined;
      const t0 = now();
      writeFileSync(abs, text);
      await done;
      const total = since(t0);
      if (k === 1) firstEditMs = total / 1e6;
      else {
        const notify = eventAt === undefined ? 0 : Number(eventAt - t0);
        hist.total.recordValue(total);
        hist.notify.recordValue(Math.max(1, notify));
        hist.apply.recordValue(applyNs);
        hist.watcher.recordValue(Math.max(1, total - notify - applyNs));
      }
      await watcher.idle();
    }
  } finally {
    probe.close();
    watcher.close();
    writeFileSync(abs, base);
    host.applyChange(path, base);
  }
  return {
    quietMs,
    total: summarize(hist.total),
    notify: summarize(hist.notify),
    apply: summarize(hist.apply),
    watcher: summarize(hist.watcher),
    firstEditMs,
    batchesPerEdit: (batches - batchesBefore) / EDITS,
  };
}

interface BurstRun {
  mode: BurstMode;
  files: number;
  writeMs: number;
  appliedMs: number;
  batches: number;
  rescans: number;
  /** Time on the main thread in applyChanges. */
  applyMs: number;
  /** Waiting for the parse pool (the main thread free meanwhile). */
  extractMs: number;
  /** The longest the event loop was blocked while the burst was applied: how long a query could wait. */
  maxBlockedMs: number;
}

/** `in-thread`: every batch extracted by applyChanges; `workers`: as the daemon does it, large batches on the parse pool first. */
type BurstMode = 'in-thread' | 'workers';

async function burst(host: GraphHost, root: string, mode: BurstMode): Promise<BurstRun> {
  const paths = sample([...host.filePaths()], BURST_FILES, 20261123);
  const expected = new Map<string, string>();
  let finished: (() => void) | undefined;
  let applyMs = 0;
  let extractMs = 0;
  let queue = Promise.resolve();
  const apply = async (changes: FileChange[]) => {
    const t0 = performance.now();
    const prepared = mode === 'workers' ? await host.prepareChanges(changes) : undefined;
    const t1 = performance.now();
    host.applyChanges(changes, prepared);
    applyMs += performance.now() - t1;
    extractMs += t1 - t0;
    for (const c of changes) if (host.factsOf(c.path)?.contentHash === expected.get(c.path)) expected.delete(c.path);
    if (expected.size === 0) finished?.();
  };
  const watcher = TreeWatcher.start(root, { indexed: host.records(), onBatch: (changes) => void (queue = queue.then(() => apply(changes))) });
  await watcher.idle();
  const texts = paths.map((p) => `${readFileSync(join(root, p), 'utf8')}\n// burst ${mode}\nexport const burstMarker = 1;\n`);
  paths.forEach((p, i) => expected.set(p, contentHash(texts[i]!)));
  const done = new Promise<void>((resolve) => (finished = resolve));
  const before = { batches: watcher.counts.batches, rescans: watcher.counts.rescans };
  const t0 = performance.now();
  paths.forEach((p, i) => writeFileSync(join(root, p), texts[i]!));
  const writeMs = performance.now() - t0;
  // The longest gap between ticks of a 1 ms timer: how long a query arriving then would wait.
  let lastTick = performance.now();
  let maxBlockedMs = 0;
  const ticker = setInterval(() => {
    const t = performance.now();
    maxBlockedMs = Math.max(maxBlockedMs, t - lastTick);
    lastTick = t;
  }, 1);
  await done;
  const appliedMs = performance.now() - t0;
  clearInterval(ticker);
  maxBlockedMs = Math.max(maxBlockedMs, performance.now() - lastTick);
  await watcher.idle();
  await queue;
  const run = { mode, files: paths.length, writeMs, appliedMs, batches: watcher.counts.batches - before.batches, rescans: watcher.counts.rescans - before.rescans, applyMs, extractMs, maxBlockedMs };
  watcher.close();
  return run;
}

export async function watchBench(ctx: BenchContext): Promise<void> {
  heading('watch: edit-to-applied latency through TreeWatcher + GraphHost.applyChanges (HDR histogram)');
  const out: Record<string, unknown> = {};
  for (const corpus of ctx.corpora) {
    const root = mkdtempSync(join(tmpdir(), `isg-bench-watch-${corpus}-`));
    try {
      copyCorpus(corpus, root, true);
      const host = await GraphHost.index(root);
      const files = [...host.filePaths()].map((p) => ({ path: p, bytes: host.factsOf(p)!.bytes })).sort((a, b) => a.bytes - b.bytes || (a.path < b.path ? -1 : 1));
      const target = files[files.length >> 1]!;
      const loadBefore = load1();
      const t0 = performance.now();
      const probe = TreeWatcher.start(root, { onBatch: () => {} });
      const startMs = performance.now() - t0;
      const directories = probe.counts.directories;
      probe.close();
      const t1 = performance.now();
      const recursive = watch(root, { recursive: true });
      const recursiveMs = performance.now() - t1;
      recursive.close();
      const runs: EditRun[] = [];
      for (const q of QUIET_SETTINGS) runs.push(await editLoop(host, root, target.path, q));
      const bursts = [await burst(host, root, 'in-thread'), await burst(host, root, 'workers')];
      const loadAfter = load1();
      console.log(`\n[${corpus}] median-size file ${target.path} (${fmt(target.bytes)} chars), ${EDITS} edits per setting; TreeWatcher.start ${fixed(startMs)} ms (${directories} directories watched), Node's fs.watch(root, { recursive: true }) ${fixed(recursiveMs)} ms on the same tree`);
      const ms = (x: number) => fixed(x / 1000, 2);
      console.log(
        table(
          ['quiet window', 'first edit ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'notify p50/p99', 'watcher p50/p99', 'apply p50/p99', 'batches/edit', 'target p99', 'status'],
          runs.map((r) => [
            `${r.quietMs} ms${r.quietMs === QUIET_SETTINGS[0] ? ' (default)' : ''}`,
            fixed(r.firstEditMs, 2),
            ms(r.total.p50Us),
            ms(r.total.p90Us),
            ms(r.total.p99Us),
            ms(r.total.maxUs),
            `${ms(r.notify.p50Us)} / ${ms(r.notify.p99Us)}`,
            `${ms(r.watcher.p50Us)} / ${ms(r.watcher.p99Us)}`,
            `${ms(r.apply.p50Us)} / ${ms(r.apply.p99Us)}`,
            fixed(r.batchesPerEdit, 2),
            `<= ${TARGET_P99_MS} ms`,
            r.total.p99Us / 1000 <= TARGET_P99_MS ? 'met' : 'MISSED',
          ]),
        ),
      );
      console.log('write -> applied, per edit; "notify": write -> first fs event (a plain fs.watch); "watcher": the rest minus apply (quiet window, stat, timers); "apply": GraphHost.applyChanges.');
      for (const b of bursts) {
        console.log(
          `burst (${b.mode}): ${b.files} files rewritten in ${fixed(b.writeMs)} ms; all applied ${fixed(b.appliedMs)} ms after the first write, in ${b.batches} batches ` +
            `(${fixed(b.applyMs)} ms in applyChanges on the main thread, ${fixed(b.extractMs)} ms waiting for the parse pool), ${b.rescans} rescans; event loop blocked at most ${fixed(b.maxBlockedMs)} ms`,
        );
      }
      const [inThread, workers] = bursts as [BurstRun, BurstRun];
      console.log(`burst, workers vs in-thread: applied ${fixed(inThread.appliedMs / workers.appliedMs, 2)}x sooner, longest block ${fixed(inThread.maxBlockedMs / workers.maxBlockedMs, 2)}x shorter`);
      console.log(`load average (1 min): ${loadBefore} before, ${loadAfter} after`);
      out[corpus] = { target, startMs, directories, recursiveMs, runs, bursts, loadBefore, loadAfter };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  ctx.results.watch = out;
}
