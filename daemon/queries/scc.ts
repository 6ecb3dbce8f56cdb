/**
 * Strongly connected components (Tarjan), iterative so deep graphs cannot overflow the stack.
 * `successors(v)` lists the vertices v points to; vertices are 0..n-1.
 */
export function stronglyConnectedComponents(n: number, successors: (v: number) => readonly number[]): number[][] {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const callStack: { v: number; succ: readonly number[]; i: number }[] = [];
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const enter = (v: number) => {
      index[v] = low[v] = counter++;
      stack.push(v);
      onStack[v] = 1;
      callStack.push({ v, succ: successors(v), i: 0 });
    };
    enter(root);
    while (callStack.length) {
      const frame = callStack[callStack.length - 1]!;
      if (frame.i < frame.succ.length) {
        const w = frame.succ[frame.i++]!;
        if (index[w] === -1) enter(w);
        else if (onStack[w]) low[frame.v] = Math.min(low[frame.v]!, index[w]!);
        continue;
      }
      callStack.pop();
      const v = frame.v;
      if (callStack.length) {
        const parent = callStack[callStack.length - 1]!.v;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        components.push(comp);
      }
    }
  }
  return components;
}
