// The parser-input rewrites for syntax tree-sitter-typescript 0.23 cannot parse: each rewrite
// must keep length and line breaks, make the real code parse, and leave other code alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parserInput } from '../daemon/ingest/grammar-gaps.ts';
import { parse } from '../daemon/ingest/parser.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

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
  // In TSX a line starting with `<` is JSX: never touched.
  const jsx = 'const v = (\n  <div>\n    <span/>\n  </div>\n)\n';
  assert.equal(parserInput(jsx, 'tsx'), jsx);
});

test('real effect files that the grammar rejects parse after the rewrite', () => {
  for (const file of ['node_modules/effect/src/Option.ts', 'node_modules/effect/src/Array.ts']) {
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
