// The client library's promises: a daemon killed while requests are in flight (a real daemon
// in a child process, SIGKILLed), reconnection to its successor with the subscription renewed,
// and per-request timeouts, AbortSignals and subscription endings against a stand-in daemon.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, IsgClientError } from '../client/client.ts';
import { encodeFrame } from '../client/framing.ts';
import type { CyclesResult, DaemonEvent, ResyncEvent, StatusResult, UpdateEvent } from '../client/protocol.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { fakeDaemon, helloResult } from './support/fake-daemon.ts';
import { CLI, CLI_ARGS } from './support/run-cli.ts';
import { smallCorpus } from './support/small-corpus.ts';
import { tempDir } from './support/temp-dirs.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');

/** Resolves with `p`, or fails the test after `ms` instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const isClientError = (code: string, message?: RegExp) => (e: unknown) => e instanceof IsgClientError && e.code === code && (!message || message.test(e.message));

describe('a subscription across a lost connection', () => {
  test('it resumes where it stopped: the events published meanwhile come next, in order, once', async () => {
    const root = smallCorpus('isg-client-resume-');
    const daemon = await Daemon.start({ root, logLevel: 'silent' });
    const client = await connect({ socket: daemon.endpoints.socket! }, { reconnect: { initialMs: 10, maxMs: 50 } });
    try {
      await daemon.ready();
      const events = client.subscribe({ events: ['update'] });
      await client.status(); // the subscription is in place
      const edit = (name: string) => daemon.applyChanges([{ path: `src/${name}.ts`, text: `export function ${name}(): void {}\n` }]);
      const next = async (what: string) => (await within(events.next(), 10_000, what)).value as DaemonEvent | ResyncEvent;
      const gen = daemon.generation();
      edit('resumeOne');
      assert.equal(((await next('the first update')) as UpdateEvent).generation, gen + 1);
      // The daemon drops the connection; two changes are published while the client is away.
      for (const conn of daemon.connections) conn.close();
      edit('resumeTwo');
      edit('resumeThree');
      const got = [await next('the second update'), await next('the third update')] as UpdateEvent[];
      assert.deepEqual(got.map((e) => [e.type, e.generation]), [['update', gen + 2], ['update', gen + 3]]);
      assert.ok(got[1]!.added.includes('src/resumeThree.ts#resumeThree'));
      edit('resumeFour');
      assert.equal(((await next('the fourth update')) as UpdateEvent).generation, gen + 4, 'nothing twice');
      await events.return!();
    } finally {
      client.close();
      await daemon.stop();
    }
  });
});

describe('a daemon killed mid-request, then replaced', () => {
  test('requests in flight fail with disconnected; the client reconnects to the new daemon and renews its subscription', async () => {
    const root = tempDir('isg-client-kill-');
    cpSync(RXJS, join(root, 'src'), { recursive: true });
    writeFileSync(join(root, 'isg.config.json'), JSON.stringify({ log: { level: 'silent' } }));
    const child: ChildProcess = spawn(CLI, [...CLI_ARGS, 'serve', root], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let successor: Daemon | undefined;
    const socket = join(root, '.isg', 'daemon.sock');
    const client = await within(
      (async () => {
        await waitFor(async () => connect({ socket }).then((c) => (c.close(), true), () => false), 'the child daemon to listen');
        return connect({ socket }, { reconnect: { initialMs: 20, maxMs: 200 } });
      })(),
      60_000,
      'connecting',
    );
    try {
      await waitFor(async () => ((await client.status()) as StatusResult).state === 'ready', 'the first index');
      const events = client.subscribe({ events: ['update'] });
      const firstEvent = events.next();
      await client.status(); // answered after the subscribe request: the subscription is in place

      // Call cycles take a few ms each: hundreds pipelined keep the daemon busy while it is killed.
      let answered = 0;
      let killed = false;
      const inFlight = Array.from({ length: 400 }, () =>
        client.cycles({ kind: 'calls', inferred: true, selfLoops: true }).then((r: CyclesResult) => {
          answered++;
          if (!killed) {
            killed = true;
            child.kill('SIGKILL');
          }
          return r;
        }),
      );
      const settled = await within(Promise.allSettled(inFlight), 120_000, 'the pipelined requests');
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      assert.ok(killed && answered >= 1, 'at least one answer came before the kill');
      assert.ok(failed.length > 0, `every one of ${settled.length} requests was answered before the kill took effect`);
      for (const f of failed) assert.ok(isClientError('disconnected', /lost before it answered cycles/)(f.reason), String(f.reason));
      await exited;

      // A new daemon on the same root (the dead one's lock and socket are cleaned up).
      successor = await Daemon.start({ root });
      await successor.ready();
      const status = (await within(client.status(), 30_000, 'status after the restart')) as StatusResult;
      assert.equal(status.pid, process.pid, 'answered by the new daemon');
      assert.equal(status.state, 'ready');

      // The events of the dead daemon are gone: the renewed subscription says so first.
      const resync = (await within(firstEvent, 10_000, 'the resync on the renewed subscription')).value as DaemonEvent | ResyncEvent;
      assert.ok(resync.type === 'resync' && /the daemon restarted/.test(resync.reason), JSON.stringify(resync));
      const gen = successor.generation();
      successor.applyChanges([{ path: 'src/after-restart.ts', text: 'export function afterRestart(): void {}\n' }]);
      const ev = (await within(events.next(), 10_000, 'the update event on the renewed subscription')).value as DaemonEvent;
      assert.equal(ev.type, 'update');
      assert.ok(ev.type === 'update' && ev.generation === gen + 1 && ev.added.includes('src/after-restart.ts#afterRestart'));
      await events.return!();
    } finally {
      client.close();
      child.kill('SIGKILL');
      await successor?.stop();
    }
  });
});

describe('timeouts, aborts and endings', () => {
  test('a request the daemon never answers times out with its op named; the connection stays usable', async () => {
    const fake = await fakeDaemon((r, s) => {
      if (r.op === 'status') s.write(encodeFrame({ id: r.id, ok: true, result: { state: 'ready' }, gen: 1 }));
    });
    const client = await connect({ socket: fake.socket });
    try {
      await assert.rejects(client.callers({ entity: 'x' }, { timeoutMs: 100 }), isClientError('timeout', /callers got no answer within 100 ms/));
      assert.deepEqual(await client.status(), { state: 'ready' });
    } finally {
      client.close();
      await fake.close();
    }
  });

  test('an AbortSignal fails the request before it is sent, or while it is in flight', async () => {
    const fake = await fakeDaemon(() => undefined);
    const client = await connect({ socket: fake.socket });
    try {
      await assert.rejects(client.callers({ entity: 'x' }, { signal: AbortSignal.abort() }), isClientError('aborted', /before it was sent/));
      assert.equal(fake.requests.length, 0, 'nothing was sent');
      const controller = new AbortController();
      const pending = client.callers({ entity: 'x' }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, isClientError('aborted', /callers was aborted/));
    } finally {
      client.close();
      await fake.close();
    }
  });

  test('a lost connection fails what is in flight; the next request dials again', async () => {
    const fake = await fakeDaemon((r, s) => {
      if (r.op === 'callers') s.destroy();
      else s.write(encodeFrame({ id: r.id, ok: true, result: { state: 'ready' }, gen: 1 }));
    });
    const client = await connect({ socket: fake.socket });
    try {
      await assert.rejects(client.callers({ entity: 'x' }), isClientError('disconnected', /lost before it answered callers/));
      assert.deepEqual(await client.status(), { state: 'ready' });
      assert.equal(fake.connections(), 2);
    } finally {
      client.close();
      await fake.close();
    }
  });

  test('while no daemon answers, a reconnecting client still honours timeouts and AbortSignals', async () => {
    const fake = await fakeDaemon(() => undefined);
    const client = await connect({ socket: fake.socket }, { reconnect: { initialMs: 20, maxMs: 50 } });
    await fake.close();
    await waitFor(async () => !client.connected, 'the connection to drop', 5000);
    try {
      await assert.rejects(within(client.status({ timeoutMs: 150 }), 5000, 'the timeout'), isClientError('timeout', /no connection to the daemon/));
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(within(client.status({ signal: controller.signal }), 5000, 'the abort'), isClientError('aborted', /waiting for a connection/));
    } finally {
      client.close();
    }
  });

  test('without reconnect, a subscription ends with disconnected after the events it received', async () => {
    const fake = await fakeDaemon((r, s) => {
      if (r.op !== 'subscribe') return;
      s.write(encodeFrame({ id: r.id, ok: true, result: { subscribed: ['update'] }, gen: 1 }));
      s.write(encodeFrame({ sub: r.id, id: 'e-1', event: { type: 'update', generation: 2, files: [], added: [], removed: [], changed: [] } }));
      setTimeout(() => s.destroy(), 20);
    });
    const client = await connect({ socket: fake.socket });
    try {
      const events = client.subscribe({ events: ['update'] });
      // two readers at once: the first gets the event, the second the ending
      const [a, b] = [events.next(), events.next()];
      assert.equal(((await within(a, 5000, 'the event')).value as DaemonEvent).type, 'update');
      await assert.rejects(within(b, 5000, 'the ending'), isClientError('disconnected', /subscription ended/));
      assert.deepEqual(await events.next(), { value: undefined, done: true });
    } finally {
      client.close();
      await fake.close();
    }
  });

  test('a refused hello fails connect with the daemon\'s error and closes the socket', async () => {
    let closed!: () => void;
    const socketClosed = new Promise<void>((r) => (closed = r));
    const fake = await fakeDaemon(
      () => undefined,
      (r, s) => {
        s.on('close', () => closed());
        s.write(encodeFrame({ id: r.id, ok: false, error: { code: 'bad-args', message: 'this daemon speaks protocol 1, the client 2; upgrade the older of the two' } }));
      },
    );
    try {
      await assert.rejects(connect({ socket: fake.socket }), isClientError('bad-args', /speaks protocol 1/));
      await within(socketClosed, 5000, 'the client closing its socket');
    } finally {
      await fake.close();
    }
  });

  test('pipelineHello: the first request goes out behind hello, unanswered yet, and is answered after it', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const fake = await fakeDaemon(
      (r, s) => {
        order.push(r.op);
        s.write(encodeFrame({ id: r.id, ok: true, result: { state: 'ready' }, gen: 1 }));
      },
      (r, s) => {
        order.push('hello');
        // hello is answered only once the request behind it has arrived
        void held.then(() => s.write(encodeFrame({ id: r.id, ok: true, result: helloResult(fake.root), gen: 1 })));
      },
    );
    try {
      const client = await within(connect({ socket: fake.socket }, { pipelineHello: true }), 5000, 'connect without waiting for hello');
      assert.equal(client.server, undefined);
      const status = client.status();
      await within(waitFor(async () => fake.requests.length === 1, 'the request behind hello', 5000), 6000, 'the request');
      release();
      assert.deepEqual(await within(status, 5000, 'the answer'), { state: 'ready' });
      assert.deepEqual(order, ['hello', 'status']);
      assert.equal((client.server as { daemon: { version: string } } | undefined)?.daemon.version, '0.0.0-fake');
      assert.equal(client.refusal, undefined);
      client.close();
    } finally {
      await fake.close();
    }
  });

  test('pipelineHello: a refused hello fails the requests behind it with the refusal; their answers are not taken', async () => {
    let closed!: () => void;
    const socketClosed = new Promise<void>((r) => (closed = r));
    const fake = await fakeDaemon(
      // the request behind the refused hello is answered: the client must not take that answer
      (r, s) => void s.write(encodeFrame({ id: r.id, ok: true, result: { state: 'ready' }, gen: 1 })),
      (r, s) => {
        s.on('close', () => closed());
        void waitFor(async () => fake.requests.length > 0, 'the request behind hello', 5000).then(() =>
          s.write(encodeFrame({ id: r.id, ok: false, error: { code: 'bad-args', message: 'this daemon speaks protocol 1, the client 2; upgrade the older of the two' } })),
        );
      },
    );
    try {
      const client = await connect({ socket: fake.socket }, { pipelineHello: true });
      const err = await within(client.status().then(() => undefined, (e: unknown) => e), 5000, 'the pipelined request');
      assert.ok(isClientError('bad-args', /speaks protocol 1/)(err), String(err));
      assert.equal(client.refusal, err);
      await within(socketClosed, 5000, 'the client closing its socket');
      client.close();
    } finally {
      await fake.close();
    }
  });

  test('connecting where nothing listens is unreachable, saying how to start a daemon', async () => {
    await assert.rejects(connect({ socket: join(tempDir('isg-nothing-'), 'daemon.sock') }), isClientError('unreachable', /start one with `isg serve`/));
  });
});
