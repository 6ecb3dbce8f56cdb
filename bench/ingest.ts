// ingest: cold indexing throughput. Each run is a fresh process (`isg index <root> --json`),
// so nothing is warm but the OS file cache. Runs with all cores and with one parse worker are
// interleaved, so drift on a shared machine hits both alike. Then the CPU of extraction alone,
// in this process, per corpus and per file.
//
// ISG_BENCH_INGEST_BASELINE=/path/to/an/older/isg/entry.js (an older checkout's
// dist/daemon/cli/main.js, say) adds that build's cold index, all cores, to the same interleaving,
// and compares the two.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { discoverFiles } from '../daemon/ingest/discover.ts';
import { extractFile } from '../daemon/ingest/extract.ts';
import { CORES, cliPath, corpusRoot, fmt, heading, mb, median, table, verdict, type BenchContext, type CorpusName } from './util.ts';

const RUNS = 3;
const TARGET_MB_PER_S: Partial<Record<CorpusName, number>> = { effect: 7 };

interface CliReport {
  files: number;
  bytes: number;
  lines: number;
  entities: number;
  edges: { resolved: number; inferred: number };
  diagnostics: { total: number };
  timings: { discoverMs: number; parseMs: number; resolveMs: number; totalMs: number; wallMs: number };
}

interface Run {
  workers: number;
  /** Index wall time inside the process (discover + parse + resolve), as `isg index` reports it. */
  wallMs: number;
  /** Spawn to exit, including Node start-up and module loading. */
  processMs: number;
  discoverMs: number;
  parseMs: number;
  resolveMs: number;
  report: CliReport;
}

function indexOnce(root: string, workers: number, entry = cliPath()): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [entry, 'index', root, '--json', '--workers', String(workers)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`isg index ${root} failed (${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as CliReport;
  const t = report.timings;
  return { workers, wallMs: t.wallMs, processMs, discoverMs: t.discoverMs, parseMs: t.parseMs, resolveMs: t.resolveMs, report };
}

interface Summary {
  corpus: CorpusName;
  workers: number;
  runs: number;
  files: number;
  mb: number;
  loc: number;
  entities: number;
  edges: number;
  medianWallMs: number;
  bestWallMs: number;
  medianMbPerS: number;
  bestMbPerS: number;
  medianLocPerS: number;
  bestLocPerS: number;
  medianProcessMs: number;
  medianDiscoverMs: number;
  medianParseMs: number;
  medianResolveMs: number;
  wallMsRuns: number[];
}

function summarizeRuns(corpus: CorpusName, runs: Run[]): Summary {
  const r0 = runs[0]!.report;
  const walls = runs.map((r) => r.wallMs);
  const med = median(walls);
  const best = Math.min(...walls);
  return {
    corpus,
    workers: runs[0]!.workers,
    runs: runs.length,
    files: r0.files,
    mb: mb(r0.bytes),
    loc: r0.lines,
    entities: r0.entities,
    edges: r0.edges.resolved + r0.edges.inferred,
    medianWallMs: med,
    bestWallMs: best,
    medianMbPerS: mb(r0.bytes) / (med / 1000),
    bestMbPerS: mb(r0.bytes) / (best / 1000),
    medianLocPerS: r0.lines / (med / 1000),
    bestLocPerS: r0.lines / (best / 1000),
    medianProcessMs: median(runs.map((r) => r.processMs)),
    medianDiscoverMs: median(runs.map((r) => r.discoverMs)),
    medianParseMs: median(runs.map((r) => r.parseMs)),
    medianResolveMs: median(runs.map((r) => r.resolveMs)),
    wallMsRuns: walls,
  };
}

export async function ingest(ctx: BenchContext): Promise<void> {
  heading(`ingest: cold index in a fresh process, ${RUNS} runs each, ${CORES} workers (all cores) vs 1 worker`);
  const all: Summary[] = [];
  const scaling: { corpus: CorpusName; ratio: number }[] = [];
  const baselineEntry = process.env.ISG_BENCH_INGEST_BASELINE;
  const against: { corpus: CorpusName; runs: number[]; baseline: number[] }[] = [];
  if (baselineEntry) console.log(`baseline: ${baselineEntry}`);
  for (const corpus of ctx.corpora) {
    const root = corpusRoot(corpus);
    const many: Run[] = [];
    const one: Run[] = [];
    const baseline: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      many.push(indexOnce(root, CORES));
      one.push(indexOnce(root, 1));
      if (baselineEntry) baseline.push(indexOnce(root, CORES, baselineEntry));
      const alongside = baselineEntry ? `, ${fmt(baseline[i]!.wallMs)} ms (baseline, ${CORES} workers)` : '';
      process.stdout.write(`  ${corpus}: run ${i + 1}/${RUNS}: ${fmt(many[i]!.wallMs)} ms (${CORES} workers), ${fmt(one[i]!.wallMs)} ms (1 worker)${alongside}\n`);
    }
    const sMany = summarizeRuns(corpus, many);
    const sOne = summarizeRuns(corpus, one);
    all.push(sMany, sOne);
    scaling.push({ corpus, ratio: sOne.medianWallMs / sMany.medianWallMs });
    if (baselineEntry) against.push({ corpus, runs: sMany.wallMsRuns, baseline: baseline.map((r) => r.wallMs) });
  }
  console.log();
  console.log(
    table(
      ['corpus', 'workers', 'files', 'MB', 'LOC', 'wall ms med', 'wall ms best', 'MB/s med', 'MB/s best', 'LOC/s med', 'LOC/s best', 'target', 'status'],
      all.map((s) => {
        const target = s.workers === CORES ? TARGET_MB_PER_S[s.corpus] : undefined;
        return [
          s.corpus,
          s.workers,
          s.files,
          s.mb,
          s.loc,
          Math.round(s.medianWallMs),
          Math.round(s.bestWallMs),
          s.medianMbPerS,
          s.bestMbPerS,
          Math.round(s.medianLocPerS),
          Math.round(s.bestLocPerS),
          target ? `>= ${target} MB/s` : '',
          target ? `${verdict(s.medianMbPerS, target, true)} (median)` : '',
        ];
      }),
    ),
  );
  console.log('\nPhases (median ms; wall = discover + parse + resolve, in-process; process = spawn to exit incl. Node start-up):');
  console.log(
    table(
      ['corpus', 'workers', 'discover', 'parse', 'resolve', 'wall', 'process', 'parse share', 'entities', 'edges'],
      all.map((s) => [
        s.corpus,
        s.workers,
        s.medianDiscoverMs,
        s.medianParseMs,
        s.medianResolveMs,
        s.medianWallMs,
        s.medianProcessMs,
        `${Math.round((100 * s.medianParseMs) / s.medianWallMs)}%`,
        s.entities,
        s.edges,
      ]),
    ),
  );
  console.log(`\nScaling (median wall, 1 worker / ${CORES} workers; ideal ${CORES}.0x for the parse phase alone):`);
  console.log(table(['corpus', 'speed-up'], scaling.map((s) => [s.corpus, `${s.ratio.toFixed(2)}x`])));
  if (against.length) {
    console.log(`\nAgainst the baseline build (${CORES} workers, runs interleaved; wall ms as each build's \`isg index\` reports it):`);
    console.log(table(['corpus', 'this med', 'baseline med', 'this / baseline', 'this runs', 'baseline runs'], against.map((a) => [a.corpus, median(a.runs), median(a.baseline), `${(median(a.runs) / median(a.baseline)).toFixed(3)}x`, a.runs.map((ms) => fmt(Math.round(ms))).join(', '), a.baseline.map((ms) => fmt(Math.round(ms))).join(', ')])));
  }
  const extraction = ctx.corpora.map(extractionCpu);
  console.log(`\nExtraction on one thread, in this process (parse, queries and assembly of every file, its text already read; CPU ms, the lower of ${EXTRACTION_PASSES} passes; the files costing most, from that pass):`);
  console.log(table(['corpus', 'MB', 'CPU ms', 'MB/s of CPU', 'costliest files (MB: ms)'], extraction.map((e) => [e.corpus, e.mb, e.cpuMs, e.mbPerCpuS, e.costliest.map((f) => `${f.path} (${f.mb}: ${f.cpuMs})`).join(', ')])));
  ctx.results.ingest = { runs: RUNS, cores: CORES, summaries: all, scaling, extraction };
}

const EXTRACTION_PASSES = 2;

interface ExtractionCpu {
  corpus: CorpusName;
  mb: number;
  cpuMs: number;
  mbPerCpuS: number;
  costliest: { path: string; mb: number; cpuMs: number }[];
}

/**
 * The CPU of extracting every file of a corpus on this thread: what the workers share between
 * them, without their start-up, messages or the main thread's part. Per file too, so that the
 * cost of one kind of file (effect's generated modules of megabyte strings) shows.
 */
function extractionCpu(corpus: CorpusName): ExtractionCpu {
  const files = discoverFiles(corpusRoot(corpus)).files;
  const texts = files.map((f) => readFileSync(f.abs, 'utf8'));
  let best: { total: number; perFile: number[] } | undefined;
  for (let pass = 0; pass < EXTRACTION_PASSES; pass++) {
    const perFile: number[] = [];
    let total = 0;
    files.forEach((f, i) => {
      const t0 = process.cpuUsage();
      extractFile(f.path, f.language, texts[i]!);
      const { user, system } = process.cpuUsage(t0);
      perFile.push((user + system) / 1000);
      total += (user + system) / 1000;
    });
    if (!best || total < best.total) best = { total, perFile };
  }
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const order = files.map((_, i) => i).sort((a, b) => best!.perFile[b]! - best!.perFile[a]!);
  return {
    corpus,
    mb: Number(mb(bytes).toFixed(1)),
    cpuMs: Math.round(best!.total),
    mbPerCpuS: Number((bytes / 1e6 / (best!.total / 1000)).toFixed(1)),
    costliest: order.slice(0, 3).map((i) => ({ path: files[i]!.path, mb: Number(mb(files[i]!.size).toFixed(2)), cpuMs: Math.round(best!.perFile[i]!) })),
  };
}
