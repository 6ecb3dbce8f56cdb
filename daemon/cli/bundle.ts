// `npm run build:bin` (part of `npm run build`): bundles the `isg` command for Node into two
// CommonJS files. The sources stay the truth (Deno runs them as they are, and tsc still builds
// dist/ from them); the bundles only make a start faster. Node 20 has no compile cache for ES
// modules, and resolving, reading and linking modules one by one cost about a third of a warm
// query's wall time, and 70-80 ms of a daemon's start. A CommonJS entry also skips starting the
// ES module loader (~10 ms). Both are minified (half the bytes for V8 to read and compile at each
// start); their .map files map them back to the sources for `node --enable-source-maps`.
//
// dist/isg.cjs, which the package's bin (bin/isg.cjs) runs: main.ts and every client command
// (status, stop, plugins, call, the queries, context, export), and the client with its msgpack
// codec. dist/isg-daemon.cjs: the two commands that load the graph, tree-sitter and the daemon
// (`serve` and `index`, graph-commands.ts), required by the first only when one of them runs
// (graph-command-loader.ts, which falls back to the tsc build when the bundle is older than it).
// Packages stay out of both (node_modules is there at run time). Beside each bundle a .json file
// lists its inputs with a hash of each, and the imports left external; test/cli.test.ts checks
// from them that the bundles are as new as their sources and that the first holds no graph,
// tree-sitter or daemon code.
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';
import { bundleFile, writeManifest } from '../util/esbuild-bundle.ts';
import { packageRoot } from '../util/package-root.ts';
import { DAEMON_BUNDLE, DAEMON_BUNDLE_MANIFEST } from './graph-command-loader.ts';

/** Commands that load the graph: in the daemon's bundle, never in the command's. */
const GRAPH_COMMANDS = ['serve-command', 'index-command'];

const BIN = 'dist/isg.cjs';
const BIN_MANIFEST = 'dist/isg.cjs.json';

const root = packageRoot();

/**
 * In the daemon's bundle, each module's `import.meta.url` is the URL of its tsc output (beside
 * the bundle, under dist/), as if it ran unbundled: the modules that start workers and child
 * processes find their scripts (parse-worker.js, native-child.js) relative to it.
 */
const moduleUrls: Plugin = {
  name: 'isg-module-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (a) => {
      const source = readFileSync(a.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const output = relative(root, a.path).split(sep).join('/').replace(/\.ts$/, '.js');
      return { contents: source.replaceAll('import.meta.url', `__isg_module_url(${JSON.stringify(output)})`), loader: 'ts' };
    });
  },
};

const daemon = await bundleFile({
  entryPoints: ['daemon/cli/graph-commands.ts'],
  outfile: DAEMON_BUNDLE,
  format: 'cjs',
  packages: 'external',
  banner: { js: '"use strict";\nconst __isg_dist_url = require("node:url").pathToFileURL(__dirname + "/").href;\nconst __isg_module_url = (output) => __isg_dist_url + output;' },
  plugins: [moduleUrls],
  // Names mangled too: with them kept, `isg serve` answered its first query 105-153 ms later
  // (alternated 10 times each way on effect; the require itself took as long), for reasons not
  // found. The stacks the daemon logs then name mangled functions: run it with
  // NODE_OPTIONS=--enable-source-maps to read them as sources (enabling that by default costs the
  // start 15-60 ms of parsing the map).
  minify: true,
});
writeManifest(DAEMON_BUNDLE, DAEMON_BUNDLE_MANIFEST, daemon);

/** main.ts's lazy imports of the graph commands become runs of graph-command-loader.ts. */
const graphCommands: Plugin = {
  name: 'isg-graph-commands',
  setup(b) {
    const filter = new RegExp(`^\\./(${GRAPH_COMMANDS.join('|')})\\.ts$`);
    b.onResolve({ filter }, (a) => {
      if (!a.importer.endsWith(join('daemon', 'cli', 'main.ts'))) return undefined;
      if (a.kind !== 'dynamic-import') throw new Error(`${a.path} must be imported lazily (import()) by main.ts`);
      return { path: a.path.slice(2, -'-command.ts'.length), namespace: 'isg-graph-command' };
    });
    b.onLoad({ filter: /.*/, namespace: 'isg-graph-command' }, (a) => ({
      contents: `import { graphCommand } from './graph-command-loader.ts';\nexport const run = graphCommand(${JSON.stringify(a.path)});\n`,
      resolveDir: join(root, 'daemon', 'cli'),
      loader: 'ts',
    }));
  },
};

const bin = await bundleFile({
  entryPoints: ['daemon/cli/main.ts'],
  outfile: BIN,
  format: 'cjs',
  // package-root.ts finds the package from import.meta.url, which CommonJS lacks.
  define: { 'import.meta.url': '__isg_import_meta_url' },
  banner: { js: '"use strict";\nconst __isg_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [graphCommands],
  minify: true,
});
writeManifest(BIN, BIN_MANIFEST, bin);
