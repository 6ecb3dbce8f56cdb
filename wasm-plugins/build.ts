// `npm run build:wasm`: builds every component under wasm-plugins/ from its source, next to its
// isg-plugin.json (the manifest's `entry`). A `.wat` source is a core module, completed with
// wat/prelude.wat, given its WIT world with `jco embed` and made a component with `jco new`; an
// `.as.ts` source is AssemblyScript, compiled to a core module (which may import the shared
// modules of wasm-plugins/as/) and made a component the same way; a `.js` source is made a component with componentize-qjs, as `jco componentize --backend qjs`
// does (QuickJS: the default StarlingMonkey backend needs more than this machine offers), and may
// import the shared modules of wasm-plugins/js/. WASI is stubbed out of JS components: isg
// refuses components that import it. Up-to-date outputs are skipped, by a hash of their inputs
// kept in node_modules/.cache/isg-wasm/build/ together with the hash of the output built from
// them: checkouts that share one node_modules (git worktrees) each rebuild their own stale output.
// Flags: --force, --only NAME[,NAME].
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../daemon/util/package-root.ts';

const ROOT = packageRoot();
const PLUGINS = join(ROOT, 'wasm-plugins');
const WIT_DIR = join(PLUGINS, 'wit');
const SHARED_JS = join(PLUGINS, 'js');
const SHARED_AS = join(PLUGINS, 'as');
const PRELUDE = join(PLUGINS, 'wat', 'prelude.wat');
const STAMPS = join(ROOT, 'node_modules', '.cache', 'isg-wasm', 'build');
const PRELUDE_MARK = ';; @prelude';
/** Bumped when this script changes what it produces, so stale outputs are rebuilt. */
const RECIPE = 2;

/** The world of isg-plugin.wit that each manifest hook adds to `query-plugin`. */
const HOOK_WORLDS: Record<string, string> = { onUpdate: 'update-hook', beforeQuery: 'before-query-hook', afterQuery: 'after-query-hook' };

interface Target {
  name: string;
  dir: string;
  source: string;
  output: string;
  /** WIT source and world: the plugin's own world.wit, or an isg:plugin world made of the hooks it lists. */
  wit: { text: string; world: string };
}

function findTargets(): Target[] {
  const targets: Target[] = [];
  const visit = (dir: string, depth: number) => {
    const manifest = join(dir, 'isg-plugin.json');
    if (existsSync(manifest)) targets.push(targetOf(dir, JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; entry: string; hooks?: string[] }));
    if (depth === 0) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() && !['wit', 'wat', 'js', 'as', 'node_modules'].includes(e.name)) visit(join(dir, e.name), depth - 1);
  };
  visit(PLUGINS, 2);
  return targets.sort((a, b) => a.dir.localeCompare(b.dir));
}

function targetOf(dir: string, manifest: { name: string; entry: string; hooks?: string[] }): Target {
  const output = join(dir, manifest.entry);
  const stem = output.replace(/\.wasm$/, '');
  const source = [`${stem}.wat`, `${stem}.as.ts`, `${stem}.js`].find((f) => existsSync(f));
  if (!source) throw new Error(`${relative(ROOT, dir)}: no ${basename(stem)}.wat, ${basename(stem)}.as.ts or ${basename(stem)}.js to build ${manifest.entry} from`);
  const own = join(dir, 'world.wit');
  let wit: Target['wit'];
  if (existsSync(own)) {
    const text = readFileSync(own, 'utf8');
    const world = /^world\s+([\w-]+)/m.exec(text)?.[1];
    if (!world) throw new Error(`${relative(ROOT, own)} declares no world`);
    wit = { text, world };
  } else {
    wit = worldOfHooks(manifest.hooks ?? [], relative(ROOT, dir));
  }
  return { name: manifest.name, dir, source, output, wit };
}

/**
 * isg-plugin.wit, with the world a plugin lists hooks for: `query-plugin` and the hook worlds of
 * its hooks (a component must export everything its world declares, so each combination of hooks
 * is a world of its own).
 */
function worldOfHooks(hooks: string[], where: string): Target['wit'] {
  const text = readFileSync(join(WIT_DIR, 'isg-plugin.wit'), 'utf8');
  if (!hooks.length) return { text, world: 'query-plugin' };
  const includes = hooks.map((h) => {
    const world = HOOK_WORLDS[h];
    if (!world) throw new Error(`${where}: isg-plugin.json lists the hook "${h}"; hooks are ${Object.keys(HOOK_WORLDS).join(', ')}`);
    return `  include ${world};\n`;
  });
  return { text: `${text}\n// Added by wasm-plugins/build.ts for the hooks of ${where}.\nworld hooked-plugin {\n  include query-plugin;\n${includes.join('')}}\n`, world: 'hooked-plugin' };
}

/** Everything the output depends on. */
function inputsHash(t: Target): string {
  const h = createHash('sha256').update(`recipe ${RECIPE}\njco ${jcoVersion()}\nworld ${t.wit.world}\n`).update(t.wit.text);
  if (t.source.endsWith('.wat')) h.update(readFileSync(PRELUDE));
  if (t.source.endsWith('.as.ts')) h.update(`asc ${ascVersion()}\n`);
  // a JS or AssemblyScript plugin may import its sibling modules and the shared ones
  const modulesIn = (dirs: string[], ext: string) => dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(ext)).sort().map((f) => join(d, f)));
  const files = t.source.endsWith('.js') ? modulesIn([t.dir, SHARED_JS], '.js') : t.source.endsWith('.as.ts') ? modulesIn([t.dir, SHARED_AS], '.as.ts') : [t.source];
  for (const f of files) h.update(`\n${relative(PLUGINS, f)}\n`).update(readFileSync(f));
  return h.digest('hex');
}

function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const JCO_DIR = join(ROOT, 'node_modules', '@bytecodealliance', 'jco');

function jcoVersion(): string {
  return (JSON.parse(readFileSync(join(JCO_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

function ascVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')) as { version: string }).version;
}

interface Jco {
  parse(wat: string): Promise<Uint8Array>;
  print(binary: Uint8Array): Promise<string>;
  componentEmbed(opts: { binary: Uint8Array; witSource: string; world: string }): Promise<Uint8Array>;
  componentNew(bytes: Uint8Array): Promise<Uint8Array>;
}

async function buildWat(t: Target): Promise<void> {
  const jco = (await import('@bytecodealliance/jco')) as unknown as Jco;
  const text = readFileSync(t.source, 'utf8');
  if (!text.includes(PRELUDE_MARK)) throw new Error(`${relative(ROOT, t.source)}: no "${PRELUDE_MARK}" line to put the prelude at`);
  await writeComponent(t, jco, await jco.parse(text.replace(PRELUDE_MARK, readFileSync(PRELUDE, 'utf8'))));
}

/** A core module given its WIT world with `jco embed` and made a component with `jco new`. */
async function writeComponent(t: Target, jco: Jco, core: Uint8Array): Promise<void> {
  // jco 1.35's embed cannot read WIT from a path (its sandbox finds no files), so it gets the text
  const embedded = await jco.componentEmbed({ binary: core, witSource: t.wit.text, world: t.wit.world });
  writeFileSync(t.output, await jco.componentNew(embedded));
}

interface Asc {
  main(argv: string[], options: { writeFile(name: string, contents: Uint8Array | string): void; stdout: Stream; stderr: Stream }): Promise<{ error: Error | null }>;
  createMemoryStream(): Stream;
}

interface Stream {
  write(chunk: string): void;
  toString(): string;
}

/**
 * AssemblyScript with the `incremental` runtime (see as/isg.as.ts) and no `abort` import (a
 * failed assertion traps). AssemblyScript cannot give an
 * export a name that is no identifier, so its camelCase exports get the kebab-case names of the
 * world's (`onGraphUpdate` is `on-graph-update`) in the module's text before it is embedded.
 */
async function buildAs(t: Target): Promise<void> {
  const asc = ((await import('assemblyscript/asc')) as unknown as { default: Asc }).default;
  const jco = (await import('@bytecodealliance/jco')) as unknown as Jco;
  let binary: Uint8Array | undefined;
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main([relative(ROOT, t.source), '--runtime', 'incremental', '--use', 'abort=', '-O3', '--outFile', 'core.wasm', '--baseDir', ROOT], {
    writeFile: (name, contents) => {
      if (name.endsWith('core.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: asc.createMemoryStream(),
    stderr,
  });
  if (error || !binary) throw new Error(`asc failed for ${relative(ROOT, t.source)}: ${error?.message ?? 'no binary'}\n${stderr.toString()}`);
  const text = (await jco.print(binary)).replace(/\(export "([a-z]+(?:[A-Z][a-z]*)+)"/g, (_, name: string) => `(export "${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}"`);
  await writeComponent(t, jco, await jco.parse(text));
}

interface ComponentizeQjs {
  componentize(opts: { witPath: string; jsSource: string; jsPath: string; moduleRoot: string; world: string; sync: boolean; stubWasi: boolean }): Promise<{ component: Uint8Array }>;
}

/**
 * componentize-qjs as jco 1.35 runs it for `componentize --backend qjs --backend-qjs-disable-async
 * --backend-qjs-stub-wasi`, called directly for its `moduleRoot`: jco's command roots modules at
 * the entry's directory, where wasm-plugins/js/ is out of reach.
 */
async function buildJs(t: Target, stem: string): Promise<void> {
  const qjs = (await import(pathToFileURL(createRequire(join(JCO_DIR, 'package.json')).resolve('componentize-qjs')).href)) as ComponentizeQjs;
  // it reads WIT from a path: the target's WIT text goes to a file of its own
  const witPath = join(STAMPS, `${stem}.wit`);
  mkdirSync(STAMPS, { recursive: true });
  writeFileSync(witPath, t.wit.text);
  try {
    const { component } = await qjs.componentize({ witPath, jsSource: readFileSync(t.source, 'utf8'), jsPath: t.source, moduleRoot: PLUGINS, world: t.wit.world, sync: true, stubWasi: true });
    writeFileSync(t.output, component);
  } catch (err) {
    throw new Error(`componentize-qjs failed for ${relative(ROOT, t.source)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const force = argv.includes('--force');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]?.split(',') ?? []) : undefined;
  const targets = findTargets().filter((t) => !only || only.has(t.name));
  let built = 0;
  for (const t of targets) {
    const stem = relative(PLUGINS, t.dir).replace(/[\\/]/g, '__');
    const stamp = join(STAMPS, `${stem}.sha256`);
    const inputs = inputsHash(t);
    if (!force && existsSync(t.output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === `${inputs} ${fileHash(t.output)}`) continue;
    const t0 = performance.now();
    if (t.source.endsWith('.wat')) await buildWat(t);
    else if (t.source.endsWith('.as.ts')) await buildAs(t);
    else await buildJs(t, stem);
    mkdirSync(STAMPS, { recursive: true });
    writeFileSync(stamp, `${inputs} ${fileHash(t.output)}`);
    built++;
    console.log(`build:wasm: ${relative(ROOT, t.output)} (${(statSync(t.output).size / 1024).toFixed(1)} KiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(`build:wasm: ${built} built, ${targets.length - built} up to date`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
