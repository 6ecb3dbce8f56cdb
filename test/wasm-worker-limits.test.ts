// A worker's resourceLimits cap its JS heap under Node; Deno accepts and ignores them. So under
// Deno, loading a worker-isolated component says so, naming the reason, and the memory budget
// rests on the linear memory the worker reports after each call. Under Node nothing is said.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PluginManifest } from '../daemon/plugins/api.ts';
import { WasmTierLoader } from '../daemon/plugins/wasm-tier.ts';
import { RUNTIME } from '../daemon/util/runtime.ts';
import { pluginContext } from './support/wasm-plugin-context.ts';
import { wasmManifest } from './support/wasm-plugins.ts';

test(`worker isolation on ${RUNTIME}: a warning about the uncapped heap under Deno only; linear memory reported after each call`, async () => {
  const loader = new WasmTierLoader({ spareWorker: false });
  const loads = [];
  for (const isolation of ['worker', 'inline'] as const) {
    const { manifest, dir } = wasmManifest('fixtures/echo', { isolation, budget: { ceilingMs: 10_000 } as PluginManifest['budget'] });
    const ctx = pluginContext({ name: manifest.name });
    loads.push({ isolation, ctx, rt: await loader.load(manifest, dir, ctx) });
  }
  try {
    for (const { isolation, ctx, rt } of loads) {
      const warnings = ctx.logs.filter((l) => l.level === 'warn').map((l) => l.msg);
      if (RUNTIME === 'deno' && isolation === 'worker') {
        assert.deepEqual(warnings, ['plugin fixture-echo runs in a worker whose JS heap is not capped at 64 MB: Deno ignores worker resourceLimits; its memory budget is enforced by checking its linear memory after each call']);
      } else assert.deepEqual(warnings, [], `${isolation}: no warning`);
      assert.deepEqual(rt.call('echo', { a: 1 }), { a: 1 });
      assert.ok(rt.memoryBytes!() >= 65536, `${isolation}: linear memory reported after the call`);
    }
  } finally {
    await Promise.all(loads.map(({ rt }) => rt.dispose()));
  }
});
