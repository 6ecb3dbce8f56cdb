// The daemon over its socket (daemon/server/), with the real client (client/) and raw sockets
// for what a well-behaved client never sends. The corpus is a copy of rxjs's sources.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, IsgClient, IsgClientError } from '../client/client.ts';
import { decodeBody, encodeFrame, FrameDecoder } from '../client/framing.ts';
import type { DaemonEvent, LookupResult, PluginEvent, PluginsResult, RelationResult, StatusResult } from '../client/protocol.ts';
import { openSnapshot } from '../daemon/persist/snapshot-file.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { eventually } from './support/eventually.ts';
import { diffWithFresh } from './support/graph-diff.ts';
import { smallCorpus, writeText } from './support/small-corpus.ts';
import { tempDir } from './support/temp-dirs.ts';
import { updateAdding } from './support/update-adding.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');

function corpus(config?: object): string {
  const root = tempDir('isg-daemon-');
  cpSync(RXJS, join(root, 'src'), { recursive: true });
  if (config) writeFileSync(join(root, 'isg.config.json'), JSON.stringify(config));
  return root;
}

/** A raw connection that records every frame the daemon sends and whether it closed. */
function raw(path: string): Promise<{ socket: Socket; frames: unknown[]; closed: Promise<void>; next(): Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(path);
    const frames: unknown[] = [];
    const waiters: ((v: unknown) => void)[] = [];
    const decoder = new FrameDecoder(1 << 30);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind !== 'body') continue;
        const v = decodeBody(ev.body);
        const w = waiters.shift();
        if (w) w(v);
        else frames.push(v);
      }
    });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('connect', () => resolve({ socket, frames, closed, next: () => (frames.length ? Promise.resolve(frames.shift()) : new Promise((r) => waiters.push(r))) }));
    socket.once('error', reject);
  });
}

describe('a daemon on rxjs', () => {
  let root: string;
  let daemon: Daemon;
  let client: IsgClient;
  let indexingAnswer: unknown;

  before(async () => {
    root = corpus({
      maxQueuedBytes: 64 * 1024,
      log: { level: 'silent' },
      plugins: { 'arch-rules': { settings: { rules: [{ name: 'operators stay off schedulers', from: 'src/internal/operators/', mustNotImport: 'src/internal/scheduler/' }] } } },
    });
    daemon = await Daemon.start({ root });
    client = await connect({ socket: daemon.endpoints.socket! });
    // asked while the first index runs: a clear "indexing" answer, never a hang
    indexingAnswer = await client.lookup({ name: 'Subject' }).catch((e: unknown) => e);
    await daemon.ready();
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  test('a query during the first index is answered with an indexing error and progress', () => {
    assert.ok(indexingAnswer instanceof IsgClientError, `expected an error, got ${JSON.stringify(indexingAnswer)?.slice(0, 200)}`);
    assert.equal(indexingAnswer.code, 'indexing');
    assert.match(indexingAnswer.message, /the first index of .* is running \(\d+\/\d+ files/);
  });

  test('the socket is 0600 in a 0700 directory; hello lists the ops and limits', () => {
    assert.equal(statSync(daemon.endpoints.socket!).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, '.isg')).mode & 0o777, 0o700);
    const hello = client.server!;
    assert.equal(hello.protocol, 1);
    for (const op of ['hello', 'status', 'batch', 'subscribe', 'lookup', 'callers', 'blast-radius', 'cycles', 'plugins', 'shutdown']) assert.ok(hello.ops.includes(op), op);
    assert.equal(hello.limits.maxQueuedBytes, 64 * 1024);
  });

  test('core queries answer with the generation they were computed at', async () => {
    const answer = await client.requestWithGen('implements', { entity: 'SubscriptionLike' });
    const r = answer.result as RelationResult;
    assert.equal(answer.gen, daemon.generation());
    assert.ok(r.results.some((x) => x.id === 'src/internal/Subscription.ts#Subscription'));
    const status = (await client.status()) as StatusResult;
    assert.equal(status.state, 'ready');
    assert.equal(status.files, 252);
  });

  test('pipelined requests are all answered, each matched to its id', async () => {
    const names = ['Subject', 'Observable', 'map', 'filter', 'mergeMap', 'Subscription', 'NoSuchName'];
    const answers = await Promise.allSettled(names.map((name) => client.lookup({ name, mode: 'exact', limit: 1 })));
    answers.forEach((a, i) => {
      if (names[i] === 'NoSuchName') return assert.equal(a.status, 'fulfilled');
      assert.equal(a.status, 'fulfilled');
      const m = (a as PromiseFulfilledResult<LookupResult>).value.matches[0]!;
      assert.equal(m.name.split('.').pop(), names[i]);
    });
  });

  test('unknown ops and bad arguments are errors naming the problem; the connection stays open', async () => {
    await assert.rejects(client.request('calers', { entity: 'x' }), (e: IsgClientError) => e.code === 'unknown-op' && /unknown op "calers".*callers/.test(e.message));
    await assert.rejects(client.request('callers', { entity: 42 }), (e: IsgClientError) => e.code === 'bad-args' && /"entity" must be a string/.test(e.message));
    await assert.rejects(client.callers({ entity: 'Subjectt' }), (e: IsgClientError) => e.code === 'not-found' && /did you mean .*Subject/.test(e.message));
    assert.ok(((await client.lookup({ name: 'Subject', mode: 'exact' })) as LookupResult).total >= 1);
  });

  test('a batch answers each request on its own, all at one generation', async () => {
    const r = await client.batch([{ op: 'lookup', args: { name: 'Subject', mode: 'exact', kind: 'class' } }, { op: 'callers', args: { entity: 'nope-nope' } }, { op: 'shutdown' }]);
    assert.equal(r.length, 3);
    assert.ok(r[0]!.ok);
    assert.ok(!r[1]!.ok && r[1]!.error.code === 'not-found');
    assert.ok(!r[2]!.ok && /cannot be batched/.test(r[2]!.error.message));
  });

  test('a body that is not msgpack gets bad-frame and closes that connection alone', async () => {
    const c = await raw(daemon.endpoints.socket!);
    const garbage = Buffer.from([0xc1, 0xc1, 0xc1]); // 0xc1 is never used in msgpack
    const frame = Buffer.alloc(4 + garbage.length);
    frame.writeUInt32BE(garbage.length, 0);
    garbage.copy(frame, 4);
    c.socket.write(frame);
    const reply = (await c.next()) as { id: number; ok: boolean; error: { code: string; message: string } };
    assert.equal(reply.ok, false);
    assert.equal(reply.error.code, 'bad-frame');
    await c.closed;
    assert.ok(((await client.lookup({ name: 'Subject', mode: 'exact' })) as LookupResult).total >= 1, 'other clients are unaffected');
  });

  test('a frame announcing more than the limit gets frame-too-large and is closed', async () => {
    const c = await raw(daemon.endpoints.socket!);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(daemon.config.maxFrameBytes + 1, 0);
    c.socket.write(head);
    const reply = (await c.next()) as { error: { code: string; message: string } };
    assert.equal(reply.error.code, 'frame-too-large');
    assert.match(reply.error.message, /larger than the limit of 16777216 bytes/);
    await c.closed;
  });

  test('valid msgpack that is not a request gets bad-args and the connection stays open', async () => {
    const c = await raw(daemon.endpoints.socket!);
    c.socket.write(encodeFrame(42));
    c.socket.write(encodeFrame({ id: 'seven', op: 'status' }));
    c.socket.write(encodeFrame({ id: 3, op: 'status' }));
    const a = (await c.next()) as { error: { code: string; message: string } };
    const b = (await c.next()) as { id: number; error: { code: string; message: string } };
    const ok = (await c.next()) as { id: number; ok: boolean };
    assert.equal(a.error.code, 'bad-args');
    assert.match(a.error.message, /a request is a map \{id: integer, op: string/);
    assert.match(b.error.message, /id of type string/);
    assert.deepEqual([ok.id, ok.ok], [3, true]);
    c.socket.destroy();
  });

  test('a client that stops reading is cut off; others are answered meanwhile', async () => {
    const c = await raw(daemon.endpoints.socket!);
    c.socket.pause(); // never read: responses pile up in the daemon
    for (let i = 0; i < 400; i++) c.socket.write(encodeFrame({ id: i + 1, op: 'outline', args: { file: 'src/internal/Observable.ts' } }));
    const t0 = performance.now();
    const r = (await client.lookup({ name: 'Subject', mode: 'exact' })) as LookupResult;
    assert.ok(r.total >= 1);
    assert.ok(performance.now() - t0 < 5000, 'answered while another client is stuck');
    await c.closed;
  });

  test('subscribers see an update event for a change, with the new generation', async () => {
    const events = client.subscribe({ events: ['update'] });
    const first = events.next();
    await new Promise((r) => setTimeout(r, 20)); // let the subscribe request reach the daemon
    const gen = daemon.generation();
    daemon.applyChanges([{ path: 'src/extra.ts', text: 'export function extra(): number { return 1; }\n' }]);
    const ev = (await first).value as DaemonEvent;
    assert.equal(ev.type, 'update');
    assert.ok(ev.type === 'update' && ev.generation === gen + 1 && ev.added.includes('src/extra.ts#extra'));
    await events.return!();
    const found = await client.requestWithGen('lookup', { name: 'extra', mode: 'exact' });
    assert.equal(found.gen, gen + 1);
    assert.equal((found.result as LookupResult).matches[0]!.id, 'src/extra.ts#extra');
  });

  test('a file written on disk is seen by the watcher and queryable at the next generation', async () => {
    const events = client.subscribe({ events: ['update'] });
    const added = updateAdding(events, 'src/watched.ts#Watched');
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(root, 'src', 'watched.ts'), 'export class Watched { ping(): number { return 1; } }\n');
    const ev = await added;
    assert.ok(ev.files.includes('src/watched.ts'));
    const found = await client.requestWithGen('lookup', { name: 'Watched', mode: 'exact' });
    assert.ok(found.gen >= ev.generation);
    assert.equal((found.result as LookupResult).matches[0]!.id, 'src/watched.ts#Watched');
    assert.equal(((await client.status()) as StatusResult).watching, true);
    await events.return!();
  });

  test('a snapshot a change abandons is followed by one encoded at once, which further changes cannot abandon', async () => {
    // Edits one per turn of the event loop, as from a busy watcher: each lands between two
    // slices of a save in slices (rxjs takes several 4 ms slices to encode).
    let n = 0;
    let editing = true;
    const edit = () => void daemon.applyChanges([{ path: 'src/save-race.ts', text: `export const n = ${n++};\n` }]);
    const keepEditing = () => {
      if (!editing) return;
      edit();
      setImmediate(keepEditing);
    };
    const file = join(root, '.isg', 'snapshot.bin');
    await daemon.saveIfDirty(); // whatever earlier tests left unsaved
    const before = daemon.snapshot?.savedAt;
    const generationBefore = openSnapshot(readFileSync(file)).header.generation;
    try {
      edit();
      setImmediate(keepEditing);
      await daemon.saveIfDirty();
      assert.equal(daemon.snapshot?.savedAt, before, 'the save in slices was abandoned');
      assert.equal(openSnapshot(readFileSync(file)).header.generation, generationBefore, 'and wrote nothing');
      const generation = daemon.generation();
      await daemon.saveIfDirty();
      assert.notEqual(daemon.snapshot?.savedAt, before, 'the next save was written while the edits went on');
      assert.ok(openSnapshot(readFileSync(file)).header.generation >= generation, 'at a generation the edits had reached');
      assert.ok(daemon.generation() > generation, 'edits were applied during it');
    } finally {
      editing = false;
    }
    daemon.applyChanges([{ path: 'src/save-race.ts', text: null }]);
  });

  test('plugins hear of a burst of changes once, after it; arch-rules then sees the new imports', async () => {
    const updateCalls = async () => {
      const archRules = ((await client.request('plugins', {})) as PluginsResult).plugins.find((p) => p.name === 'arch-rules');
      assert.equal(archRules?.state, 'active');
      return archRules.opLatency.onUpdate?.calls ?? 0;
    };
    // Updates of the tests before (the watcher's) may still be on their way: wait for quiet.
    let before = await updateCalls();
    for (let quiet = 0; quiet < 150; quiet += 10) {
      await new Promise((r) => setTimeout(r, 10));
      const now = await updateCalls();
      if (now !== before) [before, quiet] = [now, 0];
    }
    assert.ok(before >= 1, 'the first index was delivered');
    const files = ['zz1', 'zz2', 'zz3'].map((n) => `src/internal/operators/${n}.ts`);
    for (const f of files) daemon.applyChanges([{ path: f, text: "import { asyncScheduler } from '../scheduler/async';\nexport const scheduler = asyncScheduler;\n" }]);
    const deadline = Date.now() + 10_000;
    while ((await updateCalls()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 150)); // longer than the feed's max delay: nothing else is coming
    assert.equal(await updateCalls(), before + 1, 'three updates in a burst, one onUpdate call');
    const found = await client.requestWithGen('arch-rules/violations', { file: 'src/internal/operators/zz' });
    const result = found.result as { generation: number; violations: { from: string; to: string }[] };
    assert.equal(result.generation, daemon.generation());
    assert.deepEqual(result.violations.map((v) => `${v.from} -> ${v.to}`).sort(), files.map((f) => `${f} -> src/internal/scheduler/async.ts`));
  });

  test('a checkout-sized burst is extracted on worker threads while queries go on, then equals a fresh index', async () => {
    // Earlier tests applied texts that were never written: drop them, so the graph is the disk's.
    daemon.applyChanges([...daemon.graph!.filePaths()].filter((p) => !existsSync(join(root, p))).map((path) => ({ path, text: null })));
    const dir = join(root, 'src', 'internal');
    const paths = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.ts')).sort();
    assert.ok(paths.length > 100);
    for (const [i, p] of paths.entries()) writeFileSync(join(dir, p), `${readFileSync(join(dir, p), 'utf8')}\nexport const checkout${i} = ${i};\n`);
    // While a batch is pending the event loop is free (an in-thread batch would block it, so no
    // answer could arrive while one is pending): status and queries are answered meanwhile.
    let answeredWhilePending = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = (await client.status()) as StatusResult;
      if (status.pendingChanges > 0) {
        const found = await client.requestWithGen('lookup', { name: 'Subject', mode: 'exact' });
        if (((await client.status()) as StatusResult).pendingChanges > 0 && (found.result as LookupResult).matches.length) answeredWhilePending++;
      } else if ((await client.lookup({ name: `checkout${paths.length - 1}`, mode: 'exact' })).matches.length) break;
      assert.ok(Date.now() < deadline, 'the burst was applied within 60 s');
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(answeredWhilePending > 0, 'queries were answered while the burst was extracted');
    for (let i = 0; i < paths.length; i += 37) assert.equal((await client.lookup({ name: `checkout${i}`, mode: 'exact' })).matches.length, 1);
    assert.equal(await diffWithFresh(daemon.graph!), undefined);
  });

  test('subscribers see plugin state transitions as plugins are unloaded, loaded and ejected', async () => {
    const events = client.subscribe({ events: ['plugin'] });
    const seen: PluginEvent[] = [];
    const collecting = (async () => {
      for await (const ev of events) {
        if (ev.type !== 'plugin') continue;
        seen.push(ev);
        if (ev.plugin === 'fixture-loop' && ev.to === 'ejected') break;
      }
    })();
    await new Promise((r) => setTimeout(r, 20)); // let the subscribe request reach the daemon
    await client.unloadPlugin('fan');
    await client.loadPlugin({ name: 'fan' });
    await client.loadPlugin({ path: join(packageRoot(), 'wasm-plugins', 'fixtures', 'loop') });
    await assert.rejects(client.request('fixture-loop/loop', {}), (e: IsgClientError) => e.code === 'budget-exceeded');
    await collecting;
    assert.deepEqual(
      seen.map((e) => `${e.plugin}: ${e.from} -> ${e.to}`),
      ['fan: active -> unloaded', 'fan: unloaded -> loading', 'fan: loading -> active', 'fixture-loop: discovered -> loading', 'fixture-loop: loading -> active', 'fixture-loop: active -> ejected'],
    );
    assert.match(seen.at(-1)!.reason!, /one call to loop was stopped at the hard ceiling of 50 ms|one call to loop took [\d.]+ ms, past the hard ceiling of 50 ms/);
  });

  test('a second daemon for the same root is refused, naming the first', async () => {
    await assert.rejects(Daemon.start({ root }), /a daemon already runs for .* \(pid \d+/);
  });
});

describe('lifecycle and security', () => {
  test('shutdown answers, then removes the socket and the lock', async () => {
    const root = corpus({ log: { level: 'silent' } });
    const daemon = await Daemon.start({ root });
    await daemon.ready();
    const client = await connect({ socket: daemon.endpoints.socket! });
    let stopped = false;
    daemon.onStopped = () => (stopped = true);
    assert.deepEqual(await client.shutdown(), { stopping: true });
    while (!stopped) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!existsSync(join(root, '.isg', 'daemon.sock')));
    assert.ok(!existsSync(join(root, '.isg', 'daemon.lock')));
    client.close();
  });

  test('a restart loads the snapshot saved at stop; a corrupt snapshot is reported and rebuilt', async () => {
    const root = corpus({ log: { level: 'silent' } });
    let daemon = await Daemon.start({ root });
    await daemon.ready();
    daemon.applyChanges([{ path: 'src/extra.ts', text: 'export function extra(): number { return 1; }\n' }]);
    await daemon.stop();
    assert.ok(existsSync(join(root, '.isg', 'snapshot.bin')), 'saved at stop');
    daemon = await Daemon.start({ root });
    await daemon.ready();
    const client = await connect({ socket: daemon.endpoints.socket! });
    const status = (await client.status()) as StatusResult;
    assert.equal(status.snapshot?.loadedFrom, true);
    assert.equal(((await client.lookup({ name: 'extra', mode: 'exact' })) as LookupResult).total, 0, 'the in-memory-only change is gone: extra.ts never existed on disk');
    client.close();
    await daemon.stop();
    writeFileSync(join(root, '.isg', 'snapshot.bin'), 'garbage');
    daemon = await Daemon.start({ root });
    await daemon.ready();
    assert.equal(daemon.snapshot?.loadedFrom, false);
    assert.equal(daemon.graph!.fileStats().files, 252);
    await daemon.stop();
  });

  test('a stale lock and socket from a crashed daemon are cleaned up', async () => {
    const root = corpus({ log: { level: 'silent' } });
    mkdirSync(join(root, '.isg'), { mode: 0o700 });
    writeFileSync(join(root, '.isg', 'daemon.lock'), JSON.stringify({ pid: 2 ** 22 + 7, socket: join(root, '.isg', 'daemon.sock'), startedAt: '' }));
    const daemon = await Daemon.start({ root });
    assert.ok(existsSync(daemon.endpoints.socket!));
    await daemon.stop();
  });

  test('a young lock whose process is alive is a daemon starting: waited for until its socket answers, then refused naming its pid', async () => {
    const root = smallCorpus('isg-daemon-starting-', { log: { level: 'silent' } });
    mkdirSync(join(root, '.isg'), { mode: 0o700 });
    const socket = join(root, '.isg', 'daemon.sock');
    // This process plays the other daemon: it took the lock a moment ago and does not listen yet.
    writeFileSync(join(root, '.isg', 'daemon.lock'), JSON.stringify({ pid: process.pid, socket, startedAt: new Date().toISOString(), runtime: 'node' }));
    const second = Daemon.start({ root });
    // Daemon.start has found the socket silent before this listens (socketAnswers checks for the file at once).
    const other = await listening(createServer((s) => s.end()), socket);
    try {
      await assert.rejects(second, new RegExp(`a daemon already runs for .* \\(pid ${process.pid}, socket ${socket}\\)`));
      assert.ok(existsSync(join(root, '.isg', 'daemon.lock')), 'the starting daemon keeps its lock');
    } finally {
      other.close();
    }
  });

  test('a young lock whose process is gone is stale all the same', async () => {
    const root = smallCorpus('isg-daemon-young-stale-', { log: { level: 'silent' } });
    mkdirSync(join(root, '.isg'), { mode: 0o700 });
    writeFileSync(join(root, '.isg', 'daemon.lock'), JSON.stringify({ pid: 2 ** 22 + 7, socket: join(root, '.isg', 'daemon.sock'), startedAt: new Date().toISOString() }));
    const daemon = await Daemon.start({ root });
    assert.ok(existsSync(daemon.endpoints.socket!));
    await daemon.stop();
  });

  test('periodic snapshots: with a short snapshot.intervalMs an edit is saved while the daemon runs', async () => {
    const root = smallCorpus('isg-daemon-periodic-', { snapshot: { intervalMs: 100 }, log: { level: 'silent' } });
    const daemon = await Daemon.start({ root });
    try {
      await daemon.ready();
      const file = join(root, '.isg', 'snapshot.bin');
      const first = await eventually('the first snapshot', () => (existsSync(file) ? openSnapshot(readFileSync(file)).header : undefined));
      writeText(root, 'src/extra.ts', 'export const extra = 1;\n');
      const saved = await eventually('a snapshot of the edit', () => {
        const header = openSnapshot(readFileSync(file)).header;
        return header.generation > first.generation ? header : undefined;
      });
      assert.equal(daemon.isStopping, false, 'saved while the daemon runs');
      assert.equal(saved.generation, daemon.generation());
      assert.equal(saved.files, first.files + 1);
    } finally {
      await daemon.stop();
    }
  });

  test('periodic snapshots wait for the changes to stop for 2 s: none is written in the middle of a burst of edits', async () => {
    const root = smallCorpus('isg-daemon-quiet-', { snapshot: { intervalMs: 100 }, log: { level: 'silent' } });
    const daemon = await Daemon.start({ root });
    try {
      await daemon.ready();
      const file = join(root, '.isg', 'snapshot.bin');
      const generationSaved = () => (existsSync(file) ? openSnapshot(readFileSync(file)).header.generation : undefined);
      const first = await eventually('the first snapshot', generationSaved);
      // Edits 150 ms apart for 1.5 s: each one applied, none of them saved while they go on.
      for (let i = 0; i < 10; i++) {
        const before = daemon.generation();
        writeText(root, 'src/extra.ts', `export const extra = ${i};\n`);
        await eventually(`edit ${i} applied`, () => (daemon.generation() > before ? true : undefined));
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(generationSaved(), first, `no snapshot during the burst (after edit ${i})`);
      }
      const last = daemon.generation();
      assert.equal(await eventually('the snapshot after the burst', () => (generationSaved() === last ? last : undefined)), last);
    } finally {
      await daemon.stop();
    }
  });

  test('past maxConnections a connection gets an overloaded error naming the limit and is closed; the others are served', async () => {
    const root = smallCorpus('isg-daemon-connections-', { maxConnections: 2, log: { level: 'silent' } });
    const daemon = await Daemon.start({ root });
    const socket = daemon.endpoints.socket!;
    const a = await connect({ socket });
    const b = await connect({ socket });
    try {
      const c = await raw(socket);
      assert.deepEqual(await Promise.race([c.next(), c.closed.then(() => 'closed without a frame')]), {
        id: 0,
        ok: false,
        error: { code: 'overloaded', message: 'the daemon serves at most 2 connections at once (maxConnections in isg.config.json); close one, or raise the limit' },
      });
      await c.closed;
      await assert.rejects(connect({ socket }), (e: IsgClientError) => e.code === 'overloaded' && /at most 2 connections/.test(e.message));
      assert.equal(((await a.status()) as StatusResult).connections, 2);
      b.close();
      await eventually('the closed connection to be gone', () => (daemon.connections.size === 1 ? true : undefined));
      const d = await connect({ socket });
      assert.equal(((await d.status()) as StatusResult).connections, 2);
      d.close();
    } finally {
      a.close();
      b.close();
      await daemon.stop();
    }
  });

  test('a group-writable state directory is refused with the fix', async () => {
    const root = corpus();
    mkdirSync(join(root, '.isg'));
    chmodSync(join(root, '.isg'), 0o775);
    await assert.rejects(Daemon.start({ root }), /\.isg is group- or world-writable \(mode 775\).*chmod 700/);
  });

  test('TCP needs the token in hello, compared in constant time; loopback only unless allowed', async () => {
    const root = corpus({ log: { level: 'silent' } });
    await assert.rejects(Daemon.start({ root, tcp: '0.0.0.0:0' }), /not a loopback address; pass --allow-remote/);
    const daemon = await Daemon.start({ root, tcp: '127.0.0.1:0' });
    try {
      const [host, port] = [daemon.endpoints.tcp!.split(':')[0]!, Number(daemon.endpoints.tcp!.split(':')[1])];
      const tokenFile = join(root, '.isg', 'token');
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      await assert.rejects(connect({ host, port, token: 'f'.repeat(64) }), (e: IsgClientError) => e.code === 'unauthorized');
      // skipping hello is refused and closed too
      const s = netConnect(port, host);
      await new Promise((r) => s.once('connect', r));
      const decoder = new FrameDecoder(1 << 20);
      const reply = new Promise<unknown>((r) => s.on('data', (chunk: Buffer) => r(decodeBody((decoder.push(chunk)[0] as { body: Buffer }).body))));
      s.write(encodeFrame({ id: 1, op: 'status' }));
      assert.equal(((await reply) as { error: { code: string } }).error.code, 'unauthorized');
      const client = await connect({ host, port, token: readFileSync(tokenFile, 'utf8').trim() });
      assert.equal(((await client.status()) as StatusResult).endpoints.tcp, daemon.endpoints.tcp);
      client.close();
      s.destroy();
    } finally {
      await daemon.stop();
    }
  });

  test('--allow-remote: TCP on every interface, and still the token', async () => {
    const root = smallCorpus('isg-daemon-remote-', { log: { level: 'silent' } });
    const daemon = await Daemon.start({ root, tcp: '0.0.0.0:0', allowRemote: true });
    try {
      assert.match(daemon.endpoints.tcp!, /^0\.0\.0\.0:\d+$/);
      const port = Number(daemon.endpoints.tcp!.split(':')[1]);
      // Through this machine's own non-loopback address when it has one.
      const host = Object.values(networkInterfaces()).flat().find((i) => i?.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';
      await assert.rejects(connect({ host, port, token: 'f'.repeat(64) }), (e: IsgClientError) => e.code === 'unauthorized');
      await assert.rejects(connect({ host, port, token: '' }), (e: IsgClientError) => e.code === 'unauthorized');
      const client = await connect({ host, port, token: readFileSync(join(root, '.isg', 'token'), 'utf8').trim() });
      assert.equal(((await client.status()) as StatusResult).endpoints.tcp, daemon.endpoints.tcp);
      client.close();
    } finally {
      await daemon.stop();
    }
  });
});

function listening(server: Server, path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}
