// Data-driven extraction tests, in the style of rust-analyzer's and tree-sitter's: every source
// file in test/fixtures/extract/ is run through `extractFile` and its facts rendered as text;
// the rendering must equal `<fixture>.expected.txt` next to it.
//
//   UPDATE_EXPECT=1 npm test                      rewrites every expectation file
//   UPDATE_EXPECT=1 node --test dist/test/extract.test.js
//
// After rewriting, read the diff: an expectation states what SCHEMA.md says the extraction
// must be, not what it happens to produce. The fixtures are not compiled (tsconfig excludes
// test/fixtures/**) and are read from the package root, so the test runs the same from dist/.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { languageOf } from '../daemon/ingest/discover.ts';
import { extractFile } from '../daemon/ingest/extract.ts';
import { bindingsOf, refsOf, type EntityFact, type FileFacts } from '../daemon/ingest/facts.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const FIXTURES = join(packageRoot(), 'test', 'fixtures', 'extract');
const UPDATE = process.env.UPDATE_EXPECT === '1' || process.env.UPDATE_EXPECT === 'true';
const EXPECTED_SUFFIX = '.expected.txt';

/** Qualified name of the entity at `index`, or `<module>` for -1. */
function containerName(entities: EntityFact[], index: number): string {
  return index < 0 ? '<module>' : entities[index]!.name;
}

/** Multi-line text indented under a label, so signatures that span lines stay readable. */
function block(label: string, text: string): string[] {
  const lines = text.split('\n');
  return [`    ${label}: ${lines[0]}`, ...lines.slice(1).map((l) => `    ${' '.repeat(label.length)}| ${l}`)];
}

/**
 * A readable rendering of everything extraction learned about a file. Entities show what the
 * graph will show (SCHEMA.md: kind, id suffix, range, exported, signature, doc) plus the facts
 * resolution relies on (declared types, type parameters, parameter types).
 */
export function renderFacts(facts: FileFacts): string {
  const out: string[] = [];
  const { entities } = facts;
  out.push(`file ${facts.path} (${facts.language}), ${facts.lines} lines`);
  out.push('', `entities (${entities.length})`);
  for (const e of entities) {
    const flags = [e.exported ? 'exported' : 'local'];
    if (e.parent >= 0) flags.push(`in ${containerName(entities, e.parent)}`);
    out.push(`  ${e.kind} #${e.name} ${e.line}:${e.column}-${e.endLine}:${e.endColumn} ${flags.join(' ')}`);
    out.push(...block('sig', e.signature));
    if (e.doc) out.push(...block('doc', e.doc));
    const extra: string[] = [];
    if (e.typeParameters?.length) extra.push(`typeParameters=${e.typeParameters.join(',')}`);
    if (e.paramTypes) extra.push(`paramTypes=[${e.paramTypes.map((t) => (t === null ? '-' : t)).join('; ')}]`);
    if (e.typeName) extra.push(`typeName=${e.typeName}`);
    if (e.returnType) extra.push(`returnType=${e.returnType}`);
    if (e.newOf) extra.push(`newOf=${e.newOf}`);
    if (e.callOf) extra.push(`callOf=${e.callOf}`);
    if (extra.length) out.push(`    ${extra.join(' ')}`);
  }
  const refs = refsOf(facts);
  out.push('', `refs (${refs.length})`);
  for (const r of refs) out.push(`  ${r.kind.padEnd(10)} ${r.path.padEnd(24)} from ${containerName(entities, r.from)} L${r.line}`);
  const bindings = bindingsOf(facts);
  out.push('', `bindings (${bindings.length})`);
  for (const b of bindings) {
    const extra: string[] = [];
    if (b.typeName) extra.push(`typeName=${b.typeName}`);
    if (b.newOf) extra.push(`newOf=${b.newOf}`);
    if (b.callOf) extra.push(`callOf=${b.callOf}`);
    if (b.callback) extra.push(`callback=${b.callback.callee}[arg ${b.callback.arg}, param ${b.callback.param}]`);
    out.push(`  ${b.name} in ${containerName(entities, b.scope)}${extra.length ? ' ' + extra.join(' ') : ''}`);
  }
  out.push('', `imports (${facts.imports.length})`);
  for (const i of facts.imports) {
    const flags = [i.typeOnly ? 'type-only' : '', i.dynamic ? 'dynamic' : ''].filter(Boolean);
    const what = i.imported === '' ? '(side effect)' : i.imported === i.local ? i.imported : `${i.imported} as ${i.local}`;
    out.push(`  L${i.line} '${i.specifier}': ${what}${flags.length ? ' ' + flags.join(' ') : ''}`);
  }
  out.push('', `exports (${facts.exports.length})`);
  for (const x of facts.exports) {
    const from = x.specifier === undefined ? `local ${x.local}` : `from '${x.specifier}' ${x.imported}`;
    out.push(`  ${x.exported} = ${from}${x.typeOnly ? ' type-only' : ''}`);
  }
  out.push('', `diagnostics (${facts.diagnostics.length})`);
  for (const d of facts.diagnostics) out.push(`  ${d.severity} ${d.code} ${d.line ?? '-'}:${d.column ?? '-'} ${d.message}`);
  return out.join('\n') + '\n';
}

const fixtures = readdirSync(FIXTURES)
  .filter((f) => !f.endsWith(EXPECTED_SUFFIX) && languageOf(f) !== undefined)
  .sort();

test('the extraction fixtures cover TypeScript, TSX and JavaScript', () => {
  const exts = new Set(fixtures.map((f) => f.slice(f.lastIndexOf('.'))));
  for (const ext of ['.ts', '.tsx', '.js']) assert.ok(exts.has(ext), `no ${ext} fixture in ${FIXTURES}`);
  // An expectation file without its fixture is a renamed or deleted fixture left behind.
  for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith(EXPECTED_SUFFIX))) {
    assert.ok(fixtures.includes(f.slice(0, -EXPECTED_SUFFIX.length)), `${f} has no fixture`);
  }
});

for (const name of fixtures) {
  test(`extract ${name}`, () => {
    const source = readFileSync(join(FIXTURES, name), 'utf8');
    const { facts } = extractFile(name, languageOf(name)!, source);
    const actual = renderFacts(facts);
    const expectedPath = join(FIXTURES, name + EXPECTED_SUFFIX);
    if (UPDATE) {
      writeFileSync(expectedPath, actual);
      return;
    }
    assert.ok(existsSync(expectedPath), `missing ${expectedPath}; run with UPDATE_EXPECT=1 to create it, then review it`);
    const expected = readFileSync(expectedPath, 'utf8');
    assert.equal(actual, expected, `extraction of ${name} differs from ${name}${EXPECTED_SUFFIX} (UPDATE_EXPECT=1 rewrites it)`);
  });
}

// A chain's members are read back through at most a few calls (collect.ts's callChainPath); a
// version that walked the chain anew from each call was exponential in its length and hung on
// one of 100 calls. The timeout stops a hang; it is not a speed check.
test('a chain of thousands of calls is extracted, each call a reference', { timeout: 60_000 }, () => {
  const n = 2000;
  const { facts } = extractFile('chain.ts', 'typescript', `export function f() { make()${'.next()'.repeat(n)}; }\n`);
  const paths = refsOf(facts).map((r) => r.path);
  assert.equal(paths.filter((p) => p === 'make').length, 1);
  assert.equal(paths.filter((p) => p.endsWith('.next')).length, n);
  assert.ok(paths.includes('make().next().next().next().next'), 'a chain of four calls is followed');
});
