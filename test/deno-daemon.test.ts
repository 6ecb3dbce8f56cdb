// The daemon under Deno 2 (the `deno` npm package, a devDependency), run from the TypeScript
// sources as `deno task serve` does, on a copy of rxjs: the Node client and the client under
// Deno both query it, over the Unix socket and over TCP with the token; the CLI under Deno asks
// it too; a file edited on disk shows up; it stops on request, and a second start under Deno
// loads the snapshot the first one wrote.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, type IsgClient } from '../client/client.ts';
import type { LookupResult, PluginsResult, StatusResult } from '../client/protocol.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { tempDir } from './support/temp-dirs.ts';
import { updateAdding } from './support/update-adding.ts';

const ROOT = packageRoot();
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const DENO_RUN = ['run', '--allow-all', '--config', join(ROOT, 'deno.json')];
const ENV = { ...process.env, NO_COLOR: '1' };

function denoClient(endpoint: string, name: string): { runtime: string; daemonRuntime: string; generation: number; ids: string[] } {
  const run = spawnSync(DENO, [...DENO_RUN, join(ROOT, 'test', 'fixtures', 'deno', 'client-check.ts'), endpoint, name], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 60_000 });
  assert.equal(run.status, 0, `the Deno client exited with ${run.status ?? run.signal}:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

function denoCli(cwd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(DENO, [...DENO_RUN, join(ROOT, 'daemon', 'cli', 'main.ts'), ...args], { cwd, encoding: 'utf8', env: ENV, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `deno run daemon/cli/main.ts serve root ...`, connected and ready. */
async function startDaemon(root: string, extra: string[]): Promise<{ client: IsgClient; status: StatusResult; exited: Promise<number | null>; stderr: () => string; kill: () => void }> {
  const daemon = spawn(DENO, [...DENO_RUN, join(ROOT, 'daemon', 'cli', 'main.ts'), 'serve', root, '--log-level', 'warn', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  let stderr = '';
  daemon.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
  const socket = join(root, '.isg', 'daemon.sock');
  let client: IsgClient | undefined;
  for (let i = 0; i < 600 && !client && daemon.exitCode === null; i++) {
    client = await connect({ socket }).catch(() => undefined);
    if (!client) await new Promise((r) => setTimeout(r, 100));
  }
  if (!client) {
    daemon.kill('SIGKILL');
    assert.fail(`the Deno daemon never listened:\n${stderr}`);
  }
  let status = await client.status();
  while (status.state !== 'ready') {
    await new Promise((r) => setTimeout(r, 100));
    status = await client.status();
  }
  return { client, status, exited, stderr: () => stderr, kill: () => daemon.kill('SIGKILL') };
}

test('a daemon under Deno indexes rxjs, answers Node and Deno clients and the CLI, follows an edit, runs all plugin tiers, restarts warm', async (t) => {
  if (!existsSync(DENO)) return t.skip('deno is not installed');
  const root = tempDir('isg-deno-');
  cpSync(join(ROOT, 'node_modules', 'rxjs', 'src'), join(root, 'src'), { recursive: true });
  const socket = join(root, '.isg', 'daemon.sock');

  const first = await startDaemon(root, ['--tcp', '127.0.0.1:0']);
  try {
    const { client, status } = first;
    assert.equal(status.runtime, 'deno');
    assert.equal(status.files, 252);
    assert.equal(status.watching, true);
    const subject = (await client.lookup({ name: 'Subject', mode: 'exact', kind: 'class' })) as LookupResult;
    assert.deepEqual(subject.matches.map((m) => m.id), ['src/internal/Subject.ts#Subject']);

    // TCP, with the token the daemon wrote (0600) next to its socket
    const [host, port] = [status.endpoints.tcp!.slice(0, status.endpoints.tcp!.lastIndexOf(':')), Number(status.endpoints.tcp!.slice(status.endpoints.tcp!.lastIndexOf(':') + 1))];
    const token = readFileSync(join(root, '.isg', 'token'), 'utf8').trim();
    const overTcp = await connect({ host, port, token });
    assert.deepEqual(((await overTcp.lookup({ name: 'Subject', mode: 'exact', kind: 'class' })) as LookupResult).matches.map((m) => m.id), ['src/internal/Subject.ts#Subject']);
    overTcp.close();
    await assert.rejects(connect({ host, port, token: 'not-the-token' }).then((c) => c.status()), /token/i);

    for (const endpoint of [socket, `tcp:${host}:${port}:${token}`]) {
      const fromDeno = denoClient(endpoint, 'Subject');
      assert.equal(fromDeno.runtime, 'deno');
      assert.equal(fromDeno.daemonRuntime, 'deno');
      assert.ok(fromDeno.ids.includes('src/internal/Subject.ts#Subject'), endpoint);
    }

    // the CLI under Deno, in the root, finds the daemon through .isg/
    const cli = denoCli(root, ['implements', 'SubscriptionLike', '--json', '--no-spawn']);
    assert.equal(cli.code, 0, cli.stderr);
    const implemented = JSON.parse(cli.stdout) as { results: { id: string }[] };
    assert.ok(implemented.results.some((r) => r.id === 'src/internal/Subscription.ts#Subscription'), cli.stdout);
    assert.equal(denoCli(root, ['callers', 'NoSuchThing', '--no-spawn']).code, 1);

    // plugins of every tier load under Deno too (native through its Node-API support)
    let plugins = ((await client.plugins()) as PluginsResult).plugins;
    for (let i = 0; i < 200 && plugins.some((p) => p.state === 'loading' || p.state === 'discovered'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      plugins = ((await client.plugins()) as PluginsResult).plugins;
    }
    const states = Object.fromEntries(plugins.map((p) => [p.name, `${p.tier} ${p.state}`]));
    assert.deepEqual(states, { core: 'builtin active', scc: 'native active', pagerank: 'native active', 'arch-rules': 'wasm active', fan: 'wasm active', context: 'builtin active' });
    const scc = (await client.request('scc/components', { kinds: ['imports'], minSize: 2 })) as { total: number };
    assert.ok(scc.total > 0);
    // context packs ranked by the native pagerank, through the host, under Deno
    const pack = await client.context({ entity: 'Subject.next', budget: 600 });
    assert.equal(pack.ranking, 'pagerank');
    assert.equal(pack.items[0]!.id, 'src/internal/Subject.ts#Subject.next');
    assert.ok(pack.tokens <= 600);

    const events = client.subscribe({ events: ['update'] });
    const added = updateAdding(events, 'src/denoEdit.ts#editedUnderDeno');
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(root, 'src', 'denoEdit.ts'), 'export function editedUnderDeno(): number { return 1; }\n');
    await added;
    await events.return!();
    assert.deepEqual(denoClient(socket, 'editedUnderDeno').ids, ['src/denoEdit.ts#editedUnderDeno']);

    assert.deepEqual(await client.shutdown(), { stopping: true });
    client.close();
    assert.equal(await first.exited, 0, first.stderr());
    assert.ok(!existsSync(socket), 'the socket is removed');
  } finally {
    first.kill();
  }

  const second = await startDaemon(root, []);
  try {
    assert.equal(second.status.snapshot?.loadedFrom, true, 'the second start loads the snapshot');
    assert.equal(second.status.files, 253);
    assert.deepEqual(((await second.client.lookup({ name: 'editedUnderDeno', mode: 'exact' })) as LookupResult).matches.map((m) => m.id), ['src/denoEdit.ts#editedUnderDeno']);
    await second.client.shutdown();
    second.client.close();
    assert.equal(await second.exited, 0, second.stderr());
  } finally {
    second.kill();
  }
});
