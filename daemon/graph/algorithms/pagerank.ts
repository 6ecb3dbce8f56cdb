// PageRank over a CSR snapshot: the arithmetic of native/plugins/pagerank in the same order,
// so both give the same scores to the last bit.
import { CSR_DEAD, type CsrSnapshot } from '../csr.ts';
import type { EdgeFilter } from './edge-filter.ts';

export interface PageRankOptions {
  damping: number;
  maxIterations: number;
  /** Stop once an iteration changes the scores by less than this in total (L1). */
  tolerance: number;
}

export interface Ranks {
  /** By entity id; 0 for dead ids. */
  scores: Float64Array;
  /** Live entity ids, best first (ties by id). */
  order: Uint32Array;
  /** Live entities ranked. */
  nodes: number;
  iterations: number;
  converged: boolean;
  /** L1 change of the last iteration. */
  delta: number;
}

/** Power iteration over the live entities; a dangling entity's rank is spread over all of them. */
export function pageRank(csr: CsrSnapshot, admits: EdgeFilter, { damping, maxIterations, tolerance }: PageRankOptions): Ranks {
  const { nodeCount: n, entityKinds, outOffsets, outKinds, inOffsets, inSources, inKinds } = csr;
  const alive: number[] = [];
  for (let id = 0; id < n; id++) if (entityKinds[id] !== CSR_DEAD) alive.push(id);
  const nodes = alive.length;
  const outDegree = new Uint32Array(n);
  for (const v of alive) {
    let d = 0;
    for (let e = outOffsets[v]!; e < outOffsets[v + 1]!; e++) d += admits[outKinds[e]!]!;
    outDegree[v] = d;
  }
  let rank = new Float64Array(n);
  if (nodes === 0) return { scores: rank, order: new Uint32Array(0), nodes, iterations: 0, converged: true, delta: 0 };
  const share = 1 / nodes;
  for (const v of alive) rank[v] = share;
  let next = new Float64Array(n);
  const contribution = new Float64Array(n);
  let iterations = 0;
  let delta = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    let dangling = 0;
    for (const v of alive) {
      if (outDegree[v] === 0) {
        dangling += rank[v]!;
        contribution[v] = 0;
      } else contribution[v] = rank[v]! / outDegree[v]!;
    }
    const base = (1 - damping) * share + damping * dangling * share;
    delta = 0;
    for (const v of alive) {
      let sum = 0;
      for (let e = inOffsets[v]!; e < inOffsets[v + 1]!; e++) if (admits[inKinds[e]!]) sum += contribution[inSources[e]!]!;
      const score = base + damping * sum;
      delta += Math.abs(score - rank[v]!);
      next[v] = score;
    }
    [rank, next] = [next, rank];
    if (delta < tolerance) {
      converged = true;
      break;
    }
  }
  const scores = rank;
  // Distinct finite doubles never subtract to 0, so the difference orders them exactly.
  const order = Uint32Array.from(alive).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return { scores, order, nodes, iterations, converged, delta };
}
