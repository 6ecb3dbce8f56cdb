// The last events the daemon published, so that a subscriber that lost its connection can pick
// up where it stopped instead of silently missing what happened meanwhile (a client that
// reconnects, an EventSource that sends Last-Event-ID). Every event gets an id
// `<epoch>-<seq>`: the epoch is random per daemon run, so an id from an earlier daemon is
// recognised as such; seq counts up from 1.
import { randomBytes } from 'node:crypto';
import type { DaemonEvent, LoggedEvent } from '../../client/protocol.ts';

/** Events kept; a subscriber further behind is told to resync. */
export const EVENT_LOG_CAPACITY = 1024;

/** What a resuming subscriber gets: the events it missed, or why they cannot be given. */
export type Resume = { missed: LoggedEvent[] } | { gap: string };

export class EventLog {
  readonly epoch = randomBytes(4).toString('hex');
  readonly capacity: number;
  private readonly ring: (LoggedEvent | undefined)[];
  private seq = 0;

  constructor(capacity = EVENT_LOG_CAPACITY) {
    this.capacity = capacity;
    this.ring = new Array(capacity);
  }

  /** Keep an event; returns its id. */
  append(event: DaemonEvent): string {
    const id = `${this.epoch}-${++this.seq}`;
    this.ring[this.seq % this.capacity] = { id, event };
    return id;
  }

  /** The id of the latest event ('' before any). */
  get lastId(): string {
    return this.seq ? `${this.epoch}-${this.seq}` : '';
  }

  /** The events after `since` (an id this log gave, or '' for "before the first"), of the types wanted. */
  after(since: string, wanted: ReadonlySet<DaemonEvent['type']>): Resume {
    let from = 0;
    if (since !== '') {
      const dash = since.lastIndexOf('-');
      const seq = Number(since.slice(dash + 1));
      if (dash < 0 || !Number.isSafeInteger(seq) || seq < 0) return { gap: `"${since}" is not an event id (<epoch>-<n>)` };
      if (since.slice(0, dash) !== this.epoch) return { gap: 'the daemon restarted since that event: its events are gone' };
      if (seq > this.seq) return { gap: `event ${since} was never sent by this daemon (its last is ${this.lastId || 'none'})` };
      from = seq;
    }
    if (this.seq - from > this.capacity) return { gap: `more than ${this.capacity} events happened since ${since || 'the start'}: they are no longer kept` };
    const missed: LoggedEvent[] = [];
    for (let s = from + 1; s <= this.seq; s++) {
      const logged = this.ring[s % this.capacity]!;
      if (wanted.has(logged.event.type)) missed.push(logged);
    }
    return { missed };
  }
}
