// Gives the memory glibc's malloc holds free back to the OS once the daemon's work has gone quiet.
// Freed memory stays resident when something allocated after it sits above it in its arena:
// V8's TurboFan tier-up of QuickJS's interpreter loop (a JS plugin's) uses ~17.5 MB of zones
// on a V8 platform thread and frees them, and in most processes ~14 MB of that stays in the RSS
// for good (BENCHMARKS.md, section 11). glibc's `malloc_trim(0)` returns the free pages of every
// arena; JavaScript cannot call it, so isg's own addon (native/malloc-trim, built by `npm run
// build:native` on Linux with glibc) does. Without the addon (no cargo, musl, macOS, Windows,
// Deno without --allow-ffi) nothing is trimmed and nothing else changes.
//
// When: the work that frees such memory notes itself (`noteWork`, one increment): the WASM
// tier's loads, calls and hooks, the graph's index and each batch of changes (tree-sitter's
// trees are malloc'd). The tier-up runs on a background thread after the calls that made the code
// hot, so the trim waits until no work was noted for TRIM_IDLE_MS. The addon trims on a thread
// of its own (~12 ms alone on effect's heap, longer when contended): the daemon's thread goes on,
// and waits for the trim's end only if it allocates from an arena being walked. Trims take at
// most TRIM_TIME_SHARE of the time: after one that took t ms the next waits t / share. A daemon
// that stays idle does not trim again.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canDlopen, dlopenAddon } from './dlopen.ts';
import { packageRoot } from './package-root.ts';

/** Quiet time after the last noted work before trimming: a tier-up takes ~75–300 ms to compile. */
export const TRIM_IDLE_MS = 1000;
/** The timer checks for quiet this many times per TRIM_IDLE_MS: a trim comes 1–1.25 × TRIM_IDLE_MS after the last work. */
const TICKS = 4;
/** How often a running trim is checked for its end. */
const COLLECT_MS = 5;
/** The share of wall time trims may take. */
export const TRIM_TIME_SHARE = 0.01;

/** The addon's exports (native/malloc-trim/src/lib.rs). */
export interface MallocTrim {
  /** Starts a trim on the addon's thread: false while one is running. */
  start(): boolean;
  /** The last finished trim, or null (none yet, or one running). */
  result(): { released: boolean; ms: number } | null;
}

export interface TrimStats {
  /** Trims done, and those after which glibc said it gave memory back. */
  trims: number;
  released: number;
  /** How long the last trim, and all of them, took (on the addon's thread). */
  lastMs: number;
  totalMs: number;
}

/** The addon, or undefined where it is not built or cannot be loaded. */
export function loadMallocTrim(root: string = packageRoot()): MallocTrim | undefined {
  if (process.platform !== 'linux') return undefined;
  const file = join(root, 'native', 'malloc-trim', `malloc-trim.linux-${process.arch}-gnu.node`);
  if (!canDlopen() || !existsSync(file)) return undefined;
  try {
    const exports = dlopenAddon(file);
    return typeof exports.start === 'function' && typeof exports.result === 'function' ? (exports as unknown as MallocTrim) : undefined;
  } catch {
    // a musl system with a copied glibc build, Deno without --allow-ffi: no trimming
    return undefined;
  }
}

export class IdleTrimmer {
  readonly stats: TrimStats = { trims: 0, released: 0, lastMs: 0, totalMs: 0 };
  private addon: MallocTrim | undefined | null = null;
  private readonly load: () => MallocTrim | undefined;
  private readonly idleMs: number;
  /** Work noted since the last trim, its value at the last tick, and the ticks since it changed. */
  private work = 0;
  private seen = 0;
  private quietTicks = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** No trim before this (performance.now()). */
  private notBefore = 0;

  constructor(options: { load?: () => MallocTrim | undefined; idleMs?: number } = {}) {
    this.load = options.load ?? (() => loadMallocTrim());
    this.idleMs = options.idleMs ?? TRIM_IDLE_MS;
  }

  /** Whether this process can trim (loads the addon on first use). */
  get available(): boolean {
    if (this.addon === null) this.addon = this.load();
    return this.addon !== undefined;
  }

  /** Work that may have freed malloc'd memory happened: trim once it has been quiet for a while. */
  noteWork(): void {
    this.work++;
    if (this.timer === undefined && this.available) this.tick();
  }

  private tick(): void {
    this.seen = this.work;
    this.quietTicks = 0;
    this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.check(), this.idleMs / TICKS);
    // a pending trim never keeps a process alive
    (this.timer as { unref?: () => void }).unref?.();
  }

  private check(): void {
    this.timer = undefined;
    if (this.work !== this.seen) return this.tick();
    if (++this.quietTicks < TICKS || performance.now() < this.notBefore) return this.arm();
    if (!this.addon!.start()) return this.arm();
    this.work = 0;
    this.collect();
  }

  /** Counts the trim once the addon's thread is done with it. */
  private collect(): void {
    const result = this.addon!.result();
    if (!result) {
      this.timer = setTimeout(() => this.collect(), COLLECT_MS);
      (this.timer as { unref?: () => void }).unref?.();
      return;
    }
    this.timer = undefined;
    this.notBefore = performance.now() + result.ms / TRIM_TIME_SHARE;
    this.stats.trims++;
    if (result.released) this.stats.released++;
    this.stats.lastMs = result.ms;
    this.stats.totalMs += result.ms;
    // work noted meanwhile waits for its own quiet
    if (this.work > 0) this.tick();
  }
}

/** The process's trimmer: the WASM tier and the graph note their work here. */
export const idleTrimmer = new IdleTrimmer();
