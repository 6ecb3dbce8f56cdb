// The oracle must be right before it can grade isg: small projects with hand-checked edges,
// then a smoke run over rxjs to catch crashes and gross under-reporting on real code.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../daemon/util/package-root.ts';
import { compareEdges, formatComparison } from './oracle/compare.ts';
import { buildGroundTruth, type OracleEdge } from './oracle/ts-oracle.ts';

/** Writes `files` under a fresh temp dir, runs the oracle over all of them, cleans up. */
function oracleOf(files: Record<string, string>): OracleEdge[] {
  const root = mkdtempSync(join(tmpdir(), 'isg-oracle-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return buildGroundTruth(root, Object.keys(files)).edges;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const edge = (kind: OracleEdge['kind'], from: string, to: string): OracleEdge => ({ kind, from, to });

test('oracle: calls resolved through imports, this, inheritance and declared types', () => {
  const edges = oracleOf({
    'src/util.ts': `
export function helper(): number { return 1; }
export function over(x: string): string;
export function over(x: number): number;
export function over(x: string | number): string | number { return x; }
export const arrow = (): void => {};
export default function (): void {}
`,
    // The three import spellings must all reach util.ts.
    'src/shapes.ts': `
import { helper, over } from './util.js';
import * as util from './util.ts';
import def from './util';

export interface Named { name(): string }
export interface Shape extends Named { area(): number }

export class Base {
  describe(): string { return 'base'; }
}

export class Square extends Base implements Shape {
  side = helper();
  constructor(private readonly size: number) { super(); this.#check(); }
  #check(): void {}
  name(): string { return this.describe(); }
  area(): number { return this.size * this.twice(); }
  twice(): number {
    const inner = () => over(2);
    return inner();
  }
}

export function measure(s: Shape): number {
  function local(): number { return util.helper(); }
  return s.area() + local();
}

export function make(): Square { return new Square(2); }

util.arrow();
def();
`,
  });
  assert.deepEqual(edges, [
    edge('calls', 'src/shapes.ts', 'src/util.ts#arrow'),
    edge('calls', 'src/shapes.ts', 'src/util.ts#default'),
    edge('calls', 'src/shapes.ts#Square.area', 'src/shapes.ts#Square.twice'),
    edge('calls', 'src/shapes.ts#Square.constructor', 'src/shapes.ts#Square.#check'),
    edge('calls', 'src/shapes.ts#Square.name', 'src/shapes.ts#Base.describe'),
    edge('calls', 'src/shapes.ts#Square.side', 'src/util.ts#helper'),
    edge('calls', 'src/shapes.ts#Square.twice', 'src/util.ts#over'),
    edge('calls', 'src/shapes.ts#make', 'src/shapes.ts#Square'),
    edge('calls', 'src/shapes.ts#measure', 'src/shapes.ts#Shape.area'),
    edge('calls', 'src/shapes.ts#measure', 'src/util.ts#helper'),
    edge('extends', 'src/shapes.ts#Shape', 'src/shapes.ts#Named'),
    edge('extends', 'src/shapes.ts#Square', 'src/shapes.ts#Base'),
    edge('implements', 'src/shapes.ts#Square', 'src/shapes.ts#Shape'),
    edge('uses-type', 'src/shapes.ts#make', 'src/shapes.ts#Square'),
    edge('uses-type', 'src/shapes.ts#measure', 'src/shapes.ts#Shape'),
  ]);
});

test('oracle: uses-type from annotations, type arguments, assertions, predicates and import types', () => {
  const edges = oracleOf({
    'src/types.ts': `
export interface A {}
export interface B {}
export type Tuple = [A, B];
export const KEY = 'k';
export namespace NS { export interface Inner {} }
`,
    'src/use.ts': `
import type { A, B, Tuple } from './types';
import * as t from './types';
export function isA(x: unknown): x is A { return x !== null; }
export function cast(x: unknown) { return x as B; }
export type Spread = [...Tuple];
export type Keyed = { [t.KEY]: A };
export type Deep = t.NS.Inner;
export type Imported = import('./types').B;
export const list = new Array<A>();
`,
  });
  // \`[t.KEY]\` is a value (a computed key), \`typeof\` would be too: neither is a type reference.
  assert.deepEqual(edges, [
    edge('uses-type', 'src/types.ts#Tuple', 'src/types.ts#A'),
    edge('uses-type', 'src/types.ts#Tuple', 'src/types.ts#B'),
    edge('uses-type', 'src/use.ts#Deep', 'src/types.ts#NS.Inner'),
    edge('uses-type', 'src/use.ts#Imported', 'src/types.ts#B'),
    edge('uses-type', 'src/use.ts#Keyed', 'src/types.ts#A'),
    edge('uses-type', 'src/use.ts#Spread', 'src/types.ts#Tuple'),
    edge('uses-type', 'src/use.ts#cast', 'src/types.ts#B'),
    edge('uses-type', 'src/use.ts#isA', 'src/types.ts#A'),
    edge('uses-type', 'src/use.ts#list', 'src/types.ts#A'),
  ]);
});

test('oracle: only SCHEMA.md entities are containers or targets', () => {
  const edges = oracleOf({
    'src/lib.ts': `
export function helper(): number { return 1; }
export class Base { m(): void {} }
`,
    'src/ambient.d.ts': `
declare module 'ext' { export function e(): void; }
declare global { function gg(): void }
`,
    'src/scopes.ts': `
import { helper, Base } from './lib.js';
import { e } from 'ext';
export namespace A.B {
  export function f(): void { helper(); }
  export class C extends Base { m(): void { f(); } }
}
A.B.f();
export default class {
  run(): void { helper(); }
}
export function factory() {
  class Local { go(): void { helper(); } }
  return new Local();
}
export const table = { go() { return helper(); } };
const notEntity = helper();
export const Anon = class { go() { helper(); } };
export enum E { X = helper() }
class Str {
  'quoted'(): void {}
  [Symbol.iterator]() { return helper(); }
  constructor(public x = helper()) {}
  get y(): number { this.quoted(); e(); gg(); return notEntity; }
}
export interface I extends Base {}
class D extends A.B.C { n(): void { super.m(); new Str().y; } }
`,
  });
  assert.deepEqual(edges, [
    edge('calls', 'src/scopes.ts', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts', 'src/scopes.ts#A.B.f'),
    edge('calls', 'src/scopes.ts#A.B.C.m', 'src/scopes.ts#A.B.f'),
    edge('calls', 'src/scopes.ts#A.B.f', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts#Anon', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts#D.n', 'src/scopes.ts#A.B.C.m'),
    edge('calls', 'src/scopes.ts#D.n', 'src/scopes.ts#Str'),
    edge('calls', 'src/scopes.ts#E', 'src/lib.ts#helper'),
    // The computed-name method is no entity, so its calls belong to the class.
    edge('calls', 'src/scopes.ts#Str', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts#Str.x', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts#Str.y', 'src/scopes.ts#Str.quoted'),
    edge('calls', 'src/scopes.ts#default.run', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts#factory', 'src/lib.ts#helper'),
    edge('calls', 'src/scopes.ts#table', 'src/lib.ts#helper'),
    edge('extends', 'src/scopes.ts#A.B.C', 'src/lib.ts#Base'),
    edge('extends', 'src/scopes.ts#D', 'src/scopes.ts#A.B.C'),
    edge('extends', 'src/scopes.ts#I', 'src/lib.ts#Base'),
  ]);
});

test('compareEdges: counts per kind, pairs compared as sets', () => {
  const truth = [edge('calls', 'a', 'b'), edge('calls', 'a', 'c'), edge('extends', 'x', 'y')];
  const ours = [
    { kind: 'calls', from: 'a', to: 'b' },
    { kind: 'calls', from: 'a', to: 'b' },
    { kind: 'calls', from: 'a', to: 'z' },
    { kind: 'uses-type', from: 'a', to: 'q' },
  ];
  const c = compareEdges(truth, ours, ['calls']);
  assert.deepEqual(
    [c.truePositives, c.falsePositives, c.falseNegatives, c.precision, c.recall],
    [1, 1, 1, 0.5, 0.5],
  );
  assert.deepEqual(c.examples, { falsePositives: [ours[2]], falseNegatives: [truth[1]] });
  assert.equal(formatComparison('calls', c), 'calls: precision 0.500 recall 0.500 (tp 1, fp 1, fn 1)');
});

test('oracle: smoke run over rxjs/src', () => {
  const root = join(packageRoot(), 'node_modules/rxjs/src');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split('\\').join('/'));
  const result = buildGroundTruth(root, files);
  const byKind: Record<string, number> = {};
  for (const e of result.edges) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
  console.log(`rxjs: ${result.files} files, ${result.callSites} call sites, ${JSON.stringify(byKind)}, ${Math.round(result.millis)} ms`);
  // rxjs 7.8.2 gives 39 extends, 8 implements and 1148 calls; the bounds leave room for
  // deliberate oracle changes but catch lost module resolution or a broken entity mapping.
  assert.equal(result.files, files.length);
  assert.ok((byKind.extends ?? 0) + (byKind.implements ?? 0) >= 40, 'heritage edges');
  assert.ok((byKind.calls ?? 0) > 1000, 'call edges');
  assert.ok(result.edges.some((e) => e.kind === 'extends' && e.from === 'internal/Subject.ts#Subject' && e.to === 'internal/Observable.ts#Observable'));
});
