// Run by test/wasm-plugins.test.ts with `deno run -A`: the wasm tier from the .ts sources under
// Deno, in a worker and inline. Prints one JSON line of what it saw. (Node's test runner also
// loads every file under test/, so the work only starts when Deno runs this file itself.)
import { IsgError } from '../../daemon/errors.ts';
import type { Isolation, PluginManifest } from '../../daemon/plugins/api.ts';
import { WasmTierLoader } from '../../daemon/plugins/wasm-tier.ts';
import { pluginContext } from './wasm-plugin-context.ts';
import { wasmManifest } from './wasm-plugins.ts';

async function main(): Promise<void> {
  const loader = new WasmTierLoader();
  const start = async (path: string, isolation: Isolation, ceilingMs: number) => {
    const { manifest, dir } = wasmManifest(path, { isolation, budget: { ceilingMs } as PluginManifest['budget'] });
    return loader.load(manifest, dir, pluginContext({ name: manifest.name }));
  };
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return err instanceof IsgError ? err.code : String(err);
    }
  };
  const seen: Record<string, Record<string, unknown>> = {};
  for (const isolation of ['worker', 'inline'] as const) {
    const echo = await start('fixtures/echo', isolation, 10_000);
    const trap = await start('fixtures/trap', isolation, 10_000);
    const s: Record<string, unknown> = { echo: echo.call('echo', { x: [1, 'two'] }) };
    s.trap = codeOf(() => trap.call('trap', null));
    s.count = trap.call('count', null);
    if (isolation === 'worker') {
      // last: stopping it stops the worker it shares with the others, which start again elsewhere
      const loop = await start('fixtures/loop', isolation, 50);
      s.loop = codeOf(() => loop.call('loop', null));
      await loop.dispose();
      s.echoAgain = await echo.call('echo', 'again');
    }
    seen[isolation] = s;
    await echo.dispose();
    await trap.dispose();
  }
  console.log(JSON.stringify(seen));
}

if ((import.meta as { main?: boolean }).main) await main();
