// Per-plugin performance accounting and the ejection rules, after outlier ejection in Envoy
// and Finagle. Every call's latency goes into an HDR histogram (the plain JS Int32 variant:
// recording is ~50 ns; the packed variant's percentile read took ~18 ms here). Percentiles
// are read off the hot path, over a sliding window made of two interval histograms.
import * as hdr from 'hdr-histogram-js';
import type { Budget } from './api.ts';

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

function histogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

/** Latency of one kind of call (query or update) over the last window and the one before it. */
export class LatencyWindow {
  private current = histogram();
  private previous = histogram();
  private openedAt: number;
  private readonly scratch = histogram();
  private readonly policy: EjectionPolicy;

  constructor(policy: EjectionPolicy, now: number) {
    this.policy = policy;
    this.openedAt = now;
  }

  /** Hot path: one histogram write and two comparisons. */
  record(us: number, now: number): void {
    this.current.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
    if (this.current.totalCount >= this.policy.windowCalls || now - this.openedAt >= this.policy.windowMs) this.rotate(now);
  }

  /** Percentiles over the previous and the current window (between 1 and 2 windows of calls). */
  summary(now: number): LatencySummary {
    // A window that closed by time alone more than a window ago is stale: calls stopped.
    if (now - this.openedAt >= 2 * this.policy.windowMs) this.reset(now);
    const h = this.scratch;
    h.reset();
    h.add(this.previous);
    h.add(this.current);
    if (h.totalCount === 0) return { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0 };
    return { count: h.totalCount, p50Us: h.getValueAtPercentile(50), p90Us: h.getValueAtPercentile(90), p99Us: h.getValueAtPercentile(99), maxUs: h.maxValue };
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
      return `one call to ${r.op} took ${r.ms.toFixed(1)} ms, past the hard ceiling of ${r.ceilingMs} ms`;
    case 'errors':
      return `${r.errors} errors within one window (more than ${r.maxErrors}); last: ${r.last}`;
    case 'memory':
      return `holds ${(r.bytes / 1048576).toFixed(1)} MB, over its budget of ${(r.budgetBytes / 1048576).toFixed(1)} MB`;
  }
}

/** Everything measured about one plugin, and the rules that eject it. */
export class PluginAccounting {
  readonly query: LatencyWindow;
  readonly update: LatencyWindow;
  private errorTimes: number[] = [];
  lastError?: string;
  readonly policy: EjectionPolicy;

  constructor(policy: EjectionPolicy, now: number) {
    this.policy = policy;
    this.query = new LatencyWindow(policy, now);
    this.update = new LatencyWindow(policy, now);
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
      const s = this[kind].summary(now);
      const budgetUs = kind === 'query' ? budget.queryP99Us : budget.updateP99Us;
      if (s.count >= this.policy.minSamples && s.p99Us > budgetUs) return { rule: 'p99', kind, p99Us: s.p99Us, budgetUs, samples: s.count };
    }
    return undefined;
  }

  /** A fresh start after re-admission: old latencies and errors do not count against probation. */
  reset(now: number): void {
    this.query.reset(now);
    this.update.reset(now);
    this.errorTimes = [];
  }
}

/** How long the n-th ejection (1-based) lasts. */
export function ejectionMs(policy: EjectionPolicy, n: number): number {
  return Math.min(policy.maxEjectionMs, policy.baseEjectionMs * 2 ** Math.max(0, n - 1));
}
