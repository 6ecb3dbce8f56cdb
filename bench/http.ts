// Point queries over the HTTP gateway against the same queries over the Unix socket, from this
// process to a daemon in a child process: one request at a time, p50 and p99 of each, in blocks
// that alternate between the transports so both see the same machine (the ratio is the figure
// to read on a shared machine). The daemon runs on each HTTP server in turn: hyper-express (what
// `isg serve --http` uses on Node) and node:http (Deno's, and the fallback). HTTP requests are
// JSON over one keep-alive connection (node:http's client, as a Node caller would use), plus a
// row with a new connection per request, as a shell script's curl would make.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IsgClient } from '../client/client.ts';
import type { HttpServerKind } from '../daemon/server/http/gateway.ts';
import { GraphHost } from '../daemon/host.ts';
import { httpCall } from '../test/support/http-client.ts';
import { pickQueries, type Query } from './socket.ts';
import { copyCorpus, heading, latencyHistogram, load1, now, since, summarize, table, type BenchContext, type CorpusName, type LatencySummary } from './util.ts';

const CALLS = 3000;
const BLOCK = 250;
const FRESH_CALLS = 1000;
/** Calls of each transport before timing: the HTTP path has more code to optimize than the socket's. */
const WARM_UP = 1000;
const SERVERS: HttpServerKind[] = ['hyper-express', 'node:http'];

export async function http(ctx: BenchContext): Promise<void> {
  heading('http: point queries over the HTTP gateway vs the Unix socket (HDR histogram, µs)');
  const results: Record<string, unknown> = {};
  for (const corpus of ctx.corpora) results[corpus] = await onCorpus(corpus);
  ctx.results.http = results;
}

async function onCorpus(corpus: CorpusName): Promise<unknown> {
  const root = mkdtempSync(join(tmpdir(), `isg-bench-http-${corpus}-`));
  copyCorpus(corpus, join(root, 'src'));
  const host = await GraphHost.index(root);
  const queries = pickQueries(host).slice(0, 2);
  const figures: Record<string, unknown> = {};
  try {
    for (const server of SERVERS) figures[server] = await onServer(corpus, root, server, queries);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}

async function onServer(corpus: CorpusName, root: string, server: HttpServerKind, queries: Query[]): Promise<unknown> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'http-daemon-child.js'), root, server], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  let client: IsgClient | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const endpoints = await new Promise<{ socket: string; http: string; server: string }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
      });
      child.once('exit', (code) => reject(new Error(`the daemon exited with code ${code}`)));
    });
    client = await connect({ socket: endpoints.socket });
    const headers = { authorization: `Bearer ${readFileSync(join(root, '.isg', 'token'), 'utf8').trim()}`, 'content-type': 'application/json' };
    const overHttp = async (op: string, args: unknown, keepAlive = true) => {
      const r = await httpCall(endpoints.http, { method: 'POST', path: '/v1/query', headers, body: JSON.stringify({ op, args }), ...(keepAlive ? { agent } : {}) });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.toString().slice(0, 200)}`);
      return r;
    };
    const rows: (string | number)[][] = [];
    const figures: Record<string, { socket: LatencySummary; http: LatencySummary }> = {};
    for (const q of queries) {
      for (let i = 0; i < WARM_UP; i++) {
        await client.request(q.op, q.args[i % q.args.length]);
        await overHttp(q.op, q.args[i % q.args.length]);
      }
      const socketH = latencyHistogram();
      const httpH = latencyHistogram();
      for (let block = 0; block < CALLS / BLOCK; block++) {
        for (let i = block * BLOCK; i < (block + 1) * BLOCK; i++) {
          const t0 = now();
          await client.request(q.op, q.args[i % q.args.length]);
          socketH.recordValue(since(t0));
        }
        for (let i = block * BLOCK; i < (block + 1) * BLOCK; i++) {
          const t0 = now();
          await overHttp(q.op, q.args[i % q.args.length]);
          httpH.recordValue(since(t0));
        }
      }
      const s = summarize(socketH);
      const h = summarize(httpH);
      figures[q.label] = { socket: s, http: h };
      rows.push([q.label, 'unix socket (msgpack)', s.count, s.p50Us, s.p99Us, '', '']);
      rows.push(['', `http keep-alive (JSON)`, h.count, h.p50Us, h.p99Us, `${(h.p50Us / s.p50Us).toFixed(2)}x`, `${(h.p99Us / s.p99Us).toFixed(2)}x`]);
    }
    // A new connection per request, as `curl` in a script makes them.
    const q = queries[0]!;
    const freshH = latencyHistogram();
    for (let i = 0; i < FRESH_CALLS; i++) {
      const t0 = now();
      await overHttp(q.op, q.args[i % q.args.length], false);
      freshH.recordValue(since(t0));
    }
    const f = summarize(freshH);
    const base = figures[q.label]!.socket;
    rows.push([q.label, 'http, new connection each', f.count, f.p50Us, f.p99Us, `${(f.p50Us / base.p50Us).toFixed(2)}x`, `${(f.p99Us / base.p99Us).toFixed(2)}x`]);
    console.log(`\n[${corpus}] HTTP on ${endpoints.server}; one request at a time, blocks of ${BLOCK} alternating with the socket's; load average ${load1().toFixed(2)}`);
    console.log(table(['query', 'transport', 'calls', 'p50', 'p99', 'p50 / socket', 'p99 / socket'], rows));
    return { ...figures, freshConnection: f };
  } finally {
    agent.destroy();
    client?.close();
    child.kill('SIGTERM');
    await exited;
  }
}
