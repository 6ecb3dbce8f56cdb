// A file written on disk may be seen twice by the watcher: created empty, then written (the read
// can fall between the two). Tests that write a file wait for the update that adds what they
// wrote, not for the first one.
import type { DaemonEvent, UpdateEvent } from '../../client/protocol.ts';

/** The first update event from `events` that adds `id`; fails after `max` updates without it. */
export async function updateAdding(events: AsyncIterator<DaemonEvent | { type: string }>, id: string, max = 5): Promise<UpdateEvent> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    const { value, done } = await events.next();
    if (done) break;
    seen.push(JSON.stringify(value));
    if (value.type === 'update' && (value as UpdateEvent).added.includes(id)) return value as UpdateEvent;
  }
  throw new Error(`no update added ${id}; got ${seen.join(', ')}`);
}
