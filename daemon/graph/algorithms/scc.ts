// Strongly connected components of a CSR snapshot over chosen edges (Tarjan, iterative), the
// algorithm and result order of native/plugins/scc: the two must agree exactly.
import { CSR_DEAD, type CsrSnapshot } from '../csr.ts';
import type { EdgeFilter } from './edge-filter.ts';

/** What Tarjan reads of a graph: a CSR snapshot, or edges of one kind gathered for a query. */
export type CycleGraph = Pick<CsrSnapshot, 'nodeCount' | 'outOffsets' | 'outTargets' | 'outKinds' | 'entityKinds'>;

const UNSEEN = 0xffffffff;

/**
 * Every component that is a cycle: two or more members, or one with an edge to itself.
 * Members ascending; components by size descending, then by first member.
 */
export function csrCycles(csr: CycleGraph, admits: EdgeFilter): Uint32Array[] {
  const { nodeCount: n, outOffsets, outTargets, outKinds, entityKinds } = csr;
  const index = new Uint32Array(n).fill(UNSEEN);
  const low = new Uint32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Uint32Array(n);
  let top = 0;
  // The depth-first path: a vertex and the position of its next out-edge, per level.
  const pathVertex = new Uint32Array(n);
  const pathEdge = new Uint32Array(n);
  let depth = 0;
  let counter = 0;
  const comps: Uint32Array[] = [];
  const enter = (v: number) => {
    index[v] = low[v] = counter++;
    stack[top++] = v;
    onStack[v] = 1;
    pathVertex[depth] = v;
    pathEdge[depth++] = outOffsets[v]!;
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== UNSEEN || entityKinds[root] === CSR_DEAD) continue;
    enter(root);
    while (depth > 0) {
      const v = pathVertex[depth - 1]!;
      const end = outOffsets[v + 1]!;
      let e = pathEdge[depth - 1]!;
      while (e < end && !admits[outKinds[e]!]) e++;
      if (e < end) {
        pathEdge[depth - 1] = e + 1;
        const w = outTargets[e]!;
        if (index[w] === UNSEEN) enter(w);
        else if (onStack[w] && index[w]! < low[v]!) low[v] = index[w]!;
        continue;
      }
      depth--;
      if (depth > 0) {
        const parent = pathVertex[depth - 1]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
      if (low[v] === index[v]) {
        let start = top;
        do start--;
        while (stack[start] !== v);
        for (let i = start; i < top; i++) onStack[stack[i]!] = 0;
        // Most components are single vertices: only cycles are copied out.
        if (top - start > 1 || hasSelfLoop(csr, admits, v)) comps.push(stack.slice(start, top).sort());
        top = start;
      }
    }
  }
  return comps.sort((a, b) => b.length - a.length || a[0]! - b[0]!);
}

function hasSelfLoop(csr: CycleGraph, admits: EdgeFilter, v: number): boolean {
  for (let e = csr.outOffsets[v]!; e < csr.outOffsets[v + 1]!; e++) if (csr.outTargets[e] === v && admits[csr.outKinds[e]!]) return true;
  return false;
}
