// Signature hashes are compared across runs (snapshots keep them): hash53Collapsed must give
// exactly what hashing the signature with its white space runs replaced by one space gave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphHost } from '../daemon/host.ts';
import { readSource } from '../daemon/ingest/read-source.ts';
import { discoverFiles } from '../daemon/ingest/discover.ts';
import { contentHash, hash53, hash53Collapsed } from '../daemon/util/hash.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { join } from 'node:path';

const reference = (text: string) => hash53(text.replace(/\s+/g, ' '));

test('hash53Collapsed is hash53 of the text with each run of white space as one space', () => {
  // every character `\s` matches, alone, in runs, at either end; and characters next to them that it does not
  const spaces = ' \t\n\v\f\r\u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
  const texts = ['', ' ', 'a', 'f(a: number): string', '  lead', 'trail \n', `a${spaces}b`, ...[...spaces].map((s) => `x${s}y${s}${s}z${s}`), 'é\u200bx\u001fy\u0085z\u00a1', 'export const f: <A>(\n  a: A\n) => A'];
  for (const text of texts) assert.equal(hash53Collapsed(text), reference(text), JSON.stringify(text));
  assert.notEqual(hash53Collapsed('a b'), hash53Collapsed('ab'));
});

test('hash53Collapsed on every signature of rxjs', async () => {
  const host = await GraphHost.index(join(packageRoot(), 'node_modules/rxjs/src'), { workers: 0 });
  let n = 0;
  for (const path of host.filePaths()) {
    for (const e of host.factsOf(path)!.entities) {
      assert.equal(hash53Collapsed(e.signature), reference(e.signature), `${path}#${e.name}`);
      n++;
    }
  }
  assert.ok(n > 500, `${n} signatures`);
});

test('the contentHash of a text\'s UTF-8 bytes is the text\'s', () => {
  for (const text of ['', 'a', 'é', '\u{1f600} x', '\u2028\u2029', 'const s = "日本語";\n']) {
    assert.equal(contentHash(new TextEncoder().encode(text)), contentHash(text), JSON.stringify(text));
  }
});

test('readSource hashes each file of zod as its text', () => {
  const files = discoverFiles(join(packageRoot(), 'node_modules/zod')).files;
  let nonAscii = 0;
  for (const f of files) {
    const read = readSource(f.abs, f.path, 5e6);
    assert.ok(read.ok, f.path);
    assert.equal(read.hash, contentHash(read.text), f.path);
    if (/[^\x00-\x7f]/.test(read.text)) nonAscii++;
  }
  assert.ok(files.length > 300 && nonAscii > 5, `${files.length} files, ${nonAscii} with non-ASCII text`);
});
