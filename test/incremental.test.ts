// Incremental updates must give exactly the graph a fresh index of the same files gives.
//
// 1. A hand-written fixture walks through the cases that need cross-file invalidation: an
//    export appearing or disappearing, a function moving between files behind a barrel
//    `export *`, a base class gaining a method, `x.ts` appearing next to `x/index.ts` (for a
//    direct import and through a barrel), a callee's parameter list changing under a callback.
// 2. A second fixture for lookups that are cached or guessed: supertypes reached through a
//    re-export, and name matching when a member changes kind.
// 3. A property test: a copy of rxjs/src takes a seeded random sequence of edits (function
//    bodies, signatures, deletions, renames, new files, barrels, batches, no-op writes) through
//    `applyChange`/`applyChanges`, written to disk too, and every few steps the live graph is
//    compared with a fresh `GraphHost.index` of the directory.
//
// Environment: ISG_SEED (replay a run), ISG_PROPERTY_STEPS (default 60), ISG_CHECK_EVERY
// (compare with a fresh index every N steps; default 2, and always after the last step),
// ISG_PROPERTY_VERBOSE (print the step log of a passing run too).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { exportGraph } from '../daemon/export/graph-json.ts';
import { GraphHost, type FileChange } from '../daemon/host.ts';
import { languageOf } from '../daemon/ingest/discover.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { bindingsOf, type EntityFact, type FileFacts } from '../daemon/ingest/facts.ts';
import { contentHash } from '../daemon/util/hash.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { diffWithFresh, edgeLine, graphDiff } from './support/graph-diff.ts';
import { prng } from './support/prng.ts';
import { tempDir } from './support/temp-dirs.ts';

// ---- the fixture ------------------------------------------------------------------------

function writeFiles(root: string, files: Record<string, string | null>): FileChange[] {
  const changes: FileChange[] = [];
  for (const [path, text] of Object.entries(files)) {
    const abs = join(root, path);
    if (text === null) rmSync(abs, { force: true });
    else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, text);
    }
    changes.push({ path, text });
  }
  return changes;
}

interface EdgeQuery {
  kind?: string;
  from?: string;
  to?: string;
  resolution?: 'resolved' | 'inferred';
}

function edgesOf(host: GraphHost, q: EdgeQuery): string[] {
  return exportGraph(host, host.root)
    .edges.filter((e) => (q.kind ?? e.kind) === e.kind && (q.from ?? e.from) === e.from && (q.to ?? e.to) === e.to && (q.resolution ?? e.resolution) === e.resolution)
    .map(edgeLine);
}


test('incremental: cross-file invalidation on a small fixture', async () => {
  const root = tempDir('isg-incremental-fixture-');
  writeFiles(root, {
    'src/app.ts': `import { trim, helper } from './util';
import { Base, withBase } from './base';

export class App extends Base {
  start(): void {
    trim(' a ');
    helper();
    this.m();
  }
}

export function boot(): void {
  withBase((b) => b.run());
}
`,
    'src/base.ts': `export class Base {
  run(): void {}
}

export function withBase(f: (b: Base) => void): void {}
`,
    'src/util/index.ts': `export * from './strings';
export * from './numbers';
`,
    // A directory module: \`./strings\` resolves to strings/index.ts until strings.ts exists.
    'src/util/strings/index.ts': `export function trim(s: string): string {
  return s.trim();
}
`,
    'src/util/numbers.ts': `export function double(n: number): number {
  return n * 2;
}
`,
  });
  const host = await GraphHost.index(root);
  const steps: string[] = [];
  const step = async (label: string, files: Record<string, string | null>, expect: () => void): Promise<void> => {
    steps.push(label);
    host.applyChanges(writeFiles(root, files));
    expect();
    const diff = await diffWithFresh(host);
    assert.equal(diff, undefined, `after "${label}" the live graph differs from a fresh index\nsteps:\n  ${steps.join('\n  ')}\n${diff}`);
  };

  const start = 'src/app.ts#App.start';
  /** All resolved calls out of App.start: the whole picture, so a failure shows what went wrong. */
  const callsFromStart = (): string[] => edgesOf(host, { kind: 'calls', from: start });
  const expectCalls = (...targets: string[]): void =>
    assert.deepEqual(callsFromStart(), targets.sort().map((t) => `calls ${start} -> ${t} (resolved)`));

  expectCalls('src/util/strings/index.ts#trim');
  assert.equal(await diffWithFresh(host), undefined, 'the initial index should equal a fresh one');

  await step(
    'an export appears behind the barrel: the unresolved helper() resolves',
    { 'src/util/numbers.ts': `export function double(n: number): number {\n  return n * 2;\n}\n\nexport function helper(): void {}\n` },
    () => expectCalls('src/util/strings/index.ts#trim', 'src/util/numbers.ts#helper'),
  );

  await step(
    'the export disappears (export keyword dropped): the edge into it goes',
    { 'src/util/numbers.ts': `export function double(n: number): number {\n  return n * 2;\n}\n\nfunction helper(): void {}\n` },
    () => {
      expectCalls('src/util/strings/index.ts#trim');
      assert.ok(host.store.idOf('src/util/numbers.ts#helper') !== undefined, 'the function itself is still an entity');
    },
  );

  await step(
    'the export comes back',
    { 'src/util/numbers.ts': `export function double(n: number): number {\n  return n * 2;\n}\n\nexport function helper(): void {}\n` },
    () => expectCalls('src/util/strings/index.ts#trim', 'src/util/numbers.ts#helper'),
  );
  await step(
    'the exported declaration is deleted: the edge and the entity go',
    { 'src/util/numbers.ts': `export function double(n: number): number {\n  return n * 2;\n}\n` },
    () => {
      expectCalls('src/util/strings/index.ts#trim');
      assert.deepEqual(edgesOf(host, { to: 'src/util/numbers.ts#helper' }), []);
      assert.equal(host.store.idOf('src/util/numbers.ts#helper'), undefined);
    },
  );

  await step(
    'trim moves from strings/index.ts to numbers.ts in one batch: the caller follows it through export *',
    {
      'src/util/strings/index.ts': `export const version = 1;\n`,
      'src/util/numbers.ts': `export function double(n: number): number {\n  return n * 2;\n}\n\nexport function trim(s: string): string {\n  return s.trim();\n}\n`,
    },
    () => expectCalls('src/util/numbers.ts#trim'),
  );

  // Moving back in two steps. While both barrel members export trim, TS calls the name
  // ambiguous; isg takes the first `export *`. Either way the graph must equal a fresh index.
  await step(
    'trim moves back, step 1: added to strings/index.ts',
    { 'src/util/strings/index.ts': `export const version = 1;\n\nexport function trim(s: string): string {\n  return s.trim();\n}\n` },
    () => {},
  );
  await step(
    'trim moves back, step 2: removed from numbers.ts',
    { 'src/util/numbers.ts': `export function double(n: number): number {\n  return n * 2;\n}\n` },
    () => expectCalls('src/util/strings/index.ts#trim'),
  );

  await step(
    'Base gains m(): this.m() in the subclass in another file resolves',
    { 'src/base.ts': `export class Base {\n  run(): void {}\n  m(): number {\n    return 1;\n  }\n}\n\nexport function withBase(f: (b: Base) => void): void {}\n` },
    () => expectCalls('src/util/strings/index.ts#trim', 'src/base.ts#Base.m'),
  );

  await step(
    'Base loses m() again: the edge goes',
    { 'src/base.ts': `export class Base {\n  run(): void {}\n}\n\nexport function withBase(f: (b: Base) => void): void {}\n` },
    () => expectCalls('src/util/strings/index.ts#trim'),
  );

  // Contextual typing: `b` in `withBase((b) => b.run())` is typed by withBase's declared
  // parameter, in another file; a parameter added in front of it changes that type.
  const bootCalls = (): string[] => edgesOf(host, { kind: 'calls', from: 'src/app.ts#boot', resolution: 'resolved' });
  assert.deepEqual(bootCalls(), ['calls src/app.ts#boot -> src/base.ts#Base.run (resolved)', 'calls src/app.ts#boot -> src/base.ts#withBase (resolved)']);
  await step(
    'withBase gains a first parameter: the callback is no longer argument 0, b.run() no longer resolves',
    { 'src/base.ts': `export class Base {\n  run(): void {}\n}\n\nexport function withBase(n: number, f: (b: Base) => void): void {}\n` },
    () => assert.deepEqual(bootCalls(), ['calls src/app.ts#boot -> src/base.ts#withBase (resolved)']),
  );
  await step(
    'withBase loses it again',
    { 'src/base.ts': `export class Base {\n  run(): void {}\n}\n\nexport function withBase(f: (b: Base) => void): void {}\n` },
    () => assert.deepEqual(bootCalls(), ['calls src/app.ts#boot -> src/base.ts#Base.run (resolved)', 'calls src/app.ts#boot -> src/base.ts#withBase (resolved)']),
  );

  await step(
    'util.ts appears next to util/index.ts: the ./util import re-targets',
    { 'src/util.ts': `export function trim(s: string): string {\n  return s;\n}\nexport function helper(): void {}\n` },
    () => {
      assert.deepEqual(edgesOf(host, { kind: 'imports', from: 'src/app.ts' }), ['imports src/app.ts -> src/base.ts (resolved)', 'imports src/app.ts -> src/util.ts (resolved)']);
      expectCalls('src/util.ts#trim', 'src/util.ts#helper');
    },
  );

  await step(
    'util.ts deleted: back to util/index.ts',
    { 'src/util.ts': null },
    () => expectCalls('src/util/strings/index.ts#trim'),
  );

  await step(
    'strings.ts appears next to strings/index.ts: the barrel re-export re-targets, and so does the call through it',
    { 'src/util/strings.ts': `export function trim(s: string): string {\n  return s;\n}\n` },
    () => {
      assert.deepEqual(edgesOf(host, { kind: 're-exports', from: 'src/util/index.ts' }), [
        're-exports src/util/index.ts -> src/util/numbers.ts (resolved)',
        're-exports src/util/index.ts -> src/util/strings.ts (resolved)',
      ]);
      expectCalls('src/util/strings.ts#trim');
    },
  );

  await step(
    'strings.ts deleted again',
    { 'src/util/strings.ts': null },
    () => expectCalls('src/util/strings/index.ts#trim'),
  );
});

test('incremental: declarations only added re-resolve the files that consulted theirs only when one of those looked for a new name there, and give the graph a fresh index gives', async () => {
  const root = tempDir('isg-incremental-added-');
  const files = {
    'src/hub.ts': `export function used(): void {}\n`,
    'src/a.ts': `import { used } from './hub';\nexport function a(): void {\n  used();\n}\n`,
    'src/b.ts': `import { used, later } from './hub';\nexport function b(): void {\n  used();\n  later();\n}\n`,
    // shadowing behind a barrel: \`shadow\` comes from y until the barrel declares its own
    'src/y.ts': `export function shadow(): void {}\n`,
    'src/barrel.ts': `export * from './y';\nexport function own(): void {}\n`,
    'src/c.ts': `import { shadow } from './barrel';\nexport function c(): void {\n  shadow();\n}\n`,
    // a member inherited from a base in another file
    'src/base.ts': `export class Base {\n  m(): void {}\n}\n`,
    'src/sub.ts': `import { Base } from './base';\nexport class Sub extends Base {}\n`,
    'src/use.ts': `import { Sub } from './sub';\nexport function use(s: Sub): void {\n  s.m();\n  s.n();\n}\n`,
    // a type named in another file's declaration, looked up there on the caller's behalf
    'src/t.ts': `export interface T {\n  go(): void;\n}\n`,
    'src/f.ts': `import type { T } from './t';\nexport function make(): T {\n  return undefined as unknown as T;\n}\n`,
    'src/u.ts': `import { make } from './f';\nexport function u(): void {\n  make().go();\n}\n`,
    // a member of a namespace named in a type (no call: nothing to match by name)
    'src/ns.ts': `export namespace NS {\n  export interface A {}\n  export function mk(): Box {\n    return undefined as unknown as Box;\n  }\n}\n`,
    'src/v.ts': `import { NS } from './ns';\nexport function v(x: NS.B): void {\n  NS.mk().go();\n}\n`,
    // an export list naming what the file does not declare yet
    'src/list.ts': `export { declaredLater };\n`,
    'src/w.ts': `import { declaredLater } from './list';\nexport function w(): void {\n  declaredLater();\n}\n`,
  };
  writeFiles(root, files);
  const host = await GraphHost.index(root);
  const steps: string[] = [];
  const add = async (label: string, path: keyof typeof files, more: string, expectReresolved: number): Promise<void> => {
    steps.push(label);
    const summary = host.applyChanges(writeFiles(root, { [path]: files[path] + more }));
    files[path] += more;
    assert.equal(summary.reresolved, expectReresolved, `"${label}": files re-resolved`);
    const diff = await diffWithFresh(host);
    assert.equal(diff, undefined, `after "${label}" the live graph differs from a fresh index\nsteps:\n  ${steps.join('\n  ')}\n${diff}`);
  };
  const calls = (from: string) => edgesOf(host, { kind: 'calls', from }).map((l) => l.slice(l.indexOf('-> ') + 3));

  await add('a function nobody looked for, in a file two others import', 'src/hub.ts', `export function fresh(): void {}\n`, 1);
  await add('the function b.ts imports and could not find', 'src/hub.ts', `export function later(): void {}\n`, 3);
  assert.deepEqual(calls('src/b.ts#b'), ['src/hub.ts#later (resolved)', 'src/hub.ts#used (resolved)']);
  await add('a barrel declares what it re-exported from y.ts', 'src/barrel.ts', `export function shadow(): void {}\n`, 2);
  assert.deepEqual(calls('src/c.ts#c'), ['src/barrel.ts#shadow (resolved)']);
  await add('a base class gains the method a subclass was called with', 'src/base.ts', `export class Other {}\n`, 1);
  const withN = files['src/base.ts'].replace('  m(): void {}\n', '  m(): void {}\n  n(): void {}\n');
  steps.push('Base gains n()');
  const summary = host.applyChanges(writeFiles(root, { 'src/base.ts': withN }));
  assert.ok(summary.reresolved >= 2, `Base gaining n() re-resolves use.ts (${summary.reresolved} files re-resolved)`);
  assert.deepEqual(calls('src/use.ts#use'), ['src/base.ts#Base.m (resolved)', 'src/base.ts#Base.n (resolved)']);
  assert.equal(await diffWithFresh(host), undefined, 'after Base gains n()');
  // f.ts, u.ts (which looked for T there), and v.ts, whose unresolved call of go() was matched by name
  await add('a local type shadows the import another file\'s call went through', 'src/f.ts', `interface T {\n  go(): void;\n}\n`, 3);
  assert.deepEqual(calls('src/u.ts#u'), ['src/f.ts#T.go (resolved)', 'src/f.ts#make (resolved)']);
  await add('the function an export list named', 'src/list.ts', `function declaredLater(): void {}\n`, 2);
  assert.deepEqual(calls('src/w.ts#w'), ['src/list.ts#declaredLater (resolved)']);
  const inNamespace = (decl: string) => files['src/ns.ts'].replace('  export interface A {}\n', `  export interface A {}\n${decl}`);
  steps.push('NS gains B');
  let summary2 = host.applyChanges(writeFiles(root, { 'src/ns.ts': inNamespace('  export interface B {}\n') }));
  assert.equal(summary2.reresolved, 2, 'NS gaining B re-resolves ns.ts and v.ts, which looked for NS.B');
  assert.deepEqual(edgesOf(host, { kind: 'uses-type', from: 'src/v.ts#v' }), ['uses-type src/v.ts#v -> src/ns.ts#NS.B (resolved)']);
  assert.equal(await diffWithFresh(host), undefined, 'after NS gains B');
  steps.push('NS gains Box');
  summary2 = host.applyChanges(writeFiles(root, { 'src/ns.ts': inNamespace('  export interface B {}\n  interface Box {\n    go(): void;\n  }\n') }));
  assert.deepEqual(calls('src/v.ts#v'), ['src/ns.ts#NS.Box.go (resolved)', 'src/ns.ts#NS.mk (resolved)']);
  assert.equal(await diffWithFresh(host), undefined, 'after NS gains Box');
});

test('incremental: declarations removed or changed re-resolve the files that consulted theirs only when one of those found one there, and give the graph a fresh index gives', async () => {
  const root = tempDir('isg-incremental-removed-');
  const files: Record<string, string> = {
    'src/impl.ts': `export function impl(): void {}\nexport function other(): void {}\n`,
    // an export alias: what a consumer calls survives its removal, the alias does not
    'src/barrel.ts': `export { impl as api } from './impl';\nexport { other } from './impl';\nexport function unused(): void {}\n`,
    'src/consumer.ts': `import { api, other } from './barrel';\nexport function consume(): void {\n  api();\n  other();\n}\n`,
    // a declared return type changed: both types survive it
    'src/t.ts': `export interface T {\n  go(): void;\n}\nexport interface U {\n  go(): void;\n}\n`,
    'src/f.ts': `import type { T, U } from './t';\nexport function make(): T {\n  return undefined as unknown as T;\n}\nexport function spare(): U {\n  return undefined as unknown as U;\n}\n`,
    'src/u.ts': `import { make } from './f';\nexport function u(): void {\n  make().go();\n}\n`,
    // lookups on the caller's behalf that leave no edge to what they found: a type alias, a
    // property, an import, a type in a namespace, each read through a declared type
    'src/a.ts': `export interface A1 {\n  go1(): void;\n}\nexport interface A2 {\n  go2(): void;\n}\nexport interface A3 {\n  go3(): void;\n}\nexport interface A4 {\n  go4(): void;\n}\n`,
    'src/g.ts': `import type { A1, A2, A3, A4 } from './a';\nexport type Box = A1;\nexport interface Holder {\n  inner: A2;\n}\nexport function viaAlias(): Box {\n  return undefined as unknown as Box;\n}\nexport function holder(): Holder {\n  return undefined as unknown as Holder;\n}\nexport function viaImport(): A3 {\n  return undefined as unknown as A3;\n}\nexport namespace NS {\n  export interface Inner extends A4 {}\n  export function mk(): Inner {\n    return undefined as unknown as Inner;\n  }\n}\n`,
    'src/v.ts': `import { viaAlias, viaImport, holder, NS } from './g';\nexport function v(): void {\n  viaAlias().go1();\n  const h = holder();\n  h.inner.go2();\n  viaImport().go3();\n  NS.mk().go4();\n}\n`,
  };
  writeFiles(root, files);
  const host = await GraphHost.index(root);
  const steps: string[] = [];
  const edit = async (label: string, path: string, text: string, expectReresolved?: number): Promise<void> => {
    steps.push(label);
    const summary = host.applyChanges(writeFiles(root, { [path]: text }));
    files[path] = text;
    if (expectReresolved !== undefined) assert.equal(summary.reresolved, expectReresolved, `"${label}": files re-resolved`);
    const diff = await diffWithFresh(host);
    assert.equal(diff, undefined, `after "${label}" the live graph differs from a fresh index\nsteps:\n  ${steps.join('\n  ')}\n${diff}`);
  };
  const calls = (from: string) => edgesOf(host, { kind: 'calls', from }).map((l) => l.slice(l.indexOf('-> ') + 3));
  assert.deepEqual(calls('src/consumer.ts#consume'), ['src/impl.ts#impl (resolved)', 'src/impl.ts#other (resolved)']);
  assert.deepEqual(calls('src/u.ts#u'), ['src/f.ts#make (resolved)', 'src/t.ts#T.go (resolved)']);

  await edit('a function nobody looked up removed from a barrel', 'src/barrel.ts', files['src/barrel.ts']!.replace('export function unused(): void {}\n', ''), 1);
  await edit('the alias a consumer called removed', 'src/barrel.ts', files['src/barrel.ts']!.replace(`export { impl as api } from './impl';\n`, ''), 2);
  assert.deepEqual(calls('src/consumer.ts#consume'), ['src/impl.ts#other (resolved)']);
  await edit('a function nobody looked up changes its return type', 'src/f.ts', files['src/f.ts']!.replace('spare(): U', 'spare(): T'), 1);
  await edit('the function another file called through changes its return type', 'src/f.ts', files['src/f.ts']!.replace('make(): T', 'make(): U'), 2);
  assert.deepEqual(calls('src/u.ts#u'), ['src/f.ts#make (resolved)', 'src/t.ts#U.go (resolved)']);
  const viaG = (...resolved: string[]) => ['src/g.ts#NS.mk (resolved)', 'src/g.ts#holder (resolved)', 'src/g.ts#viaAlias (resolved)', 'src/g.ts#viaImport (resolved)', ...resolved].sort();
  assert.deepEqual(calls('src/v.ts#v'), viaG('src/a.ts#A1.go1 (resolved)', 'src/a.ts#A2.go2 (resolved)', 'src/a.ts#A3.go3 (resolved)', 'src/a.ts#A4.go4 (resolved)'));
  // Each removal below leaves a call of v.ts to goN() to name matching (an inferred edge), and no
  // edge of v.ts pointed at what was removed: only the lookups made on its behalf in g.ts say
  // that it must be re-resolved.
  await edit('a type alias another file\'s call went through removed', 'src/g.ts', files['src/g.ts']!.replace('export type Box = A1;\n', ''));
  await edit('a property another file\'s call went through removed', 'src/g.ts', files['src/g.ts']!.replace('  inner: A2;\n', ''));
  await edit('an import another file\'s call went through removed', 'src/g.ts', files['src/g.ts']!.replace('A1, A2, A3, A4', 'A1, A2, A4'));
  await edit('a type in a namespace another file\'s call went through removed', 'src/g.ts', files['src/g.ts']!.replace('  export interface Inner extends A4 {}\n', ''));
  assert.deepEqual(calls('src/v.ts#v'), viaG('src/a.ts#A1.go1 (inferred)', 'src/a.ts#A2.go2 (inferred)', 'src/a.ts#A3.go3 (inferred)', 'src/a.ts#A4.go4 (inferred)'));
});

test('incremental: repeated edits of one file re-resolve only what they changed, and give the graph a fresh index gives', async () => {
  const root = tempDir('isg-incremental-partial-');
  const lib = `export interface Box { open(): void; close(): void }
export interface Other { shut(): void }
export function each(xs: number[], f: (b: Box, i: number) => void): void {}
export function make(): Box { return undefined as never; }
`;
  const app = (v: { body?: string; staticBlock?: string; m?: string; params?: string; param?: string; importKind?: string; own?: string }) => `import ${v.importKind ?? ''}{ each, make, type Box, type Other } from './lib';
const m${v.m ?? ' = make()'};

export function own(g: (c: ${v.own ?? 'Box'}) => void): void {}

export class K {
  x = make();
  static {
    ${v.staticBlock ?? ''}
  }
  run(box: Box): void {
    ${v.body ?? 'box.open();'}
    this.x.close();
  }
  walk(): void {
    each([1], (${v.params ?? ''}b${v.param ?? ''}) => b.close());
    own((c) => c.open());
  }
}

export function top(): void {
  m.open();
}
`;
  writeFiles(root, { 'src/lib.ts': lib, 'src/app.ts': app({}) });
  const host = await GraphHost.index(root);
  const steps: [string, Parameters<typeof app>[0]][] = [
    ['a call added in a method body', { body: 'box.open();\n    box.close();' }],
    ['the call renamed', { body: 'box.open();\n    box.open();' }],
    ['a local binding typed in the method', { body: 'const other: Box = box;\n    other.close();' }],
    ['a binding in a static block shadows what a property is typed by (a scope that holds entities)', { staticBlock: 'const make = 1;' }],
    ['and goes', {}],
    ['a module-level binding another function uses changes type', { m: ': Other = undefined as never' }],
    ['and back', {}],
    ['a callback parameter moves (its binding changes, not the references)', { params: 'z, ' }],
    ['and back', {}],
    ['a callback parameter gets a type', { param: ': Box' }],
    ["its own function's parameter type changes under its callback", { param: ': Box', own: 'Other' }],
    ['and back', { param: ': Box' }],
    ['the import becomes type-only', { param: ': Box', importKind: 'type ' }],
    ['and back', { param: ': Box' }],
  ];
  const done: string[] = [];
  for (const [label, v] of steps) {
    done.push(label);
    host.applyChanges(writeFiles(root, { 'src/app.ts': app(v) }));
    const diff = await diffWithFresh(host);
    assert.equal(diff, undefined, `after "${label}" the live graph differs from a fresh index\nsteps:\n  ${done.join('\n  ')}\n${diff}`);
    const fresh = await GraphHost.index(root, { workers: 0 });
    assert.deepEqual(host.resolutionCounts(), fresh.resolutionCounts(), `resolution counts after "${label}"`);
    assert.deepEqual([...host.typeOnlyImports('src/app.ts')], [...fresh.typeOnlyImports('src/app.ts')], `type-only imports after "${label}"`);
  }
  // A body edit of the file does not re-resolve its importer, and the lib's own parameter types
  // re-resolve only the file that typed a callback by them.
  assert.equal(host.applyChanges(writeFiles(root, { 'src/app.ts': app({ body: 'box.close();' }) })).reresolved, 1);
  const summary = host.applyChanges(writeFiles(root, { 'src/lib.ts': lib.replace('(b: Box, i: number)', '(b: Other, i: number)') }));
  assert.equal(summary.reresolved, 2);
  assert.equal(await diffWithFresh(host), undefined);
});

test('incremental: the same bytes written again make no new generation, only a new stat', async () => {
  const root = tempDir('isg-incremental-same-');
  const text = 'export function f(): number {\n  return 1;\n}\n';
  writeFiles(root, { 'a.ts': text });
  const host = await GraphHost.index(root);
  assert.equal(host.generation, 1);
  const same = host.applyChanges(writeFiles(root, { 'a.ts': text }));
  assert.deepEqual({ generation: same.generation, files: same.files, restated: same.restated }, { generation: 1, files: [], restated: 1 });
  const edited = host.applyChanges(writeFiles(root, { 'a.ts': text.replace('1', '2') }));
  assert.deepEqual({ generation: edited.generation, files: edited.files, restated: edited.restated }, { generation: 2, files: ['a.ts'], restated: 0 });
});

test('incremental: after edits from a cached extraction (hash deferred), the same text is still a touch and the hash is that of the text', async () => {
  const root = tempDir('isg-incremental-hash-');
  const text = 'export function f(): number {\n  return 1;\n}\n';
  writeFiles(root, { 'a.ts': text });
  const host = await GraphHost.index(root);
  const v2 = text.replace('1', '2');
  const v3 = text.replace('1', '3');
  host.applyChanges(writeFiles(root, { 'a.ts': v2 })); // no cached extraction yet: hashed at once
  const edited = host.applyChanges(writeFiles(root, { 'a.ts': v3 })); // from the cached one
  assert.deepEqual({ generation: edited.generation, restated: edited.restated }, { generation: 3, restated: 0 });
  const same = host.applyChanges(writeFiles(root, { 'a.ts': v3 }));
  assert.deepEqual({ generation: same.generation, files: same.files, restated: same.restated }, { generation: 3, files: [], restated: 1 });
  assert.equal(host.factsOf('a.ts')!.contentHash, contentHash(v3));
  host.applyChanges(writeFiles(root, { 'a.ts': v2 }));
  const record = host.records().find((r) => 'facts' in r && r.facts.path === 'a.ts');
  assert.ok(record && 'facts' in record);
  assert.equal(record.facts.contentHash, contentHash(v2));
  assert.equal(await diffWithFresh(host), undefined);
});

test('incremental: a deferred content hash is settled when its extraction leaves the cache, and read right while it is cached', async () => {
  const root = tempDir('isg-incremental-evict-');
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`f${i}.ts`] = `export function f${i}(): number {\n  return 0;\n}\n`;
  writeFiles(root, files);
  const host = await GraphHost.index(root);
  // Each file twice in a row: the second edit is from the cached extraction, its hash deferred;
  // the first files edited have left the cache (16 extractions) since.
  const facts = new Map<string, FileFacts>();
  for (const path of Object.keys(files)) {
    for (const edit of ['1', '2']) host.applyChanges(writeFiles(root, { [path]: files[path]!.replace('0', edit) }));
    facts.set(path, host.records().find((r): r is { facts: FileFacts } => 'facts' in r && r.facts.path === path)!.facts);
  }
  for (const path of ['f0.ts', 'f19.ts']) {
    const hash = contentHash(files[path]!.replace('0', '2'));
    assert.equal(host.factsOf(path)!.contentHash, hash);
    assert.equal(facts.get(path)!.contentHash, hash, 'the facts records() handed out carry the hash');
  }
  // The same text again is still a touch, evicted or cached.
  for (const path of ['f0.ts', 'f19.ts']) assert.equal(host.applyChanges(writeFiles(root, { [path]: files[path]!.replace('0', '2') })).restated, 1);
  assert.equal(await diffWithFresh(host), undefined);
});

test('incremental: a checkout-sized batch extracted on worker threads gives the graph in-thread extraction gives', async () => {
  const roots = [tempDir('isg-incremental-pool-'), tempDir('isg-incremental-inline-')];
  for (const root of roots) cpSync(join(packageRoot(), 'node_modules/rxjs/src'), root, { recursive: true });
  const [pooled, inline] = await Promise.all(roots.map((root) => GraphHost.index(root)));
  const paths = [...pooled!.filePaths()].filter((p) => p.startsWith('internal/')).sort();
  const changes: FileChange[] = [];
  for (const root of roots) {
    for (const [i, p] of paths.entries()) {
      const abs = join(root, p);
      if (i % 7 === 0) rmSync(abs);
      else if (i % 11 === 0) continue; // unchanged, yet in the batch: the same bytes again
      else writeFileSync(abs, `${readFileSync(abs, 'utf8').replace(/export function (\w+)/, 'export function $1Renamed')}\nexport const batch${i} = ${i};\n`);
    }
    writeFileSync(join(root, 'internal/added.ts'), "import { map } from './operators/map';\nexport const added = map((x: number) => x);\n");
    writeFileSync(join(root, 'internal/binary.ts'), Buffer.from([0x65, 0x78, 0, 0, 0xff, 0xfe]));
  }
  for (const [i, p] of paths.entries()) changes.push(i % 7 === 0 ? { path: p, text: null } : { path: p });
  changes.push({ path: 'internal/added.ts' }, { path: 'internal/binary.ts' });

  assert.equal(await pooled!.prepareChanges(changes.slice(0, 3)), undefined, 'a small batch is extracted in-thread');
  const prepared = await pooled!.prepareChanges(changes);
  assert.ok(prepared, `${changes.length} files are worth the workers`);
  assert.equal(prepared.size, changes.filter((c) => c.text === undefined).length);
  assert.equal(prepared.get('internal/binary.ts')?.outcome.ok, false);
  const a = pooled!.applyChanges(changes, prepared);
  const b = inline!.applyChanges(changes);
  const shape = (s: typeof a) => ({ generation: s.generation, files: [...s.files].sort(), added: [...s.added].sort(), removed: [...s.removed].sort(), changed: [...s.changed].sort(), restated: s.restated, reresolved: s.reresolved });
  assert.deepEqual(shape(a), shape(b));
  assert.ok(a.restated > 0 && a.removed.length > 0 && a.changed.length > 0);
  assert.equal(graphDiff(exportGraph(pooled!, pooled!.root), exportGraph(inline!, inline!.root)), undefined);
  // Skipped files and stats are recorded as the in-thread path records them.
  const recorded = (host: GraphHost) => host.records().map((r) => ('facts' in r ? `${r.facts.path} ${r.stat?.size}` : `skipped ${r.skipped.file} ${r.skipped.code} ${r.stat?.size}`)).sort();
  assert.deepEqual(recorded(pooled!), recorded(inline!));
  assert.equal(await diffWithFresh(pooled!, true), undefined);
});

test('incremental: cached heritage lookups and name matching follow changes elsewhere', async () => {
  const root = tempDir('isg-incremental-caches-');
  writeFiles(root, {
    // a1 and a2 both reach Base through mid.ts and the lib.ts re-export; whichever resolves
    // second finds Mid's supertypes cached.
    'a1.ts': `import { Mid } from './mid';\nexport class A1 extends Mid {\n  go(): void {\n    this.run();\n  }\n}\n`,
    'a2.ts': `import { Mid } from './mid';\nexport class A2 extends Mid {\n  go(): void {\n    this.run();\n  }\n}\n`,
    'mid.ts': `import { Base } from './lib';\nexport class Mid extends Base {}\n`,
    'lib.ts': `export { Base } from './one';\n`,
    'one.ts': `export class Base {\n  run(): void {}\n}\n`,
    'two.ts': `export class Base {\n  run(): void {}\n}\n`,
    // An unknown receiver: only name matching can guess \`foo\`, when exactly one method has it.
    'guess.ts': `export function go(x: any): void {\n  x.foo();\n}\n`,
    'fields.ts': `export class WithField {\n  foo = 1;\n}\n`,
    'methods.ts': `export class WithMethod {\n  foo(): void {}\n}\n`,
  });
  const host = await GraphHost.index(root);
  const callsOf = (from: string): string[] => edgesOf(host, { kind: 'calls', from });
  const step = async (label: string, files: Record<string, string | null>, expect: () => void): Promise<void> => {
    host.applyChanges(writeFiles(root, files));
    expect();
    const diff = await diffWithFresh(host);
    assert.equal(diff, undefined, `after "${label}" the live graph differs from a fresh index\n${diff}`);
  };

  assert.deepEqual([...callsOf('a1.ts#A1.go'), ...callsOf('a2.ts#A2.go')], ['calls a1.ts#A1.go -> one.ts#Base.run (resolved)', 'calls a2.ts#A2.go -> one.ts#Base.run (resolved)']);
  assert.deepEqual(callsOf('guess.ts#go'), ['calls guess.ts#go -> methods.ts#WithMethod.foo (inferred)']);

  await step('lib.ts re-exports Base from two.ts instead: both subclasses follow', { 'lib.ts': `export { Base } from './two';\n` }, () =>
    assert.deepEqual([...callsOf('a1.ts#A1.go'), ...callsOf('a2.ts#A2.go')], ['calls a1.ts#A1.go -> two.ts#Base.run (resolved)', 'calls a2.ts#A2.go -> two.ts#Base.run (resolved)']),
  );
  // The index resolved with caches of its own: only now are Mid's supertypes cached in the live
  // resolver (consulting lib.ts), and a change of lib.ts must drop them although mid.ts is unchanged.
  await step('and back to one.ts, with the supertypes of Mid cached: both subclasses follow again', { 'lib.ts': `export { Base } from './one';\n` }, () =>
    assert.deepEqual([...callsOf('a1.ts#A1.go'), ...callsOf('a2.ts#A2.go')], ['calls a1.ts#A1.go -> one.ts#Base.run (resolved)', 'calls a2.ts#A2.go -> one.ts#Base.run (resolved)']),
  );

  await step('the field foo becomes a method: the name is no longer unique, the guess goes', { 'fields.ts': `export class WithField {\n  foo(): void {}\n}\n` }, () =>
    assert.deepEqual(callsOf('guess.ts#go'), []),
  );
  await step('and back to a field: the guess returns', { 'fields.ts': `export class WithField {\n  foo = 1;\n}\n` }, () =>
    assert.deepEqual(callsOf('guess.ts#go'), ['calls guess.ts#go -> methods.ts#WithMethod.foo (inferred)']),
  );
});

test('incremental: query answers kept between calls follow changes (cycles, names, walks)', async () => {
  const root = tempDir('isg-incremental-caches-');
  writeFiles(root, {
    'a.ts': "import { b } from './b';\nexport function a(): number {\n  return b();\n}\n",
    'b.ts': "import { a } from './a';\nexport function b(): number {\n  return a();\n}\n",
  });
  const host = await GraphHost.index(root, { workers: 0 });
  const cyclesOf = (kind: string) => (runQuery(host, 'cycles', { kind }) as { cycles: { members: { id: string }[] }[] }).cycles.map((c) => c.members.map((m) => m.id).join(' '));
  const lookup = (name: string, mode: string) => (runQuery(host, 'lookup', { name, mode }) as { matches: { id: string }[] }).matches.map((m) => m.id);
  // Edge order (hence walk order) depends on the order files were resolved in: compare as sets.
  const callers = (entity: string) => (runQuery(host, 'callers', { entity }) as { results: { id: string }[] }).results.map((r) => r.id).sort();
  assert.deepEqual(cyclesOf('imports'), ['a.ts b.ts']);
  assert.deepEqual(cyclesOf('calls'), ['a.ts#a b.ts#b']);
  assert.deepEqual(lookup('ab', 'prefix'), []);
  assert.deepEqual(callers('b.ts#b'), ['a.ts#a']);

  // b stops importing a: both cycles go; a new function appears under a new name.
  host.applyChanges(writeFiles(root, { 'b.ts': 'export function b(): number {\n  return 1;\n}\nexport function abc(): number {\n  return b();\n}\n' }));
  assert.deepEqual(cyclesOf('imports'), []);
  assert.deepEqual(cyclesOf('calls'), []);
  assert.deepEqual(lookup('ab', 'prefix'), ['b.ts#abc']);
  assert.deepEqual(lookup('abc', 'fuzzy'), ['b.ts#abc']);
  assert.deepEqual(callers('b.ts#b'), ['a.ts#a', 'b.ts#abc']);

  // And back: the cycles return, abc is gone from every answer.
  host.applyChanges(writeFiles(root, { 'b.ts': "import { a } from './a';\nexport function b(): number {\n  return a();\n}\n" }));
  assert.deepEqual(cyclesOf('imports'), ['a.ts b.ts']);
  assert.deepEqual(cyclesOf('calls'), ['a.ts#a b.ts#b']);
  assert.deepEqual(lookup('ab', 'prefix'), []);
  assert.deepEqual(callers('b.ts#b'), ['a.ts#a']);
  assert.equal(await diffWithFresh(host, true), undefined);
});

test('incremental: result records kept per entity follow its line, kind and id reuse', async () => {
  const root = tempDir('isg-incremental-records-');
  writeFiles(root, {
    'a.ts': 'export interface Shape {}\nexport class Circle implements Shape {\n  area(): number {\n    return 1;\n  }\n}\n',
    'b.ts': "import { Circle } from './a';\nexport function use(): number {\n  return new Circle().area();\n}\n",
  });
  const host = await GraphHost.index(root, { workers: 0 });
  const ask = (h: GraphHost) => [
    runQuery(h, 'implements', { entity: 'a.ts#Shape' }),
    runQuery(h, 'lookup', { name: 'a.ts#Circle' }),
    runQuery(h, 'outline', { file: 'a.ts' }),
    runQuery(h, 'callers', { entity: 'a.ts#Circle.area' }),
    runQuery(h, 'blast-radius', { entity: 'a.ts#Shape' }),
  ];
  const fresh = async () => ask(await GraphHost.index(root, { workers: 0 }));
  const first = ask(host) as [{ results: { line: number; location: string }[] }, ...unknown[]];
  assert.equal(first[0].results[0]!.location, 'a.ts:2');
  assert.deepEqual(ask(host), await fresh());

  // Circle moves down two lines: every answer that lists it says so.
  host.applyChanges(writeFiles(root, { 'a.ts': 'export interface Shape {}\n\n\nexport class Circle implements Shape {\n  area(): number {\n    return 1;\n  }\n}\n' }));
  const moved = ask(host) as [{ results: { location: string }[] }, ...unknown[]];
  assert.equal(moved[0].results[0]!.location, 'a.ts:4');
  assert.deepEqual(ask(host), await fresh());

  // Circle goes and an interface takes its place (and, from the free list, its id).
  host.applyChanges(writeFiles(root, { 'a.ts': 'export interface Shape {}\nexport interface Square extends Shape {\n  area(): number;\n}\nexport class Circle {\n  area(): number {\n    return 1;\n  }\n}\n' }));
  const replaced = ask(host) as [{ results: { id: string; kind: string }[] }, ...unknown[]];
  assert.deepEqual(replaced[0].results.map((r) => `${r.id} ${r.kind}`), ['a.ts#Square interface']);
  assert.deepEqual(ask(host), await fresh());
  // Records are shared between answers: frozen, so a caller cannot change another's answer.
  assert.ok(Object.isFrozen((runQuery(host, 'implements', { entity: 'a.ts#Shape' }) as { entity: object }).entity));
});

test('incremental: import types follow their export and where their specifier leads', async () => {
  const root = tempDir('isg-incremental-import-types-');
  writeFiles(root, {
    'a.ts': 'export interface Foo {}\n',
    'm/index.ts': 'export interface Bar {}\n',
    'b.ts': 'export type UsesFoo = import("./a").Foo;\nexport function f(x: import("./m").Bar): void {}\n',
  });
  const host = await GraphHost.index(root, { workers: 0 });
  const usesType = () => edgesOf(host, { kind: 'uses-type', from: undefined }).filter((e) => e.includes('b.ts'));
  assert.equal(usesType().length, 2);

  // The export is renamed: the reference no longer resolves; renamed back, it does again.
  host.applyChanges(writeFiles(root, { 'a.ts': 'export interface Renamed {}\n' }));
  assert.equal(await diffWithFresh(host), undefined);
  assert.equal(usesType().length, 1);
  host.applyChanges(writeFiles(root, { 'a.ts': 'export interface Foo {}\n' }));
  assert.equal(await diffWithFresh(host), undefined);
  assert.equal(usesType().length, 2);

  // `./m` now leads to m.ts rather than m/index.ts, which has no Bar.
  host.applyChanges(writeFiles(root, { 'm.ts': 'export interface Other {}\n' }));
  assert.equal(await diffWithFresh(host), undefined);
  assert.equal(usesType().length, 1);
});

test('incremental: a tsconfig.json change re-resolves path-mapped imports', async () => {
  const root = tempDir('isg-incremental-config-');
  const tsconfig = (target: string) => JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@lib/*': [`${target}/*`] } } });
  writeFiles(root, {
    'tsconfig.json': tsconfig('one'),
    'app.ts': `import { helper } from '@lib/helper';\nexport function main(): void {\n  helper();\n}\n`,
    'one/helper.ts': `export function helper(): void {}\n`,
    'two/helper.ts': `export function helper(): void {}\n`,
  });
  const host = await GraphHost.index(root);
  assert.deepEqual(edgesOf(host, { kind: 'calls', from: 'app.ts#main' }), ['calls app.ts#main -> one/helper.ts#helper (resolved)']);
  // Configuration is read from disk: the change names the file, its text comes from there.
  const summary = host.applyChanges(writeFiles(root, { 'tsconfig.json': tsconfig('two') }));
  assert.deepEqual(summary.files, ['tsconfig.json']);
  assert.deepEqual(edgesOf(host, { kind: 'calls', from: 'app.ts#main' }), ['calls app.ts#main -> two/helper.ts#helper (resolved)']);
  assert.deepEqual(edgesOf(host, { kind: 'imports', from: 'app.ts' }), ['imports app.ts -> two/helper.ts (resolved)']);
  assert.equal(await diffWithFresh(host), undefined);
});

// ---- the property test ------------------------------------------------------------------

const envInt = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
};

/** Directories of rxjs/src where barrels are made and unmade by the barrel operation. */
const BARREL_DIRS = ['internal/util', 'internal/operators', 'internal/observable', 'internal/scheduler'];

type Op = 'body-call' | 'body-remove-line' | 'rename-method' | 'add-parameter' | 'method-to-field' | 'rename-export' | 'add-declaration' | 'delete-file' | 'rename-file' | 'add-file' | 'barrel' | 'barrel-import' | 'shadow-index' | 'no-op';

/** Relative weights of the single operations; batches draw 2-4 of them. */
const WEIGHTS: [Op, number][] = [
  ['body-call', 6],
  ['body-remove-line', 4],
  ['rename-method', 3],
  ['add-parameter', 3],
  ['method-to-field', 2],
  ['rename-export', 3],
  ['add-declaration', 4],
  ['delete-file', 2],
  ['rename-file', 3],
  ['add-file', 3],
  ['barrel', 4],
  ['barrel-import', 3],
  ['shadow-index', 2],
  ['no-op', 2],
];

/**
 * The temp copy as the operations see it: committed contents (equal to disk and to what the
 * host was told) plus the changes of the batch being built. Operations read entity positions
 * from the host's facts, so one batch touches each file at most once.
 */
class Workspace {
  readonly root: string;
  readonly host: GraphHost;
  readonly random: () => number;
  private readonly contents = new Map<string, string>();
  private pending = new Map<string, string | null>();
  private counter = 0;
  /** Operations an operation asked to run at the next step (the second half of a scenario). */
  followUps: Operation[] = [];
  /** Member names called on unknown receivers (name matching): kind changes of those matter. */
  readonly guessed = new Set<string>();
  /** Files changed by an earlier step. */
  private readonly edited = new Set<string>();

  constructor(root: string, host: GraphHost, random: () => number) {
    this.root = root;
    this.host = host;
    this.random = random;
    for (const path of host.filePaths()) this.contents.set(path, readFileSync(join(root, path), 'utf8'));
  }

  fresh(prefix: string): string {
    return `${prefix}${++this.counter}`;
  }

  pick<T>(items: readonly T[]): T | undefined {
    // Files already edited, half of the time, as a person keeps editing the same few files: the
    // host keeps more of an edited file (its parse tree, its resolution per entity) and a later
    // edit of it takes the paths that keep most.
    if (this.edited.size && typeof items[0] === 'string' && this.chance(0.5)) {
      const again = items.filter((x) => this.edited.has(x as string));
      if (again.length) return again[Math.floor(this.random() * again.length)];
    }
    return items.length ? items[Math.floor(this.random() * items.length)] : undefined;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  text(path: string): string | undefined {
    if (this.pending.has(path)) return this.pending.get(path) ?? undefined;
    return this.contents.get(path);
  }

  /** Committed files not touched by the batch being built (by default the .ts ones). */
  untouched(filter: (path: string) => boolean = (p) => p.endsWith('.ts')): string[] {
    return [...this.contents.keys()].filter((p) => !this.pending.has(p) && filter(p)).sort();
  }

  exists(path: string): boolean {
    return this.text(path) !== undefined;
  }

  touched(path: string): boolean {
    return this.pending.has(path);
  }

  set(path: string, text: string | null): void {
    this.pending.set(path, text);
  }

  /** Entities of a committed, untouched file, from the host's facts (positions match the text). */
  entities(path: string): EntityFact[] {
    if (this.pending.has(path)) return [];
    return this.host.factsOf(path)?.entities ?? [];
  }

  /** Write the batch to disk and hand it to the host; returns how it was handed over. */
  commit(): string {
    const batch = [...this.pending];
    this.pending = new Map();
    for (const [path, text] of batch) {
      const abs = join(this.root, path);
      if (text === null) {
        unlinkSync(abs);
        this.contents.delete(path);
      } else {
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, text);
        this.contents.set(path, text);
        this.edited.add(path);
      }
    }
    if (batch.length === 1 && this.chance(0.5)) {
      const [path, text] = batch[0]!;
      // Sometimes let the host read the file from disk, as the watcher does.
      const viaDisk = text !== null && this.chance(0.3);
      this.host.applyChange(path, viaDisk ? undefined : text);
      return viaDisk ? 'applyChange(from disk)' : 'applyChange';
    }
    this.host.applyChanges(batch.map(([path, text]) => ({ path, text })));
    return `applyChanges(${batch.length})`;
  }
}

const lastSegment = (name: string): string => name.slice(name.lastIndexOf('.') + 1);
const isIdentifier = (s: string): boolean => /^[A-Za-z_$][\w$]*$/.test(s);

/** The module specifier `from` would write for `to`, in one of the spellings people use. */
function specifierFor(ws: Workspace, from: string, to: string): string {
  let rel = posix.relative(posix.dirname(from), to);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  const stem = rel.replace(/\.ts$/, '');
  const roll = ws.random();
  if (roll < 0.6) return stem;
  if (roll < 0.8) return `${stem}.js`;
  return `${stem}.ts`;
}

/** `text` of file `from` as file `to`: relative module specifiers rewritten to the same targets. */
function rebase(text: string, from: string, to: string): string {
  return text.replace(/(from\s+|import\s*\(\s*)'(\.{1,2}\/[^']*|\.{1,2})'/g, (_, keyword: string, spec: string) => {
    let rel = posix.relative(posix.dirname(to), posix.join(posix.dirname(from), spec));
    if (!rel.startsWith('.')) rel = rel === '' ? '.' : `./${rel}`;
    return `${keyword}'${rel}'`;
  });
}

/** Function-like entities with a braced body whose last line is just the closing brace. */
function bodies(ws: Workspace, path: string, lines: string[]): EntityFact[] {
  const entities = ws.entities(path);
  return entities.filter((e) => {
    if (e.kind !== 'function' && e.kind !== 'method' && e.kind !== 'constructor') return false;
    if (e.parent >= 0 && entities[e.parent]!.kind === 'interface') return false;
    return e.endLine > e.line + 1 && /^\s*\}\s*[;,]?\s*$/.test(lines[e.endLine - 1] ?? '');
  });
}

/** Exported top-level functions of files other than `path`. */
function exportedFunctions(ws: Workspace, except: string): { file: string; name: string }[] {
  const out: { file: string; name: string }[] = [];
  for (const file of ws.untouched((p) => p.endsWith('.ts') && p !== except)) {
    for (const e of ws.entities(file)) if (e.kind === 'function' && e.parent < 0 && e.exported && isIdentifier(e.name)) out.push({ file, name: e.name });
  }
  return out;
}

/** Exported top-level classes with at least one method, and those methods. */
function exportedClasses(ws: Workspace, except: string): { file: string; name: string; methods: string[] }[] {
  const out: { file: string; name: string; methods: string[] }[] = [];
  for (const file of ws.untouched((p) => p.endsWith('.ts') && p !== except)) {
    const entities = ws.entities(file);
    entities.forEach((e, i) => {
      if (e.kind !== 'class' || e.parent >= 0 || !e.exported || !isIdentifier(e.name)) return;
      const methods = entities.filter((m) => m.parent === i && m.kind === 'method').map((m) => lastSegment(m.name)).filter(isIdentifier);
      if (methods.length) out.push({ file, name: e.name, methods });
    });
  }
  return out;
}

/** Adds `import { name as local } from '...'` at the top of `lines` (after a leading comment is fine too). */
function addImport(ws: Workspace, path: string, lines: string[], target: { file: string; name: string }): string {
  const local = ws.fresh(`isgImported_${target.name}_`);
  lines.unshift(`import { ${target.name} as ${local} } from '${specifierFor(ws, path, target.file)}';`);
  return local;
}

/** A call of a name imported from a file that does not declare it; the follow-up declares it there. */
function importBeforeDeclaration(ws: Workspace): string | undefined {
  const path = ws.pick(ws.untouched((p) => p.endsWith('.ts') && !p.endsWith('index.ts')));
  const target = ws.pick(ws.untouched((p) => p.endsWith('.ts') && p !== path));
  if (!path || !target) return undefined;
  const lines = ws.text(path)!.split('\n');
  const body = ws.pick(bodies(ws, path, lines));
  if (!body) return undefined;
  const name = ws.fresh('isgDeclaredLater');
  const at = body.endLine - 1;
  lines.splice(at, 0, '    CALL_PLACEHOLDER;');
  const local = addImport(ws, path, lines, { file: target, name });
  lines[at + 1] = `    ${local}();`;
  ws.set(path, lines.join('\n'));
  ws.followUps.push((w) => {
    const text = w.text(target);
    if (text === undefined) return undefined; // deleted or renamed meanwhile
    w.set(target, `${text}\nexport function ${name}(): void {}\n`);
    return `add-declaration ${target}: export function ${name}, which ${path} calls`;
  });
  return `add-declaration (first half) ${path}#${body.name}: calls ${name}, imported from ${target}, which does not declare it yet`;
}

type Operation = (ws: Workspace) => string | undefined;

const OPERATIONS: Record<Op, Operation> = {
  /** (a) A call inserted at the end of a function body: to an import, a local, `this.m()`, or an unknown receiver. */
  'body-call'(ws) {
    const path = ws.pick(ws.untouched((p) => p.endsWith('.ts') && !p.endsWith('index.ts')));
    if (!path) return undefined;
    const lines = ws.text(path)!.split('\n');
    const body = ws.pick(bodies(ws, path, lines));
    if (!body) return undefined;
    const entities = ws.entities(path);
    let call: string;
    let what: string;
    const roll = ws.random();
    const owner = body.parent >= 0 ? entities[body.parent]! : undefined;
    if (roll < 0.5) {
      const target = ws.pick(exportedFunctions(ws, path));
      if (!target) return undefined;
      // Insert the call first: the import shifts every line down by one.
      const at = body.endLine - 1;
      lines.splice(at, 0, '    CALL_PLACEHOLDER;');
      const local = addImport(ws, path, lines, target);
      call = `${local}()`;
      lines[at + 1] = `    ${call};`;
      what = `call to imported ${target.file}#${target.name}`;
    } else {
      if (roll < 0.7 && owner?.kind === 'class') {
        const methods = entities.filter((m) => m.parent === body.parent && m.kind === 'method').map((m) => lastSegment(m.name)).filter(isIdentifier);
        const m = ws.pick(methods) ?? 'isgMissingMethod';
        call = `this.${m}()`;
      } else if (roll < 0.85) {
        // An unknown receiver: only name matching can say anything, and it depends on every file.
        const names = [...new Set(exportedClasses(ws, path).flatMap((c) => c.methods))].sort();
        const name = ws.pick(names) ?? 'subscribe';
        ws.guessed.add(name);
        call = `(null as any).${name}()`;
      } else {
        const locals = entities.filter((e) => e.parent < 0 && e.kind === 'function' && isIdentifier(e.name)).map((e) => e.name);
        call = `${ws.pick(locals) ?? 'isgUndefinedFunction'}()`;
      }
      lines.splice(body.endLine - 1, 0, `    ${call};`);
      what = call;
    }
    ws.set(path, lines.join('\n'));
    return `body-call ${path}#${body.name}: ${what}`;
  },

  /**
   * (a) A declaration appended, only added (the host re-resolves other files only if one looked
   * for its name there): a function or a class with a method, named as a function another file
   * exports (a barrel may now take this one), as a method called on unknown receivers, as the
   * undefined function body-call calls, or afresh; or a call to a name another file does not
   * export yet, which it declares at the next step.
   */
  'add-declaration'(ws) {
    if (ws.chance(0.35)) return importBeforeDeclaration(ws);
    const path = ws.pick(ws.untouched((p) => p.endsWith('.ts')));
    if (!path) return undefined;
    const taken = new Set(ws.entities(path).map((e) => e.name));
    const roll = ws.random();
    const name =
      roll < 0.4 ? ws.pick(exportedFunctions(ws, path))?.name : roll < 0.6 ? ws.pick([...ws.guessed].sort()) : roll < 0.7 ? 'isgUndefinedFunction' : undefined;
    const chosen = name && !taken.has(name) ? name : ws.fresh('isgAdded');
    const declaration = ws.chance(0.7) ? `export function ${chosen}(): void {}` : `export class ${ws.fresh('IsgAdded')} {\n  ${chosen}(): void {}\n}`;
    ws.set(path, `${ws.text(path)!}\n${declaration}\n`);
    return `add-declaration ${path}: ${declaration.split('\n')[0]}${chosen === name ? '' : ' (a fresh name)'}`;
  },

  /** (a) A whole statement line removed from a function body. */
  'body-remove-line'(ws) {
    const path = ws.pick(ws.untouched());
    if (!path) return undefined;
    const lines = ws.text(path)!.split('\n');
    const candidates: number[] = [];
    for (const body of bodies(ws, path, lines)) {
      for (let i = body.line; i < body.endLine - 1; i++) {
        const line = lines[i]!.trim();
        const previous = lines[i - 1]!.trim();
        // A complete one-line statement: nothing open before it, nothing continued from it.
        if (!line.endsWith(';') || /[{}()`]|^\.|^\?|^:/.test(line.replace(/\([^()]*\)/g, '')) || line.includes('`')) continue;
        if (!(previous.endsWith(';') || previous.endsWith('{') || previous.endsWith('}'))) continue;
        candidates.push(i);
      }
    }
    const at = ws.pick(candidates);
    if (at === undefined) return undefined;
    const removed = lines[at]!.trim();
    lines.splice(at, 1);
    ws.set(path, lines.join('\n'));
    return `body-remove-line ${path}:${at + 1}: ${removed}`;
  },

  /** (b) A class or interface method renamed at its declaration (callers keep the old name). */
  'rename-method'(ws) {
    const path = ws.pick(ws.untouched());
    if (!path) return undefined;
    const entities = ws.entities(path);
    const methods = entities.filter((e) => e.kind === 'method' && isIdentifier(lastSegment(e.name)));
    const m = ws.pick(methods);
    if (!m) return undefined;
    const lines = ws.text(path)!.split('\n');
    const old = lastSegment(m.name);
    const line = lines[m.line - 1]!;
    const re = new RegExp(`(?<![\\w$])${old.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
    re.lastIndex = m.column - 1;
    const found = re.exec(line);
    if (!found) return undefined;
    const name = ws.fresh(`${old}Renamed`);
    lines[m.line - 1] = line.slice(0, found.index) + name + line.slice(found.index + old.length);
    ws.set(path, lines.join('\n'));
    return `rename-method ${path}#${m.name} -> ${name}`;
  },

  /** (b) A parameter added in front of a function's or method's parameters. */
  'add-parameter'(ws) {
    const isFunctionLike = (e: EntityFact): boolean => (e.kind === 'function' || e.kind === 'method' || e.kind === 'constructor') && isIdentifier(lastSegment(e.name));
    let path: string | undefined;
    let f: EntityFact | undefined;
    if (ws.chance(0.5)) {
      // A function other files pass untyped callbacks to, picked by how many such call sites
      // it has: they type the callbacks' parameters by its declared parameter types, which a
      // new first parameter shifts (contextual typing).
      const sites: string[] = [];
      for (const p of ws.untouched()) {
        const facts = ws.host.factsOf(p);
        if (facts) for (const b of bindingsOf(facts)) if (b.callback) sites.push(lastSegment(b.callback.callee));
      }
      const callee = ws.pick(sites);
      const takesIt = (e: EntityFact): boolean =>
        isFunctionLike(e) && (e.name === callee || e.name.endsWith(`.${callee}`) || e.name === `${callee}.constructor`) && (e.paramTypes?.some((t) => t?.includes('=>')) ?? false);
      path = ws.pick(ws.untouched((p) => p.endsWith('.ts') && ws.entities(p).some(takesIt)));
      f = path === undefined ? undefined : ws.pick(ws.entities(path).filter(takesIt));
    } else {
      path = ws.pick(ws.untouched());
      f = path === undefined ? undefined : ws.pick(ws.entities(path).filter(isFunctionLike));
    }
    if (!path || !f) return undefined;
    const lines = ws.text(path)!.split('\n');
    const line = lines[f.line - 1]!;
    const name = lastSegment(f.name);
    const at = line.indexOf(name, f.column - 1);
    if (at < 0) return undefined;
    // The parameter list: the first `(` after the name, past any `<...>` without parentheses.
    const open = line.indexOf('(', at + name.length);
    if (open < 0 || /[^\s<>\w$,.[\]|&=]/.test(line.slice(at + name.length, open).replace(/=\s*(function|async)\b/g, ''))) return undefined;
    const rest = line.slice(open + 1);
    const param = `${ws.fresh('isgExtra')}?: number`;
    // An optional parameter first: `(a: A)` -> `(isgExtraN?: number, a: A)`; `this` stays first.
    if (/^\s*this\b/.test(rest)) return undefined;
    lines[f.line - 1] = line.slice(0, open + 1) + param + (/^\s*\)/.test(rest) ? '' : ', ') + rest;
    ws.set(path, lines.join('\n'));
    return `add-parameter ${path}#${f.name}: ${param}`;
  },

  /** (b) A method turned into an arrow-function field or back (same name, other entity kind). */
  'method-to-field'(ws) {
    // Half the time a member whose name some call site guesses by name matching.
    const preferGuessed = ws.guessed.size > 0 && ws.chance(0.5);
    const isMember = (e: EntityFact, entities: EntityFact[]): boolean =>
      (e.kind === 'method' || e.kind === 'property') && e.parent >= 0 && entities[e.parent]!.kind === 'class' && (!preferGuessed || ws.guessed.has(lastSegment(e.name)));
    const path = ws.pick(ws.untouched((p) => p.endsWith('.ts') && (!preferGuessed || ws.entities(p).some((e, _, all) => isMember(e, all)))));
    if (!path) return undefined;
    const entities = ws.entities(path);
    const lines = ws.text(path)!.split('\n');
    const members = entities.filter((e) => isMember(e, entities));
    const candidates: { at: number; text: string; what: string }[] = [];
    for (const m of members) {
      const name = lastSegment(m.name);
      if (!isIdentifier(name)) continue;
      const line = lines[m.line - 1]!;
      const modifiers = '((?:(?:public|private|protected|static|override|readonly)\\s+)*)';
      const asMethod = new RegExp(`^(\\s*)${modifiers}${name.replace(/\$/g, '\\$')}(<[^()>]*>)?\\(([^()]*)\\)(\\s*:\\s*[^{}()=]+?)?\\s*\\{\\s*$`).exec(line);
      if (asMethod) {
        const [, indent, mods, generics, params, ret] = asMethod;
        candidates.push({ at: m.line - 1, text: `${indent}${mods}${name} = ${generics ?? ''}(${params})${ret ?? ''} => {`, what: `${m.name} method -> field` });
        continue;
      }
      const asField = new RegExp(`^(\\s*)${modifiers}${name.replace(/\$/g, '\\$')} = (<[^()>]*>)?\\(([^()]*)\\)(\\s*:\\s*[^{}()=]+?)? => \\{\\s*$`).exec(line);
      if (asField) {
        const [, indent, mods, generics, params, ret] = asField;
        candidates.push({ at: m.line - 1, text: `${indent}${mods}${name}${generics ?? ''}(${params})${ret ?? ''} {`, what: `${m.name} field -> method` });
      }
    }
    const c = ws.pick(candidates);
    if (!c) return undefined;
    lines[c.at] = c.text;
    ws.set(path, lines.join('\n'));
    return `method-to-field ${path}#${c.what}`;
  },

  /** (b) An exported top-level declaration renamed (its importers lose it). */
  'rename-export'(ws) {
    const path = ws.pick(ws.untouched());
    if (!path) return undefined;
    const entities = ws.entities(path);
    const lines = ws.text(path)!.split('\n');
    const candidates = entities.filter((e) => e.parent < 0 && e.exported && isIdentifier(e.name) && /^export\s/.test(lines[e.line - 1]!.slice(e.column - 1)));
    const e = ws.pick(candidates);
    if (!e) return undefined;
    const line = lines[e.line - 1]!;
    const re = new RegExp(`(?<![\\w$])${e.name.replace(/\$/g, '\\$')}(?![\\w$])`);
    const found = re.exec(line.slice(e.column - 1 + 'export'.length));
    if (!found) return undefined;
    const at = e.column - 1 + 'export'.length + found.index;
    const name = ws.fresh(`${e.name}Renamed`);
    lines[e.line - 1] = line.slice(0, at) + name + line.slice(at + e.name.length);
    ws.set(path, lines.join('\n'));
    return `rename-export ${path}#${e.name} -> ${name}`;
  },

  /** (c) A file deleted. */
  'delete-file'(ws) {
    const path = ws.pick(ws.untouched((p) => languageOf(p) !== undefined));
    if (!path) return undefined;
    ws.set(path, null);
    return `delete-file ${path}`;
  },

  /** (d) A file renamed (delete + add in one batch): to a sibling name, into `x/index.ts`, or out of it. */
  'rename-file'(ws) {
    const path = ws.pick(ws.untouched());
    if (!path) return undefined;
    const dir = posix.dirname(path);
    const stem = posix.basename(path, '.ts');
    let to: string;
    const roll = ws.random();
    if (stem === 'index' && dir !== '.' && roll < 0.6) to = `${dir}.ts`; // x/index.ts -> x.ts: importers of ./x keep resolving
    else if (stem !== 'index' && roll < 0.5) to = posix.join(dir, stem, 'index.ts'); // x.ts -> x/index.ts: likewise
    else to = posix.join(dir, `${ws.fresh(`${stem}Moved`)}.ts`);
    if (ws.exists(to)) return undefined;
    const text = ws.text(path)!;
    ws.set(path, null);
    ws.set(to, text);
    return `rename-file ${path} -> ${to}`;
  },

  /** (e) A new file importing and re-exporting things and extending a class from another file. */
  'add-file'(ws) {
    const near = ws.pick(ws.untouched((p) => p.startsWith('internal/') && p.endsWith('.ts')));
    if (!near) return undefined;
    const path = posix.join(posix.dirname(near), `${ws.fresh('isgAdded')}.ts`);
    const base = ws.pick(exportedClasses(ws, path));
    const fns = exportedFunctions(ws, path);
    const fn = ws.pick(fns);
    const reexported = ws.pick(fns);
    const star = ws.pick(ws.untouched((p) => p.endsWith('.ts') && p !== path));
    if (!base || !fn || !reexported || !star) return undefined;
    const cls = ws.fresh('IsgAddedClass');
    const lines = [
      `import { ${base.name} as IsgBase } from '${specifierFor(ws, path, base.file)}';`,
      `import { ${fn.name} } from '${specifierFor(ws, path, fn.file)}';`,
      `export { ${reexported.name} as ${ws.fresh('isgReexported')} } from '${specifierFor(ws, path, reexported.file)}';`,
    ];
    if (ws.chance(0.5)) lines.push(`export * from '${specifierFor(ws, path, star)}';`);
    lines.push(
      '',
      `export class ${cls} extends IsgBase<any> {`,
      `  ${ws.fresh('isgRun')}(): void {`,
      `    ${fn.name}();`,
      `    this.${ws.pick(base.methods)}();`,
      '  }',
      '}',
      '',
      `export function ${ws.fresh('isgMake')}(): ${cls} {`,
      `  return new ${cls}();`,
      '}',
      '',
    );
    ws.set(path, lines.join('\n'));
    return `add-file ${path} (extends ${base.file}#${base.name}, calls ${fn.file}#${fn.name}, re-exports ${reexported.file}#${reexported.name})`;
  },

  /** (g) A barrel `internal/<dir>/index.ts` made, or one `export *` line added to or removed from it. */
  barrel(ws) {
    const dir = ws.pick(BARREL_DIRS)!;
    const path = `${dir}/index.ts`;
    if (ws.touched(path)) return undefined;
    const siblings = ws.untouched((p) => posix.dirname(p) === dir && p.endsWith('.ts') && p !== path);
    const existing = ws.text(path);
    if (existing === undefined) {
      const members = siblings.filter(() => ws.chance(0.3));
      if (!members.length) return undefined;
      ws.set(path, members.map((m) => `export * from './${posix.basename(m, '.ts')}';`).join('\n') + '\n');
      return `barrel ${path} created with ${members.length} export *`;
    }
    const lines = existing.split('\n');
    const stars = lines.map((l, i) => (l.startsWith('export * from') ? i : -1)).filter((i) => i >= 0);
    if (stars.length && ws.chance(0.45)) {
      const at = ws.pick(stars)!;
      const removed = lines.splice(at, 1)[0];
      ws.set(path, lines.join('\n'));
      return `barrel ${path}: removed ${removed}`;
    }
    const member = ws.pick(siblings.filter((s) => !existing.includes(`'./${posix.basename(s, '.ts')}'`)));
    if (!member) return undefined;
    // Anywhere in the list: for a name exported twice, the first `export *` wins.
    lines.splice(Math.floor(ws.random() * (stars.length + 1)), 0, `export * from './${posix.basename(member, '.ts')}';`);
    ws.set(path, lines.join('\n'));
    return `barrel ${path}: added export * from './${posix.basename(member, '.ts')}'`;
  },

  /** (g) An import of `<dir>/x` rewritten to go through the `<dir>` barrel. */
  'barrel-import'(ws) {
    const path = ws.pick(ws.untouched());
    if (!path) return undefined;
    const lines = ws.text(path)!.split('\n');
    const candidates: { at: number; spec: string; barrel: string }[] = [];
    lines.forEach((line, at) => {
      const m = /^(import|export) .* from '(\.{1,2}\/[^']+)';$/.exec(line);
      if (!m) return;
      const target = posix.normalize(posix.join(posix.dirname(path), m[2]!));
      const dir = posix.dirname(target);
      if (BARREL_DIRS.includes(dir) && posix.basename(target) !== 'index' && dir !== posix.dirname(path)) candidates.push({ at, spec: m[2]!, barrel: dir });
    });
    const c = ws.pick(candidates);
    if (!c) return undefined;
    const barrelSpec = posix.dirname(c.spec);
    lines[c.at] = lines[c.at]!.replace(`'${c.spec}'`, `'${barrelSpec}'`);
    ws.set(path, lines.join('\n'));
    // Mostly through a barrel that re-exports the module (made or extended in the same batch);
    // sometimes through whatever the barrel holds, which may not be that module.
    const barrel = `${c.barrel}/index.ts`;
    const member = `export * from './${posix.basename(c.spec).replace(/\.(js|ts)$/, '')}';`;
    const existing = ws.text(barrel);
    let how = existing === undefined ? 'absent' : 'as it is';
    if (!ws.touched(barrel) && ws.chance(0.8) && !existing?.split('\n').includes(member)) {
      ws.set(barrel, `${existing ?? ''}${member}\n`);
      how = existing === undefined ? `created with ${member}` : `given ${member}`;
    }
    return `barrel-import ${path}:${c.at + 1}: '${c.spec}' -> '${barrelSpec}' (barrel ${how})`;
  },

  /**
   * `x.ts` appears next to `x/index.ts`, so every `./x` now means x.ts, also inside barrels that
   * others import through. When no such directory module exists yet, this step makes one: a
   * barrel member moves into `x/index.ts` and an importer of it goes through the barrel; the
   * next step adds x.ts back beside it.
   */
  'shadow-index'(ws) {
    const indexes = ws.untouched((p) => p.endsWith('/index.ts') && !ws.exists(`${posix.dirname(p)}.ts`) && !ws.touched(`${posix.dirname(p)}.ts`));
    const index = ws.chance(0.7) ? ws.pick(indexes) : undefined;
    if (index) {
      const to = `${posix.dirname(index)}.ts`;
      ws.set(to, rebase(ws.text(index)!, index, to));
      return `shadow-index ${to} added next to ${index}`;
    }
    const barrels = BARREL_DIRS.map((d) => `${d}/index.ts`).filter((b) => ws.exists(b) && !ws.touched(b));
    const barrel = ws.pick(barrels);
    if (!barrel) return undefined;
    const dir = posix.dirname(barrel);
    const members = ws
      .text(barrel)!
      .split('\n')
      .map((l) => /^export \* from '\.\/([^'/]+)';$/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined && ws.exists(`${dir}/${m}.ts`) && !ws.touched(`${dir}/${m}.ts`) && !ws.exists(`${dir}/${m}/index.ts`));
    const member = ws.pick(members);
    if (!member) return undefined;
    const from = `${dir}/${member}.ts`;
    const to = `${dir}/${member}/index.ts`;
    const text = ws.text(from)!;
    ws.set(from, null);
    ws.set(to, rebase(text, from, to));
    // An importer of the member now imports it through the barrel.
    let importer = '';
    for (const path of ws.untouched((p) => p.endsWith('.ts') && posix.dirname(p) !== dir)) {
      const lines = ws.text(path)!.split('\n');
      const at = lines.findIndex((l) => {
        const spec = /^import .* from '(\.{1,2}\/[^']+)';$/.exec(l)?.[1];
        return spec !== undefined && posix.join(posix.dirname(path), spec).replace(/\.(js|ts)$/, '') === `${dir}/${member}`;
      });
      if (at < 0) continue;
      const spec = /'([^']+)'/.exec(lines[at]!)![1]!;
      lines[at] = lines[at]!.replace(`'${spec}'`, `'${posix.dirname(spec)}'`);
      ws.set(path, lines.join('\n'));
      importer = `, ${path} imports it through the barrel`;
      break;
    }
    ws.followUps.push((w) => {
      if (!w.exists(to) || w.exists(from) || w.touched(from) || w.touched(to)) return undefined;
      w.set(from, rebase(w.text(to)!, to, from));
      return `shadow-index ${from} added next to ${to}`;
    });
    return `shadow-index ${from} moved to ${to}${importer}; ${from} comes back next step`;
  },

  /** (h) The same content written again. */
  'no-op'(ws) {
    const path = ws.pick(ws.untouched((p) => languageOf(p) !== undefined));
    if (!path) return undefined;
    ws.set(path, ws.text(path)!);
    return `no-op ${path}`;
  },
};

function drawOp(ws: Workspace): Op {
  const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
  let roll = ws.random() * total;
  for (const [op, w] of WEIGHTS) {
    roll -= w;
    if (roll < 0) return op;
  }
  return WEIGHTS[0]![0];
}

/** One step: a single operation, or (f) a batch of 2-4; returns its log line. */
function runStep(ws: Workspace): string {
  const batch = ws.chance(0.25) ? 2 + Math.floor(ws.random() * 3) : 1;
  const done: string[] = [];
  const followUps = ws.followUps;
  ws.followUps = [];
  for (const op of followUps) {
    const line = op(ws);
    if (line) done.push(`(follow-up) ${line}`);
  }
  for (let attempts = 0; done.length < batch && attempts < 50; attempts++) {
    const line = OPERATIONS[drawOp(ws)](ws);
    if (line) done.push(line);
  }
  if (!done.length) return 'nothing applicable';
  const how = ws.commit();
  return done.length === 1 ? `${how}: ${done[0]}` : `${how} batch:\n      ${done.join('\n      ')}`;
}

test('incremental: random edits to a copy of rxjs/src match a fresh index', async () => {
  const seed = process.env.ISG_SEED ? envInt('ISG_SEED', 0) : Math.floor(Math.random() * 2 ** 31);
  const steps = envInt('ISG_PROPERTY_STEPS', 60);
  const checkEvery = Math.max(1, envInt('ISG_CHECK_EVERY', 2));
  const root = tempDir('isg-incremental-rxjs-');
  cpSync(join(packageRoot(), 'node_modules/rxjs/src'), root, { recursive: true });
  const host = await GraphHost.index(root);
  const ws = new Workspace(root, host, prng(seed));
  const log: string[] = [];
  const replay = `seed ${seed} (replay: ISG_SEED=${seed} ISG_PROPERTY_STEPS=${steps} ISG_CHECK_EVERY=${checkEvery})`;
  console.log(`incremental property test: ${replay}, ${steps} steps`);
  const started = performance.now();
  let checks = 0;

  const initial = await diffWithFresh(host, true);
  assert.equal(initial, undefined, `the initial index differs from a fresh one\n${initial}`);
  for (let i = 1; i <= steps; i++) {
    log.push(`${String(i).padStart(3)}. ${runStep(ws)}`);
    if (i % checkEvery !== 0 && i !== steps) continue;
    checks++;
    const diff = await diffWithFresh(host, true);
    if (diff !== undefined) {
      const since = Math.max(0, i - checkEvery);
      assert.fail(
        `after step ${i} the live graph differs from a fresh index; ${replay}\n` +
          `(the difference appeared in steps ${since + 1}..${i})\n` +
          `steps:\n${log.join('\n')}\n` +
          `diff:\n${diff}`,
      );
    }
  }
  // The disk and the host agree on the file set, so the comparison above was about the same files.
  const onDisk = readdirSync(root, { recursive: true, encoding: 'utf8' }).map((f) => f.split('\\').join('/')).filter((f) => languageOf(f) !== undefined);
  assert.deepEqual([...host.filePaths()].sort(), onDisk.sort());
  if (process.env.ISG_PROPERTY_VERBOSE) console.log(log.join('\n'));
  console.log(`incremental property test: ${steps} steps, ${checks} comparisons with a fresh index, ${Math.round(performance.now() - started)} ms; ${replay}`);
});
