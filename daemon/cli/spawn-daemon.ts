// Starting a daemon in the background (`isg serve --detach`, and any command that finds no
// daemon for its root): a detached `isg serve ROOT` logging to <root>/.isg/daemon.log, waited
// for until its socket answers. Loads no graph code: the client commands come through here.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateDaemon } from '../../client/locate.ts';
import { socketAnswers, stateDir } from '../server/state-dir.ts';
import { selfCommand } from '../util/runtime.ts';

export type Spawned =
  | { ok: true; pid: number; socket: string; logFile: string; ours: boolean }
  | { ok: false; reason: 'exited' | 'silent'; message: string; logFile: string };

/** Spawn `isg serve root ...serveArgs` detached and wait (up to `waitMs`) until it listens. */
export async function spawnDaemon(root: string, serveArgs: string[], waitMs = 30_000): Promise<Spawned> {
  const dir = stateDir(root);
  const logFile = join(dir, 'daemon.log');
  const [cmd, ...prefix] = selfCommand();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(logFile, 'a', 0o600);
  const child = spawn(cmd!, [...prefix, 'serve', root, ...serveArgs], { detached: true, stdio: ['ignore', out, out] });
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.on('error', () => (exited = 1));
  child.unref();
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const located = locateDaemon(root);
    const socket = located?.root === root ? located.socket : join(dir, 'daemon.sock');
    if (await socketAnswers(socket, 200)) {
      // Another command may have started one at the same moment: ours then exits, theirs serves.
      const ours = located?.pid === undefined || located.pid === child.pid;
      return { ok: true, pid: ours ? child.pid! : located!.pid!, socket, logFile, ours };
    }
    if (exited !== null) return { ok: false, reason: 'exited', message: `the daemon exited with code ${exited}; its log (${logFile}) ends with:\n${tail(logFile)}`, logFile };
    await new Promise((r) => setTimeout(r, 25));
  }
  return { ok: false, reason: 'silent', message: `no answer on the daemon's socket after ${Math.round(waitMs / 1000)} s; see ${logFile}`, logFile };
}

/** The last lines of a log, without the colour codes a runtime may have written into it. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
