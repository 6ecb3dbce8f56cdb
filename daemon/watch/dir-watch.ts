// One directory watched, not its subdirectories, on either runtime: the tree watcher keeps one
// of these per directory it indexes.
//
// Node's fs.watch does that and names the entry that changed. Deno's node:fs `watch` does not:
// it watches recursively and names only the basename, so an event in a/b/x.ts looks like x.ts
// in every ancestor. Under Deno this uses Deno.watchFs, which gives absolute paths (and, in
// Deno 2, hands every watcher the events below it too): only events for direct entries of the
// directory are passed on, so each change arrives once, from the watcher of its own directory.
import { realpathSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface DirWatch {
  close(): void;
}

/**
 * Calls `onEvent` with the name of the entry of `abs` that changed, or null when the runtime did
 * not say (the caller then rescans). Throws as fs.watch does when the directory cannot be watched.
 */
export function watchDirectory(abs: string, onEvent: (name: string | null) => void, onError: (err: Error) => void): DirWatch {
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  if (deno) return watchWithDeno(deno, abs, onEvent, onError);
  const watcher = watch(abs, (_event, name) => onEvent(name === null || name === undefined ? null : String(name)));
  watcher.on('error', onError);
  return watcher;
}

/** The part of Deno's API used here (the project type-checks against Node's types only). */
interface DenoFs {
  watchFs(path: string, options: { recursive: boolean }): AsyncIterable<{ kind: string; paths: string[] }> & { close(): void };
}

/**
 * Deno's watchers of one path share a registration that a closed watcher releases only once its
 * event loop has ended: a new watcher of that path started before then gets no events (a
 * directory removed and created again). So a new watcher waits for the old one to end, and then
 * asks for a rescan, as changes made meanwhile were not seen.
 */
const closing = new Map<string, Promise<void>>();

function watchWithDeno(deno: DenoFs, abs: string, onEvent: (name: string | null) => void, onError: (err: Error) => void): DirWatch {
  // Deno reports resolved paths: the directory may have been named through a symlink.
  const real = realpathSync(abs);
  let closed = false;
  let watcher: ReturnType<DenoFs['watchFs']> | undefined;
  let ended!: () => void;
  const loopEnded = new Promise<void>((resolve) => (ended = resolve));
  const pump = async (w: NonNullable<typeof watcher>) => {
    try {
      for await (const event of w) {
        // "access" is a read (or a close after one): nothing changed, and the daemon's own
        // reads of changed files would otherwise come back as events.
        if (closed || event.kind === 'access') continue;
        if (event.paths.length === 0) onEvent(null);
        for (const path of event.paths) {
          const dir = dirname(path);
          if (dir === abs || dir === real) onEvent(basename(path));
        }
      }
    } catch (err) {
      if (!closed) onError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      ended();
    }
  };
  const start = () => {
    watcher = deno.watchFs(abs, { recursive: false });
    void pump(watcher);
  };
  const previous = closing.get(real);
  if (!previous) start();
  else {
    void previous.then(() => {
      if (closed) return ended();
      try {
        start();
        onEvent(null);
      } catch (err) {
        ended();
        onError(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
  return {
    close() {
      if (closed) return;
      closed = true;
      closing.set(real, loopEnded);
      void loopEnded.then(() => {
        if (closing.get(real) === loopEnded) closing.delete(real);
      });
      if (!watcher) return ended();
      try {
        watcher.close();
      } catch {
        ended(); // already closed by Deno (the directory went away)
      }
    },
  };
}
