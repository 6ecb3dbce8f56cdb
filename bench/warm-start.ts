// warm-start: how soon a daemon started with a snapshot answers (`isg serve`, spawn to first
// answer over its socket), and the load alone in a fresh process with its phases (loadHost: read
// and check the snapshot, discover, compare stats, parse what changed, resolve) against a cold
// index, interleaved in one run. On a copy of the corpus with its timestamps preserved, so files
// are as old as the install (a repository's files mostly are); then again after a few files
// were edited, touched, deleted and added, as while a daemon was down.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IsgClient } from '../client/client.ts';
import { discoverFiles } from '../daemon/ingest/discover.ts';
import { snapshotPath, type LoadTimings } from '../daemon/persist/snapshot.ts';
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

/**
 * The daemon itself, as `isg serve` starts (bin/isg.cjs): ms from spawning it to its first
 * answer of a lookup of `module` (an id) from the graph over its socket (asked every 2 ms, and refused with an
 * `indexing` status until the graph is loaded). The snapshot it is given is put back after it
 * stops, since a daemon stopping saves its own: every run starts from the same one.
 */
async function daemonReady(root: string, snapshot: string, module: string): Promise<number> {
  copyFileSync(snapshot, snapshotPath(root));
  const socket = join(root, '.isg', 'daemon.sock');
  const t0 = performance.now();
  const daemon = spawn(process.execPath, [join(repoRoot(), 'bin', 'isg.cjs'), 'serve', root, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let client: IsgClient | undefined;
  try {
    for (;;) {
      if (daemon.exitCode !== null) throw new Error(`isg serve ${root} exited with code ${daemon.exitCode}`);
      if (performance.now() - t0 > 120_000) throw new Error(`isg serve ${root} did not answer within 120 s`);
      let total: number | undefined;
      try {
        client ??= await connect({ socket });
        total = (await client.request('lookup', { name: module, mode: 'exact' })).total;
      } catch (err) {
        // not listening yet, or still loading
        const code = (err as { code?: string }).code;
        if (code === 'disconnected') client = undefined;
        else if (code !== 'unreachable' && code !== 'indexing') throw err;
      }
      if (total !== undefined) {
        if (total !== 1) throw new Error(`isg serve ${root}: a lookup of ${module} found ${total} entities`);
        return performance.now() - t0;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    client?.close();
    daemon.kill('SIGTERM');
    if (daemon.exitCode === null) await new Promise((r) => daemon.once('exit', r));
    copyFileSync(snapshot, snapshotPath(root));
  }
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
      const snapshot = join(root, '.isg', 'bench-snapshot.bin');
      copyFileSync(snapshotPath(root), snapshot);
      const module = discoverFiles(root).files[0]!.path;
      const warm: Run[] = [];
      const cold: Run[] = [];
      const daemonWarm: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        warm.push(child('warm', root));
        cold.push(child('cold', root));
        daemonWarm.push(await daemonReady(root, snapshot, module));
        console.log(`  ${corpus}: run ${i + 1}/${RUNS}: warm ready ${fmt(Math.round(warm[i]!.readyMs))} ms, cold ready ${fmt(Math.round(cold[i]!.readyMs))} ms, isg serve answering ${fmt(Math.round(daemonWarm[i]!))} ms`);
      }
      const changes = changeWhileDown(root);
      const changed: Run[] = [];
      const daemonChanged: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        changed.push(child('warm', root));
        daemonChanged.push(await daemonReady(root, snapshot, module));
      }
      const loadAfter = load1();
      const bad = [...warm, ...changed].filter((r) => r.from !== 'snapshot');
      if (bad.length) throw new Error(`warm-start: ${bad.length} warm runs fell back to a cold index: ${JSON.stringify(bad[0]!.diagnostics)}`);

      const s = saved.save!;
      console.log(`\n[${corpus}] ${fmt(saved.files)} files, ${fmt(saved.entities)} entities; snapshot ${fixed(mb(s.bytes))} MB (${fmt(Math.round(s.bytes / saved.files))} B/file), saved in ${fixed(s.ms)} ms of which ${fixed(s.encodeMs)} ms collecting + encoding on the thread, in slices with the event loop free in between (the longest ${fixed(s.longestSliceMs)} ms)`);
      const ms = (xs: number[]) => fmt(Math.round(median(xs)));
      const target = TARGET_READY_MS[corpus];
      const row = (label: string, runs: Run[], isWarm: boolean) => {
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
          '',
          '',
        ];
      };
      // The target is the daemon's: ready to answer, as a user starting `isg serve` sees it.
      const daemonRow = (label: string, runs: number[]) => {
        const ready = median(runs);
        return [label, runs.length, ms(runs), fmt(Math.round(Math.min(...runs))), '', '', '', '', '', '', '', '', '', target ? `<= ${fmt(target)} ms` : '', target ? verdict(ready, target) : ''];
      };
      console.log(
        table(
          ['start', 'runs', 'ready ms med', 'ready ms best', 'modules loaded', 'read+decode snapshot', 'discover', 'stat/hash check', 'parse (or apply)', 'build (or resolve)', 'edges', 'parsed / hashed files', 'process ms', 'target (ready)', 'status'],
          [
            daemonRow('isg serve, unchanged tree: first answer', daemonWarm),
            daemonRow(`isg serve, ${changes}: first answer`, daemonChanged),
            row('loadHost, unchanged tree', warm, true),
            row(`loadHost, ${changes}`, changed, true),
            row('cold index', cold, false),
          ],
        ),
      );
      const ratio = median(cold.map((r) => r.readyMs)) / median(warm.map((r) => r.readyMs));
      console.log(
        `"isg serve" rows: from spawning the daemon (bin/isg.cjs) to its first answer from the graph over its socket. The other rows are a process that only loads (warm-start-child.js): "ready" from its start (Node start-up and module loading included), phases are medians in ms. Cold / warm ready: ${fixed(ratio)}x. Load average ${loadBefore} before, ${loadAfter} after.`,
      );
      out[corpus] = { loadBefore, loadAfter, save: s, daemonWarm, daemonChanged, warm, changed, cold, changes, coldOverWarm: ratio };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  ctx.results['warm-start'] = out;
}
