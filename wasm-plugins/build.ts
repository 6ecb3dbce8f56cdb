// `npm run build:wasm`: builds every component under wasm-plugins/ from its source, next to its
// isg-plugin.json (the manifest's `entry`). A `.wat` source is a core module, completed with
// wat/prelude.wat, given its WIT world with `jco embed` and made a component with `jco new`; a
// `.js` source is made a component with `jco componentize --backend qjs` (QuickJS: the default
// StarlingMonkey backend needs more than this machine offers). WASI is stubbed out of JS
// components: isg refuses components that import it. Up-to-date outputs are skipped, by a hash of
// their inputs kept in node_modules/.cache/isg-wasm/build/. Flags: --force, --only NAME[,NAME].
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { packageRoot } from '../daemon/util/package-root.ts';

const ROOT = packageRoot();
const PLUGINS = join(ROOT, 'wasm-plugins');
const WIT_DIR = join(PLUGINS, 'wit');
const PRELUDE = join(PLUGINS, 'wat', 'prelude.wat');
const STAMPS = join(ROOT, 'node_modules', '.cache', 'isg-wasm', 'build');
const PRELUDE_MARK = ';; @prelude';
/** Bumped when this script changes what it produces, so stale outputs are rebuilt. */
const RECIPE = 1;

interface Target {
  name: string;
  dir: string;
  source: string;
  output: string;
  /** WIT source and world: the plugin's own world.wit, or the isg:plugin world its hooks ask for. */
  wit: { text: string; world: string; dir?: string };
}

function findTargets(): Target[] {
  const targets: Target[] = [];
  const visit = (dir: string, depth: number) => {
    const manifest = join(dir, 'isg-plugin.json');
    if (existsSync(manifest)) targets.push(targetOf(dir, JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; entry: string; hooks?: string[] }));
    if (depth === 0) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() && !['wit', 'wat', 'node_modules'].includes(e.name)) visit(join(dir, e.name), depth - 1);
  };
  visit(PLUGINS, 2);
  return targets.sort((a, b) => a.dir.localeCompare(b.dir));
}

function targetOf(dir: string, manifest: { name: string; entry: string; hooks?: string[] }): Target {
  const output = join(dir, manifest.entry);
  const stem = output.replace(/\.wasm$/, '');
  const source = [`${stem}.wat`, `${stem}.js`].find((f) => existsSync(f));
  if (!source) throw new Error(`${relative(ROOT, dir)}: no ${basename(stem)}.wat or ${basename(stem)}.js to build ${manifest.entry} from`);
  const own = join(dir, 'world.wit');
  let wit: Target['wit'];
  if (existsSync(own)) {
    const text = readFileSync(own, 'utf8');
    const world = /^world\s+([\w-]+)/m.exec(text)?.[1];
    if (!world) throw new Error(`${relative(ROOT, own)} declares no world`);
    wit = { text, world, dir };
  } else {
    wit = { text: readFileSync(join(WIT_DIR, 'isg-plugin.wit'), 'utf8'), world: manifest.hooks?.includes('onUpdate') ? 'update-plugin' : 'query-plugin', dir: WIT_DIR };
  }
  return { name: manifest.name, dir, source, output, wit };
}

/** Everything the output depends on. */
function inputsHash(t: Target): string {
  const h = createHash('sha256').update(`recipe ${RECIPE}\njco ${jcoVersion()}\nworld ${t.wit.world}\n`).update(t.wit.text);
  if (t.source.endsWith('.wat')) h.update(readFileSync(PRELUDE));
  // a JS plugin may import its sibling modules
  const files = t.source.endsWith('.js') ? readdirSync(t.dir).filter((f) => f.endsWith('.js')).sort() : [basename(t.source)];
  for (const f of files) h.update(`\n${f}\n`).update(readFileSync(join(t.dir, f)));
  return h.digest('hex');
}

const JCO_DIR = join(ROOT, 'node_modules', '@bytecodealliance', 'jco');

function jcoVersion(): string {
  return (JSON.parse(readFileSync(join(JCO_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Jco {
  parse(wat: string): Promise<Uint8Array>;
  componentEmbed(opts: { binary: Uint8Array; witSource: string; world: string }): Promise<Uint8Array>;
  componentNew(bytes: Uint8Array): Promise<Uint8Array>;
}

async function buildWat(t: Target): Promise<void> {
  const jco = (await import('@bytecodealliance/jco')) as unknown as Jco;
  const text = readFileSync(t.source, 'utf8');
  if (!text.includes(PRELUDE_MARK)) throw new Error(`${relative(ROOT, t.source)}: no "${PRELUDE_MARK}" line to put the prelude at`);
  const core = await jco.parse(text.replace(PRELUDE_MARK, readFileSync(PRELUDE, 'utf8')));
  // jco 1.35's embed cannot read WIT from a path (its sandbox finds no files), so it gets the text
  const embedded = await jco.componentEmbed({ binary: core, witSource: t.wit.text, world: t.wit.world });
  writeFileSync(t.output, await jco.componentNew(embedded));
}

function buildJs(t: Target): void {
  const bin = join(JCO_DIR, 'dist', 'jco.js');
  const args = [bin, 'componentize', '--backend', 'qjs', '--backend-qjs-disable-async', '--backend-qjs-stub-wasi', '--wit', relative(ROOT, t.wit.dir ?? WIT_DIR), '--world-name', t.wit.world, '-o', t.output, t.source];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`jco componentize failed for ${relative(ROOT, t.source)}:\n${r.stdout}${r.stderr}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const force = argv.includes('--force');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]?.split(',') ?? []) : undefined;
  const targets = findTargets().filter((t) => !only || only.has(t.name));
  let built = 0;
  for (const t of targets) {
    const stamp = join(STAMPS, `${relative(PLUGINS, t.dir).replace(/[\\/]/g, '__')}.sha256`);
    const hash = inputsHash(t);
    if (!force && existsSync(t.output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) continue;
    const t0 = performance.now();
    if (t.source.endsWith('.wat')) await buildWat(t);
    else buildJs(t);
    mkdirSync(STAMPS, { recursive: true });
    writeFileSync(stamp, hash);
    built++;
    console.log(`build:wasm: ${relative(ROOT, t.output)} (${(statSync(t.output).size / 1024).toFixed(1)} KiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(`build:wasm: ${built} built, ${targets.length - built} up to date`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
