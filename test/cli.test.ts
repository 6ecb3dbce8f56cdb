// The isg CLI as a user runs it (the bin, bin/isg.cjs, in child processes; Deno: the sources) against
// one daemon on a temp copy of rxjs's sources: the daemon is started by the first query, as a
// user's would be, and stopped by `isg stop` at the end. --json answers are compared with the
// same queries run in this process on a fresh index of the same files, so every flag is
// checked to reach the daemon as the argument it names.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { BlastRadiusResult, CyclesResult, ExportedGraph, LookupResult, OutlineResult, PluginInfo, PluginsResult, RelationResult, StatsResult, StatusResult } from '../client/protocol.ts';
import { encodeFrame } from '../client/framing.ts';
import { bundleIsCurrent, DAEMON_BUNDLE, DAEMON_BUNDLE_MANIFEST } from '../daemon/cli/graph-command-loader.ts';
import { changedInputs, readManifest, type BundleManifest } from '../daemon/util/bundle-manifest.ts';
import { colourWanted, locator } from '../daemon/cli/render.ts';
import { exportGraph } from '../daemon/export/graph-json.ts';
import { GraphHost } from '../daemon/host.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { readLock } from '../daemon/server/state-dir.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { RUNTIME } from '../daemon/util/runtime.ts';
import { fakeDaemon } from './support/fake-daemon.ts';
import { exits, runCli, type Run } from './support/run-cli.ts';
import { tempDir } from './support/temp-dirs.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');
const ANSI = /\x1b\[[0-9;]*m/;

describe('the isg CLI against a daemon on rxjs', { concurrency: 4 }, () => {
  let root: string;
  let host: GraphHost;
  /** isg with --root, run from the root unless `cwd` is given. */
  const isg = (args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) => runCli([...args, '--root', root], { cwd: o.cwd ?? root, ...(o.env ? { env: o.env } : {}) });
  const json = async <T>(args: string[], code = 0): Promise<T> => {
    const r = await isg([...args, '--json']);
    exits(r, code);
    return JSON.parse(r.stdout) as T;
  };
  let first: { statusBefore: Run; noSpawn: Run; spawned: Run };

  before(async () => {
    root = tempDir('isg-cli-');
    cpSync(RXJS, join(root, 'src'), { recursive: true });
    const oracle = GraphHost.index(root);
    const statusBefore = await isg(['status']);
    const noSpawn = await isg(['callers', 'Subscriber.next', '--no-spawn']);
    const spawned = await isg(['lookup', 'Subject', '--kind', 'class']);
    first = { statusBefore, noSpawn, spawned };
    host = await oracle;
  });

  after(async () => {
    const stop = await isg(['stop']);
    const lock = readLock(join(root, '.isg', 'daemon.lock'));
    if (lock) process.kill(lock.pid, 'SIGKILL'); // stop failed: do not leave it running
    exits(stop, 0);
    assert.match(stop.stdout, /stopped the daemon for .* \(pid \d+\)/);
    assert.ok(!existsSync(join(root, '.isg', 'daemon.sock')), 'the socket is gone');
    exits(await isg(['status']), 3);
  });

  test('without a daemon: status and --no-spawn exit 3 saying how to start one; a query starts one', () => {
    exits(first.statusBefore, 3);
    assert.equal(first.statusBefore.stderr.trim(), `isg status: no daemon for ${root}: start one with \`isg serve ${root}\``);
    exits(first.noSpawn, 3);
    assert.match(first.noSpawn.stderr, /no daemon for .*: start one with `isg serve .*` \(or leave out --no-spawn and isg starts it\)/);
    exits(first.spawned, 0);
    assert.match(first.spawned.stderr, /isg: started a daemon for .* \(pid \d+; log .*daemon\.log\)/);
    assert.match(first.spawned.stderr, /isg: indexed 252 files of /);
    assert.match(first.spawned.stdout, /^class\s+Subject\s+src\/internal\/Subject\.ts:17\s+export class Subject<T>/m);
    assert.match(first.spawned.stdout, /1 match \(exact\) in [\d.]+ m?s/);
  });

  test('status: the daemon, as text and as a StatusResult', async () => {
    const r = await isg(['status']);
    exits(r, 0);
    assert.match(r.stdout, new RegExp(`^daemon for .*\\n\\s+state\\s+ready, generation 1\\n\\s+pid\\s+\\d+ \\(${RUNTIME}\\)`));
    assert.match(r.stdout, /^\s+files\s+252$/m);
    const s = await json<StatusResult>(['status']);
    assert.equal(s.state, 'ready');
    assert.equal(s.root, root);
    assert.equal(s.files, 252);
    assert.equal(s.entities, host.store.entityCount);
    assert.equal(readLock(join(root, '.isg', 'daemon.lock'))?.pid, s.pid);
  });

  test('relation commands: flags reach the daemon as the arguments they name; text lists every result', async () => {
    // The text of half of them is checked too (each run is a process start).
    const cases: [string[], string, Record<string, unknown>, boolean?][] = [
      [['implements', 'Observer'], 'implements', { entity: 'Observer' }, true],
      [['implements', 'Observer', '--no-transitive'], 'implements', { entity: 'Observer', transitive: false }],
      [['supertypes', 'SafeSubscriber', '--depth', '2'], 'supertypes', { entity: 'SafeSubscriber', transitive: true, depth: 2 }],
      [['callers', 'Subscriber.next', '--limit', '5'], 'callers', { entity: 'Subscriber.next', limit: 5 }, true],
      [['callers', 'src/internal/Subscriber.ts#Subscriber.next', '--transitive', '--depth', '2', '--no-inferred'], 'callers', { entity: 'src/internal/Subscriber.ts#Subscriber.next', transitive: true, depth: 2, inferred: false }],
      [['callees', 'mergeInternals'], 'callees', { entity: 'mergeInternals' }],
      [['uses', 'Observable.subscribe'], 'uses', { entity: 'Observable.subscribe' }, true],
      [['used-by', 'Subscriber', '--depth', '3'], 'used-by', { entity: 'Subscriber', transitive: true, depth: 3 }, true],
    ];
    await Promise.all(
      cases.map(async ([args, op, opArgs, checkText]) => {
        const expected = runQuery(host, op, opArgs) as RelationResult;
        assert.ok(expected.total > 0, `${args.join(' ')} finds something`);
        assert.deepEqual(await json<RelationResult>(args), expected, args.join(' '));
        if (!checkText) return;
        const text = await isg(args);
        exits(text, 0);
        const lines = text.stdout.trimEnd().split('\n');
        assert.equal(lines[0], `${{ implements: 'implementors of', supertypes: 'supertypes of', callers: 'callers of', callees: 'callees of', uses: 'types used by', 'used-by': 'users of' }[op]} ${expected.entity.kind} ${expected.entity.name}  ${expected.entity.location}`);
        for (const x of expected.results) assert.ok(lines.some((l) => l.includes(x.location) && l.includes(x.name)), `${args.join(' ')} lists ${x.location}`);
        assert.match(lines.at(-1)!, new RegExp(`^${expected.total} \\w.* in [\\d.]+ m?s${expected.results.length < expected.total ? `; showing ${expected.results.length} \\(--limit N for more\\)` : ''}$`));
      }),
    );
  });

  test('nothing found exits 1 with a sentence; --json too', async () => {
    const r = await isg(['callers', 'pairwise']);
    exits(r, 1);
    assert.match(r.stdout, /^no callers of function pairwise {2}src\/internal\/operators\/pairwise\.ts:\d+$/m);
    const empty = await json<RelationResult>(['callers', 'pairwise'], 1);
    assert.equal(empty.total, 0);
    exits(await isg(['lookup', 'zzzqqqxxx']), 1);
  });

  test('an unknown entity exits 1 with the daemon\'s suggestions, as text and as a JSON error', async () => {
    const r = await isg(['callers', 'Subscriberr']);
    exits(r, 1);
    assert.match(r.stderr, /^isg callers: no entity named Subscriberr; did you mean Subscriber, /);
    const e = await json<{ error: { code: string; message: string; details: { suggestions: string[] } } }>(['callers', 'Subscriberr'], 1);
    assert.equal(e.error.code, 'not-found');
    assert.ok(e.error.details.suggestions.includes('Subscriber'));
  });

  test('an ambiguous name exits 2 listing the candidates with their locations', async () => {
    const r = await isg(['callers', 'next']);
    exits(r, 2);
    assert.match(r.stderr, /"next" names \d+ entities; pass one id/);
    assert.match(r.stderr, /^candidates:\n\s+method\s+src\/internal\/AsyncSubject\.ts#AsyncSubject\.next\s+src\/internal\/AsyncSubject\.ts:\d+$/m);
  });

  test('usage errors exit 2 and name the flag, with "did you mean"', async () => {
    const cases: [string[], RegExp][] = [
      [['callers', 'Subscriber.next', '--dept', '2'], /unknown option --dept; did you mean --depth\? \(isg callers --help lists the options\)/],
      [['callers', 'Subscriber.next', '--depth', 'two'], /option --depth must be a whole number, got "two"/],
      [['callers', 'Subscriber.next', '--depth'], /option --depth needs a value \(N\)/],
      [['callers', 'Subscriber.next', '--depth', '2', '--no-transitive'], /--depth counts hops of a transitive walk: leave out --no-transitive/],
      [['callers', 'Subscriber.next', '--depth', '0'], /argument "depth" must be an integer from 1 to 100, got 0/],
      [['callers'], /missing ENTITY: isg callers ENTITY \[options\]/],
      [['callers', 'Subscriber', 'next'], /unexpected argument "next"/],
      [['lookup', 'Subject', '--mode', 'fuzy'], /option --mode: unknown value "fuzy"; did you mean fuzzy\? \(one of auto, exact, prefix, fuzzy\)/],
      [['lookup', 'Subject', '--kind', 'class,klass'], /option --kind: unknown value "klass"; did you mean class\?/],
      [['cycles', '--kind', 'call'], /did you mean calls\?/],
      [['callers', 'Subscriber.next', '--transitive=yes'], /option --transitive takes no value \(got "yes"\)/],
      [['export', '--format', 'dot'], /--format dot draws a neighbourhood: give --focus ENTITY/],
      [['export', '--depth', '2'], /--depth and --kinds choose a neighbourhood: give --focus ENTITY/],
      [['plugins', 'frob'], /unknown action "frob"/],
      [['plugins', 'unload'], /missing NAME: isg plugins unload NAME/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const r = await isg(args);
        exits(r, 2);
        assert.match(r.stderr, message, args.join(' '));
      }),
    );
    const unknown = await runCli(['caller', 'x']);
    exits(unknown, 2);
    assert.match(unknown.stderr, /unknown command "caller"; did you mean callers\?/);
  });

  test('lookup: flags and output', async () => {
    const args = { name: 'Subj', mode: 'prefix', kind: ['class', 'interface'], limit: 3 };
    const expected = runQuery(host, 'lookup', args) as LookupResult;
    assert.deepEqual(await json<LookupResult>(['lookup', 'Subj', '--mode', 'prefix', '--kind', 'class,interface', '--limit', '3']), expected);
    const withPath = runQuery(host, 'lookup', { name: 'map', path: 'src/internal/operators' }) as LookupResult;
    assert.ok(withPath.total > 0);
    // --path typed relative to the cwd (src/) reaches the daemon relative to the root
    const fromSrc = await runCli(['lookup', 'map', '--path', 'internal/operators', '--json', '--root', root], { cwd: join(root, 'src') });
    exits(fromSrc, 0);
    assert.deepEqual(JSON.parse(fromSrc.stdout), withPath);
    const text = await isg(['lookup', 'Subj', '--mode', 'prefix', '--limit', '1']);
    exits(text, 0);
    assert.match(text.stdout, /^kind\s+name\s+location\s+signature$/m);
    assert.match(text.stdout, /\d+ matches \(prefix\) in [\d.]+ m?s; showing 1 \(--limit N for more\)$/m);
  });

  test('blast-radius: JSON equals the query; text groups by distance and file', async () => {
    const args = { entity: 'pipeFromArray', depth: 2, kinds: ['calls'], members: false, inferred: true, limit: 4 };
    const expected = runQuery(host, 'blast-radius', args) as BlastRadiusResult;
    assert.deepEqual(await json<BlastRadiusResult>(['blast-radius', 'pipeFromArray', '--depth', '2', '--kinds', 'calls', '--no-members', '--inferred', '--limit', '4']), expected);
    const r = await isg(['blast-radius', 'pipeFromArray', '--depth', '2']);
    exits(r, 0);
    const full = runQuery(host, 'blast-radius', { entity: 'pipeFromArray', depth: 2 }) as BlastRadiusResult;
    assert.match(r.stdout, /^blast radius of function pipeFromArray {2}src\/internal\/util\/pipe\.ts:\d+ {2}\(depth 2 over calls, uses-type, extends, implements\)$/m);
    for (const d of full.byDistance) assert.match(r.stdout, new RegExp(`^distance ${d.distance} · ${d.count} entit`, 'm'));
    assert.match(r.stdout, new RegExp(`^${full.total} dependents in ${full.files} files in`, 'm'));
  });

  test('cycles: imports and calls, flags mapped', async () => {
    for (const [args, opArgs] of [
      [['cycles'], {}],
      [['cycles', '--ignore-type-only', '--limit', '2'], { ignoreTypeOnly: true, limit: 2 }],
      [['cycles', '--kind', 'calls', '--inferred', '--self-loops'], { kind: 'calls', inferred: true, selfLoops: true }],
    ] as [string[], Record<string, unknown>][]) {
      const expected = runQuery(host, 'cycles', opArgs) as CyclesResult;
      assert.ok(expected.total > 0);
      assert.deepEqual(await json<CyclesResult>(args), expected, args.join(' '));
    }
    const r = await isg(['cycles']);
    exits(r, 0);
    assert.match(r.stdout, /^cycle 1 · \d+ modules\n {2}src\/internal\/\S+\.ts$/m);
  });

  test('outline: a file named from a subdirectory, locations relative to it', async () => {
    const expected = runQuery(host, 'outline', { file: 'src/internal/Subject.ts' }) as OutlineResult;
    const sub = join(root, 'src', 'internal');
    const r = await runCli(['outline', 'Subject.ts', '--json', '--root', root], { cwd: sub });
    exits(r, 0);
    assert.deepEqual(JSON.parse(r.stdout), expected);
    const text = await runCli(['outline', 'Subject.ts', '--root', root], { cwd: sub });
    exits(text, 0);
    assert.match(text.stdout, /^Subject\.ts\n {2}Subject\.ts:17\s+class\s+Subject\s+export class Subject<T>/);
    assert.match(text.stdout, /^ {2}Subject\.ts:\d+\s+method\s+ {2}next\s+next\(value: T\)/m);
    assert.match(text.stdout, new RegExp(`^${expected.entities.length} entities in`, 'm'));
    const missing = await isg(['outline', 'src/internal/Subjekt.ts']);
    exits(missing, 1);
    assert.match(missing.stderr, /no indexed file src\/internal\/Subjekt\.ts/);
  });

  test('from a subdirectory without --root: the daemon of the nearest .isg/ above answers', async () => {
    const sub = join(root, 'src', 'internal', 'operators');
    const status = await runCli(['status', '--json'], { cwd: sub });
    exits(status, 0);
    const s = JSON.parse(status.stdout) as StatusResult;
    assert.equal(s.root, root);
    assert.equal(s.pid, readLock(join(root, '.isg', 'daemon.lock'))?.pid);
    // --no-spawn: a daemon of its own for the subdirectory would be the bug.
    const found = await runCli(['lookup', 'Subject', '--kind', 'class', '--json', '--no-spawn'], { cwd: sub });
    exits(found, 0);
    assert.equal(found.stderr, '');
    assert.equal((JSON.parse(found.stdout) as LookupResult).matches[0]?.id, 'src/internal/Subject.ts#Subject');
    const text = await runCli(['outline', 'map.ts', '--no-spawn'], { cwd: sub });
    exits(text, 0);
    assert.match(text.stdout, /^map\.ts\n {2}map\.ts:\d+\s+function\s+map\s/);
  });

  test('stats: the StatsResult, and a table of it', async () => {
    const expected = runQuery(host, 'stats', { diagnostics: 3 }) as StatsResult;
    assert.deepEqual(await json<StatsResult>(['stats', '--diagnostics', '3']), expected);
    const r = await isg(['stats']);
    exits(r, 0);
    assert.match(r.stdout, new RegExp(`^files\\s+252\\s+[\\d.]+ MB, ${expected.lines.toLocaleString('en-US')} lines$`, 'm'));
    assert.match(r.stdout, new RegExp(`^entities\\s+${expected.entities.toLocaleString('en-US')}\\s+module 252, `, 'm'));
    assert.match(r.stdout, /^ {2}calls\s+[\d,]+/m);
  });

  test('export: the whole graph equals isg index --export; neighbourhoods as DOT and Mermaid', async () => {
    const out = join(tempDir('isg-cli-export-'), 'graph.json');
    const r = await isg(['export', '--out', out]);
    exits(r, 0);
    const graph = JSON.parse(readFileSync(out, 'utf8')) as ExportedGraph;
    const expected = exportGraph(host, root);
    assert.equal(graph.entities.length, expected.entities.length);
    assert.equal(graph.edges.length, expected.edges.length);
    assert.ok(expected.entities.length + expected.edges.length > 2000, 'more than one page');
    assert.deepEqual(graph, expected);
    assert.match(r.stdout, new RegExp(`^isg export: ${expected.entities.length.toLocaleString('en-US')} entities and ${expected.edges.length.toLocaleString('en-US')} edges as json to `));
    const stdout = await isg(['export', '--json']);
    exits(stdout, 0);
    assert.deepEqual(JSON.parse(stdout.stdout), expected);

    const dot = await isg(['export', '--format', 'dot', '--focus', 'src/internal/Subject.ts#Subject']);
    exits(dot, 0);
    assert.match(dot.stdout, /^digraph isg \{\n/);
    assert.match(dot.stdout, /label="class Subject\\nsrc\/internal\/Subject\.ts:17"/);
    assert.match(dot.stderr, /isg export: \d+ entities and \d+ edges around class Subject as dot to stdout/);
    const mermaid = await isg(['export', '--format', 'mermaid', '--focus', 'Subject', '--depth', '3']);
    exits(mermaid, 0);
    assert.match(mermaid.stdout, /^flowchart LR\n/);
    assert.match(mermaid.stderr, /the neighbourhood has more than 400 entities and was cut/);
    const around = JSON.parse((await isg(['export', '--focus', 'SafeSubscriber', '--kinds', 'extends,implements'])).stdout) as ExportedGraph;
    assert.deepEqual(around.entities.map((e) => e.id).sort(), ['src/internal/Subscriber.ts#SafeSubscriber', 'src/internal/Subscriber.ts#Subscriber']);
    assert.deepEqual(around.edges, [{ kind: 'extends', from: 'src/internal/Subscriber.ts#SafeSubscriber', to: 'src/internal/Subscriber.ts#Subscriber', resolution: 'resolved' }]);
  });

  test('plugins: list, load a plugin directory, call it, reload it (edited too) and unload it', async () => {
    const dir = join(tempDir('isg-cli-plugin-'), 'greeter');
    mkdirSync(dir);
    writeFileSync(join(dir, 'isg-plugin.json'), JSON.stringify({ name: 'greeter', version: '1.2.3', tier: 'builtin', entry: 'index.mjs', ops: ['greet'] }));
    writeFileSync(join(dir, 'index.mjs'), 'export default { activate() { return { ops: { greet: () => "hello" } }; } };\n');
    const list = await json<PluginsResult>(['plugins']);
    assert.ok(list.plugins.some((p) => p.name === 'core' && p.state === 'active' && p.ops.includes('callers')));
    const text = await isg(['plugins', 'list']);
    exits(text, 0);
    assert.match(text.stdout, /^name\s+version\s+tier\s+state\s+ops\s+calls\s+p50\s+p99 \/ budget\s+update p99 \/ budget\s+ceiling\s+memory \/ budget\s+ejections$/m);
    assert.match(text.stdout, /^core\s+1\.0\.0\s+builtin\s+active\s+\d+/m);
    // the core's contract (daemon/plugins/builtin/core.ts): 50 ms query p99, 12 ms update p99, 10 s ceiling, 1024 MB
    assert.match(text.stdout, /^core .* \/ 50\.0 ms\s+- \/ 12\.0 ms\s+10\.0 s\s+- \/ 1024 MB\s+0$/m);
    const loaded = await json<PluginInfo>(['plugins', 'load', dir]);
    assert.equal(loaded.name, 'greeter');
    assert.equal(loaded.state, 'active');
    assert.deepEqual(loaded.ops, ['greeter/greet']);
    assert.equal(await json<string>(['call', 'greeter/greet']), 'hello');
    const reloaded = await isg(['plugins', 'reload', 'greeter']);
    exits(reloaded, 0);
    assert.match(reloaded.stdout, /^plugin greeter 1\.2\.3 \(builtin\): active; ops greeter\/greet in [\d.]+ m?s$/m);
    assert.equal(await json<string>(['call', 'greeter/greet']), 'hello', 'a reloaded plugin answers');
    writeFileSync(join(dir, 'index.mjs'), 'export default { activate() { return { ops: { greet: () => "hello again" } }; } };\n');
    exits(await isg(['plugins', 'reload', 'greeter']), 0);
    assert.equal(await json<string>(['call', 'greeter/greet']), 'hello again', 'a reload picks up the edited module');
    assert.equal((await json<PluginInfo>(['plugins', 'unload', 'greeter'])).state, 'unloaded');
    const unknown = await isg(['plugins', 'reload', 'nobody']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /nobody/);
  });

  test('plugins: after an ejection the list says why, with the latency window it was judged on', async () => {
    const dir = join(tempDir('isg-cli-plugin-'), 'hog');
    mkdirSync(dir);
    writeFileSync(join(dir, 'isg-plugin.json'), JSON.stringify({ name: 'hog', version: '1.0.0', tier: 'builtin', entry: 'index.mjs', ops: ['hog'], budget: { ceilingMs: 20 } }));
    // its second call busy for 40 ms: past the 20 ms ceiling, so ejected at once (the first is
    // quick: a first call is kept out of the window, and the window is what this shows)
    writeFileSync(join(dir, 'index.mjs'), 'let calls = 0;\nexport default { activate() { return { ops: { hog: () => { const end = performance.now() + (calls++ ? 40 : 0); while (performance.now() < end); return "done"; } } }; } };\n');
    exits(await isg(['plugins', 'load', dir]), 0);
    assert.equal(await json<string>(['call', 'hog/hog']), 'done');
    assert.equal(await json<string>(['call', 'hog/hog']), 'done');
    const text = await isg(['plugins']);
    exits(text, 0);
    assert.match(text.stdout, /^hog\s+1\.0\.0\s+builtin\s+ejected\s+1\s+1\s+\d+\.\d ms\s+\d+\.\d ms \/ 1\.0 ms\s+- \/ 12\.0 ms\s+20 ms\s+- \/ 5 MB\s+1$/m);
    assert.match(
      text.stdout,
      /^hog: ejected \d{4}-\d\d-\d\dT[\d:.]+Z: one call to hog took \d+\.\d ms, past the hard ceiling of 20 ms \(window: p50 \d+\.\d ms, p90 \d+\.\d ms, p99 \d+\.\d ms, max \d+\.\d ms over 1 call\); isg plugins reload hog re-admits it$/m,
    );
  });

  test('call: a bundled native plugin op answers like the core cycles query; bad JSON is a usage error', async () => {
    const list = await json<PluginsResult>(['plugins']);
    for (const name of ['scc', 'pagerank']) assert.ok(list.plugins.some((p) => p.name === name && p.tier === 'native' && p.state === 'active'), `${name} is bundled and active`);
    const scc = await json<{ components: { members: { id: string }[] }[] }>(['call', 'scc/components', '{"kinds":["imports"],"minSize":2}']);
    const cycles = runQuery(host, 'cycles', { kind: 'imports' }) as CyclesResult;
    const sets = (cs: { members: { id: string }[] }[]) => cs.map((c) => c.members.map((m) => m.id).sort().join(' ')).sort();
    assert.ok(cycles.total > 0);
    assert.deepEqual(sets(scc.components), sets(cycles.cycles));
    const bad = await isg(['call', 'scc/components', '{kinds']);
    exits(bad, 2);
    assert.match(bad.stderr, /ARGS_JSON is not valid JSON/);
  });

  test('colour: none when piped, on with FORCE_COLOR, off with NO_COLOR', async () => {
    const plain = await isg(['callers', 'Subscriber.next', '--limit', '2']);
    assert.doesNotMatch(plain.stdout, ANSI);
    const forced = await isg(['callers', 'Subscriber.next', '--limit', '2'], { env: { FORCE_COLOR: '1' } });
    assert.match(forced.stdout, ANSI);
    assert.deepEqual(forced.stdout.replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(0, -2), plain.stdout.split('\n').slice(0, -2), 'the same text under the colour');
    const noColour = await isg(['callers', 'Subscriber.next', '--limit', '2'], { env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColour.stdout, ANSI);
  });
});

describe('CLI pieces without a daemon', () => {
  test('the isg command (its shebang) clears NODE_EXTRA_CA_CERTS, which Node would parse before any JavaScript', { skip: RUNTIME === 'deno' ? 'the bin is Node\'s' : false }, async () => {
    const bin = join(packageRoot(), 'bin', 'isg.cjs');
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(bin, ['help'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/no/such/bundle.pem' } }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /isg/);
    assert.doesNotMatch(run.stderr, /extra certs/, 'Node did not look for the bundle');
  });

  test('colourWanted: FORCE_COLOR decides, then NO_COLOR, then TERM=dumb, then the terminal', () => {
    assert.equal(colourWanted(false, {}), false);
    assert.equal(colourWanted(true, {}), true);
    assert.equal(colourWanted(true, { NO_COLOR: '1' }), false);
    assert.equal(colourWanted(true, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
    assert.equal(colourWanted(true, { TERM: 'dumb' }), false);
    assert.equal(colourWanted(false, { FORCE_COLOR: '1' }), true);
    assert.equal(colourWanted(false, { FORCE_COLOR: '' }), true);
    assert.equal(colourWanted(true, { FORCE_COLOR: '0' }), false);
    assert.equal(colourWanted(true, { FORCE_COLOR: 'false', NO_COLOR: '' }), false);
    assert.equal(colourWanted(false, { FORCE_COLOR: '1', NO_COLOR: '1' }), true);
  });

  test('locations: relative to the cwd inside the root or above it, absolute from elsewhere', () => {
    const atRoot = locator('/r', '/r');
    assert.equal(atRoot('src/a.ts', 3), 'src/a.ts:3');
    assert.equal(atRoot('src/a.ts'), 'src/a.ts');
    assert.equal(atRoot('a.ts', 1), 'a.ts:1');
    const inSub = locator('/r', '/r/src/lib');
    assert.equal(inSub('src/a.ts', 3), '../a.ts:3');
    assert.equal(inSub('src/lib/b.ts', 4), 'b.ts:4');
    assert.equal(inSub('src/lib/x/c.ts', 5), 'x/c.ts:5');
    assert.equal(inSub('top.ts', 6), '../../top.ts:6');
    assert.equal(locator('/w/r', '/w')('src/a.ts', 3), 'r/src/a.ts:3');
    assert.equal(locator('/w/r', '/elsewhere')('src/a.ts', 3), '/w/r/src/a.ts:3');
  });

  test('every command has help with examples; isg help lists them all', async () => {
    const all = await runCli(['help']);
    exits(all, 0);
    const commands = [...all.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
    assert.deepEqual(commands.sort(), ['blast-radius', 'call', 'callees', 'callers', 'context', 'cycles', 'export', 'implements', 'index', 'lookup', 'outline', 'plugins', 'serve', 'stats', 'status', 'stop', 'supertypes', 'used-by', 'uses']);
    const viaHelp = await runCli(['help', 'callers']);
    await Promise.all(
      commands.map(async (c) => {
        const viaFlag = await runCli([c, '--help']);
        exits(viaFlag, 0);
        if (c === 'callers') assert.equal(viaHelp.stdout, viaFlag.stdout);
        assert.match(viaFlag.stdout, new RegExp(`^usage: isg ${c} `));
        assert.match(viaFlag.stdout, new RegExp(`\\nexamples:\\n {2}(npx )?isg ${c}`), c);
      }),
    );
    exits(await runCli([]), 2);
  });

  test('a daemon that drops the connection mid-request: exit 3, saying so', async () => {
    const fake = await fakeDaemon((_r, s) => s.destroy());
    try {
      const r = await runCli(['callers', 'Foo', '--root', fake.root]);
      exits(r, 3);
      assert.match(r.stderr, /^isg callers: the connection to the daemon was lost before it answered callers\n.*isg status --root /);
      assert.deepEqual(fake.requests.map((q) => [q.op, q.args]), [['callers', { entity: 'Foo' }]]);
    } finally {
      await fake.close();
    }
  });

  test('a daemon speaking another protocol: exit 3 with its refusal', async () => {
    const fake = await fakeDaemon(
      () => undefined,
      (r, s) => void s.write(encodeFrame({ id: r.id, ok: false, error: { code: 'bad-args', message: 'this daemon speaks protocol 2, the client 1; upgrade the older of the two' } })),
    );
    try {
      const r = await runCli(['callers', 'Foo', '--root', fake.root]);
      exits(r, 3);
      assert.match(r.stderr, /^isg callers: the daemon for .* refused the connection: this daemon speaks protocol 2, the client 1; upgrade the older of the two\n/);
    } finally {
      await fake.close();
    }
  });

  test('a daemon that does not answer in --timeout: exit 3, naming the op and the time', async () => {
    const fake = await fakeDaemon(() => undefined);
    try {
      const r = await runCli(['callers', 'Foo', '--root', fake.root, '--timeout', '300']);
      exits(r, 3);
      assert.match(r.stderr, /callers got no answer within \d+ ms/);
    } finally {
      await fake.close();
    }
  });

  test('the query path loads no graph, tree-sitter or daemon code', () => {
    // Static imports from the CLI's entry through a query command; dynamic imports are lazy.
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?['"](\.[^'"]+)['"]/gm)) visit(join(file, '..', m[1]!));
    };
    const cli = join(packageRoot(), 'dist', 'daemon', 'cli');
    for (const entry of ['main.js', 'query-command.js', 'status-command.js', 'stop-command.js', 'plugins-command.js', 'export-command.js', 'session.js', 'spawn-daemon.js']) visit(join(cli, entry));
    const loaded = [...seen].map((f) => f.slice(join(packageRoot(), 'dist').length + 1)).sort();
    const heavy = loaded.filter((f) => /^daemon\/(ingest|graph|resolve|plugins|export|host|server\/(daemon|connection|config))/.test(f) || (f.startsWith('daemon/queries/') && f !== 'daemon/queries/fuzzy.js'));
    assert.deepEqual(heavy, [], `loaded: ${loaded.join(', ')}`);
    for (const f of loaded) assert.doesNotMatch(readFileSync(join(packageRoot(), 'dist', f), 'utf8'), /from ['"]tree-sitter/, f);
  });

  test('the bin runs the bundle from a V8 code cache per command, written by the first run and replaced when V8 rejects it', { skip: RUNTIME === 'deno' && 'the bin is for Node' }, async () => {
    // A copy of the bin and the bundle, so the cache goes to a directory of this test's own.
    const pkg = tempDir('isg-bin-');
    mkdirSync(join(pkg, 'bin'));
    mkdirSync(join(pkg, 'dist'));
    cpSync(join(packageRoot(), 'bin', 'isg.cjs'), join(pkg, 'bin', 'isg.cjs'));
    cpSync(join(packageRoot(), 'dist', 'isg.cjs'), join(pkg, 'dist', 'isg.cjs'));
    const cacheDir = join(pkg, 'dist', '.v8-cache');
    const stale = join(cacheDir, `isg-${process.version}-${process.arch}-1-1-help.bin`);
    mkdirSync(cacheDir);
    writeFileSync(stale, 'an earlier build');
    const isg = (...args: string[]) => runCli(args, { script: join(pkg, 'bin', 'isg.cjs') });
    const first = await isg('help');
    exits(first, 0);
    const caches = () => readdirSync(cacheDir).filter((f) => f.endsWith('-help.bin'));
    assert.equal(caches().length, 1, caches().join(', '));
    assert.ok(!existsSync(stale), "an earlier build's cache is removed");
    const cache = join(cacheDir, caches()[0]!);
    const made = readFileSync(cache);
    assert.ok(made.length > 1000);
    // used as it is: same output, cache untouched
    const second = await isg('help');
    assert.deepEqual(second, first);
    assert.deepEqual(readFileSync(cache), made);
    // one V8 rejects (garbage) is written anew; the command works all the same
    writeFileSync(cache, Buffer.alloc(made.length, 7));
    assert.deepEqual(await isg('help'), first);
    assert.ok(readFileSync(cache).equals(made) || readFileSync(cache)[0] !== 7, 'the rejected cache was replaced');
    // another command has a cache of its own; a mistyped one gets none
    exits(await isg('lookup', '--help'), 0);
    exits(await isg('lookpu', 'x'), 2);
    assert.deepEqual(readdirSync(cacheDir).map((f) => f.replace(/^.*-/, '')).sort(), ['help.bin', 'lookup.bin']);
  });

  test('the bundle (dist/isg.cjs) is built from the current sources and holds no graph, tree-sitter or daemon code', () => {
    const manifest = currentManifest('dist/isg.cjs');
    const inputs = Object.keys(manifest.inputs);
    assert.ok(inputs.includes('daemon/cli/main.ts') && inputs.includes('daemon/cli/query-command.ts') && inputs.includes('client/client.ts'), inputs.join(', '));
    const heavy = inputs.filter((f) => /^daemon\/(ingest|graph|resolve|plugins|export|host|server\/(daemon|connection|config))/.test(f) || (f.startsWith('daemon/queries/') && f !== 'daemon/queries/fuzzy.ts') || /(^|\/)(tree-sitter|typescript)/.test(f));
    assert.deepEqual(heavy, [], `bundled: ${inputs.join(', ')}`);
    // Left to Node: its built-in modules alone. The commands that load the graph come from the
    // daemon's bundle (or the tsc build), through graph-command-loader.ts, when one of them runs.
    assert.deepEqual(manifest.external.filter((x) => !x.startsWith('node:')), []);
    assert.ok(inputs.includes('daemon/cli/graph-command-loader.ts'));
  });

  test('the daemon\'s bundle (dist/isg-daemon.cjs) is built from the current sources, holds serve and index, and finds the scripts of its workers', async () => {
    const root = packageRoot();
    const manifest = currentManifest(DAEMON_BUNDLE);
    for (const f of ['daemon/cli/serve-command.ts', 'daemon/cli/index-command.ts', 'daemon/server/daemon.ts', 'daemon/host.ts']) assert.ok(f in manifest.inputs, f);
    // Packages stay in node_modules (jco among them, an ES module imported when a component is first transpiled).
    assert.deepEqual(manifest.external.filter((x) => !x.startsWith('node:')).sort(), ['@bytecodealliance/jco', 'hyper-express', 'jco110', 'msgpackr', 'msgpackr/unpack']);
    assert.ok(bundleIsCurrent(root), 'after a build, the bin starts serve and index from the bundle');
    // Each module's import.meta.url is that of its tsc output, which must exist (worker and child scripts are found from it).
    const bundle = readFileSync(join(root, DAEMON_BUNDLE), 'utf8');
    const outputs = [...new Set([...bundle.matchAll(/__isg_module_url\("([^"]+)"\)/g)].map((m) => m[1]!))];
    assert.ok(outputs.includes('daemon/ingest/parse-pool.js') && outputs.includes('daemon/plugins/native-process.js'), outputs.join(', '));
    for (const o of outputs) assert.ok(existsSync(join(root, 'dist', o)), o);
    const commands = createRequire(import.meta.url)(join(root, DAEMON_BUNDLE)) as Record<string, { run?: unknown }>;
    assert.equal(typeof commands.serve?.run, 'function');
    assert.equal(typeof commands.index?.run, 'function');
  });

  test('after a build, isg index (run as a user runs it) loads the daemon from its bundle', { skip: RUNTIME === 'deno' && 'the bundle is Node\'s' }, async () => {
    // A preload says when Node requires the bundle (the tsc build's modules would be imported instead).
    const dir = tempDir('isg-bundle-load-');
    const hook = join(dir, 'hook.cjs');
    writeFileSync(hook, `const M = require('node:module'); const load = M._load; M._load = function (request, ...rest) { if (String(request).endsWith('isg-daemon.cjs')) process.stderr.write('required the daemon bundle\\n'); return load.call(this, request, ...rest); };`);
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.ts'), 'export class A {}\nexport function f(): A { return new A(); }\n');
    const r = await runCli(['index', src], { env: { NODE_OPTIONS: `--require ${hook}` } });
    exits(r, 0);
    assert.match(r.stdout + r.stderr, /indexed 1 files/);
    assert.match(r.stderr, /required the daemon bundle/);
  });

  test('the daemon\'s bundle is used only when made after the tsc build of every module it holds', () => {
    const root = tempDir('isg-daemon-bundle-');
    const at = (file: string, seconds: number) => {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      if (!existsSync(join(root, file))) writeFileSync(join(root, file), '');
      utimesSync(join(root, file), seconds, seconds);
    };
    assert.equal(bundleIsCurrent(root), false, 'no bundle');
    at(DAEMON_BUNDLE, 2000);
    assert.equal(bundleIsCurrent(root), false, 'no manifest');
    writeFileSync(join(root, DAEMON_BUNDLE_MANIFEST), JSON.stringify({ inputs: { 'daemon/a.ts': 'x', 'daemon/b/c.ts': 'y' }, external: [] } satisfies BundleManifest));
    assert.equal(bundleIsCurrent(root), false, 'a tsc output missing');
    at('dist/daemon/a.js', 1000);
    at('dist/daemon/b/c.js', 1500);
    assert.equal(bundleIsCurrent(root), true);
    at('dist/daemon/b/c.js', 2500);
    assert.equal(bundleIsCurrent(root), false, 'tsc ran after the bundle was made');
    at(DAEMON_BUNDLE, 3000);
    assert.equal(bundleIsCurrent(root), true, 'bundled again');
    writeFileSync(join(root, DAEMON_BUNDLE_MANIFEST), '{ not json');
    assert.equal(bundleIsCurrent(root), false, 'a corrupt manifest');
  });
});

/**
 * The manifest daemon/cli/bundle.ts wrote beside `bundle` (what went into it, with a hash of
 * each input), asserting that no input changed since.
 */
function currentManifest(bundle: string): BundleManifest {
  const manifest = readManifest(packageRoot(), `${bundle}.json`);
  assert.deepEqual(changedInputs(packageRoot(), manifest), [], `${bundle} is older than these sources: run \`npm run build\` (or \`npm run build:bin\` after tsc)`);
  return manifest;
}
