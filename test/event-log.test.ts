// The daemon's log of recent events, which subscribers resume from: what it gives back after an
// id, and when it must say the events are gone instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonEvent } from '../client/protocol.ts';
import { EventLog } from '../daemon/server/event-log.ts';

const update = (generation: number): DaemonEvent => ({ type: 'update', generation, files: [], added: [], removed: [], changed: [] });
const plugin = (name: string): DaemonEvent => ({ type: 'plugin', plugin: name, from: 'active', to: 'unloaded' });
const ALL = new Set<DaemonEvent['type']>(['update', 'indexing', 'plugin']);

test('ids count up within an epoch; after an id come the later events of the types wanted, oldest first', () => {
  const log = new EventLog(8);
  assert.equal(log.lastId, '');
  const ids = [log.append(update(1)), log.append(plugin('fan')), log.append(update(2))];
  assert.deepEqual(ids, [1, 2, 3].map((n) => `${log.epoch}-${n}`));
  assert.equal(log.lastId, ids[2]);
  assert.deepEqual(log.after(ids[0]!, ALL), { missed: [{ id: ids[1], event: plugin('fan') }, { id: ids[2], event: update(2) }] });
  assert.deepEqual(log.after(ids[0]!, new Set(['update'])), { missed: [{ id: ids[2], event: update(2) }] });
  assert.deepEqual(log.after(ids[2]!, ALL), { missed: [] });
  assert.deepEqual(log.after('', new Set(['plugin'])), { missed: [{ id: ids[1], event: plugin('fan') }] });
  assert.notEqual(new EventLog().epoch, log.epoch, 'each daemon run has its own epoch');
});

test('the ring keeps the last `capacity` events: further back is a gap, not a silent loss', () => {
  const log = new EventLog(4);
  const ids = Array.from({ length: 10 }, (_, i) => log.append(update(i + 1)));
  // exactly `capacity` behind: all four are there
  assert.deepEqual(log.after(ids[5]!, ALL), { missed: ids.slice(6).map((id, i) => ({ id, event: update(i + 7) })) });
  const old = log.after(ids[4]!, ALL);
  assert.ok('gap' in old && /more than 4 events happened since/.test(old.gap), JSON.stringify(old));
  const fromStart = log.after('', ALL);
  assert.ok('gap' in fromStart && /since the start/.test(fromStart.gap));
});

test('an id of another daemon, from the future or not an id at all is a gap that says which', () => {
  const log = new EventLog(4);
  log.append(update(1));
  const cases: [string, RegExp][] = [
    ['0badc0de-1', /the daemon restarted since that event/],
    [`${log.epoch}-9`, /was never sent by this daemon \(its last is .*-1\)/],
    ['seven', /"seven" is not an event id/],
    [`${log.epoch}-x`, /is not an event id/],
  ];
  for (const [since, reason] of cases) {
    const r = log.after(since, ALL);
    assert.ok('gap' in r && reason.test(r.gap), `${since}: ${JSON.stringify(r)}`);
  }
});
