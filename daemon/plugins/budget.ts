// Per-plugin performance accounting and the ejection rules, after outlier ejection in Envoy
// and Finagle. Every call's latency goes into an HDR histogram (the plain JS Int32 variant:
// recording is ~50 ns; the packed variant's percentile read took ~18 ms here). Percentiles
// are read off the hot path, over a sliding window made of two interval histograms.
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type { Budget } from './api.ts';

// The Int32 histogram's own module, not the package's index: the index also loads its log
// writer, compression and WebAssembly build, which none of this uses (60 of a daemon's ~300 ms
// of module loading here, against 6). A CommonJS module, so required: an ES import of its
// default export is the module object under Node and the class under some loaders.
type Int32Histogram = new (lowestDiscernibleValue: number, highestTrackableValue: number, numberOfSignificantValueDigits: number) => Histogram;
const { default: Int32Histogram } = createRequire(import.meta.url)('hdr-histogram-js/dist/Int32Histogram.js') as { default: Int32Histogram };

export interface EjectionPolicy {
  /** The p99 rule needs at least this many calls in the window. */
  minSamples: number;
  /** A window closes after this long or this many calls, whichever comes first. */
  windowMs: number;
  windowCalls: number;
  /** Errors (throws, traps, malformed results) tolerated per window; one more ejects. */
  maxErrors: number;
  /** First ejection lasts this long; each further one doubles it, up to the maximum. */
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** This many ejections within `quarantineWindowMs` quarantine the plugin until reloaded. */
  quarantineAfter: number;
  quarantineWindowMs: number;
}

export const DEFAULT_POLICY: EjectionPolicy = {
  minSamples: 100,
  windowMs: 10_000,
  windowCalls: 1000,
  maxErrors: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  quarantineAfter: 3,
  quarantineWindowMs: 600_000,
};

export interface LatencySummary {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

const HIGHEST_US = 3_600_000_000;

function histogram(): Histogram {
  const h = new Int32Histogram(1, HIGHEST_US, 3);
  h.autoResize = false;
  return h;
}

const scratch = histogram();

/** Percentiles over several windows together; the scratch histogram is reused (single thread). */
function summarize(windows: Iterable<LatencyWindow>, now: number): LatencySummary {
  scratch.reset();
  for (const w of windows) w.addTo(scratch, now);
  if (scratch.totalCount === 0) return { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0 };
  return { count: scratch.totalCount, p50Us: scratch.getValueAtPercentile(50), p90Us: scratch.getValueAtPercentile(90), p99Us: scratch.getValueAtPercentile(99), maxUs: scratch.maxValue };
}

/** Latency of one op over the last window and the one before it. */
export class LatencyWindow {
  private current = histogram();
  private previous = histogram();
  private openedAt: number;
  private readonly policy: EjectionPolicy;

  constructor(policy: EjectionPolicy, now: number) {
    this.policy = policy;
    this.openedAt = now;
  }

  record(us: number, now: number, count = 1): void {
    this.current.recordValueWithCount(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : Math.round(us), count);
    if (this.current.totalCount >= this.policy.windowCalls || now - this.openedAt >= this.policy.windowMs) this.rotate(now);
  }

  /** Percentiles over the previous and the current window (between 1 and 2 windows of calls). */
  summary(now: number): LatencySummary {
    return summarize([this], now);
  }

  /** Add this window's calls (previous and current) to `h`. */
  addTo(h: Histogram, now: number): void {
    // A window that closed by time alone more than a window ago is stale: calls stopped.
    if (now - this.openedAt >= 2 * this.policy.windowMs) this.reset(now);
    h.add(this.previous);
    h.add(this.current);
  }

  reset(now: number): void {
    this.current.reset();
    this.previous.reset();
    this.openedAt = now;
  }

  private rotate(now: number): void {
    const old = this.previous;
    this.previous = this.current;
    old.reset();
    this.current = old;
    this.openedAt = now;
  }
}

export type EjectionReason =
  | { rule: 'p99'; kind: 'query' | 'update'; p99Us: number; budgetUs: number; samples: number }
  | { rule: 'ceiling'; op: string; ms: number; ceilingMs: number }
  | { rule: 'errors'; errors: number; maxErrors: number; last: string }
  | { rule: 'memory'; bytes: number; budgetBytes: number };

export function describeReason(r: EjectionReason): string {
  switch (r.rule) {
    case 'p99':
      return `${r.kind} p99 ${r.p99Us} µs over ${r.samples} calls exceeds the budget of ${r.budgetUs} µs`;
    case 'ceiling':
      // a runtime stops a call at the ceiling by its own clock, which may be a little ahead of the host's
      if (r.ms <= r.ceilingMs) return `one call to ${r.op} was stopped at the hard ceiling of ${r.ceilingMs} ms`;
      return `one call to ${r.op} took ${r.ms.toFixed(1)} ms, past the hard ceiling of ${r.ceilingMs} ms`;
    case 'errors':
      return `${r.errors} errors within one window (more than ${r.maxErrors}); last: ${r.last}`;
    case 'memory':
      return `holds ${(r.bytes / 1048576).toFixed(1)} MB, over its budget of ${(r.budgetBytes / 1048576).toFixed(1)} MB`;
  }
}

/** Samples buffered between drains; a full buffer drains at once. */
const RING = 4096;
/** Below this many µs, HDR (3 significant digits) is exact to the µs: see `drain`. */
const SMALL_US = 1024;

/**
 * Everything measured about one plugin, and the rules that eject it. A call's latency is
 * written to a typed-array ring (a few ns); the ring is drained into one HDR histogram window
 * per op off the hot path: by the host's periodic check, before any read, or when the ring is
 * full. The p99 rule judges all query ops together (or all update hooks), by adding up their
 * windows when it runs.
 *
 * The first call of each op after the accounting starts or is reset (a load, a reload, a
 * re-admission: each runs a fresh runtime) is left out of the windows: it runs the plugin's code
 * and its bindings for the first time, compiling them (the bundled `fan` in a worker: 4.8-8.5 ms
 * for its first call, ~0.1 ms after), and with the p99 rule judging 100 calls, that one call and
 * any other slow one would eject a plugin that is fast. The ceiling and the error rules still
 * apply to it (the host's, not the windows').
 */
export class PluginAccounting {
  private errorTimes: number[] = [];
  lastError?: string;
  readonly policy: EjectionPolicy;
  private readonly ringUs = new Float64Array(RING);
  private readonly ringOp = new Uint32Array(RING);
  private ringLength = 0;
  /** Scratch counts per (op, whole µs) below SMALL_US, used while draining. */
  private smallCounts = new Uint32Array(SMALL_US);
  private readonly opIndex = new Map<string, number>();
  private readonly opWindows: { op: string; kind: 'query' | 'update'; window: LatencyWindow; warm: boolean }[] = [];

  constructor(policy: EjectionPolicy) {
    this.policy = policy;
  }

  /** Hot path: one call's latency. */
  record(kind: 'query' | 'update', op: string, us: number, now: number): void {
    let i = this.opIndex.get(op);
    if (i === undefined) {
      i = this.opWindows.length;
      this.opWindows.push({ op, kind, window: new LatencyWindow(this.policy, now), warm: false });
      this.opIndex.set(op, i);
    }
    const o = this.opWindows[i]!;
    if (!o.warm) {
      o.warm = true;
      return;
    }
    const n = this.ringLength++;
    this.ringUs[n] = us;
    this.ringOp[n] = i;
    if (this.ringLength === RING) this.drain(now);
  }

  /**
   * Move buffered samples into the histograms. Latencies under SMALL_US µs (almost all of them)
   * are counted per whole µs first and recorded once per distinct value with its count: the
   * histogram holds exactly what recording them one by one would (it is exact to 1 µs there),
   * at a fraction of the cost.
   */
  drain(now: number): void {
    if (this.ringLength === 0) return;
    const touched: number[] = [];
    for (let n = 0; n < this.ringLength; n++) {
      const op = this.ringOp[n]!;
      const us = Math.round(this.ringUs[n]!);
      if (us >= SMALL_US) {
        this.opWindows[op]!.window.record(us, now);
        continue;
      }
      const slot = op * SMALL_US + us;
      if (slot >= this.smallCounts.length) this.growSmallCounts(slot + 1);
      if (this.smallCounts[slot]++ === 0) touched.push(slot);
    }
    for (const slot of touched) {
      this.opWindows[Math.floor(slot / SMALL_US)]!.window.record(slot % SMALL_US, now, this.smallCounts[slot]!);
      this.smallCounts[slot] = 0;
    }
    this.ringLength = 0;
  }

  private growSmallCounts(n: number): void {
    const next = new Uint32Array(Math.max(n, this.smallCounts.length * 2));
    next.set(this.smallCounts);
    this.smallCounts = next;
  }

  /** Records one error; returns the errors rule's verdict. */
  recordError(message: string, now: number): EjectionReason | undefined {
    this.lastError = message;
    this.errorTimes.push(now);
    this.errorTimes = this.errorTimes.filter((t) => now - t < this.policy.windowMs);
    if (this.errorTimes.length > this.policy.maxErrors) return { rule: 'errors', errors: this.errorTimes.length, maxErrors: this.policy.maxErrors, last: message };
    return undefined;
  }

  /** The p99 rule, read off the hot path (the plugin host's periodic check). */
  checkLatency(budget: Budget, now: number): EjectionReason | undefined {
    for (const kind of ['query', 'update'] as const) {
      const s = this.summary(kind, now);
      const budgetUs = kind === 'query' ? budget.queryP99Us : budget.updateP99Us;
      if (s.count >= this.policy.minSamples && s.p99Us > budgetUs) return { rule: 'p99', kind, p99Us: s.p99Us, budgetUs, samples: s.count };
    }
    return undefined;
  }

  /** All ops of one kind together. */
  summary(kind: 'query' | 'update', now: number): LatencySummary {
    this.drain(now);
    return summarize(
      this.opWindows.filter((o) => o.kind === kind).map((o) => o.window),
      now,
    );
  }

  opSummaries(now: number): Record<string, LatencySummary> {
    this.drain(now);
    return Object.fromEntries(this.opWindows.map((o) => [o.op, o.window.summary(now)]));
  }

  /** A fresh start after re-admission: old latencies and errors do not count against probation. */
  reset(now: number): void {
    this.ringLength = 0;
    for (const o of this.opWindows) {
      o.window.reset(now);
      o.warm = false;
    }
    this.errorTimes = [];
  }
}

/** How long the n-th ejection (1-based) lasts. */
export function ejectionMs(policy: EjectionPolicy, n: number): number {
  return Math.min(policy.maxEjectionMs, policy.baseEjectionMs * 2 ** Math.max(0, n - 1));
}
