// The benchmark suite: `node dist/bench/run.js [--only NAME[,NAME]] [--corpus effect|zod|rxjs|all]
// [--json out.json]`. Benchmarks measure and print tables; none of them asserts anything.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { applyChange } from './apply-change.ts';
import { cli } from './cli.ts';
import { context } from './context.ts';
import { http } from './http.ts';
import { ingest } from './ingest.ts';
import { memory } from './memory.ts';
import { pluginHost } from './plugin-host.ts';
import { native } from './native.ts';
import { queries } from './queries.ts';
import { socket } from './socket.ts';
import { warmStart } from './warm-start.ts';
import { watchBench } from './watch.ts';
import { CORES, CORPORA, load1, type BenchContext, type CorpusName } from './util.ts';
import { wasm, wasmCalls } from './wasm.ts';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  ingest,
  memory,
  queries,
  'apply-change': applyChange,
  context,
  socket,
  http,
  'plugin-host': pluginHost,
  native,
  cli,
  wasm,
  'wasm-calls': wasmCalls,
  watch: watchBench,
  'warm-start': warmStart,
};

/** Run only when named: part of another benchmark (wasm-calls is wasm's per-call table alone). */
const ON_REQUEST = new Set(['wasm-calls']);

const USAGE = `usage: node dist/bench/run.js [--only ${Object.keys(BENCHMARKS).join('|')}[,...]] [--corpus ${CORPORA.join('|')}|all] [--json out.json]`;

function parse(argv: string[]): { only: string[]; corpora: CorpusName[]; json?: string } {
  let only = Object.keys(BENCHMARKS).filter((name) => !ON_REQUEST.has(name));
  let corpora: CorpusName[] = [...CORPORA];
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--only') {
      only = value().split(',');
      for (const o of only) if (!BENCHMARKS[o]) throw new Error(`unknown benchmark "${o}"\n${USAGE}`);
    } else if (flag === '--corpus') {
      const v = value();
      if (v === 'all') corpora = [...CORPORA];
      else {
        corpora = v.split(',') as CorpusName[];
        for (const c of corpora) if (!CORPORA.includes(c)) throw new Error(`unknown corpus "${c}"\n${USAGE}`);
      }
    } else if (flag === '--json') json = value();
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option "${flag}"\n${USAGE}`);
  }
  return json === undefined ? { only, corpora } : { only, corpora, json };
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const machine = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: CORES,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
  console.log(`isg benchmarks: ${opts.only.join(', ')} on ${opts.corpora.join(', ')}`);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, Node ${machine.node}, ${machine.date}`);
  const ctx: BenchContext = { corpora: opts.corpora, results: {} };
  const t0 = performance.now();
  for (const name of opts.only) {
    const tb = performance.now();
    const loadBefore = load1();
    await BENCHMARKS[name]!(ctx);
    console.log(`(${name}: ${((performance.now() - tb) / 1000).toFixed(1)} s; 1-min load average ${loadBefore} before, ${load1()} after, on ${CORES} cores)`);
  }
  console.log(`\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({ machine, corpora: opts.corpora, benchmarks: ctx.results }, null, 2));
    console.log(`figures written to ${opts.json}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
