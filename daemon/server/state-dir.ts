// `<root>/.isg/`: the daemon's private directory (socket, lock, token, snapshot, log). It must
// be writable by the user alone, or anyone could swap the socket or the snapshot. One daemon
// per root is enforced by a lock file holding the pid; a lock or socket left by a crashed
// daemon is recognised (its pid is gone, or its socket does not answer once it is past its
// start) and cleaned up.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { IsgError } from '../errors.ts';

export const STATE_DIR = '.isg';

export interface LockInfo {
  pid: number;
  socket: string;
  tcp?: string;
  startedAt: string;
  runtime: 'node' | 'deno';
}

export function stateDir(root: string): string {
  return join(root, STATE_DIR);
}

/** Create the state directory 0700, or refuse one that others could write into. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new IsgError('io', `refusing to start: ${dir} is a symbolic link; the daemon's state directory must be a real directory owned by you`);
  if (!st.isDirectory()) throw new IsgError('io', `refusing to start: ${dir} exists and is not a directory`);
  if (st.mode & 0o022) {
    throw new IsgError('io', `refusing to start: ${dir} is group- or world-writable (mode ${(st.mode & 0o777).toString(8)}), so others could replace the socket or snapshot; run: chmod 700 ${dir}`);
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new IsgError('io', `refusing to start: ${dir} belongs to uid ${st.uid}, not to you (uid ${process.getuid()})`);
  }
}

/**
 * How long after taking the lock a daemon may take to listen. A daemon takes the lock before its
 * socket listens: a lock this young whose process is alive is a daemon starting, not a stale one.
 */
const STARTING_MS = 5000;

/**
 * Take the lock for this root, or explain who holds it. A daemon still starting is waited for
 * until its socket answers (then it holds the lock) or it is no longer young; a stale lock (dead
 * pid, or a socket that does not answer) is removed along with its socket.
 */
export async function acquireLock(dir: string, info: LockInfo): Promise<() => void> {
  const lockFile = join(dir, 'daemon.lock');
  let removedStale = false;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      return () => {
        try {
          const held = JSON.parse(readFileSync(lockFile, 'utf8')) as LockInfo;
          if (held.pid === info.pid) rmSync(lockFile, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new IsgError('io', `cannot create the lock ${lockFile}: ${(err as Error).message}`);
    }
    const held = readLock(lockFile);
    if (held && pidAlive(held.pid) && (await socketAnswers(held.socket))) {
      throw new IsgError('io', `a daemon already runs for ${dirname(dir)} (pid ${held.pid}, socket ${held.socket}); stop it with \`isg stop\` or use it`);
    }
    if (starting(lockFile, held)) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (removedStale) throw new IsgError('io', `cannot take the lock ${lockFile}: another daemon is starting at the same time`);
    // stale: the daemon died without cleaning up
    rmSync(lockFile, { force: true });
    if (held?.socket) rmSync(held.socket, { force: true });
    removedStale = true;
  }
}

/** Whether the lock belongs to a daemon still starting: young, and its process alive (or not written yet). */
function starting(lockFile: string, held: LockInfo | undefined): boolean {
  const young = (at: number) => {
    const age = Date.now() - at;
    return age >= 0 && age < STARTING_MS;
  };
  if (held) return pidAlive(held.pid) && young(Date.parse(held.startedAt));
  try {
    // Created but not written yet (or unreadable): judged by when it was created.
    return young(statSync(lockFile).mtimeMs);
  } catch {
    return false; // gone meanwhile: take it
  }
}

export function readLock(lockFile: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(lockFile, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function socketAnswers(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    if (!path || !existsSync(path)) return resolve(false);
    const s = connect(path);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(timeoutMs, () => done(false));
  });
}

/** Remove a socket file left behind, but never a file that is not a socket. */
export function removeStaleSocket(path: string): void {
  try {
    if (statSync(path).isSocket()) rmSync(path, { force: true });
    else throw new IsgError('io', `refusing to start: ${path} exists and is not a socket; move it away`);
  } catch (err) {
    if (err instanceof IsgError) throw err;
  }
}

/** The TCP token: created once (32 random bytes, hex) in a 0600 file, reused after. */
export function ensureToken(dir: string): string {
  const file = join(dir, 'token');
  if (existsSync(file)) {
    const st = statSync(file);
    if (st.mode & 0o077) chmodSync(file, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(token)) return token;
  }
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
