// `isg serve [root]`: run the daemon in the foreground (progress bar on a TTY, a summary when
// the first index is done), or with --detach in the background, printing where it listens.
import { relative, resolve } from 'node:path';
import { connect } from '../../client/client.ts';
import type { StatusResult } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { runQuery } from '../queries/core.ts';
import { Daemon } from '../server/daemon.ts';
import { LOG_LEVELS, type LogLevel } from '../util/log.ts';
import { packageRoot } from '../util/package-root.ts';
import { RUNTIME, selfCommand } from '../util/runtime.ts';
import { intOption, stringOption, type ParsedArgs } from './argv.ts';
import { isEmpty } from './query-command.ts';
import { progressBar } from './render.ts';
import { spawnDaemon } from './spawn-daemon.ts';

const HELP = `usage: isg serve [root] [options]

Run the isg daemon for a directory (default: the current one): index it, keep the graph live as
files change, and answer queries on <root>/.isg/daemon.sock (mode 0600). SIGINT or SIGTERM (or
isg stop) stops it: requests in flight are answered, the snapshot is saved, the socket and the
lock are removed.

options:
  --detach              run in the background; print where it listens and exit
  --tcp HOST:PORT       also listen on TCP (loopback only unless --allow-remote); clients
                        must send the token from <root>/.isg/token in their hello
  --http HOST:PORT      also serve HTTP (loopback only unless --allow-remote): POST /v1/query
                        {op, args}, GET /v1/status, GET /v1/events (Server-Sent Events); every
                        request needs "Authorization: Bearer <token>" from <root>/.isg/token
  --allow-remote        allow a --tcp or --http address that is not loopback (the token still
                        applies)
  --socket PATH         listen on this Unix socket instead of <root>/.isg/daemon.sock
  --log-level LEVEL     debug, info, warn, error or silent (default: isg.config.json or info)
  --workers N           parse threads for the first index (default: one per core)
  --examples            when ready, print three example commands to try (npm start)

examples:
  isg serve
  isg serve ~/src/app --detach
  isg serve . --tcp 127.0.0.1:7777
  isg serve . --http 127.0.0.1:7778
    curl -H "Authorization: Bearer $(cat .isg/token)" -d '{"op":"callers","args":{"entity":"main"}}' \
      http://127.0.0.1:7778/v1/query`;

export async function run(args: ParsedArgs): Promise<number> {
  if (args.options.has('help')) {
    console.log(HELP);
    return 0;
  }
  const root = resolve(args.positionals[0] ?? '.');
  const logLevel = stringOption(args, 'log-level');
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel)) throw new IsgError('bad-args', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  if (args.options.has('detach')) return detach(root, args);
  // Listening before the daemon starts: a signal while it takes the lock and binds its socket
  // stops it as soon as it has started, instead of killing the process with the lock held.
  let received: string | undefined;
  let stop: ((signal: string) => void) | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      received ??= signal;
      stop?.(signal);
    });
  }
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastDraw = 0;
  const daemon = await Daemon.start({
    root,
    tcp: stringOption(args, 'tcp'),
    http: stringOption(args, 'http'),
    allowRemote: args.options.has('allow-remote'),
    socket: stringOption(args, 'socket'),
    logLevel: logLevel as LogLevel | undefined,
    workers: args.options.has('workers') ? intOption(args, 'workers', 0) : undefined,
    onProgress: (done, total, bytes) => {
      const now = performance.now();
      if (!tty || (now - lastDraw < 80 && done < total)) return;
      lastDraw = now;
      process.stderr.write(`\r${progressBar(done, total, bytes, (now - started) / 1000)}`);
    },
  });
  stop = (signal: string) => {
    daemon.log.info('signal received; stopping', { signal });
    void daemon.stop().then(() => process.exit(0));
  };
  daemon.onStopped = () => process.exit(0);
  if (received) {
    stop(received);
    return new Promise<number>(() => undefined); // the stop exits
  }
  console.log(`isg daemon for ${root} (pid ${process.pid}) listening on ${daemon.endpoints.socket}${daemon.endpoints.tcp ? `, tcp ${daemon.endpoints.tcp}` : ''}${daemon.endpoints.http ? `, http://${daemon.endpoints.http}` : ''}`);
  try {
    await daemon.ready();
  } catch (err) {
    console.error(`isg serve: the first index failed: ${(err as Error).message}`);
    await daemon.stop();
    return 1;
  }
  const graph = daemon.graph!;
  const s = graph.fileStats();
  const seconds = (performance.now() - started) / 1000;
  if (tty) process.stderr.write('\r\x1b[K');
  console.log(`indexed ${s.files} files (${(s.bytes / 1e6).toFixed(1)} MB, ${s.lines.toLocaleString('en-US')} lines) in ${seconds.toFixed(1)} s: ${graph.store.entityCount.toLocaleString('en-US')} entities, generation ${graph.generation}${s.skipped ? `, ${s.skipped} files skipped` : ''}`);
  if (args.options.has('examples')) printExamples(daemon);
  return new Promise<number>(() => undefined); // serve until stopped
}

/**
 * Three commands to paste, each known to find something in what was just indexed (an empty
 * answer would exit 1): callers and blast radius of the most called function, import cycles,
 * with an outline and the stats as fallbacks for a tree that has none.
 */
function printExamples(daemon: Daemon): void {
  const graph = daemon.graph!;
  const s = graph.store;
  let best = -1;
  let bestScore = 0;
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id) || (s.kind(id) !== 'method' && s.kind(id) !== 'function')) continue;
    const score = s.neighbors('calls', id, 'in', 'resolved').length;
    if (score > bestScore) {
      best = id;
      bestScore = score;
    }
  }
  const key = best < 0 ? undefined : s.key(best);
  const file = key?.split('#')[0] ?? graph.filePaths().next().value;
  const candidates: { argv: string[]; op: string; args: Record<string, unknown> }[] = [];
  if (key) candidates.push({ argv: ['callers', key], op: 'callers', args: { entity: key } }, { argv: ['blast-radius', key, '--depth', '2'], op: 'blast-radius', args: { entity: key, depth: 2 } });
  candidates.push({ argv: ['cycles', '--kind', 'imports'], op: 'cycles', args: { kind: 'imports' } });
  if (file) candidates.push({ argv: ['outline', file], op: 'outline', args: { file } });
  candidates.push({ argv: ['stats'], op: 'stats', args: {} });
  const examples = candidates.filter((c) => !isEmpty(c.op, runQuery(graph, c.op, c.args))).slice(0, 3);
  const root = daemon.root === process.cwd() ? [] : ['--root', daemon.root];
  console.log(`\ntry, in another terminal:\n${examples.map((c) => `  ${isgCommand()} ${[...c.argv, ...root].map(shellQuote).join(' ')}`).join('\n')}`);
}

/** How to run isg from another terminal: `npx isg` within this package (as `npm start` runs), else this runtime's command. */
function isgCommand(): string {
  const inPackage = !relative(packageRoot(), process.cwd()).startsWith('..');
  return RUNTIME === 'node' && inPackage ? 'npx isg' : selfCommand().map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Start a daemon in the background, wait until it answers, print where. */
async function detach(root: string, args: ParsedArgs): Promise<number> {
  const forwarded = [...args.options].filter(([k]) => k !== 'detach').flatMap(([k, v]) => (v === true ? [`--${k}`] : [`--${k}`, v]));
  const started = await spawnDaemon(root, forwarded);
  if (!started.ok) {
    console.error(`isg serve --detach: ${started.message}`);
    return started.reason === 'exited' ? 1 : 3;
  }
  const http = args.options.has('http') ? await httpEndpoint(started.socket) : undefined;
  console.log(`isg daemon for ${root} started in the background (pid ${started.pid}); socket ${started.socket}${http ? `; http://${http}` : ''}; log ${started.logFile}`);
  return 0;
}

/** Where the daemon serves HTTP (it listens there before its socket answers). */
async function httpEndpoint(socket: string): Promise<string | undefined> {
  try {
    const client = await connect({ socket });
    try {
      return ((await client.status()) as StatusResult).endpoints.http;
    } finally {
      client.close();
    }
  } catch {
    return undefined; // the daemon's log says what went wrong
  }
}
