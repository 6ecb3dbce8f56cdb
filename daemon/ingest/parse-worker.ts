// worker_threads entry: parses the files it is sent and posts their facts back in batches
// (one message per file would spend more time in structured clone bookkeeping than parsing).
import { parentPort, workerData } from 'node:worker_threads';
import { runParseJob, type ParseJob, type ParseOutcome } from './parse-job.ts';

const BATCH = 16;
const { jobs, maxFileBytes } = workerData as { jobs: ParseJob[]; maxFileBytes: number };
let batch: ParseOutcome[] = [];
for (const job of jobs) {
  batch.push(runParseJob(job, maxFileBytes));
  if (batch.length >= BATCH) {
    parentPort!.postMessage(batch);
    batch = [];
  }
}
parentPort!.postMessage(batch);
parentPort!.postMessage('done');
