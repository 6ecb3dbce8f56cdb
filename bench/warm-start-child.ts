// Run by the warm-start benchmark as `node dist/bench/warm-start-child.js cold|save|warm <root>`,
// so that every start is a fresh process: `cold` indexes, `save` indexes and writes the snapshot,
// `warm` loads it (loadHost). Prints one JSON line; `readyMs` counts from process start
// (performance.now()), so it includes Node start-up and module loading.
import { GraphHost } from '../daemon/host.ts';
import { loadHost, saveSnapshot } from '../daemon/persist/snapshot.ts';

async function main(): Promise<void> {
  const [mode, root] = process.argv.slice(2);
  if (!root || (mode !== 'cold' && mode !== 'save' && mode !== 'warm')) throw new Error('usage: warm-start-child.js cold|save|warm <root>');
  const importedMs = performance.now();
  if (mode === 'warm') {
    const r = await loadHost(root);
    const readyMs = performance.now();
    const s = r.host.fileStats();
    console.log(JSON.stringify({ mode, importedMs, readyMs, from: r.from, resolution: r.resolution, reparsed: r.reparsed, hashed: r.hashed, dropped: r.dropped, files: s.files, entities: r.host.store.entityCount, timings: r.timings, diagnostics: r.diagnostics }));
    return;
  }
  const t0 = performance.now();
  const host = await GraphHost.index(root);
  const readyMs = performance.now();
  const save = mode === 'save' ? await saveSnapshot(host) : undefined;
  console.log(JSON.stringify({ mode, importedMs, readyMs, indexMs: readyMs - t0, files: host.fileStats().files, entities: host.store.entityCount, timings: host.timings, save }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
