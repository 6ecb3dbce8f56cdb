// Precision and recall of isg's edges against the oracle's, per edge kind.
import type { OracleEdge } from './ts-oracle.ts';

export interface EdgeLike {
  kind: string;
  from: string;
  to: string;
}

export interface Comparison {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** 1 when isg reported nothing, so an empty corpus is not a failure. */
  precision: number;
  /** 1 when the oracle found nothing. */
  recall: number;
  examples: { falsePositives: EdgeLike[]; falseNegatives: EdgeLike[] };
}

/** Examples kept per list (ISG_EXAMPLES, as the accuracy test prints them). */
const SAMPLE = Number(process.env.ISG_EXAMPLES ?? 15);

/**
 * Compares edge sets over `kinds` only. isg may report one pair both `resolved` and `inferred`;
 * the oracle has no such distinction, so pairs are compared as sets.
 */
export function compareEdges(truth: OracleEdge[], ours: EdgeLike[], kinds: string[]): Comparison {
  const wanted = new Set(kinds);
  const index = (edges: EdgeLike[]): Map<string, EdgeLike> =>
    new Map(edges.filter((e) => wanted.has(e.kind)).map((e) => [`${e.kind}\0${e.from}\0${e.to}`, e]));
  const expected = index(truth);
  const actual = index(ours);
  const falsePositives = [...actual].filter(([key]) => !expected.has(key)).map(([, e]) => e);
  const falseNegatives = [...expected].filter(([key]) => !actual.has(key)).map(([, e]) => e);
  const truePositives = actual.size - falsePositives.length;
  return {
    truePositives,
    falsePositives: falsePositives.length,
    falseNegatives: falseNegatives.length,
    precision: actual.size === 0 ? 1 : truePositives / actual.size,
    recall: expected.size === 0 ? 1 : truePositives / expected.size,
    examples: { falsePositives: sample(falsePositives), falseNegatives: sample(falseNegatives) },
  };
}

/** Evenly spaced over the sorted list: deterministic, yet not all from the first file. */
function sample(edges: EdgeLike[]): EdgeLike[] {
  const sorted = edges.map((e) => ({ kind: e.kind, from: e.from, to: e.to })).sort(byKey);
  if (sorted.length <= SAMPLE) return sorted;
  return Array.from({ length: SAMPLE }, (_, i) => sorted[Math.floor((i * sorted.length) / SAMPLE)]!);
}

/** Code-unit order by kind, from, to: the order the oracle and the export use. */
function byKey(a: EdgeLike, b: EdgeLike): number {
  return cmp(a.kind, b.kind) || cmp(a.from, b.from) || cmp(a.to, b.to);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One report line, e.g. `calls: precision 0.912 recall 0.873 (tp 1234, fp 56, fn 78)`. */
export function formatComparison(label: string, c: Comparison): string {
  const p = c.precision.toFixed(3);
  const r = c.recall.toFixed(3);
  return `${label}: precision ${p} recall ${r} (tp ${c.truePositives}, fp ${c.falsePositives}, fn ${c.falseNegatives})`;
}
