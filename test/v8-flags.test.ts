// A V8 flag set while a worker boots makes that worker boot slower (util/v8-flags.ts), so flags
// wait for the workers booting to come online, and a WebAssembly feature's flag is set only for
// a module that needs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { setFlagsOnceBooted, trackBoot } from '../daemon/util/v8-flags.ts';

const fakeWorker = () => new EventEmitter() as unknown as Worker;

test('a flag waits until every worker booting when it was asked for is online (or failed)', async () => {
  const set: string[] = [];
  const a = trackBoot(fakeWorker());
  const b = trackBoot(fakeWorker());
  const setting = setFlagsOnceBooted('--one', (f) => void set.push(f));
  a.emit('online');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(set.length, 0, 'one worker still boots');
  b.emit('exit', 1);
  await setting;
  assert.deepEqual(set, ['--one']);
  // with nothing booting, at once
  await setFlagsOnceBooted('--two', (f) => void set.push(f));
  assert.deepEqual(set, ['--one', '--two']);
});

test('a worker that never comes online holds a flag back for a second at most', async () => {
  trackBoot(fakeWorker());
  const set: string[] = [];
  const t0 = performance.now();
  await setFlagsOnceBooted('--late', (f) => void set.push(f));
  assert.deepEqual(set, ['--late']);
  assert.ok(performance.now() - t0 >= 990, 'it waited for the boot first');
});

// Node 20's V8 accepts extended constant expressions only behind a flag; once set, the probe below
// validates. Deno's V8 needs no flag.
test('a plugin whose module needs no flag leaves V8\'s flags as they were; a QuickJS plugin, which needs extended constants, sets the flag', { skip: 'Deno' in globalThis && 'Deno needs no flag' }, () => {
  const script = `
    import { readFileSync } from 'node:fs';
    import { join } from 'node:path';
    const { transpileCached } = await import(${JSON.stringify(new URL('../daemon/plugins/wasm/transpile.js', import.meta.url).href)});
    const { compileCore } = await import(${JSON.stringify(new URL('../daemon/plugins/wasm/instance.js', import.meta.url).href)});
    const { wasmManifest } = await import(${JSON.stringify(new URL('./support/wasm-plugins.js', import.meta.url).href)});
    const probe = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]);
    const seen = [WebAssembly.validate(probe)];
    for (const plugin of ['fixtures/echo', 'arch-rules', 'fixtures/hooks']) {
      const { manifest, dir } = wasmManifest(plugin);
      await compileCore(await transpileCached(readFileSync(join(dir, manifest.entry))));
      seen.push(WebAssembly.validate(probe));
    }
    console.log(JSON.stringify(seen));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [false, false, false, true], 'extended constants: before, after echo (WAT), arch-rules (AssemblyScript), hooks (QuickJS)');
});
