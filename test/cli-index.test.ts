// `isg index` as a user runs it: the bin (bin/isg.cjs; Deno: the sources) in a child process, on
// rxjs's sources and on a temp directory of broken files. Checks output shapes and numbers, the
// --export schema (SCHEMA.md, isg-graph/1), pictures, one-off queries and exit codes
// (0 ok, 1 nothing found, 2 usage error).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ExportedGraph } from '../daemon/export/graph-json.ts';
import type { StatsResult } from '../daemon/queries/stats.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { exits, runCli, type Run } from './support/run-cli.ts';
import { tempDir } from './support/temp-dirs.ts';

const ROOT = packageRoot();
const RXJS_REL = 'node_modules/rxjs/src';
const RXJS = join(ROOT, RXJS_REL);

/** Runs `isg ...args` from the package root. */
function isg(...args: string[]): Promise<Run> {
  return runCli(args);
}

/** rxjs/src on disk: the files isg indexes, their UTF-8 bytes and lines (`wc -l`, plus an unterminated last line). */
function rxjsOnDisk(): { files: string[]; bytes: number; lines: number } {
  const files = readdirSync(RXJS, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split('\\').join('/'))
    .filter((f) => /\.(ts|js)$/.test(f))
    .sort();
  let bytes = 0;
  let lines = 0;
  for (const f of files) {
    const buf = readFileSync(join(RXJS, f));
    bytes += buf.length;
    const text = buf.toString('utf8');
    lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  }
  return { files, bytes, lines };
}


describe('isg index on rxjs', { concurrency: true }, () => {
  // Each rxjs run costs about a second of CPU, so every run starts once, here, and does several
  // things at once (an export and --json, or a picture and a query); tests await the runs they check.
  let exportFile: string;
  let pictureDir: string;
  let runs: Record<'main' | 'stdout' | 'dot1' | 'dot2' | 'mermaid' | 'exclude', Promise<Run>>;
  let json: Run;
  let graph: ExportedGraph;

  before(async () => {
    exportFile = join(tempDir('isg-cli-export-'), 'graph.json');
    pictureDir = tempDir('isg-cli-pictures-');
    const focus = ['--format', 'dot', '--focus', 'internal/Subject.ts#Subject'];
    runs = {
      main: isg('index', RXJS_REL, '--export', exportFile, '--json'),
      stdout: isg('index', RXJS_REL, '--export', '-', '--workers', '0'),
      dot1: isg('index', RXJS_REL, '--export', join(pictureDir, 'one.dot'), ...focus, '--depth', '1', '--query', 'implements', '--args', '{"entity":"SubscriptionLike"}'),
      dot2: isg('index', RXJS_REL, '--export', join(pictureDir, 'two.dot'), ...focus, '--depth', '2', '--query', 'blast-radius', '--args', '{"entity":"internal/Observable.ts#Observable.pipe","depth":2}'),
      mermaid: isg('index', RXJS_REL, '--export', join(pictureDir, 'safe.mmd'), '--format', 'mermaid', '--focus', 'SafeSubscriber', '--depth', '1', '--query=lookup', '--args={"name":"Subject.next"}'),
      exclude: isg('index', RXJS_REL, '--json', '--exclude', 'internal/testing/,internal/ajax/'),
    };
    // Rejections are reported by the tests awaiting them; do not leave them unhandled meanwhile.
    for (const p of Object.values(runs)) p.catch(() => {});
    json = await runs.main;
    exits(json, 0);
    graph = JSON.parse(readFileSync(exportFile, 'utf8')) as ExportedGraph;
  });

  test('--json: stats and timings, in numbers that match the sources', () => {
    assert.equal(json.stderr, '');
    const out = JSON.parse(json.stdout) as StatsResult & {
      root: string;
      timings: { discoverMs: number; parseMs: number; resolveMs: number; totalMs: number; wallMs: number };
      throughput: { mbPerSec: number; locPerSec: number };
    };
    assert.deepEqual(Object.keys(out), [
      'root', 'generation', 'files', 'bytes', 'lines', 'skippedFiles', 'entities', 'entitiesByKind',
      'edges', 'edgesByKind', 'references', 'diagnostics', 'timings', 'throughput',
    ]);
    const disk = rxjsOnDisk();
    assert.equal(out.root, RXJS);
    assert.equal(out.generation, 1);
    assert.equal(out.files, disk.files.length);
    assert.equal(out.files, 252); // 251 .ts files and Rx.global.js
    assert.equal(out.bytes, disk.bytes);
    assert.equal(out.lines, disk.lines);
    assert.equal(out.skippedFiles, 0);
    assert.deepEqual(out.diagnostics, { total: 0, byCode: {}, first: [] });
    assert.deepEqual(Object.keys(out.entitiesByKind), ['module', 'namespace', 'class', 'interface', 'type', 'enum', 'function', 'method', 'constructor', 'property', 'variable']);
    assert.equal(out.entitiesByKind.module, 252);
    assert.equal(out.entitiesByKind.class, 33);
    assert.equal(out.entitiesByKind.interface, 82);
    assert.equal(out.entitiesByKind.enum, 1);
    assert.equal(Object.values(out.entitiesByKind).reduce((a, b) => a + b, 0), out.entities);
    assert.deepEqual(Object.keys(out.edgesByKind), ['contains', 'extends', 'implements', 'calls', 'uses-type', 'imports', 're-exports']);
    assert.equal(Object.values(out.edgesByKind).reduce((a, e) => a + e.resolved, 0), out.edges.resolved);
    assert.equal(Object.values(out.edgesByKind).reduce((a, e) => a + e.inferred, 0), out.edges.inferred);
    assert.equal(out.edgesByKind.contains!.resolved, out.entities - 252);
    for (const k of ['resolved', 'inferred', 'external', 'unresolved'] as const) assert.ok(Number.isInteger(out.references[k]) && out.references[k] >= 0);
    const t = out.timings;
    for (const v of Object.values(t)) assert.ok(v > 0, JSON.stringify(t));
    assert.ok(t.totalMs >= t.parseMs && t.totalMs >= t.resolveMs && t.wallMs >= t.totalMs, JSON.stringify(t));
    assert.ok(Math.abs(out.throughput.mbPerSec - out.bytes / 1e6 / (t.wallMs / 1000)) < 1e-6);
    assert.ok(Math.abs(out.throughput.locPerSec - out.lines / (t.wallMs / 1000)) < 1e-6);
    // The same graph as the export.
    assert.equal(graph.entities.length, out.entities);
    assert.equal(graph.edges.length, out.edges.resolved + out.edges.inferred);
  });

  test('--export FILE: the isg-graph/1 schema of SCHEMA.md', () => {
    assert.deepEqual(Object.keys(graph), ['schema', 'root', 'generation', 'entities', 'edges']);
    assert.equal(graph.schema, 'isg-graph/1');
    assert.equal(graph.root, RXJS);
    assert.equal(graph.generation, 1);
    const byId = new Map(graph.entities.map((e) => [e.id, e]));
    assert.equal(byId.size, graph.entities.length, 'ids are unique');
    const ENTITY_KEYS = ['id', 'kind', 'name', 'file', 'line', 'column', 'endLine', 'endColumn', 'exported', 'signature', 'signatureHash'];
    const files = new Set<string>();
    for (const e of graph.entities) {
      assert.deepEqual(Object.keys(e), 'doc' in e ? [...ENTITY_KEYS, 'doc'] : ENTITY_KEYS, e.id);
      if (e.kind === 'module') {
        // A module's id is its path; its name the file name.
        assert.equal(e.id, e.file);
        assert.equal(e.name, e.file.slice(e.file.lastIndexOf('/') + 1));
        files.add(e.file);
      } else {
        // Every other id is `path#Qualified.Name`, the name being the last segment.
        const hash = e.id.indexOf('#');
        assert.equal(e.id.slice(0, hash), e.file, e.id);
        const qn = e.id.slice(hash + 1);
        assert.ok(qn.split('.').every((segment) => segment.length > 0), `qualified name of ${e.id}`);
        assert.equal(qn.slice(qn.lastIndexOf('.') + 1), e.name, e.id);
      }
      assert.ok(!e.file.startsWith('/') && !e.file.includes('\\'), `relative posix path: ${e.file}`);
      assert.ok(e.line >= 1 && e.column >= 1 && (e.endLine > e.line || (e.endLine === e.line && e.endColumn >= e.column)), `range of ${e.id}`);
      assert.match(e.signatureHash, /^[0-9a-f]+$/);
      if ('doc' in e) assert.match(e.doc!, /^\/\*\*[^]*\*\/$/, e.id);
    }
    assert.deepEqual([...files].sort(), rxjsOnDisk().files);
    // Entities ordered by file then position.
    for (let i = 1; i < graph.entities.length; i++) {
      const a = graph.entities[i - 1]!;
      const b = graph.entities[i]!;
      assert.ok(a.file < b.file || (a.file === b.file && (a.line < b.line || (a.line === b.line && a.column <= b.column))), `order at ${b.id}`);
    }
    // Edges: endpoints exist, ordered by kind, from, to; kinds and resolutions from the schema.
    const KINDS = ['contains', 'extends', 'implements', 'calls', 'uses-type', 'imports', 're-exports'];
    const parentOf = new Map<string, string>();
    for (let i = 0; i < graph.edges.length; i++) {
      const e = graph.edges[i]!;
      assert.deepEqual(Object.keys(e), ['kind', 'from', 'to', 'resolution']);
      assert.ok(KINDS.includes(e.kind), e.kind);
      assert.ok(e.resolution === 'resolved' || e.resolution === 'inferred');
      assert.ok(byId.has(e.from), `edge from unknown ${e.from}`);
      assert.ok(byId.has(e.to), `edge to unknown ${e.to}`);
      if (i > 0) {
        const p = graph.edges[i - 1]!;
        const key = (x: typeof e) => [x.kind, x.from, x.to, x.resolution];
        assert.ok(key(p).join('\0') <= key(e).join('\0'), `edge order at ${e.kind} ${e.from} -> ${e.to}`);
      }
      const from = byId.get(e.from)!.kind;
      const to = byId.get(e.to)!.kind;
      if (e.kind === 'imports' || e.kind === 're-exports') assert.ok(from === 'module' && to === 'module', `${e.kind} ${e.from} -> ${e.to}`);
      if (e.kind === 'contains') {
        assert.ok(!parentOf.has(e.to), `${e.to} has two parents`);
        parentOf.set(e.to, e.from);
      }
      if (e.kind === 'extends' || e.kind === 'implements') assert.ok(['class', 'interface'].includes(from) && ['class', 'interface'].includes(to), `${e.kind} ${e.from} -> ${e.to}`);
      if (e.kind === 'uses-type') assert.ok(['class', 'interface', 'type', 'enum', 'namespace'].includes(to), `uses-type to a ${to}: ${e.to}`);
    }
    // contains: every non-module entity has exactly one parent, which its id names.
    for (const e of graph.entities) {
      if (e.kind === 'module') continue;
      const qn = e.id.slice(e.id.indexOf('#') + 1);
      const dot = qn.lastIndexOf('.');
      assert.equal(parentOf.get(e.id), dot < 0 ? e.file : `${e.file}#${qn.slice(0, dot)}`, `parent of ${e.id}`);
    }
    const has = (kind: string, from: string, to: string, resolution = 'resolved') =>
      graph.edges.some((e) => e.kind === kind && e.from === from && e.to === to && e.resolution === resolution);
    // index.ts:16 `export { Observable } from './internal/Observable';`
    assert.ok(has('re-exports', 'index.ts', 'internal/Observable.ts'));
    // BehaviorSubject.ts:1 imports ./Subject; :9 `class BehaviorSubject<T> extends Subject<T>`.
    assert.ok(has('imports', 'internal/BehaviorSubject.ts', 'internal/Subject.ts'));
    assert.ok(has('extends', 'internal/BehaviorSubject.ts#BehaviorSubject', 'internal/Subject.ts#Subject'));
    assert.ok(has('implements', 'internal/Subscription.ts#Subscription', 'internal/types.ts#SubscriptionLike'));
    assert.ok(has('calls', 'internal/Observable.ts#Observable.pipe', 'internal/util/pipe.ts#pipeFromArray'));
    assert.ok(has('calls', 'internal/Subscription.ts#Subscription.remove', 'internal/Subscription.ts#Subscription._removeParent', 'inferred'));
    assert.ok(!has('calls', 'internal/util/pipe.ts#pipeFromArray', 'internal/operators/reduce.ts#reduce', 'inferred'));
    assert.ok(has('uses-type', 'internal/util/pipe.ts#pipeFromArray', 'internal/types.ts#UnaryFunction'));
    assert.deepEqual(byId.get('internal/Subject.ts#Subject.next'), {
      id: 'internal/Subject.ts#Subject.next',
      kind: 'method',
      name: 'next',
      file: 'internal/Subject.ts',
      line: 59,
      column: 3,
      endLine: 71,
      endColumn: 4,
      exported: true,
      signature: 'next(value: T)',
      signatureHash: byId.get('internal/Subject.ts#Subject.next')!.signatureHash,
    });
    // Subject.ts is 185 lines (`wc -l`).
    assert.equal(byId.get('internal/Subject.ts')!.endLine, 185);
    assert.match(byId.get('internal/Subscription.ts#Subscription')!.doc!, /Represents a disposable resource/);
  });

  test('--export - writes the same graph to stdout, whatever the number of workers', async () => {
    const r = await runs.stdout;
    exits(r, 0);
    assert.equal(r.stdout, readFileSync(exportFile, 'utf8'));
  });

  test('--format dot --focus --depth: the neighbourhood as Graphviz', async () => {
    const [one, two] = await Promise.all([runs.dot1, runs.dot2]);
    exits(one, 0);
    exits(two, 0);
    const dir = pictureDir;
    const parse = (text: string) => {
      const lines = text.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, 3), ['digraph isg {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];']);
      assert.equal(lines[lines.length - 1], '}');
      const nodes = new Map<string, string>();
      const edges: [string, string, string][] = [];
      for (const l of lines.slice(3, -1)) {
        let m = /^ {2}(n\d+) \[label=("(?:[^"\\]|\\.)*")\];$/.exec(l);
        if (m) {
          nodes.set(m[1]!, JSON.parse(m[2]!) as string);
          continue;
        }
        m = /^ {2}(n\d+) -> (n\d+) \[label="([a-z-]+)"(, style=dashed)?\];$/.exec(l);
        assert.ok(m, `not a DOT node or edge line: ${l}`);
        edges.push([m[1]!, m[2]!, m[3]!]);
      }
      for (const [a, b] of edges) assert.ok(nodes.has(a) && nodes.has(b), `edge ${a} -> ${b} between declared nodes`);
      const labels = new Set(nodes.values());
      const idOf = (label: string) => [...nodes].find(([, l]) => l === label)?.[0];
      return { labels, edges, idOf };
    };
    const d1 = parse(readFileSync(join(dir, 'one.dot'), 'utf8'));
    const d2 = parse(readFileSync(join(dir, 'two.dot'), 'utf8'));
    // Labels: kind, name, then file:line (Subject.ts:17, BehaviorSubject.ts:9, WebSocketSubject.ts:157).
    const subject = 'class Subject\ninternal/Subject.ts:17';
    const behavior = 'class BehaviorSubject\ninternal/BehaviorSubject.ts:9';
    const webSocket = 'class WebSocketSubject\ninternal/observable/dom/WebSocketSubject.ts:157';
    for (const label of [subject, behavior, 'class Observable\ninternal/Observable.ts:15', 'interface SubscriptionLike\ninternal/types.ts:84']) {
      assert.ok(d1.labels.has(label), `depth 1 has ${JSON.stringify(label)}`);
    }
    assert.ok(d1.edges.some(([a, b, k]) => a === d1.idOf(behavior) && b === d1.idOf(subject) && k === 'extends'));
    assert.ok(d1.edges.some(([a, b, k]) => a === d1.idOf(subject) && b === d1.idOf('interface SubscriptionLike\ninternal/types.ts:84') && k === 'implements'));
    // WebSocketSubject extends AnonymousSubject extends Subject: two hops away.
    assert.ok(!d1.labels.has(webSocket));
    assert.ok(d2.labels.has(webSocket));
    for (const l of d1.labels) assert.ok(d2.labels.has(l), `depth 2 keeps ${l}`);
    assert.ok(d2.labels.size > d1.labels.size);
    assert.ok(!d1.edges.some(([, , k]) => k === 'contains'), 'contains edges are not drawn');
  });

  test('--format mermaid --focus NAME: exactly the depth-1 neighbourhood of SafeSubscriber', async () => {
    exits(await runs.mermaid, 0);
    const lines = readFileSync(join(pictureDir, 'safe.mmd'), 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'flowchart LR');
    const nodes = new Map<string, string>();
    const edges: string[] = [];
    for (const l of lines.slice(1)) {
      const node = /^ {2}(n\d+)\["([^"]*)"\]$/.exec(l);
      if (node) nodes.set(node[1]!, node[2]!);
      else {
        const edge = /^ {2}(n\d+) (-->|-\.->)\|([a-z-]+)\| (n\d+)$/.exec(l);
        assert.ok(edge, `not a Mermaid node or edge line: ${l}`);
        edges.push(`${nodes.get(edge[1]!)} ${edge[2]} ${edge[3]} ${nodes.get(edge[4]!)}`);
      }
    }
    // Subscriber.ts:187 extends Subscriber; `new SafeSubscriber` in Observable.ts:209 (subscribe)
    // and :307 (forEach), Subscriber.ts:35 (Subscriber.create), firstValueFrom.ts:59, share.ts:224
    // (share) and :259 (handleReset); share.ts:154 `let connection: SafeSubscriber<T>` uses the type.
    assert.deepEqual([...nodes.values()].sort(), [
      'class SafeSubscriber',
      'class Subscriber',
      'function firstValueFrom',
      'function handleReset',
      'function share',
      'method Observable.forEach',
      'method Observable.subscribe',
      'method Subscriber.create',
    ]);
    for (const e of [
      'class SafeSubscriber --> extends class Subscriber',
      'method Observable.subscribe --> calls class SafeSubscriber',
      'method Observable.forEach --> calls class SafeSubscriber',
      'method Subscriber.create --> calls class SafeSubscriber',
      'function firstValueFrom --> calls class SafeSubscriber',
      'function share --> calls class SafeSubscriber',
      'function share --> uses-type class SafeSubscriber',
      'function handleReset --> calls class SafeSubscriber',
    ]) {
      assert.ok(edges.includes(e), `missing edge: ${e}\n${edges.join('\n')}`);
    }
    // Edges among the drawn nodes are drawn too, not only those touching the focus.
    assert.ok(edges.includes('method Observable.forEach --> calls method Observable.subscribe'));
  });

  test('--query OP --args JSON prints the query result (also with --key=value)', async () => {
    const [impl, blast, lookup] = await Promise.all([runs.dot1, runs.dot2, runs.mermaid]);
    for (const r of [impl, blast, lookup]) exits(r, 0);
    const i = JSON.parse(impl.stdout) as { entity: { id: string }; total: number; results: { id: string; distance: number }[] };
    assert.equal(i.entity.id, 'internal/types.ts#SubscriptionLike');
    assert.equal(i.total, 18);
    assert.deepEqual(i.results.filter((x) => x.distance === 1).map((x) => x.id).sort(), ['internal/Subject.ts#Subject', 'internal/Subscription.ts#Subscription']);
    const b = JSON.parse(blast.stdout) as { depth: number; total: number; byDistance: { distance: number; count: number }[]; byFile: { count: number }[] };
    assert.equal(b.depth, 2);
    assert.deepEqual(b.byDistance.map((d) => d.distance), [1, 2]);
    assert.equal(b.total, b.byDistance.reduce((s, d) => s + d.count, 0));
    assert.equal(b.total, b.byFile.reduce((s, f) => s + f.count, 0));
    const l = JSON.parse(lookup.stdout) as { mode: string; matches: { id: string; location: string }[] };
    assert.equal(l.mode, 'exact');
    assert.deepEqual(l.matches.map((m) => [m.id, m.location]), [['internal/Subject.ts#Subject.next', 'internal/Subject.ts:59']]);
  });

  test('--exclude leaves out matching files', async () => {
    const r = await runs.exclude;
    exits(r, 0);
    const out = JSON.parse(r.stdout) as StatsResult;
    const disk = rxjsOnDisk().files.filter((f) => !f.startsWith('internal/testing/') && !f.startsWith('internal/ajax/'));
    assert.equal(out.files, disk.length);
    assert.ok(out.files < 252);
    // HotObservable and ColdObservable live in internal/testing/.
    assert.equal(out.entitiesByKind.class, 33 - 5 - 1); // testing: 5 classes; ajax: AjaxResponse
  });
});

describe('isg index exit codes', () => {
  // Exit codes do not depend on the codebase: a two-file project keeps these 13 runs cheap.
  let dir: string;
  before(() => {
    dir = tempDir('isg-cli-exit-');
    writeFileSync(join(dir, 'subject.ts'), 'export class Subject {\n  next(): void {}\n}\nexport const EMPTY = new Subject();\n');
    writeFileSync(join(dir, 'holder.ts'), "import { Subject } from './subject';\nexport class Holder {\n  static EMPTY = new Subject();\n}\n");
  });

  test('0 when a query answers, 1 when nothing is found, 2 for usage errors', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--query', 'callers', '--args', '{"entity":"Subject"}'], 0, /^$/],
      [['--query', 'callers', '--args', '{"entity":"Subjet"}'], 1, /^isg index: no entity named Subjet; did you mean Subject\b/],
      [['--query', 'outline', '--args', '{"file":"nope.ts"}'], 1, /no indexed file nope\.ts/],
      [['--export', '-', '--format', 'dot', '--focus', 'NoSuchThing'], 1, /no entity named NoSuchThing/],
      [['--query', 'callers', '--args', '{"entity":"EMPTY"}'], 2, /"EMPTY" names 2 entities; pass one id: holder\.ts#Holder\.EMPTY \(property\), subject\.ts#EMPTY \(variable\)/],
      [['--query', 'callers', '--args', '{entity: Subject}'], 2, /--args is not valid JSON: \{entity: Subject\}/],
      [['--query', 'lookup', '--args', '{"name":1}'], 2, /argument "name" must be a string, got number/],
      [['--query', 'lookup', '--args', '{"name":"x","kind":"klass"}'], 2, /argument "kind": unknown value "klass"/],
      [['--query', 'who-calls', '--args', '{}'], 2, /unknown query "who-calls"; known: lookup, /],
      [['--query'], 2, /option --query needs a value/],
      [['--export', '-', '--format', 'svg', '--focus', 'Subject'], 2, /unknown --format "svg"; use json, dot or mermaid/],
      [['--export', '-', '--format', 'dot'], 2, /--format dot needs --focus ID/],
      [['--export', '-', '--format', 'mermaid', '--focus', 'EMPTY'], 2, /"EMPTY" names 2 entities/],
      [['--max-file-bytes', 'lots'], 2, /option --max-file-bytes must be a non-negative integer, got "lots"/],
    ];
    const runs = await Promise.all(cases.map(([args]) => isg('index', dir, ...args)));
    runs.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      exits(r, code);
      assert.match(r.stderr, message, `stderr of isg index ${args.join(' ')}`);
      if (code !== 0) assert.equal(r.stdout, '', `no output on stdout for isg index ${args.join(' ')}`);
    });
    // The successful one: `new Subject()` in both files, at module level and in a static field.
    const callers = JSON.parse(runs[0]!.stdout) as { results: { id: string }[] };
    assert.deepEqual(callers.results.map((r) => r.id).sort(), ['holder.ts#Holder.EMPTY', 'subject.ts#EMPTY']);
  });
});

describe('isg index --summary', () => {
  test('a summary line, then three example queries whose printed answers the queries give', async () => {
    const dir = tempDir('isg-cli-summary-');
    writeFileSync(join(dir, 'shapes.ts'), 'export interface Shape {\n  area(): number;\n}\nexport class Square implements Shape {\n  area(): number {\n    return side();\n  }\n}\nexport class Circle implements Shape {\n  area(): number {\n    return side() * 3;\n  }\n}\nexport function side(): number {\n  return 2;\n}\n');
    const r = await isg('index', dir, '--summary');
    exits(r, 0);
    assert.match(r.stdout, /^isg: indexed 1 files \(0\.0 MB, 16 lines\) in \d+ ms: 8 entities, /);
    const commands = [...r.stdout.matchAll(/--query (\S+) --args '([^']+)'\n {4}-> (.*)/g)].map((m) => ({ op: m[1], args: JSON.parse(m[2]!), answer: m[3] }));
    assert.deepEqual(commands.map((c) => [c.op, c.args.entity]), [
      ['callers', 'shapes.ts#side'],
      ['implements', 'shapes.ts#Shape'],
      ['blast-radius', 'shapes.ts#side'],
    ]);
    assert.match(commands[0]!.answer!, /^2 callers, e\.g\. shapes\.ts:5, shapes\.ts:10$/);
    assert.match(commands[1]!.answer!, /^2 implementors\/subclasses, e\.g\. Square, Circle$/);
    // The printed command answers the same when run.
    const callers = await isg('index', dir, '--query', 'callers', '--args', JSON.stringify(commands[0]!.args));
    exits(callers, 0);
    assert.equal(JSON.parse(callers.stdout).total, 2);
  });
});

describe('isg commands and help', { concurrency: true }, () => {
  test('isg help lists the commands; isg help index and isg index --help show the options', async () => {
    const [help, dashHelp, none, helpIndex, indexHelp] = await Promise.all([isg('help'), isg('--help'), isg(), isg('help', 'index'), isg('index', '--help')]);
    for (const r of [help, dashHelp]) {
      exits(r, 0);
      assert.match(r.stdout, /^isg: the interface signature graph for TypeScript codebases\n/);
      assert.match(r.stdout, /usage: isg <command> \[arguments\] \[options\]/);
      assert.match(r.stdout, /\n {2}index +index a directory once/);
    }
    // No command at all is a usage error, though the help is still printed.
    exits(none, 2);
    assert.equal(none.stdout, help.stdout);
    for (const r of [helpIndex, indexHelp]) {
      exits(r, 0);
      assert.match(r.stdout, /^usage: isg index \[root\] \[options\]/);
      for (const option of ['--json', '--export FILE', '--format dot|mermaid', '--focus ID', '--depth N', '--query OP --args JSON', '--max-file-bytes N']) {
        assert.ok(r.stdout.includes(option), `index help mentions ${option}`);
      }
    }
    assert.equal(helpIndex.stdout, indexHelp.stdout);
  });

  test('an unknown command exits 2 saying where the commands are listed', async () => {
    const r = await isg('frobnicate', '--json');
    exits(r, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'isg: unknown command "frobnicate" (isg help lists the commands)\n');
  });
});

describe('isg index on broken files', () => {
  let dir: string;
  before(() => {
    dir = tempDir('isg-cli-broken-');
    writeFileSync(join(dir, 'ok.ts'), "import { after } from './broken';\nexport function ok(): void {\n  after();\n}\n");
    // NUL bytes: binary.
    writeFileSync(join(dir, 'binary.ts'), Buffer.concat([Buffer.from('export const a = 1;\n'), Buffer.from([0, 0, 0, 0x7f])]));
    // Latin-1 bytes: not UTF-8.
    writeFileSync(join(dir, 'latin1.ts'), Buffer.from([...Buffer.from('export const s = "caf'), 0xe9, 0xff, ...Buffer.from('";\n')]));
    // Over the --max-file-bytes 1000 used below.
    writeFileSync(join(dir, 'big.ts'), `export const big = [${'1,'.repeat(1500)}];\n`);
    // Syntax errors: still indexed.
    writeFileSync(join(dir, 'broken.ts'), 'export function before() {}\nexport class Broken {\n  method( {\n    return 2;\n  }\n}\nexport function after(): void {}\n');
  });

  test('indexing succeeds; skipped files and syntax errors are counted by code', async () => {
    const [json, statsRun, lookup] = await Promise.all([
      isg('index', dir, '--json', '--max-file-bytes', '1000'),
      isg('index', dir, '--max-file-bytes', '1000', '--query', 'stats', '--args', '{"diagnostics":50}'),
      isg('index', dir, '--max-file-bytes', '1000', '--query', 'callers', '--args', '{"entity":"after"}'),
    ]);
    exits(json, 0);
    const out = JSON.parse(json.stdout) as StatsResult;
    assert.equal(out.files, 2, 'ok.ts and broken.ts are indexed');
    assert.equal(out.skippedFiles, 3, 'binary.ts, latin1.ts and big.ts are skipped');
    assert.equal(out.entitiesByKind.module, 2);
    assert.deepEqual(out.diagnostics.byCode, { 'too-large': 1, 'binary-file': 1, 'invalid-utf8': 1, 'syntax-error': 2 });
    assert.equal(out.diagnostics.total, 5);

    exits(statsRun, 0);
    const s = JSON.parse(statsRun.stdout) as StatsResult;
    const listed = s.diagnostics.first.map((d) => [d.file, d.code, d.severity, d.line ?? null]);
    assert.deepEqual(
      listed.sort(),
      [
        ['big.ts', 'too-large', 'warning', null],
        ['binary.ts', 'binary-file', 'warning', null],
        ['broken.ts', 'syntax-error', 'error', 3],
        ['broken.ts', 'syntax-error', 'error', 6],
        ['latin1.ts', 'invalid-utf8', 'warning', null],
      ].sort(),
    );
    const big = s.diagnostics.first.find((d) => d.code === 'too-large')!;
    assert.match(big.message, /^skipped big\.ts: 3 KB exceeds the 1000 bytes limit \(maxFileBytes\)$/);
    assert.match(s.diagnostics.first.find((d) => d.code === 'binary-file')!.message, /NUL byte at offset 20/);

    // What parsed in broken.ts is still in the graph, and resolvable from ok.ts.
    exits(lookup, 0);
    const callers = JSON.parse(lookup.stdout) as { entity: { id: string }; results: { id: string; resolution: string }[] };
    assert.equal(callers.entity.id, 'broken.ts#after');
    assert.deepEqual(callers.results.map((r) => [r.id, r.resolution]), [['ok.ts#ok', 'resolved']]);
  });

  test('without --max-file-bytes the large file is indexed', async () => {
    const r = await isg('index', dir, '--json');
    exits(r, 0);
    const out = JSON.parse(r.stdout) as StatsResult;
    assert.equal(out.files, 3);
    assert.equal(out.skippedFiles, 2);
    assert.equal(out.diagnostics.byCode['too-large'], undefined);
    assert.equal(out.entitiesByKind.variable, 1, 'big');
  });
});
