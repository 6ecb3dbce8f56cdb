// Plugins' update events (daemon/plugins/update-feed.ts): delivered after the updates stop,
// merged so each file and entity is named once, with what it became since the last delivery.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UpdateEvent } from '../client/protocol.ts';
import { UpdateFeed } from '../daemon/plugins/update-feed.ts';

const update = (generation: number, files: string[], added: string[] = [], removed: string[] = [], changed: string[] = []): UpdateEvent => ({ type: 'update', generation, files, added, removed, changed });

function feed(quietMs = 5, maxDelayMs = 1000): { feed: UpdateFeed; seen: UpdateEvent[]; errors: unknown[] } {
  const seen: UpdateEvent[] = [];
  const errors: unknown[] = [];
  return { feed: new UpdateFeed(async (u) => void seen.push(u), quietMs, maxDelayMs, (e) => errors.push(e)), seen, errors };
}

const sorted = (u: UpdateEvent) => ({ ...u, files: [...u.files].sort(), added: [...u.added].sort(), removed: [...u.removed].sort(), changed: [...u.changed].sort() });

test('updates in a burst arrive as one event at the latest generation, each entity once with its net change', async () => {
  const { feed: f, seen } = feed();
  f.push(update(2, ['a.ts'], ['a.ts#New', 'a.ts#Gone'], ['a.ts#Old'], ['a.ts#Kept']));
  f.push(update(3, ['b.ts', 'a.ts'], ['a.ts#Old'], ['a.ts#Gone', 'b.ts#Deleted'], ['a.ts#New', 'b.ts#Edited']));
  f.push(update(4, ['a.ts'], [], ['a.ts#Kept'], []));
  assert.equal(seen.length, 0, 'nothing is delivered while the burst goes on');
  await f.idle();
  assert.deepEqual(seen.map(sorted), [
    {
      type: 'update',
      generation: 4,
      files: ['a.ts', 'b.ts'],
      added: ['a.ts#New'], // added, then changed: still new to the plugin
      removed: ['a.ts#Kept', 'b.ts#Deleted'], // a.ts#Gone came and went unseen
      changed: ['a.ts#Old', 'b.ts#Edited'], // a.ts#Old removed and re-added: it changed
    },
  ]);
  f.close();
});

test('updates apart by more than the quiet window are delivered one by one, none lost', async () => {
  const { feed: f, seen } = feed(2);
  for (let g = 2; g <= 4; g++) {
    f.push(update(g, [`f${g}.ts`], [`f${g}.ts#X`]));
    await f.idle();
  }
  assert.deepEqual(seen.map((u) => [u.generation, u.files, u.added]), [[2, ['f2.ts'], ['f2.ts#X']], [3, ['f3.ts'], ['f3.ts#X']], [4, ['f4.ts'], ['f4.ts#X']]]);
  f.close();
});

test('a stream that never stops is still delivered at the max delay', async () => {
  const { feed: f, seen } = feed(20, 40);
  const t0 = performance.now();
  let g = 2;
  while (!seen.length && performance.now() - t0 < 2000) {
    f.push(update(g++, ['a.ts']));
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(seen.length, 1, 'delivered while the pushes go on');
  assert.ok(seen[0]!.generation < g);
  f.close();
});

test('a delivery that fails is reported, and later updates are still delivered', async () => {
  const errors: unknown[] = [];
  const seen: number[] = [];
  const f = new UpdateFeed(
    async (u) => {
      if (u.generation === 2) throw new Error('hook blew up');
      seen.push(u.generation);
    },
    1,
    100,
    (e) => errors.push(e),
  );
  f.push(update(2, ['a.ts']));
  await f.idle();
  f.push(update(3, ['a.ts']));
  await f.idle();
  assert.deepEqual(seen, [3]);
  assert.equal((errors[0] as Error).message, 'hook blew up');
  f.close();
});

test('a delivery is held while a change is on its way, then delivers everything pushed meanwhile as one event', async () => {
  let busy = true;
  const seen: UpdateEvent[] = [];
  const f = new UpdateFeed(async (u) => void seen.push(u), 2, 1000, () => undefined, { while: () => busy, maxMs: 60_000 });
  f.push(update(2, ['a.ts'], ['a.ts#A']));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(seen.length, 0, 'held past its quiet window while a change is on its way');
  f.push(update(3, ['b.ts'], [], [], ['b.ts#B']));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(seen.length, 0);
  busy = false;
  await f.idle();
  assert.deepEqual(seen.map(sorted), [{ type: 'update', generation: 3, files: ['a.ts', 'b.ts'], added: ['a.ts#A'], removed: [], changed: ['b.ts#B'] }]);
  f.push(update(4, ['c.ts']));
  await f.idle();
  assert.deepEqual(seen.map((u) => u.generation), [3, 4], 'and the next update is delivered as usual');
  f.close();
});

test('the hold is bounded: a change that is always on its way does not keep updates from the plugins', async () => {
  const seen: UpdateEvent[] = [];
  const f = new UpdateFeed(async (u) => void seen.push(u), 2, 1000, () => undefined, { while: () => true, maxMs: 20 });
  f.push(update(2, ['a.ts']));
  await f.idle();
  assert.deepEqual(seen.map((u) => [u.generation, u.files]), [[2, ['a.ts']]]);
  f.close();
});
