// Incremental re-extraction must give exactly the facts a full extraction of the new text gives.
// Random edits (seeded) on real files from the corpora in node_modules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { extractFile, reextract, warmUpSteps, type Extraction } from '../daemon/ingest/extract.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { prng } from './support/prng.ts';

const FILES = [
  'node_modules/rxjs/src/internal/Observable.ts',
  'node_modules/rxjs/src/internal/Subscriber.ts',
  'node_modules/zod/src/v3/types.ts',
  'node_modules/effect/src/Array.ts',
  'node_modules/rxjs/src/internal/testing/TestScheduler.ts',
  'node_modules/effect/src/http/HttpPlatform.ts',
];

/** Statements added at the top of a function body: callbacks, nested functions and bodies, typed locals, a dynamic import. */
const BODY_STATEMENTS = [
  '    helperCall(this.value, other);\n',
  '    items.forEach((item: Item, i) => { const inner = new Inner(item); inner.run(i); });\n',
  '    const typed: Map<string, Observable<number>> = make();\n',
  '    function nested<T>(x: T): T { return wrap(() => { return x; }); }\n',
  '    const lazy = import("./lazy.js");\n',
  '    subscribe({ next: (v) => { v.emit(); }, error: function (e) { e.report(); } });\n',
];


const STATEMENTS = [
  'export function added(x: Observable<number>): Subscriber<number> {\n  return helper(x);\n}\n',
  '/** doc */\nexport class Added extends Base implements Iface {\n  m(): void {\n    this.n();\n  }\n}\n',
  'import { a } from "./a.js";\n',
  'export * from "./barrel.js";\n',
  'export type Alias<T> = Map<string, T>;\n',
];

function lineStarts(text: string, test: (line: string) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const end = text.indexOf('\n', i);
    const stop = end < 0 ? text.length : end;
    if (test(text.slice(i, stop))) out.push(i);
    i = stop + 1;
  }
  return out;
}

function pick<T>(list: T[], rand: () => number): T | undefined {
  return list.length ? list[Math.floor(rand() * list.length)] : undefined;
}

/**
 * Mostly edits that keep the file valid (so the incremental path is the one exercised): add or
 * remove a statement, a call in a body, a doc comment, an `export`, rename an identifier.
 * Sometimes a breaking edit, undone at the next step.
 */
function randomEdit(text: string, rand: () => number): string {
  const r = rand();
  const lineEnd = (at: number) => {
    const e = text.indexOf('\n', at);
    return e < 0 ? text.length : e + 1;
  };
  if (r < 0.2) {
    const at = pick(lineStarts(text, (l) => l.startsWith('export ')), rand) ?? 0;
    return text.slice(0, at) + pick(STATEMENTS, rand) + text.slice(at);
  }
  if (r < 0.35) {
    const at = pick(lineStarts(text, (l) => /^\s*(const|let|return|this\.)[^{}()]*;\s*$/.test(l)), rand);
    if (at !== undefined) return text.slice(0, at) + text.slice(lineEnd(at));
  }
  if (r < 0.55) {
    const at = pick(lineStarts(text, (l) => /\)\s*(:\s*[\w<>, ]+)?\s*\{\s*$/.test(l)), rand);
    if (at !== undefined) return text.slice(0, lineEnd(at)) + pick(BODY_STATEMENTS, rand) + text.slice(lineEnd(at));
  }
  if (r < 0.6) {
    // A parameter added to a method or function.
    const at = pick(lineStarts(text, (l) => /^\s*(export )?(static |public |private |protected |async |function\*? )*\w+(<[^>]*>)?\(\w/.test(l)), rand);
    if (at !== undefined) {
      const paren = text.indexOf('(', at);
      return text.slice(0, paren + 1) + pick(['extra: Extra<number>, ', 'cb: (x: X) => void, ', 'q?: Map<K, V>, '], rand) + text.slice(paren + 1);
    }
  }
  if (r < 0.62) {
    // A parameter added to an arrow function (a callback's parameters are read from its call).
    const arrows: number[] = [];
    for (const m of text.matchAll(/\((\w+(?:: \w+)?)\) =>/g)) arrows.push(m.index! + 1);
    const at = pick(arrows, rand);
    if (at !== undefined) return text.slice(0, at) + 'extra, ' + text.slice(at);
  }
  if (r < 0.65) {
    const at = pick(lineStarts(text, (l) => l.startsWith('export ')), rand);
    if (at !== undefined) return text.slice(0, at) + '/** An added doc comment. */\n' + text.slice(at);
  }
  if (r < 0.75) {
    const at = pick(lineStarts(text, (l) => /^export (function|const|class|interface|type) /.test(l)), rand);
    if (at !== undefined) return text.slice(0, at) + text.slice(at + 'export '.length);
  }
  if (r < 0.9) {
    const at = pick(lineStarts(text, (l) => /^\s*(export )?(function|class|interface|const|type) \w+/.test(l)), rand);
    if (at !== undefined) {
      const m = /(function|class|interface|const|type) (\w+)/.exec(text.slice(at, lineEnd(at)))!;
      const nameAt = at + m.index + m[1]!.length + 1;
      return text.slice(0, nameAt) + m[2] + 'Renamed' + text.slice(nameAt + m[2]!.length);
    }
  }
  const at = Math.floor(rand() * text.length);
  return text.slice(0, at) + pick(['{', '/*', '(', 'export '], rand) + text.slice(at);
}

const seed = Number(process.env.ISG_SEED ?? 20261122);
const steps = Number(process.env.ISG_REEXTRACT_STEPS ?? 40);

for (const file of FILES) {
  test(`reextract equals a full extraction after random edits: ${file}`, () => {
    const rand = prng(seed + file.length);
    let text = readFileSync(join(packageRoot(), file), 'utf8');
    let incremental: Extraction = extractFile(file, 'typescript', text);
    let valid = text;
    let cleanSteps = 0;
    let reusedRows = 0;
    for (let step = 0; step < steps; step++) {
      // A file left broken by the last edit is restored first: that is an edit too.
      text = incremental.tree.rootNode.hasError ? valid : randomEdit(text, rand);
      const before = incremental;
      incremental = reextract(incremental, text);
      if (incremental.sameRows) reusedRows++;
      if (!incremental.tree.rootNode.hasError) {
        valid = text;
        if (!before.tree.rootNode.hasError) cleanSteps++;
      }
      const full = extractFile(file, 'typescript', text);
      assert.deepEqual(incremental.facts, full.facts, `facts differ after step ${step} (seed ${seed})`);
    }
    // Most steps must have gone through the incremental path, or this test proves little; and
    // many through assembly reusing the previous rows (an edit moving no entity).
    assert.ok(cleanSteps > steps / 2, `only ${cleanSteps} of ${steps} steps were incremental`);
    assert.ok(reusedRows > steps / 4, `only ${reusedRows} of ${steps} steps reused the previous rows`);
  });
}

// Edits inside string literals take a shortcut (nothing re-queried, records shifted): on files
// full of strings, including the generated 3.2 MB one-string module.
const STRING_FILES = ['node_modules/zod/src/v3/types.ts', 'node_modules/effect/src/http-api/internal/httpApiScalar.ts'];
const STRING = /"(?:[^"\\\n]|\\.){2,}"/g;

function randomStringEdit(text: string, rand: () => number): string {
  const strings: [number, number][] = [];
  STRING.lastIndex = 0;
  for (let m = STRING.exec(text); m && strings.length < 5000; m = STRING.exec(text)) strings.push([m.index, m.index + m[0].length]);
  const [s, e] = pick(strings, rand) ?? [0, 0];
  const at = s + 1 + Math.floor(rand() * (e - s - 2));
  const r = rand();
  // Mostly edits that keep the literal a literal; sometimes one that ends it early or joins lines.
  if (r < 0.4) return text.slice(0, at) + 'edit' + text.slice(at);
  if (r < 0.6) return text.slice(0, at) + '\\n' + text.slice(at);
  if (r < 0.8 && text[at] !== '\\' && text[at - 1] !== '\\') return text.slice(0, at) + text.slice(at + 1);
  if (r < 0.9) return text.slice(0, at) + '"' + text.slice(at);
  return text.slice(0, at) + '\n' + text.slice(at);
}

for (const file of STRING_FILES) {
  test(`reextract equals a full extraction after edits inside string literals: ${file}`, () => {
    const rand = prng(seed + file.length + 1);
    let text = readFileSync(join(packageRoot(), file), 'utf8');
    let incremental: Extraction = extractFile(file, 'typescript', text);
    let valid = text;
    const stringSteps = file.includes('Scalar') ? 8 : steps;
    for (let step = 0; step < stringSteps; step++) {
      text = incremental.tree.rootNode.hasError ? valid : randomStringEdit(text, rand);
      incremental = reextract(incremental, text);
      if (!incremental.tree.rootNode.hasError) valid = text;
      assert.deepEqual(incremental.facts, extractFile(file, 'typescript', text).facts, `facts differ after step ${step} (seed ${seed})`);
    }
  });
}

test('reextract counts UTF-8 bytes of edits that split surrogate pairs or insert non-ASCII text', () => {
  const texts = [
    'export const a = "x😀y";\nexport function f(): void {}\n',
    'export const a = "x😁y";\nexport function f(): void {}\n', // the pair's second half changes
    'export const a = "xé😁y";\nexport function f(): void {}\n',
    'export const a = "xéy";\nexport function f(): void {}\n',
    'export const a = "x€€y";\n// ü\nexport function f(): void {}\n',
  ];
  let incremental: Extraction = extractFile('u.ts', 'typescript', texts[0]!);
  for (const text of texts.slice(1)) {
    incremental = reextract(incremental, text);
    assert.equal(incremental.facts.bytes, Buffer.byteLength(text, 'utf8'));
    assert.deepEqual(incremental.facts, extractFile('u.ts', 'typescript', text).facts);
  }
});

test('the warm-up steps run for both grammars and leave nothing behind: extraction after them is what it was', () => {
  const text = readFileSync(join(packageRoot(), 'daemon', 'ingest', 'extract.ts'), 'utf8');
  const before = extractFile('x.ts', 'typescript', text).facts;
  const steps = warmUpSteps(['typescript', 'tsx', 'typescript']);
  assert.equal(steps.length, 4, 'two steps per language, each language once');
  for (const step of steps) step();
  assert.deepEqual(extractFile('x.ts', 'typescript', text).facts, before);
});
