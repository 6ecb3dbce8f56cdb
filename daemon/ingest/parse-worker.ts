// worker_threads entry: parses the chunks of files it is sent (the first is waiting as it
// starts) and posts each chunk's facts back, asking for the next chunk by doing so (work
// stealing keeps both cores busy to the end, since parse cost is not proportional to file
// size). The main thread ends the worker when no work is left. The facts' row arrays are
// transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { runParseJob, type ParseJob, type ParseOutcome } from './parse-job.ts';

const { maxFileBytes } = workerData as { maxFileBytes: number };
parentPort!.on('message', (jobs: ParseJob[]) => {
  const outcomes = jobs.map((job) => runParseJob(job, maxFileBytes));
  parentPort!.postMessage(outcomes, transferables(outcomes));
});

function transferables(outcomes: ParseOutcome[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const o of outcomes) if (o.ok) out.push(o.facts.refs.buffer as ArrayBuffer, o.facts.bindings.buffer as ArrayBuffer);
  return out;
}
