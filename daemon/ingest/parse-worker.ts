// worker_threads entry: parses the chunks of files it is sent and posts each chunk's facts
// back, asking for the next chunk by doing so (work stealing keeps both cores busy to the end,
// since parse cost is not proportional to file size).
import { parentPort, workerData } from 'node:worker_threads';
import { runParseJob, type ParseJob } from './parse-job.ts';

const { maxFileBytes } = workerData as { maxFileBytes: number };
parentPort!.on('message', (jobs: ParseJob[] | null) => {
  if (jobs === null) return parentPort!.close();
  parentPort!.postMessage(jobs.map((job) => runParseJob(job, maxFileBytes)));
});
parentPort!.postMessage([]);
