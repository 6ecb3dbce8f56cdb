// Parallel parsing: worker threads (one per core) take chunks of files from a shared queue;
// the main thread only hands out work and receives facts. Falls back to parsing in-thread when workers are
// unavailable or there is too little work to pay for starting them.
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { trackBoot } from '../util/v8-flags.ts';
import { runParseJob, type ParseJob, type ParseOutcome } from './parse-job.ts';

/** Below this many bytes in all, starting workers costs more than extracting on the calling thread. */
export const MIN_BYTES_FOR_WORKERS = 512 * 1024;
// Built to dist/*.js under Node; run from the .ts sources under Deno.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './parse-worker.ts' : './parse-worker.js', import.meta.url);

export interface ParsePoolOptions {
  maxFileBytes: number;
  /** Number of workers; default: available cores. 0 parses on the calling thread. */
  workers?: number;
  onProgress?: (done: number, total: number, bytes: number) => void;
  /** Called with each file's outcome as it arrives, while other files are still being parsed. */
  onOutcome?: (outcome: ParseOutcome) => void;
  /** Below this many bytes in all, parse on the calling thread (default 512 KiB: what starting workers costs). */
  minBytesForWorkers?: number;
  /**
   * The calling thread will be busy until the files are parsed (decoding a snapshot) and cannot
   * hand out chunks meanwhile: each worker is given its share of the files at once.
   */
  callerBusy?: boolean;
  /** What turns inlining off while the workers parse (default: the process's V8 flags; tests pass their own). */
  jit?: { enter(): void; leave(): void };
}

export async function parseAll(jobs: (ParseJob & { size: number })[], options: ParsePoolOptions): Promise<ParseOutcome[]> {
  const totalBytes = jobs.reduce((s, j) => s + j.size, 0);
  const workers = Math.min(options.workers ?? availableParallelism(), jobs.length);
  if (workers <= 0 || totalBytes < (options.minBytesForWorkers ?? MIN_BYTES_FOR_WORKERS)) return parseInline(jobs, options);
  // Largest files first, so no big file is left to run alone at the end.
  const queue = [...jobs].sort((a, b) => b.size - a.size);
  const sizes = new Map(jobs.map((j) => [j.path, j.size]));
  const results: ParseOutcome[] = [];
  let doneBytes = 0;
  let queuedBytes = totalBytes;
  // Busy, the calling thread could not hand out the next chunks: each worker gets its share at once.
  const busyChunkBytes = options.callerBusy ? Math.ceil(totalBytes / workers) : undefined;
  const nextChunk = (): ParseJob[] | null => {
    if (!queue.length) return null;
    const chunkBytes = busyChunkBytes ?? chunkBytesFor(queuedBytes, workers);
    const chunk: ParseJob[] = [];
    let bytes = 0;
    while (queue.length && (chunk.length === 0 || bytes + queue[queue.length - 1]!.size <= chunkBytes) && bytes < chunkBytes) {
      const j = queue.shift()!;
      chunk.push({ path: j.path, abs: j.abs, language: j.language });
      bytes += j.size;
    }
    queuedBytes -= bytes;
    return chunk;
  };
  // Inlining goes off once every worker runs JavaScript: a worker boots slower while any V8 flag
  // is off its default (util/v8-flags.ts).
  const jit = options.jit ?? leanJit;
  let online = 0;
  let lean = false;
  let over = false;
  const start = (first: ParseJob[], count: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const w = trackBoot(new Worker(WORKER_URL, { workerData: { maxFileBytes: options.maxFileBytes } }));
      // Its first chunk goes with it: it starts parsing as soon as it has booted, without asking
      // this thread, which may be busy meanwhile (a snapshot's decoding).
      w.postMessage(first);
      w.once('online', () => {
        // (a pool that failed before all its workers were up leaves inlining alone)
        if (++online < count || over) return;
        lean = true;
        jit.enter();
      });
      let finished = false;
      w.on('message', (batch: ParseOutcome[]) => {
        // The next chunk first, so that the worker starts on it while this thread handles the batch.
        const chunk = nextChunk();
        if (chunk) w.postMessage(chunk);
        for (const r of batch) {
          results.push(r);
          doneBytes += sizes.get(r.ok ? r.facts.path : r.path) ?? 0;
          options.onOutcome?.(r);
        }
        options.onProgress?.(results.length, jobs.length, doneBytes);
        if (chunk) return;
        // Ended from here rather than by the worker closing its port, which Deno's
        // worker_threads does not offer.
        finished = true;
        void w.terminate();
        resolve();
      });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (!finished) reject(new Error(`parse worker exited with code ${code} before its work was done`));
      });
    });
  // A worker only for a chunk to start with (the files may fit fewer chunks than workers).
  const firsts: ParseJob[][] = [];
  for (let chunk; firsts.length < workers && (chunk = nextChunk()); ) firsts.push(chunk);
  try {
    await Promise.all(firsts.map((first) => start(first, firsts.length)));
  } finally {
    over = true;
    if (lean) jit.leave();
  }
  return results;
}

/**
 * Bytes of the next chunk: an eighth of each worker's share of what is left, from 512 KiB down to
 * 32 KiB (guided self-scheduling). Big chunks early keep the messages few; small ones at the end
 * keep the workers finishing together: with chunks of 512 KiB to the end, one worker's last chunk
 * ran 160-200 ms after the other had stopped (effect, 2 workers); now 15-30 ms. The index's wall
 * gains less than that (the worker left alone ran faster without the other on the second core).
 */
export function chunkBytesFor(queuedBytes: number, workers: number): number {
  return Math.max(32 * 1024, Math.min(512 * 1024, queuedBytes / (workers * 8)));
}

// While workers parse, TurboFan compiles each worker's extraction code on the same cores
// (every isolate compiles its own), and most of a compile is inlining: on effect with two
// workers, optimizing compiles were a fifth of the index's CPU. Extraction is mostly calls into
// tree-sitter, so its optimized code runs as fast without inlining (same CPU per pass once
// warm), and the index takes ~7% less wall and ~8% less CPU (BENCHMARKS.md section 19). V8's
// flags are per process, so inlining is turned off only while a pool runs (the daemon's query
// code is compiled with it), and left alone when the user set it.
const userSetInlining = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.endsWith('turbo-inlining'));
const leanJit = inliningSwitch(setFlagsFromString, userSetInlining);

/**
 * Inlining off from the first of overlapping pools to enter until the last one leaves (a pool
 * calls `enter` once and `leave` once); nothing at all when the user set it.
 */
export function inliningSwitch(setFlags: (flags: string) => void, userSet: boolean): { enter(): void; leave(): void } {
  let pools = 0;
  return {
    enter() {
      if (pools++ === 0 && !userSet) setFlags('--no-turbo-inlining');
    },
    leave() {
      if (--pools === 0 && !userSet) setFlags('--turbo-inlining');
    },
  };
}

function parseInline(jobs: ParseJob[], options: ParsePoolOptions): ParseOutcome[] {
  const out: ParseOutcome[] = [];
  for (const j of jobs) {
    const outcome = runParseJob(j, options.maxFileBytes);
    out.push(outcome);
    options.onOutcome?.(outcome);
    options.onProgress?.(out.length, jobs.length, 0);
  }
  return out;
}
