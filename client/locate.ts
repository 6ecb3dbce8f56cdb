// Finding the daemon for a directory the way the CLI does: walk up from it to the nearest
// directory holding `.isg/`; its lock file says where that daemon listens.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface Located {
  /** The indexed root: the directory holding `.isg/`. */
  root: string;
  /** Where the daemon listens (from its lock file, else the default path). */
  socket: string;
  /** The pid in the lock file, when there is one. */
  pid?: number;
}

/** The nearest `.isg/` at or above `from`, or undefined when there is none. */
export function locateDaemon(from: string): Located | undefined {
  let dir = resolve(from);
  for (;;) {
    const state = join(dir, '.isg');
    if (isDir(state)) {
      const lock = readLock(join(state, 'daemon.lock'));
      return { root: dir, socket: lock?.socket ?? join(state, 'daemon.sock'), ...(lock ? { pid: lock.pid } : {}) };
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readLock(file: string): { pid: number; socket: string } | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; socket?: unknown };
    return typeof v.pid === 'number' && typeof v.socket === 'string' ? { pid: v.pid, socket: v.socket } : undefined;
  } catch {
    return undefined;
  }
}
