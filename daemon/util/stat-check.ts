// Whether a file can be taken as unchanged from its stat alone, without reading it: the rule
// shared by the watcher's rescans and the snapshot's warm start.
import type { FileStat } from '../host.ts';

/**
 * Two writes within one timestamp tick leave the same mtime, so a stat taken less than a tick
 * after the mtime cannot reveal a later same-size write ("racy" files, as git calls them).
 * File systems with whole-second mtimes (HFS+, ext3; FAT: 2 s) need seconds of margin; with
 * sub-second mtimes the tick is the kernel's coarse clock (a few ms), so 100 ms is ample.
 */
export function racyMarginMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? 2000 : 100;
}

/** Same size and mtime as `seen`, and that mtime was old enough when seen to reveal any later write. */
export function statUnchanged(seen: FileStat | undefined, now: { size: number; mtimeMs: number }): boolean {
  return !!seen && seen.size === now.size && seen.mtimeMs === now.mtimeMs && seen.mtimeMs <= seen.seenAtMs - racyMarginMs(seen.mtimeMs);
}
