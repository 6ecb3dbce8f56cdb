// Replacing a file so that a reader (or a crash) only ever sees the old or the new content:
// write a temporary file in the same directory, fsync it, rename it over the target, fsync the
// directory so the rename itself is durable.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes to the same path in this process run one after another, so the last call's data wins. */
const queues = new Map<string, Promise<unknown>>();

/** `data` in pieces is written one piece after another (no copy of the whole into one buffer). */
export function writeFileAtomic(file: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => replace(file, data));
  queues.set(file, next);
  const forget = () => {
    if (queues.get(file) === next) queues.delete(file);
  };
  next.then(forget, forget);
  return next;
}

async function replace(file: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      if (data instanceof Uint8Array) await handle.writeFile(data);
      else for (const piece of data) await handle.writeFile(piece);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some platforms cannot open or fsync a directory (Windows: EPERM/EISDIR; some file systems:
    // EINVAL). The rename is done; only its durability across a power cut is not guaranteed.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}
