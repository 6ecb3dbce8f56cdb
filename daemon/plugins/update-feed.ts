// Plugins' onUpdate hooks run off the query path. A client that hears of a new generation asks
// about it within a fraction of a millisecond; a hook that ran at once (a worker plugin's
// snapshot of the new generation is built on the daemon's thread) would make that first query
// wait. So updates are delivered once they have stopped for `quietMs` (or `maxDelayMs` after
// the first of a stream that never stops), and updates that arrive meanwhile are merged into
// one event: the latest generation, every file touched, and each entity counted once.
import type { UpdateEvent } from '../../client/protocol.ts';
import { Coalescer } from '../util/coalescer.ts';

/** What an entity became across the merged updates, seen from the plugin's last event. */
type Change = 'added' | 'removed' | 'changed';

export class UpdateFeed {
  private readonly coalescer: Coalescer;
  private generation = -1;
  private files = new Set<string>();
  private entities = new Map<string, Change>();

  constructor(deliver: (update: UpdateEvent) => Promise<void>, quietMs: number, maxDelayMs: number, onError: (err: unknown) => void) {
    this.coalescer = new Coalescer(() => deliver(this.take()), quietMs, maxDelayMs, onError);
  }

  push(update: UpdateEvent): void {
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
    this.coalescer.close();
  }

  private take(): UpdateEvent {
    const event: UpdateEvent = { type: 'update', generation: this.generation, files: [...this.files], added: [], removed: [], changed: [] };
    for (const [key, change] of this.entities) event[change].push(key);
    this.files = new Set();
    this.entities = new Map();
    return event;
  }
}
