// The query path, run while the daemon is idle. V8 compiles a function with its optimizing
// compiler only once it has run many times: measured in-process on effect, the first 2,000
// implements calls had a p99 of 57 µs against 6-7 µs once compiled, and the p50 settled (0.4 µs
// against 2.2) only after ~12,000 calls. These steps ask the core queries about the daemon's
// own graph, so that a client's first questions find that code compiled. Read-only: they leave
// the compiled code and the result records of the entities they met (entity-ref.ts), which the
// first real queries would have made anyway.
import { simpleName } from '../graph/store.ts';
import { IsgError } from '../errors.ts';
import { runQuery } from './core.ts';
import type { GraphView } from './graph-view.ts';

/** Entities asked about, spread over the id space. */
const SAMPLE = 1000;
/** Entities per step: a step is ~100 calls, about a ms once compiled (the first ones ~10). */
const PER_STEP = 10;
/** Passes over the sample: ~20,000 calls in all, past where the p50 settled. */
const PASSES = 2;

type Run = (view: GraphView, op: string, args: unknown) => unknown;

/**
 * Steps for the daemon's idle warm-up, each asking about the graph `current()` holds when it
 * runs (an edit may have come between two steps). `run`: how a query is asked (a test's spy).
 */
export function queryWarmUpSteps(current: () => GraphView | undefined, run: Run = runQuery): (() => void)[] {
  const steps: (() => void)[] = [];
  const slices = Math.ceil(SAMPLE / PER_STEP);
  for (let pass = 0; pass < PASSES; pass++) {
    for (let slice = 0; slice < slices; slice++) {
      steps.push(() => {
        const view = current();
        if (view) askAbout(view, run, slice * PER_STEP, PER_STEP);
      });
    }
  }
  return steps;
}

/** The core queries about entities `from`..`from + count` of the sample. */
function askAbout(view: GraphView, run: Run, from: number, count: number): void {
  const ask = (op: string, args: unknown) => {
    try {
      run(view, op, args);
    } catch (err) {
      // A query error is an answer like any other here; anything else is a bug, for the caller to log.
      if (!(err instanceof IsgError)) throw err;
    }
  };
  const s = view.store;
  const stride = Math.max(1, Math.floor(s.idLimit / SAMPLE));
  for (let i = from; i < from + count; i++) {
    const id = i * stride;
    if (id >= s.idLimit || !s.isAlive(id)) continue;
    const entity = s.key(id);
    const name = simpleName(s.qualifiedName(id), s.file(id));
    ask('lookup', { name: entity, mode: 'exact' });
    ask('lookup', { name, mode: 'exact' });
    for (const op of ['implements', 'supertypes', 'callers', 'callees', 'uses', 'used-by']) ask(op, { entity });
    ask('blast-radius', { entity, depth: 3 });
    // The slow kinds (tens to hundreds of µs) less often: the step stays a few ms.
    if (i % 5 === 0) ask('lookup', { name: name.slice(0, 3), mode: 'prefix' });
    if (i % 10 === 0) ask('outline', { file: s.file(id) });
    if (i % 25 === 0) ask('lookup', { name: name.slice(0, 4), mode: 'fuzzy' });
  }
}
