// warm-start: how soon a fresh process is ready to answer from a snapshot (loadHost: read and
// check the snapshot, discover, compare stats, parse what changed, resolve) against a cold
// index, interleaved in one run. On a copy of the corpus with its timestamps preserved, so files
// are as old as the install (a repository's files mostly are); then again after a few files
// were edited, touched, deleted and added, as while a daemon was down.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverFiles } from '../daemon/ingest/discover.ts';
import type { LoadTimings } from '../daemon/persist/snapshot.ts';
import { copyCorpus, fixed, fmt, heading, load1, mb, median, repoRoot, sample, table, verdict, type BenchContext, type CorpusName } from './util.ts';

const RUNS = 5;
const TARGET_READY_MS: Partial<Record<CorpusName, number>> = { effect: 1000 };
const EDITED = 10;
const TOUCHED = 10;
const DELETED = 2;
const ADDED = 2;

interface ChildReport {
  mode: 'cold' | 'save' | 'warm';
  importedMs: number;
  readyMs: number;
  files: number;
  entities: number;
  from?: 'snapshot' | 'cold';
  resolution?: 'saved' | 'recomputed';
  reparsed?: number;
  hashed?: number;
  dropped?: number;
  timings: LoadTimings | { discoverMs: number; parseMs: number; resolveMs: number; totalMs: number };
  save?: { bytes: number; encodeMs: number; longestSliceMs: number; ms: number };
  diagnostics?: unknown[];
}

interface Run extends ChildReport {
  processMs: number;
}

function child(mode: ChildReport['mode'], root: string): Run {
  const script = join(repoRoot(), 'dist', 'bench', 'warm-start-child.js');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [script, mode, root], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`warm-start-child ${mode} ${root} failed (${r.status}): ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as ChildReport), processMs };
}

/** Edits, touches, deletes and adds a few files, as might happen while the daemon is down. */
function changeWhileDown(root: string): string {
  const files = discoverFiles(root).files.map((f) => f.path);
  const picked = sample(files, EDITED + TOUCHED + DELETED, 20261122);
  const now = new Date();
  picked.slice(0, EDITED).forEach((p, i) => writeFileSync(join(root, p), `${readFileSync(join(root, p), 'utf8')}\nexport function whileDown${i}(): number { return ${i}; }\n`));
  for (const p of picked.slice(EDITED, EDITED + TOUCHED)) utimesSync(join(root, p), now, now);
  for (const p of picked.slice(EDITED + TOUCHED)) rmSync(join(root, p));
  for (let i = 0; i < ADDED; i++) writeFileSync(join(root, `while-down-${i}.ts`), `export const added${i} = ${i};\n`);
  return `${EDITED} edited, ${TOUCHED} touched (mtime only), ${DELETED} deleted, ${ADDED} added`;
}

const warmTimings = (r: Run) => r.timings as LoadTimings;

export async function warmStart(ctx: BenchContext): Promise<void> {
  heading('warm-start: fresh process ready from a snapshot vs a cold index');
  const out: Record<string, unknown> = {};
  for (const corpus of ctx.corpora) {
    const root = mkdtempSync(join(tmpdir(), `isg-bench-warm-${corpus}-`));
    try {
      copyCorpus(corpus, root, true);
      const loadBefore = load1();
      const saved = child('save', root);
      const warm: Run[] = [];
      const cold: Run[] = [];
      for (let i = 0; i < RUNS; i++) {
        warm.push(child('warm', root));
        cold.push(child('cold', root));
        console.log(`  ${corpus}: run ${i + 1}/${RUNS}: warm ready ${fmt(Math.round(warm[i]!.readyMs))} ms, cold ready ${fmt(Math.round(cold[i]!.readyMs))} ms`);
      }
      const changes = changeWhileDown(root);
      const changed: Run[] = [];
      for (let i = 0; i < RUNS; i++) changed.push(child('warm', root));
      const loadAfter = load1();
      const bad = [...warm, ...changed].filter((r) => r.from !== 'snapshot');
      if (bad.length) throw new Error(`warm-start: ${bad.length} warm runs fell back to a cold index: ${JSON.stringify(bad[0]!.diagnostics)}`);

      const s = saved.save!;
      console.log(`\n[${corpus}] ${fmt(saved.files)} files, ${fmt(saved.entities)} entities; snapshot ${fixed(mb(s.bytes))} MB (${fmt(Math.round(s.bytes / saved.files))} B/file), saved in ${fixed(s.ms)} ms of which ${fixed(s.encodeMs)} ms collecting + encoding on the thread, in slices with the event loop free in between (the longest ${fixed(s.longestSliceMs)} ms)`);
      const ms = (xs: number[]) => fmt(Math.round(median(xs)));
      const target = TARGET_READY_MS[corpus];
      const row = (label: string, runs: Run[], isWarm: boolean) => {
        const ready = median(runs.map((r) => r.readyMs));
        const t = (pick: (x: LoadTimings) => number) => (isWarm ? ms(runs.map((r) => pick(warmTimings(r)))) : '');
        return [
          label,
          runs.length,
          ms(runs.map((r) => r.readyMs)),
          fmt(Math.round(Math.min(...runs.map((r) => r.readyMs)))),
          ms(runs.map((r) => r.importedMs)),
          t((x) => x.readMs),
          isWarm ? t((x) => x.discoverMs) : ms(runs.map((r) => r.timings.discoverMs)),
          t((x) => x.checkMs),
          isWarm ? t((x) => x.parseMs) : ms(runs.map((r) => r.timings.parseMs)),
          isWarm ? t((x) => x.buildMs) : ms(runs.map((r) => (r.timings as { resolveMs: number }).resolveMs)),
          isWarm ? runs[0]!.resolution : '',
          isWarm ? `${runs[0]!.reparsed} / ${runs[0]!.hashed}` : `${runs[0]!.files} / 0`,
          ms(runs.map((r) => r.processMs)),
          isWarm && target ? `<= ${fmt(target)} ms` : '',
          isWarm && target ? verdict(ready, target) : '',
        ];
      };
      console.log(
        table(
          ['start', 'runs', 'ready ms med', 'ready ms best', 'modules loaded', 'read+decode snapshot', 'discover', 'stat/hash check', 'parse (or apply)', 'build (or resolve)', 'edges', 'parsed / hashed files', 'process ms', 'target (ready)', 'status'],
          [row('warm, unchanged tree', warm, true), row(`warm, ${changes}`, changed, true), row('cold index', cold, false)],
        ),
      );
      const ratio = median(cold.map((r) => r.readyMs)) / median(warm.map((r) => r.readyMs));
      console.log(`"ready" counts from process start (Node start-up and module loading included); phases are medians in ms. Cold / warm ready: ${fixed(ratio)}x. Load average ${loadBefore} before, ${loadAfter} after.`);
      out[corpus] = { loadBefore, loadAfter, save: s, warm, changed, cold, changes, coldOverWarm: ratio };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  ctx.results['warm-start'] = out;
}
