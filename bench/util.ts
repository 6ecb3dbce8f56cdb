// Shared pieces of the benchmark suite: corpora, options, tables, HDR histograms, a seeded
// random generator and small statistics. Benchmarks measure and print; they never assert.
import { availableParallelism, loadavg } from 'node:os';
import { cpSync, existsSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { prng } from '../test/support/prng.ts';

/** The repository root: dist/bench/util.js -> ../.. (bench/util.ts -> .. when run from sources). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the repository root');
    dir = up;
  }
  return dir;
}

export const CORPORA = ['effect', 'zod', 'rxjs'] as const;
export type CorpusName = (typeof CORPORA)[number];

export function corpusRoot(name: CorpusName): string {
  return join(repoRoot(), 'node_modules', name, 'src');
}

/**
 * A copy of a corpus at `dest`, without the state directory of a daemon someone ran on it (`isg`
 * in node_modules/effect/src): its socket cannot be copied, and its snapshot is not the corpus.
 */
export function copyCorpus(name: CorpusName, dest: string, preserveTimestamps = false): void {
  cpSync(corpusRoot(name), dest, { recursive: true, preserveTimestamps, filter: (src) => basename(src) !== '.isg' });
}

export function cliPath(): string {
  return join(repoRoot(), 'bin', 'isg.cjs');
}

export const CORES = availableParallelism();

export interface BenchContext {
  corpora: CorpusName[];
  /** Figures each benchmark reports, written by --json. */
  results: Record<string, unknown>;
}

// ---- tables -------------------------------------------------------------------------------

export type Cell = string | number | undefined;

/** A plain text table: first column left-aligned, the others right-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (c === undefined ? '' : typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

/** A number with exactly `decimals` decimals (thousands separated), for columns of figures. */
export function fixed(n: number, decimals = 1): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Numbers for tables: integers as is (with thousands separators), others to 1 decimal. */
export function fmt(n: number, decimals = 1): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function heading(title: string): void {
  console.log(`\n=== ${title} ${'='.repeat(Math.max(0, 76 - title.length))}`);
}

/** "met" / "MISSED" for a figure against a target; lower is better unless `higherIsBetter`. */
export function verdict(value: number, target: number, higherIsBetter = false): string {
  const ok = higherIsBetter ? value >= target : value <= target;
  return ok ? 'met' : 'MISSED';
}

// ---- latency histograms -------------------------------------------------------------------

/**
 * A regular (not packed) HDR histogram recording nanoseconds with 3 significant digits: below
 * 100 µs the resolution is at most 0.064 µs, so microseconds are exact to 1 decimal.
 */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

const us = (ns: number) => Math.round(ns / 100) / 10;

export function summarize(h: hdr.Histogram): LatencySummary {
  // a percentile reports the top of its bucket, which can be a hair above the largest value
  const at = (p: number) => us(Math.min(h.getValueAtPercentile(p), h.maxValue));
  return {
    count: h.totalCount,
    p50Us: at(50),
    p90Us: at(90),
    p99Us: at(99),
    maxUs: us(h.maxValue),
    meanUs: us(h.mean),
  };
}

/** Elapsed nanoseconds since `t0` (from `now()`). */
export const now = (): bigint => process.hrtime.bigint();
export const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0);

// ---- small statistics and randomness ------------------------------------------------------

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Up to `n` items of `xs`, drawn without replacement with a seeded generator. */
export function sample<T>(xs: readonly T[], n: number, seed: number): T[] {
  const a = [...xs];
  const r = rng(seed);
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(r() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

export function mb(bytes: number): number {
  return bytes / 1e6;
}

// ---- garbage collection and machine load --------------------------------------------------

let gcFn: (() => void) | undefined;

/** A full GC, so one measurement does not pay for the garbage of the previous one. */
export function forceGc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
    // The function stays; the flag goes back to its default, as a daemon runs: workers booted
    // under a flag off its default start ~30 ms later (daemon/util/v8-flags.ts). Given on the
    // command line instead, --expose-gc slows every worker of the process, even set back.
    setFlagsFromString('--no-expose-gc');
  }
  gcFn();
}

/** Records every GC pause (start and duration, in performance.now() ms) while started. */
export class GcLog {
  readonly pauses: { start: number; duration: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.pauses.push({ start: e.startTime, duration: e.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Let pending observer callbacks run (they are delivered asynchronously). */
  async flush(): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
  }

  /** Pauses that started within [from, to]: count and total ms. */
  within(from: number, to: number): { count: number; ms: number } {
    let count = 0;
    let ms = 0;
    for (const p of this.pauses) {
      if (p.start >= from && p.start <= to) {
        count++;
        ms += p.duration;
      }
    }
    return { count, ms };
  }

  /** True when a GC pause overlapped [from, to]. */
  overlaps(from: number, to: number): boolean {
    for (const p of this.pauses) if (p.start <= to && p.start + p.duration >= from) return true;
    return false;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

/** The 1-minute load average, for the record: other work on the machine shows up as noise. */
export function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** Seeded randomness for sampling, shared with the tests. */
export const rng = prng;
