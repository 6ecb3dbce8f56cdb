// `npm run build:bin` (part of `npm run build`): bundles the `isg` command for Node into one
// CommonJS file, dist/isg.cjs, which the package's bin (bin/isg.cjs) runs. The sources stay the
// truth (Deno runs them as they are, and tsc still builds dist/daemon/cli/main.js from them);
// the bundle only makes a query start faster. Node 20 has no compile cache for ES modules, and
// resolving, reading and linking the client path's ~20 modules one by one cost about a third of
// a warm query's wall time. A CommonJS entry also skips starting the ES module loader (~10 ms).
// It is minified (half the bytes for V8 to read and compile at each start, ~2 ms);
// isg.cjs.map maps it back to the sources for `node --enable-source-maps`.
//
// What goes in: main.ts and every client command (status, stop, plugins, call, the queries,
// context, export), and the client with its msgpack codec. What stays out: `serve` and
// `index`, which load the graph, tree-sitter and the daemon. They stay ES modules, imported from
// the tsc build (./daemon/cli/*-command.js) when those commands run. Beside the bundle,
// isg.cjs.json lists the inputs with a hash of each, and the imports left external;
// test/cli.test.ts checks from it that the bundle is as new as its sources and loads no graph,
// tree-sitter or daemon code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'esbuild';
import { bundleFile } from '../util/esbuild-bundle.ts';
import { packageRoot } from '../util/package-root.ts';

/** Commands that load the graph: imported from the tsc build at run time, never bundled. */
const UNBUNDLED_COMMANDS = ['serve-command', 'index-command'];

const BIN = 'dist/isg.cjs';
const BIN_MANIFEST = 'dist/isg.cjs.json';

interface BinManifest {
  /** Source path (from the package root) to the SHA-256 of its contents when bundled. */
  inputs: Record<string, string>;
  /** Imports left to Node at run time: built-in modules and the unbundled commands. */
  external: string[];
}

const root = packageRoot();

const unbundled: Plugin = {
  name: 'isg-unbundled-commands',
  setup(b) {
    const filter = new RegExp(`^\\./(${UNBUNDLED_COMMANDS.join('|')})\\.ts$`);
    b.onResolve({ filter }, (a) => {
      if (!a.importer.endsWith(join('daemon', 'cli', 'main.ts'))) return undefined;
      if (a.kind !== 'dynamic-import') throw new Error(`${a.path} must be imported lazily (import()) by main.ts`);
      return { path: `./daemon/cli/${a.path.slice(2, -3)}.js`, external: true };
    });
  },
};

const { output, inputs } = await bundleFile({
  entryPoints: ['daemon/cli/main.ts'],
  outfile: BIN,
  format: 'cjs',
  // package-root.ts finds the package from import.meta.url, which CommonJS lacks.
  define: { 'import.meta.url': '__isg_import_meta_url' },
  banner: { js: '"use strict";\nconst __isg_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [unbundled],
  minify: true,
});

const external = [...new Set(output.imports.filter((i) => i.external).map((i) => i.path))].sort();
writeFileSync(join(root, BIN_MANIFEST), `${JSON.stringify({ inputs, external } satisfies BinManifest, null, 2)}\n`);
console.log(`isg: bundled ${Object.keys(inputs).length} modules into ${BIN} (${(output.bytes / 1024).toFixed(0)} KB)`);
