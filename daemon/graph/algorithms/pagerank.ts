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
  if (nodes === 0) return { scores: rank, nodes, iterations: 0, converged: true, delta: 0 };
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
  return { scores: rank, nodes, iterations, converged, delta };
}

/** The `top` best of `candidates` by score (ties by id), best first. */
export function topRanked(scores: Float64Array, candidates: Iterable<number>, top: number): number[] {
  // A min-heap of the best `top` so far, whose root is the worst of them.
  const heap: number[] = [];
  const worse = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const id of candidates) {
    if (heap.length < top) {
      heap.push(id);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    } else if (worse(heap[0]!, id)) {
      heap[0] = id;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
