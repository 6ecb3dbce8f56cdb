// Run by the native benchmark as `node dist/bench/native-load-child.js <plugin dir>...`: in a
// fresh process (so the dynamic loader has not seen the addon yet), the time of the first
// inline load of each plugin through the native tier loader. Prints one JSON line of ms.
import type { GraphHost } from '../daemon/host.ts';
import { nativeTierLoader } from '../daemon/plugins/native-tier.ts';
import { pluginContext, readManifest } from '../test/support/plugin-context.ts';

async function main(): Promise<void> {
  const out: Record<string, number> = {};
  for (const dir of process.argv.slice(2)) {
    const manifest = readManifest(dir);
    // Loading reads no graph: a context without graph:read over no host is enough.
    const ctx = pluginContext({ root: dir } as GraphHost, manifest.name, []);
    const t0 = performance.now();
    const rt = await nativeTierLoader.load(manifest, dir, ctx);
    out[manifest.name] = performance.now() - t0;
    await rt.dispose();
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
