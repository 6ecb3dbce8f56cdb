// Parallel parsing: the file list is split across worker threads (one per core), balanced by
// size; the main thread only receives facts. Falls back to parsing in-thread when workers are
// unavailable or there is too little work to pay for starting them.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runParseJob, type ParseJob, type ParseOutcome } from './parse-job.ts';

const MIN_BYTES_FOR_WORKERS = 512 * 1024;
// Built to dist/*.js under Node; run from the .ts sources under Deno.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './parse-worker.ts' : './parse-worker.js', import.meta.url);

export interface ParsePoolOptions {
  maxFileBytes: number;
  /** Number of workers; default: available cores. 0 parses on the calling thread. */
  workers?: number;
  onProgress?: (done: number, total: number, bytes: number) => void;
}

export async function parseAll(jobs: (ParseJob & { size: number })[], options: ParsePoolOptions): Promise<ParseOutcome[]> {
  const totalBytes = jobs.reduce((s, j) => s + j.size, 0);
  const workers = Math.min(options.workers ?? availableParallelism(), jobs.length);
  if (workers <= 0 || totalBytes < MIN_BYTES_FOR_WORKERS) return parseInline(jobs, options);
  const shares = splitBySize(jobs, workers);
  const results: ParseOutcome[] = [];
  let doneBytes = 0;
  const sizes = new Map(jobs.map((j) => [j.path, j.size]));
  await Promise.all(
    shares.map(
      (share) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(WORKER_URL, {
            workerData: { jobs: share, maxFileBytes: options.maxFileBytes },
          });
          w.on('message', (msg: ParseOutcome[] | 'done') => {
            if (msg === 'done') {
              void w.terminate();
              return resolve();
            }
            for (const r of msg) {
              results.push(r);
              doneBytes += sizes.get(r.ok ? r.facts.path : r.path) ?? 0;
            }
            options.onProgress?.(results.length, jobs.length, doneBytes);
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`parse worker exited with code ${code}`))));
        }),
    ),
  );
  return results;
}

function parseInline(jobs: ParseJob[], options: ParsePoolOptions): ParseOutcome[] {
  const out: ParseOutcome[] = [];
  for (const j of jobs) {
    out.push(runParseJob(j, options.maxFileBytes));
    options.onProgress?.(out.length, jobs.length, 0);
  }
  return out;
}

/** Largest first, each to the least-loaded share: keeps one huge file from serialising the run. */
function splitBySize<T extends { size: number }>(jobs: T[], n: number): T[][] {
  const shares: T[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  for (const j of [...jobs].sort((a, b) => b.size - a.size)) {
    let min = 0;
    for (let i = 1; i < n; i++) if (load[i]! < load[min]!) min = i;
    shares[min]!.push(j);
    load[min]! += j.size;
  }
  return shares;
}
