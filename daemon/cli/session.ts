// The CLI's connection to the daemon for a directory: find it (the nearest `.isg/` at or
// above the cwd, or --root), connect, or start one in the background and wait for its first
// index with a progress bar on a terminal. A warm query costs one connect and one round trip.
import { join, resolve } from 'node:path';
import { connect, IsgClientError, type IsgClient } from '../../client/client.ts';
import { locateDaemon } from '../../client/locate.ts';
import type { IndexingEvent } from '../../client/protocol.ts';
import { ms, progressBar } from './render.ts';

export interface SessionOptions {
  /** The --root flag, if given: that directory exactly. */
  rootFlag?: string;
  cwd: string;
  /** Start a daemon when none answers. */
  spawn: boolean;
  /** When not starting one: say that leaving out --no-spawn would have. */
  spawnHint: boolean;
  timeoutMs: number;
  /** Where progress goes (stderr); a bar when it is a terminal, one line otherwise. */
  progress: { isTTY: boolean; write(s: string): void };
}

export interface Session {
  client: IsgClient;
  root: string;
  /**
   * The first requests go out right behind hello (pipelined), so a request can fail because
   * the daemon refused hello: then `err` is that refusal, and this is the error to report.
   */
  refusedBy(err: unknown): IsgClientError | undefined;
  /** Set when this command started the daemon. */
  spawnedPid?: number;
  /** Wait for the first index to finish (a query answered `indexing`). */
  waitReady(): Promise<void>;
}

/** The root a command talks about: --root exactly, else the nearest `.isg/` above the cwd, else the cwd. */
export function chooseRoot(rootFlag: string | undefined, cwd: string): { root: string; socket: string; pid?: number } {
  const nearest = rootFlag === undefined ? locateDaemon(cwd) : undefined;
  if (nearest) return nearest;
  const root = resolve(cwd, rootFlag ?? '.');
  const located = locateDaemon(root);
  if (located && located.root === root) return located;
  return { root, socket: join(root, '.isg', 'daemon.sock') };
}

export async function openSession(o: SessionOptions): Promise<Session> {
  const where = chooseRoot(o.rootFlag, o.cwd);
  const { root } = where;
  const options = { timeoutMs: o.timeoutMs, client: 'isg-cli' };
  const session = (client: IsgClient, spawnedPid?: number): Session => ({
    client,
    root,
    refusedBy: (err) => (err !== undefined && err === client.refusal ? refused(root, err) : undefined),
    ...(spawnedPid ? { spawnedPid } : {}),
    waitReady: () => waitReady(client, root, o.progress),
  });
  try {
    // A warm query: its request follows hello at once, one round trip in all.
    return session(await connect({ socket: where.socket }, { ...options, pipelineHello: true }));
  } catch (err) {
    if (!(err instanceof IsgClientError) || err.code !== 'unreachable') throw refused(root, err);
  }
  if (!o.spawn) throw new IsgClientError('unreachable', `no daemon for ${root}: start one with \`isg serve ${root}\`${o.spawnHint ? ' (or leave out --no-spawn and isg starts it)' : ''}`);
  const { spawnDaemon } = await import('./spawn-daemon.ts');
  const started = await spawnDaemon(root, ['--log-level', 'warn']);
  if (!started.ok) throw new IsgClientError('unreachable', `could not start a daemon for ${root}: ${started.message}`);
  if (started.ours) o.progress.write(`isg: started a daemon for ${root} (pid ${started.pid}; log ${started.logFile})\n`);
  const s = session(await connect({ socket: started.socket }, options).catch((err: unknown) => Promise.reject(refused(root, err))), started.pid);
  await s.waitReady();
  return s;
}

/** A daemon that answers but refuses the handshake (another protocol version): it cannot serve this command. */
function refused(root: string, err: unknown): IsgClientError {
  return new IsgClientError('unreachable', `the daemon for ${root} refused the connection: ${err instanceof Error ? err.message : String(err)}`);
}

/** Until the daemon says its first index is done, drawing its progress. */
async function waitReady(client: IsgClient, root: string, progress: SessionOptions['progress']): Promise<void> {
  const t0 = performance.now();
  const events = client.subscribe({ events: ['indexing'] });
  try {
    const status = await client.status();
    if (status.state === 'ready') return;
    if (!progress.isTTY) progress.write(`isg: waiting for the first index of ${root} (${status.progress.filesTotal || 'counting'} files)\n`);
    let last: IndexingEvent | undefined;
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await events.next();
      } catch {
        const log = join(root, '.isg', 'daemon.log');
        const { tail } = await import('./spawn-daemon.ts');
        throw new IsgClientError('unreachable', `the daemon for ${root} stopped during its first index; its log (${log}) ends with:\n${tail(log, 8)}`);
      }
      if (next.done) break;
      const ev = next.value as IndexingEvent;
      last = ev;
      if (progress.isTTY) progress.write(`\r${progressBar(ev.filesDone, ev.filesTotal, ev.bytesDone, (performance.now() - t0) / 1000)}`);
      if (ev.state === 'ready') break;
    }
    if (progress.isTTY) progress.write('\r\x1b[K');
    if (last) progress.write(`isg: indexed ${last.filesTotal} files of ${root} in ${ms(performance.now() - t0)}\n`);
  } finally {
    await events.return?.();
  }
}
