// Turns a stream of pokes (file system events) into flushes: one flush once the pokes have
// stopped for `quietMs`, or `maxDelayMs` after the first poke of a burst if they never stop, and
// never two flushes at once (a poke during a flush schedules another after it).

export class Coalescer {
  private readonly flush: () => Promise<void> | void;
  private readonly onError: (err: unknown) => void;
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private quietTimer: ReturnType<typeof setTimeout> | undefined;
  private maxTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  /** A poke arrived while flushing. */
  private again = false;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(flush: () => Promise<void> | void, quietMs: number, maxDelayMs: number, onError: (err: unknown) => void) {
    this.flush = flush;
    this.onError = onError;
    this.quietMs = quietMs;
    this.maxDelayMs = Math.max(quietMs, maxDelayMs);
  }

  poke(): void {
    if (this.closed) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => void this.run(), this.quietMs);
    this.maxTimer ??= setTimeout(() => void this.run(), this.maxDelayMs);
  }

  /** A flush is scheduled (pokes are waiting out their window) or running. */
  get busy(): boolean {
    return !this.isIdle();
  }

  /** Resolves once nothing is scheduled or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.clearTimers();
    this.release();
  }

  private async run(): Promise<void> {
    this.clearTimers();
    if (this.closed || this.flushing) return;
    this.flushing = true;
    try {
      await this.flush();
    } catch (err) {
      // Timers call run(): a rejection here would be unhandled and end the process.
      this.onError(err);
    } finally {
      this.flushing = false;
    }
    if (this.again) {
      this.again = false;
      this.poke();
    }
    if (this.isIdle()) this.release();
  }

  private isIdle(): boolean {
    return this.closed || (!this.flushing && !this.quietTimer && !this.maxTimer);
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private clearTimers(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
  }
}
