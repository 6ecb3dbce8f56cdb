// Facts of a file whose text is two bytes per character (one character above U+00FF anywhere)
// get one-byte copies of their strings where those can have them, with the same values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { serialize } from 'node:v8';
import { extractFile } from '../daemon/ingest/extract.ts';
import { isWide, narrow, narrowFacts } from '../daemon/ingest/narrow-strings.ts';
import { runParseJob } from '../daemon/ingest/parse-job.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

/** V8's serializer tags a one-byte string `"` and a two-byte one `c` (after padding bytes, 0): how V8 stores it. */
function width(s: string): 1 | 2 {
  const bytes = serialize(s);
  let at = 2; // after the version header
  while (bytes[at] === 0) at++;
  const tag = bytes[at];
  if (tag === 0x22) return 1;
  if (tag === 0x63) return 2;
  throw new Error(`unexpected serializer tag ${tag}`);
}

const WIDE_TEXT = `// a comment with an arrow → that makes the whole text two-byte
/** Greets someone, naïvely. */
export function greetSomeoneByTheirFullName(first: string, last: string): string {
  return helperThatFormatsNames(first, last);
}
export class WidgetFactoryForTesting implements SomeInterfaceName<WidgetOptions> {
  /** Makes one → returns it */
  makeWidgetWithDefaults(options: WidgetOptions = {}): Widget { return new Widget(options); }
}
import { helperThatFormatsNames } from './helpers-for-names.js';
export { WidgetFactoryForTesting as DefaultWidgetFactory } from './widget-factory-module.js';
`;

test('narrow: one-byte copies of strings whose characters allow it, others as they are', () => {
  const wideAscii = WIDE_TEXT.slice(WIDE_TEXT.indexOf('export function'), WIDE_TEXT.indexOf('('));
  assert.equal(width(wideAscii), 2, 'a slice of a two-byte text is two-byte');
  assert.equal(narrow(wideAscii), wideAscii);
  assert.equal(width(narrow(wideAscii)), 1);
  const latin1 = WIDE_TEXT.slice(WIDE_TEXT.indexOf('Greets'), WIDE_TEXT.indexOf('*/'));
  assert.equal(narrow(latin1), latin1);
  assert.equal(width(narrow(latin1)), 1, 'Latin-1 (naïvely) fits one byte per character');
  const arrow = WIDE_TEXT.slice(0, WIDE_TEXT.indexOf('\n'));
  assert.equal(narrow(arrow), arrow);
  assert.equal(width(narrow(arrow)), 2);
  assert.equal(isWide(WIDE_TEXT), true);
  assert.equal(isWide('plain ascii, and naïve Latin-1'), false);
});

test('narrowFacts: the same facts, every string that can be one-byte is', () => {
  const facts = extractFile('src/w.ts', 'typescript', WIDE_TEXT).facts;
  const before = structuredClone(facts);
  narrowFacts(facts);
  assert.deepEqual(facts, before);
  const strings: string[] = [...facts.strings];
  for (const e of facts.entities) strings.push(e.name, e.signature, ...(e.doc === undefined ? [] : [e.doc]), ...(e.typeParameters ?? []));
  for (const i of facts.imports) strings.push(i.specifier, i.imported, i.local);
  for (const e of facts.exports) strings.push(e.exported, ...[e.local, e.specifier, e.imported].filter((s): s is string => s !== undefined));
  const wide = strings.filter((s) => width(s) === 2);
  assert.deepEqual(wide, ['/** Makes one → returns it */'], 'only the doc with an arrow stays two-byte');
  assert.ok(strings.length > 20, `${strings.length} strings checked`);
});

test('a parse job narrows the facts of a two-byte file from a real corpus', () => {
  const rel = join('node_modules', 'effect', 'src', 'http', 'HttpPlatform.ts');
  const abs = join(packageRoot(), rel);
  assert.equal(isWide(readFileSync(abs, 'utf8')), true, 'HttpPlatform.ts has a character above U+00FF');
  const outcome = runParseJob({ path: 'src/http/HttpPlatform.ts', abs, language: 'typescript' }, 5 << 20);
  assert.ok(outcome.ok);
  const names = outcome.facts.entities.map((e) => e.name);
  assert.ok(names.length > 3);
  assert.deepEqual(names.filter((n) => width(n) === 2), []);
  assert.deepEqual(outcome.facts.entities.filter((e) => width(e.signature) === 2 && !isWide(e.signature)).map((e) => e.name), []);
});
