// `isg serve` as a user runs it: a child process (the built CLI under Node, the sources under
// Deno) on a copy of a small corpus. SIGTERM finishes what is in flight, saves the snapshot,
// removes the socket and the lock and exits 0, also when it arrives while the daemon starts;
// --detach and --examples print what they promise.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect } from '../client/client.ts';
import type { DaemonEvent, LookupResult, PluginInfo } from '../client/protocol.ts';
import { openSnapshot } from '../daemon/persist/snapshot-file.ts';
import { pidAlive, readLock } from '../daemon/server/state-dir.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { eventually } from './support/eventually.ts';
import { CLI, CLI_ARGS, exits, runCli, type Run } from './support/run-cli.ts';
import { smallCorpus, writeText } from './support/small-corpus.ts';

interface Served {
  child: ChildProcess;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `isg serve ...args` in the foreground, from the package root. */
function serve(args: string[]): Served {
  const child = spawn(CLI, [...CLI_ARGS, 'serve', ...args], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, exited };
}

/**
 * SIGTERM, as `kill PID` sends it. Not ChildProcess.kill: under Deno its exit event then reports
 * the signal sent, whatever the process did with it.
 */
function terminate(served: Served): void {
  process.kill(served.child.pid!, 'SIGTERM');
}

/** Kills a daemon a failed test left running. */
async function cleanUp(served: Served): Promise<void> {
  if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill('SIGKILL');
  await served.exited;
}

test('SIGTERM: the request in flight is answered, the snapshot saved, the socket and lock removed, exit 0', async () => {
  const root = smallCorpus('isg-serve-term-', { snapshot: { intervalMs: 86_400_000 }, log: { level: 'warn' } });
  const served = serve([root]);
  try {
    await eventually('the first index', () => (/^indexed \d+ files/m.test(served.stdout()) ? true : undefined));
    const client = await connect({ socket: join(root, '.isg', 'daemon.sock') });
    writeText(root, 'src/extra.ts', 'export function extra(): number { return 2; }\n');
    const generation = await eventually('the edit to be queryable', async () => {
      const answer = await client.requestWithGen('lookup', { name: 'extra', mode: 'exact' });
      return (answer.result as LookupResult).total ? answer.gen : undefined;
    });
    // Loading a plugin (a WebAssembly component in a worker) is in flight once the daemon says
    // it is loading: that is when the signal comes.
    const events = client.subscribe({ events: ['plugin'] });
    const load = client.request('plugins.load', { path: join(packageRoot(), 'wasm-plugins', 'fixtures', 'echo') });
    for (;;) {
      const event = (await events.next()).value as DaemonEvent;
      if (event.type === 'plugin' && event.plugin === 'fixture-echo' && event.to === 'loading') break;
    }
    terminate(served);
    const info = (await load) as PluginInfo;
    assert.equal(info.name, 'fixture-echo');
    assert.equal(info.state, 'active');
    assert.deepEqual(await served.exited, { code: 0, signal: null });
    client.close();
    assert.ok(!existsSync(join(root, '.isg', 'daemon.sock')), 'the socket is removed');
    assert.ok(!existsSync(join(root, '.isg', 'daemon.lock')), 'the lock is removed');
    assert.equal(openSnapshot(readFileSync(join(root, '.isg', 'snapshot.bin'))).header.generation, generation, 'the snapshot holds the edit');
  } finally {
    await cleanUp(served);
  }
});

test('a SIGTERM while the daemon starts stops it once started: exit 0, no lock left behind', async () => {
  const root = smallCorpus('isg-serve-early-', { log: { level: 'warn' } });
  const served = serve([root]);
  try {
    const lock = join(root, '.isg', 'daemon.lock');
    // As soon as the lock is taken: before the socket listens and the daemon is started.
    while (!existsSync(lock)) {
      assert.equal(served.child.exitCode, null, 'the daemon runs');
      await new Promise((r) => setImmediate(r));
    }
    terminate(served);
    assert.deepEqual(await served.exited, { code: 0, signal: null });
    assert.ok(!existsSync(lock), 'the lock is removed');
    assert.ok(!existsSync(join(root, '.isg', 'daemon.sock')), 'the socket is removed');
  } finally {
    await cleanUp(served);
  }
});

test('serve --detach prints the pid and the socket, exits 0, and the daemon answers', async () => {
  const root = smallCorpus('isg-serve-detach-', { log: { level: 'warn' } });
  const r = await runCli(['serve', root, '--detach']);
  try {
    exits(r, 0);
    const m = /^isg daemon for (.+) started in the background \(pid (\d+)\); socket (\S+); log (\S+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.deepEqual([m[1], m[3], m[4]], [root, join(root, '.isg', 'daemon.sock'), join(root, '.isg', 'daemon.log')]);
    const client = await connect({ socket: m[3]! });
    const status = await client.status();
    client.close();
    assert.equal(status.pid, Number(m[2]));
    assert.equal(status.root, root);
    exits(await runCli(['stop', '--root', root]), 0);
    assert.ok(!existsSync(m[3]!), 'stopped: the socket is removed');
  } finally {
    const lock = readLock(join(root, '.isg', 'daemon.lock'));
    if (lock && pidAlive(lock.pid)) process.kill(lock.pid, 'SIGKILL');
  }
});

test('serve --detach --http prints the HTTP address; a port that cannot be bound fails the detach', async () => {
  const root = smallCorpus('isg-serve-detach-http-', { log: { level: 'warn' } });
  const taken = smallCorpus('isg-serve-detach-taken-', { log: { level: 'warn' } });
  const r = await runCli(['serve', root, '--detach', '--http', '127.0.0.1:0']);
  try {
    exits(r, 0);
    const m = /; http:\/\/(127\.0\.0\.1:(\d+));/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const status = await (await fetch(`http://${m[1]}/v1/status`, { headers: { authorization: `Bearer ${readFileSync(join(root, '.isg', 'token'), 'utf8').trim()}` } })).json();
    assert.equal((status as { ok: boolean }).ok, true);
    // The same port for a second daemon: its start fails, and the detach says so instead of succeeding.
    const second = await runCli(['serve', taken, '--detach', '--http', m[1]!]);
    assert.notEqual(second.code, 0, second.stdout);
    assert.match(second.stderr, /isg serve --detach: /);
    exits(await runCli(['stop', '--root', root]), 0);
  } finally {
    for (const dir of [root, taken]) {
      const lock = readLock(join(dir, '.isg', 'daemon.lock'));
      if (lock && pidAlive(lock.pid)) process.kill(lock.pid, 'SIGKILL');
    }
  }
});

test('serve --examples (npm start) prints where it listens and three commands, each exiting 0', async () => {
  const root = smallCorpus('isg-serve-examples-', { log: { level: 'warn' } });
  // No import cycle: `isg cycles` would find nothing and exit 1, so it is not an example here.
  writeText(root, 'src/describe.ts', "export function describeShape(s: { area(): number }): string { return 'area ' + s.area(); }\n");
  const served = serve([root, '--examples']);
  try {
    const block = await eventually('the examples', () => /^try, in another terminal:\n((?: {2}.+\n){3})/m.exec(served.stdout())?.[1]);
    assert.ok(served.stdout().includes(`listening on ${join(root, '.isg', 'daemon.sock')}`), served.stdout());
    const commands = block.trimEnd().split('\n').map((line) => line.trim());
    assert.deepEqual(commands.map((c) => / (callers|blast-radius|cycles|outline) /.exec(c)?.[1]), ['callers', 'blast-radius', 'outline']);
    for (const command of commands) {
      const r = await new Promise<Run>((resolve) => execFile('sh', ['-c', command], { cwd: packageRoot() }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr })));
      exits(r, 0);
    }
    terminate(served);
    assert.deepEqual(await served.exited, { code: 0, signal: null });
  } finally {
    await cleanUp(served);
  }
});
