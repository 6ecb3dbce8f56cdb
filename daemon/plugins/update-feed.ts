// Plugins' onUpdate hooks run off the query path. A client that hears of a new generation asks
// about it within a fraction of a millisecond; a hook that ran at once (a worker plugin's
// snapshot of the new generation is built on the daemon's thread) would make that first query
// wait. So updates are delivered once they have stopped for `quietMs` (or `maxDelayMs` after
// the first of a stream that never stops), and updates that arrive meanwhile are merged into
// one event: the latest generation, every file touched, and each entity counted once. A
// delivery is held further, for at most `hold.maxMs`, while `hold.while()` says a change is on
// its way (the watcher has events, a batch waits to be applied): the hooks would compete with
// applying it, and the edit after is the one a client waits for.
import type { UpdateEvent } from '../../client/protocol.ts';
import { Coalescer } from '../util/coalescer.ts';

export interface UpdateHold {
  /** A change is on its way: deliveries wait... */
  while: () => boolean;
  /** ...for at most this long, ms. */
  maxMs: number;
}

/** How often a held delivery looks again, ms. */
const HOLD_POLL_MS = 1;

/** What an entity became across the merged updates, seen from the plugin's last event. */
type Change = 'added' | 'removed' | 'changed';

export class UpdateFeed {
  private readonly coalescer: Coalescer;
  private generation = -1;
  private files = new Set<string>();
  private entities = new Map<string, Change>();
  private readonly hold: UpdateHold | undefined;
  /** Something was pushed since the last delivery. */
  private pending = false;
  private closed = false;

  constructor(deliver: (update: UpdateEvent) => Promise<void>, quietMs: number, maxDelayMs: number, onError: (err: unknown) => void, hold?: UpdateHold) {
    this.hold = hold;
    this.coalescer = new Coalescer(
      async () => {
        await this.heldOff();
        // Updates pushed while this one was held joined it: their own flush finds nothing left.
        if (!this.closed && this.pending) await deliver(this.take());
      },
      quietMs,
      maxDelayMs,
      onError,
    );
  }

  push(update: UpdateEvent): void {
    this.pending = true;
    this.generation = update.generation;
    for (const f of update.files) this.files.add(f);
    // Removed first: an update that removes and re-adds a key (a rename back) reports both.
    for (const key of update.removed) {
      if (this.entities.get(key) === 'added') this.entities.delete(key); // came and went unseen
      else this.entities.set(key, 'removed');
    }
    for (const key of update.added) this.entities.set(key, this.entities.get(key) === 'removed' ? 'changed' : 'added');
    for (const key of update.changed) if (this.entities.get(key) !== 'added') this.entities.set(key, 'changed');
    this.coalescer.poke();
  }

  /** Resolves once every pushed update has been delivered. */
  idle(): Promise<void> {
    return this.coalescer.idle();
  }

  close(): void {
    this.closed = true;
    this.coalescer.close();
  }

  /** Waits while a change is on its way, at most `hold.maxMs`; updates pushed meanwhile join this delivery. */
  private async heldOff(): Promise<void> {
    const hold = this.hold;
    if (!hold) return;
    const until = performance.now() + hold.maxMs;
    while (!this.closed && hold.while() && performance.now() < until) await new Promise((r) => setTimeout(r, HOLD_POLL_MS));
  }

  private take(): UpdateEvent {
    const event: UpdateEvent = { type: 'update', generation: this.generation, files: [...this.files], added: [], removed: [], changed: [] };
    for (const [key, change] of this.entities) event[change].push(key);
    this.files = new Set();
    this.entities = new Map();
    this.pending = false;
    return event;
  }
}
