// Long value strings are left out of the parse (string-gaps.ts). The facts must be those of a
// parse that reads them, fresh and after any edit: inside a gap, around it, or breaking it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { extractFile, reextract, type Extraction } from '../daemon/ingest/extract.ts';
import { MIN_GAP, likelyGaps, sameGaps } from '../daemon/ingest/string-gaps.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { prng } from './support/prng.ts';

/** A literal's inside of about `n` characters, with escapes (each its own node in a parse that reads it). */
function inside(n: number, seed: string): string {
  const unit = `${seed} text, \\"quoted\\" and \\n escaped \\u00e9 `;
  return unit.repeat(Math.ceil(n / unit.length));
}

const LONG = MIN_GAP + 4000;

/** Five long value strings (gaps) and long strings that are not values or not plain (no gap). */
function sample(): string {
  return [
    'import { helper } from "./helper";',
    '/** The script. */',
    `export const script: string = "${inside(LONG, 'one')}";`,
    `export const pair = { a: "${inside(LONG, 'two')}", b: helper("${inside(LONG, 'three')}") };`,
    'export function run(x: number): number {',
    `  const inner = "${inside(LONG, 'four')}";`,
    '  return helper(x, inner);',
    '}',
    `export type Literal = "${inside(LONG, 'type')}";`,
    `export const template = \`${inside(LONG, 'template').replace(/\\"/g, '"')}\${helper(1)}\`;`,
    `const continued = "${inside(LONG / 4, 'a')}\\\n${inside(LONG / 4, 'b')}";`,
    `export class C {\n  m(): void {\n    helper("${inside(LONG, 'seven')}");\n  }\n}`,
    'export const after = helper(2);',
    '',
  ].join('\n');
}

/** The facts of a parse that reads every string. */
function readingAll(text: string, path = 'gaps.ts'): Extraction['facts'] {
  return extractFile(path, 'typescript', text, undefined, Infinity).facts;
}

test('long value strings are left out of the parse; the facts are those of a parse reading them', () => {
  const text = sample();
  const extraction = extractFile('gaps.ts', 'typescript', text);
  // script, pair.a, helper(three), inner, helper(seven); not the literal type, the template or the continued string.
  assert.equal(extraction.gaps.length, 5);
  for (const g of extraction.gaps) {
    const node = extraction.tree.rootNode.descendantForIndex(g.start + 100);
    assert.equal(node.type, 'string', 'nothing of the inside was parsed');
    assert.equal(text[g.start - 1], '"');
    assert.equal(text[g.end], '"');
  }
  assert.deepEqual(extraction.facts, readingAll(text));
});

test('the gaps guessed from the text alone: quoted runs on long lines, escapes and the other quote inside, up to the closing quote on the line', () => {
  const min = 40;
  // escaped quotes of its own kind inside, and the other kind as they are
  const long = (q: string, seed: string) => `${q}${inside(min, seed).replaceAll('\\"', `\\${q}`)}${q === '"' ? "it's" : '"x"'}${q}`;
  const text = [
    `const a = 'short', b = ${long('"', 'b')}, c = ${long("'", 'c')};`,
    `const e = "${'z'.repeat(min - 10)}";  // too short, on a long line ${'.'.repeat(min)}`,
    `const f = ${long('"', 'f')};`,
  ].join('\n');
  const at = (needle: string) => text.indexOf(needle);
  const guessed = likelyGaps(text, min).map((g) => text.slice(g.start - 1, g.end + 1));
  const b = text.slice(at('b = ') + 4, at(', c = '));
  const c = text.slice(at('c = ') + 4, at(';\n'));
  const f = text.slice(at('f = ') + 4, text.length - 1);
  assert.deepEqual(guessed, [b, c, f]);
  // and where a parse puts them, rows and columns included
  assert.ok(sameGaps(likelyGaps(text, min), extractFile('guess.ts', 'typescript', text, undefined, min).gaps));
});

test('a first parse without the guessed insides, kept when its tree bears the guess out; the facts are always those of a parse reading every string', () => {
  // The generated modules: the guess is right, so the first parse reads no long string.
  for (const file of ['httpApiScalar.ts', 'httpApiSwagger.ts']) {
    const text = readFileSync(join(packageRoot(), 'node_modules/effect/src/http-api/internal', file), 'utf8');
    const extraction = extractFile(file, 'typescript', text);
    assert.ok(extraction.gaps.length > 0 && sameGaps(likelyGaps(text), extraction.gaps), `${file}: the guess is what a parse finds`);
    assert.deepEqual(extraction.facts, readingAll(text, file), file);
  }
  // Wrong guesses: a long literal type (a gap for the text, not for the tree); a quote in a
  // comment, a template or a regular expression ahead of a long string on its line (the string
  // missed, or a run between two literals guessed); a long string continued on the next line.
  const wrong = [
    `export type Literal = "${inside(LONG, 'type')}";`,
    `/* don't */ export const x = f("${inside(LONG, 'x')}");`,
    `export const y = \`it's \${f("${inside(LONG, 'y')}")}\`;`,
    `export const z = /'/.test(f("${inside(LONG, 'z')}"));`,
    `export const m = /"/.test(f("${inside(LONG, 'm')}")) + "${inside(LONG, 'n')}";`,
    `export const c = "${inside(LONG, 'c')}\\\n${inside(LONG, 'd')}";`,
  ];
  for (const line of wrong) {
    const text = `${line}\nexport function f(s: string): string { return s; }\n`;
    const extraction = extractFile('gaps.ts', 'typescript', text);
    assert.ok(!sameGaps(likelyGaps(text), extraction.gaps), `a wrong guess: ${line.slice(0, 40)}`);
    assert.deepEqual(extraction.facts, readingAll(text), line.slice(0, 40));
  }
});

/** Edits inside a gap (plain characters, or ones that end the string or change its escapes), next to it, and elsewhere. */
function randomEdit(text: string, rand: () => number): { text: string; inert: boolean } {
  const longs: [number, number][] = [];
  for (const m of text.matchAll(/"(?:[^"\\\n]|\\.){1000,}"/g)) longs.push([m.index!, m.index! + m[0].length]);
  const [s, e] = longs[Math.floor(rand() * longs.length)] ?? [0, 0];
  let at = s + 1 + Math.floor(rand() * (e - s - 2));
  while (text[at - 1] === '\\' || text[at] === '\\') at++;
  const r = rand();
  const edit = (from: number, to: number, insert: string, inert = false) => ({ text: text.slice(0, from) + insert + text.slice(to), inert });
  if (r < 0.35) return edit(at, at, 'plain', true);
  if (r < 0.45) return edit(at, at + 3, '', !/["\\]/.test(text.slice(at, at + 3)));
  if (r < 0.5) return edit(at, at, '\\"');
  if (r < 0.55) return edit(at, at, '"');
  if (r < 0.6) return edit(at, at, '\n');
  if (r < 0.65) return edit(s, s + 1, ''); // the opening quote
  if (r < 0.7) return edit(e - 1, e, "'"); // the closing quote
  if (r < 0.75) return edit(s + 1, s + 1, 'x'); // just inside, at the quote
  const annotation = text.indexOf('script: ') + 'script: '.length;
  if (r < 0.85) return edit(annotation, annotation + 6, text.startsWith('string', annotation) ? 'String' : 'string');
  if (r < 0.9) return edit(s, s, '/* before */ ');
  if (r < 0.95) return edit(e, e, ' + "tail"');
  return edit(0, 0, 'export function added(): void {}\n');
}

test('after edits inside, next to and away from long strings, the facts are those of a fresh parse reading them', () => {
  const rand = prng(Number(process.env.ISG_SEED ?? 20261206));
  let text = sample();
  let valid = text;
  let incremental = extractFile('gaps.ts', 'typescript', text);
  let keptThroughInert = 0;
  for (let step = 0; step < 60; step++) {
    const next = incremental.tree.rootNode.hasError ? { text: valid, inert: false } : randomEdit(text, rand);
    const gapsBefore = incremental.gaps.length;
    text = next.text;
    incremental = reextract(incremental, text);
    if (!incremental.tree.rootNode.hasError) valid = text;
    if (next.inert && gapsBefore === 5 && incremental.gaps.length === 5) keptThroughInert++;
    assert.deepEqual(incremental.facts, extractFile('gaps.ts', 'typescript', text).facts, `facts differ from a fresh extraction after step ${step}`);
    assert.deepEqual(incremental.facts, readingAll(text), `facts differ from a parse reading every string after step ${step}`);
  }
  assert.ok(keptThroughInert >= 10, `gaps were kept through only ${keptThroughInert} edits of plain characters inside them`);
});

test('the generated 3.2 MB string module: its value and its type annotation edited in turn, the gap kept', () => {
  const file = 'node_modules/effect/src/http-api/internal/httpApiScalar.ts';
  const base = readFileSync(join(packageRoot(), file), 'utf8');
  let incremental = extractFile(file, 'typescript', base);
  assert.equal(incremental.gaps.length, 1);
  const name = base.indexOf('javascript') + 'javascript'.length;
  const middle = base.indexOf('function', base.length >> 1);
  // As bench/apply-change.ts edits it: each edit changes the value or the annotation, in turn.
  for (let k = 1; k <= 6; k++) {
    const value = k % 2 ? k : k - 1;
    const annotation = k % 2 ? k - 1 : k;
    const text = base.slice(0, name) + (annotation === 0 ? '' : annotation % 4 ? ': String' : ': string') + base.slice(name, middle) + `edit${value}` + base.slice(middle);
    incremental = reextract(incremental, text);
    assert.equal(incremental.gaps.length, 1, `the gap is kept at edit ${k}`);
    assert.deepEqual(incremental.facts, extractFile(file, 'typescript', text).facts, `facts differ after edit ${k}`);
  }
  assert.deepEqual(incremental.facts, extractFile(file, 'typescript', incremental.text, undefined, Infinity).facts, 'and they are those of a parse reading the string');
});
