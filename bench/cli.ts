// cli: end-to-end wall time of `isg <query>` from a shell against a warm daemon: process
// spawn to exit, as a person (or an editor, or an LLM tool) pays it. The floor is `node -e 0`
// in the same run: what no Node program can beat on this machine. Runs are interleaved
// (floor, help, query, ...) so a change in machine load hits every command alike.
// ISG_BENCH_CLI_BASELINE=/path/to/an/older/isg/entry.js adds that build's query to the same
// interleaving, for a before/after comparison that one machine load applies to.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IsgClient } from '../client/client.ts';
import { cliPath, copyCorpus, corpusRoot, fixed, heading, median, table, verdict, type BenchContext, type CorpusName } from './util.ts';

const RUNS = 40;
const TARGET_MS = 80;

/** A query with a sizeable answer per corpus: 66 callers on rxjs, the first 200 of 1,413 on effect. */
const QUERIES: Record<CorpusName, string[]> = {
  rxjs: ['callers', 'Subscriber.next'],
  zod: ['callers', 'src/v3/types.ts#ZodType.parse'],
  effect: ['callers', 'src/Function.ts#dual'],
};

interface Figures {
  label: string;
  command: string;
  runs: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** A command line: `file` run with `argv` (Node itself, or the `isg` script through its shebang). */
interface Command {
  label: string;
  file: string;
  argv: string[];
  /** Judged against the target. */
  target?: boolean;
}

/** Spawn to exit, in ms; stdout is read (as a terminal-less user's pipe would be) and dropped. */
function timeRun(c: Command, cwd: string, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(c.file, c.argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const elapsed = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench cli: ${c.file} ${c.argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return elapsed;
}

async function warmDaemon(root: string): Promise<{ client: IsgClient; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [cliPath(), 'serve', root, '--log-level', 'warn'], { stdio: 'ignore' });
  const socket = join(root, '.isg', 'daemon.sock');
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`bench cli: the daemon for ${root} was not ready after 300 s`);
    const client = await connect({ socket }).catch(() => undefined);
    if (client && (await client.status()).state === 'ready') {
      return {
        client,
        stop: async () => {
          await client.shutdown().catch(() => undefined);
          client.close();
          await new Promise((r) => child.once('exit', r));
        },
      };
    }
    client?.close();
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The environment as inherited, and, when it sets NODE_EXTRA_CA_CERTS, without it too: Node
 * then parses that certificate bundle before running any JavaScript (40-75 ms per process on
 * this machine). `isg` run as a command clears it in its shebang (it makes no TLS connection);
 * `node bin/isg.cjs` pays it.
 */
function environments(): { label: string; env: NodeJS.ProcessEnv }[] {
  const inherited = { label: 'environment as inherited', env: process.env };
  if (process.env.NODE_EXTRA_CA_CERTS === undefined) return [inherited];
  const { NODE_EXTRA_CA_CERTS: _, ...without } = process.env;
  return [{ ...inherited, label: `NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}` }, { label: 'without NODE_EXTRA_CA_CERTS', env: without }];
}

export async function cli(ctx: BenchContext): Promise<void> {
  heading('cli: `isg <query>` end to end against a warm daemon (process spawn to exit)');
  console.log(`${RUNS} runs of each, interleaved (commands and environments); target: median <= ${TARGET_MS} ms. The floor is \`node -e 0\`.`);
  if (process.env.ISG_BENCH_CLI_BASELINE) console.log(`baseline: ${process.env.ISG_BENCH_CLI_BASELINE}`);
  const all: Record<string, Record<string, Figures[]>> = {};
  for (const corpus of ctx.corpora) {
    const root = mkdtempSync(join(tmpdir(), `isg-bench-cli-${corpus}-`));
    copyCorpus(corpus, join(root, 'src'));
    const daemon = await warmDaemon(root);
    try {
      const query = QUERIES[corpus];
      const answer = await daemon.client.request(query[0]!, { entity: query[1] });
      const total = (answer as { total: number }).total;
      // `isg ...` runs the script as a shell runs the installed command: through its shebang.
      const node = process.execPath;
      const commands: Command[] = [
        { label: 'node -e 0 (floor)', file: node, argv: ['-e', '0'] },
        { label: 'isg help (start-up, no daemon)', file: cliPath(), argv: ['help'] },
        { label: 'isg status', file: cliPath(), argv: ['status'] },
        { label: `isg ${query.join(' ')} (${total} results)`, file: cliPath(), argv: query, target: true },
        { label: `isg ${query.join(' ')} --json`, file: cliPath(), argv: [...query, '--json'], target: true },
        { label: `node bin/isg.cjs ${query.join(' ')} (no shebang)`, file: node, argv: [cliPath(), ...query] },
      ];
      const baseline = process.env.ISG_BENCH_CLI_BASELINE;
      if (baseline) commands.push({ label: `baseline: ${query.join(' ')}`, file: node, argv: [baseline, ...query] });
      const envs = environments();
      for (const e of envs) for (const c of commands) timeRun(c, root, e.env); // warm the file cache
      const times = envs.map(() => commands.map(() => [] as number[]));
      for (let i = 0; i < RUNS; i++) envs.forEach((e, k) => commands.forEach((c, j) => times[k]![j]!.push(timeRun(c, root, e.env))));
      all[corpus] = {};
      envs.forEach((e, k) => {
        const figures = commands.map((c, j): Figures => {
          const t = times[k]![j]!;
          return { label: c.label, command: [c.file, ...c.argv].join(' '), runs: t.length, minMs: Math.min(...t), p50Ms: median(t), p90Ms: percentile(t, 90), maxMs: Math.max(...t) };
        });
        const floor = figures[0]!.p50Ms;
        console.log(`\n${corpus}, ${e.label}: daemon on a copy of ${corpusRoot(corpus)} (cwd = the root)`);
        console.log(
          table(
            ['command', 'min ms', 'p50 ms', 'p90 ms', 'max ms', 'p50 - floor', 'p50 / floor', 'target'],
            figures.map((f, j) => [f.label, fixed(f.minMs), fixed(f.p50Ms), fixed(f.p90Ms), fixed(f.maxMs), j ? fixed(f.p50Ms - floor) : '', j ? fixed(f.p50Ms / floor, 2) : '', commands[j]!.target ? verdict(f.p50Ms, TARGET_MS) : '']),
          ),
        );
        if (e.env.NODE_EXTRA_CA_CERTS) console.log('(`isg ...` runs through the script\'s shebang, which clears NODE_EXTRA_CA_CERTS: hence faster than the floor, which pays it, as `node bin/isg.cjs` does)');
        all[corpus]![e.label] = figures;
      });
    } finally {
      await daemon.stop();
      rmSync(root, { recursive: true, force: true });
    }
  }
  ctx.results.cli = all;
}
