// The parser-input rewrites for syntax tree-sitter-typescript 0.23 cannot parse: each rewrite
// must keep length and line breaks, make the real code parse, and leave other code alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyRewrites, CHUNK, findRewrites, inputReader, parserInput, rewritesAfterEdit } from '../daemon/ingest/grammar-gaps.ts';
import { parse } from '../daemon/ingest/parser.ts';
import { editBetween } from '../daemon/ingest/text-edit.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { prng } from './support/prng.ts';

const hasError = (text: string) => parse('typescript', text).rootNode.hasError;

function assertSameShape(a: string, b: string): void {
  assert.equal(a.length, b.length);
  assert.equal(a.split('\n').length, b.split('\n').length);
}

test('variance annotations become spaces, also after a comment and on their own line', () => {
  const src = 'export interface E<out A, in out B extends string = never> {}\ninterface O<\n  /** c */\n  out S extends X = X,\n> {}\n';
  assert.ok(hasError(src));
  const out = parserInput(src, 'typescript');
  assertSameShape(out, src);
  assert.ok(!hasError(out));
  assert.ok(out.startsWith('export interface E<    A,        B extends string = never> {}'));
});

test('newline-separated generic call signatures get a separator; other code is untouched', () => {
  const src = [
    'const f: {',
    '  <A>(x: A): Box<A>',
    '  /** doc */',
    '  <A, B>(x: A, y: B): { a: A }',
    '  <',
    '    C,',
    '  >(c: C): C',
    '} = impl',
    '',
  ].join('\n');
  assert.ok(hasError(src));
  const out = parserInput(src, 'typescript');
  assertSameShape(out, src);
  assert.ok(!hasError(out), out);
  // Comparisons, generic arrows after `=` and JSX-free TS stay as written.
  const plain = 'const g =\n  <T>(x: T) => x\nconst ok = a < b\n';
  assert.equal(parserInput(plain, 'typescript'), plain);
  // A generic arrow as the body of an arrow, on its own line: the line before ends with `=>`.
  const curried = 'const m =\n  <E>(f: (e: E) => E) =>\n  <A, R>(self: Box<A, E, R>): Box<A, E, R> =>\n    f(self)\n';
  assert.equal(parserInput(curried, 'typescript'), curried);
  assert.ok(!hasError(curried));
  // In TSX a line starting with `<` is JSX: never touched.
  const jsx = 'const v = (\n  <div>\n    <span/>\n  </div>\n)\n';
  assert.equal(parserInput(jsx, 'tsx'), jsx);
});

test('escaped backticks become spaces; an even run of backslashes escapes none', () => {
  const src = 'type M<U extends string> = `Missing \\`Self\\` in ${U}`\nconst s = `a\\\\`\nexport const x = 1\n';
  assert.ok(hasError(src));
  const out = parserInput(src, 'typescript');
  assertSameShape(out, src);
  assert.ok(!hasError(out), out);
  assert.ok(out.startsWith('type M<U extends string> = `Missing   Self   in ${U}`'), out);
  assert.ok(out.includes('const s = `a\\\\`'), 'the backtick after two backslashes closes the template');
});

test('a member named `in` or `instanceof` after a member with no separator gets one, in both grammars', () => {
  const src = 'interface P {\n  name: string\n  in: "query" | "path"\n  instanceof?: boolean\n}\nfor (const k\n  in o) {}\n';
  for (const language of ['typescript', 'tsx'] as const) {
    assert.ok(parse(language, src).rootNode.hasError);
    const out = parserInput(src, language);
    assertSameShape(out, src);
    assert.ok(!parse(language, out).rootNode.hasError, out);
    assert.ok(out.endsWith('for (const k\n  in o) {}\n'), 'the operator `in` is left alone');
  }
});

test('a variable named `as` declared with `let` is read as another name; uses and `const as` are untouched', () => {
  const src = 'function f(self: { q: number[] }) {\n  let as = self.q.length === 0\n    ? []\n    : self.q\n  const y = as\n  return as.length + y.length\n}\nconst cast = x as number\nlet asked = 1\n';
  assert.ok(hasError(src));
  const out = parserInput(src, 'typescript');
  assertSameShape(out, src);
  assert.ok(!hasError(out), out);
  assert.equal(out, src.replace('let as =', 'let a_ ='));
});

test('an import type before type arguments reads as a qualified name; dynamic imports in code are untouched', () => {
  const src = 'type A = import("./a").Foo<T>;\nlet x: import ( \'./a\' ).NS.Bar<A, B> = y;\nconst m = import("./a").then<X>(f);\ntype B = import("./a").Foo;\nx.import("a").b<c>(d);\n';
  assert.ok(hasError(src));
  const out = parserInput(src, 'typescript');
  assertSameShape(out, src);
  assert.ok(!hasError(out), out);
  assert.equal(out, src.replace('import("./a").Foo<T>', 'import_______.Foo<T>').replace("import ( './a' ).NS", 'import__________.NS'));
  assert.equal(parserInput(src, 'tsx'), out);
});

test('real effect files that the grammar rejects parse after the rewrite', () => {
  for (const file of ['node_modules/effect/src/Option.ts', 'node_modules/effect/src/Array.ts', 'node_modules/effect/src/Config.ts', 'node_modules/effect/src/Filter.ts', 'node_modules/effect/src/Schema.ts', 'node_modules/effect/src/http-api/OpenApi.ts', 'node_modules/effect/src/PubSub.ts']) {
    const text = readFileSync(join(packageRoot(), file), 'utf8');
    assert.ok(hasError(text), `${file} should need the rewrite`);
    const out = parserInput(text, 'typescript');
    assertSameShape(out, text);
    assert.ok(!hasError(out), `${file} still has syntax errors`);
  }
});

test('rxjs needs no rewrite: its text reaches the parser unchanged', () => {
  for (const file of ['internal/Observable.ts', 'internal/Subscriber.ts', 'internal/types.ts']) {
    const text = readFileSync(join(packageRoot(), 'node_modules/rxjs/src', file), 'utf8');
    assert.equal(parserInput(text, 'typescript'), text);
  }
});

/** Fragments that make, break or move rewrites: variance keywords, comments, member lines. */
const FRAGMENTS = ['<out ', 'in ', ' out', 'out A', ', in B', '/*', '*/', '/** c */', '\n  <A>(x: A): A', '\n  <', ';', '\n', '\n\n', '\n  // c\n', '\n  * c\n', ' extends ', '>', '=', ' =>', 'x', ')', '  ', '\\`', '\\', '`', '\n  in: ', 'instanceof?:', 'let as', 'let ', ' as ', ' = ', 'import("./a").', 'import(', '"', ').X<', '.then', '<T>'];

test('rewrites found again around an edit equal a scan of the whole edited text; the reader gives the rewritten text', () => {
  const seed = process.env.ISG_SEED ? Number(process.env.ISG_SEED) : 20261206;
  const rand = prng(seed);
  for (const file of ['node_modules/effect/src/Option.ts', 'node_modules/effect/src/Array.ts', 'node_modules/effect/src/Schema.ts']) {
    const original = readFileSync(join(packageRoot(), file), 'utf8');
    for (const language of ['typescript', 'tsx'] as const) {
      let text = original;
      let rewrites = findRewrites(text, language);
      for (let step = 0; step < 150; step++) {
        // Near a rewrite most of the time: that is where the windows matter.
        const near = rewrites.length && rand() < 0.7 ? rewrites[Math.floor(rand() * rewrites.length)]!.at + Math.floor(rand() * 400) - 200 : Math.floor(rand() * text.length);
        const at = Math.max(0, Math.min(text.length, near));
        const cut = rand() < 0.4 ? Math.floor(rand() * 40) : 0;
        const insert = rand() < 0.8 ? FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]! : '';
        const next = text.slice(0, at) + insert + text.slice(Math.min(text.length, at + cut));
        if (next === text) continue;
        const edit = editBetween(text, next);
        const after = rewritesAfterEdit(rewrites, text, next, edit, language);
        const full = findRewrites(next, language);
        const where = `${file} (${language}), seed ${seed}, step ${step}: insert ${JSON.stringify(insert)} at ${at}, cut ${cut}`;
        assert.deepEqual(after.rewrites, full, where);
        // Outside the edit and the changed rewrites, the two parser inputs are the same.
        const before = applyRewrites(text, rewrites);
        const input = applyRewrites(next, full);
        const lo = Math.min(edit.startIndex, after.changedStart);
        const hi = Math.max(edit.oldEndIndex, after.changedOldEnd);
        const delta = next.length - text.length;
        assert.equal(before.slice(0, lo), input.slice(0, lo), where);
        assert.equal(before.slice(hi), input.slice(hi + delta), where);
        text = next;
        rewrites = after.rewrites;
      }
      const read = inputReader(text, rewrites);
      let joined = '';
      for (let o = 0; ; ) {
        const chunk = read(o);
        if (!chunk) break;
        assert.ok(chunk.length <= CHUNK);
        joined += chunk;
        o += chunk.length;
      }
      assert.equal(joined, applyRewrites(text, rewrites));
      // Read from odd offsets too, as the parser does after an edit.
      for (const o of [1, CHUNK - 1, CHUNK + 7, text.length - 3]) assert.equal(read(o), applyRewrites(text, rewrites).slice(o, o + CHUNK));
    }
  }
});

test('rewrites found again around an edit: every edit of a small text dense with rewrites and near-misses', () => {
  const text = [
    'interface A<',
    '  /* c; */ out X, in',
    '  out Y extends Z = Q,',
    '> {}',
    'type F = {',
    '  <A>(x: A): A',
    '  /** doc; */',
    '  <B>(x: B): B',
    '',
    '  // line',
    '  <C>(x: C): C',
    '  (y: number): Box<T>',
    '  * star',
    '  <D>(x: D): D',
    '}',
    'const x = y < out /* a */ in z, w',
    'type I = import("./a").B<T> | import(\'c\').then<U>',
    '',
  ].join('\n');
  const inserts = ['', ';', '\n', '*/', '/*', '<', ',', ' ', 'x', 'out ', '\n  <E>(e: E): E', '//', '*', '"', 'import('];
  for (const language of ['typescript', 'tsx'] as const) {
    const rewrites = findRewrites(text, language);
    for (let at = 0; at <= text.length; at++) {
      for (const insert of inserts) {
        for (const cut of insert ? [0, 1] : [1, 2, 3]) {
          const next = text.slice(0, at) + insert + text.slice(Math.min(text.length, at + cut));
          if (next === text) continue;
          const edit = editBetween(text, next);
          const after = rewritesAfterEdit(rewrites, text, next, edit, language);
          assert.deepEqual(after.rewrites, findRewrites(next, language), `${language}: insert ${JSON.stringify(insert)} at ${at}, cut ${cut}`);
        }
      }
    }
  }
});
