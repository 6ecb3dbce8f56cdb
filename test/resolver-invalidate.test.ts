// SymbolResolver.invalidate keeps the cached lookups that did not consult the changed file: a
// surface change of one file must not send every other file's export lookups back to the disk
// of facts. Counted through the module resolver: a cached lookup does not resolve specifiers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractFile } from '../daemon/ingest/extract.ts';
import type { FileFacts } from '../daemon/ingest/facts.ts';
import type { ModuleResolution, ModuleResolver } from '../daemon/resolve/module-resolver.ts';
import { SymbolResolver } from '../daemon/resolve/symbols.ts';

test('resolver: a surface change drops the export lookups that consulted the file, and only those', () => {
  const sources: Record<string, string> = {
    'barrel.ts': "export { a } from './a';\nexport { b } from './b';\n",
    'a.ts': 'export function a(): void {}\n',
    'b.ts': 'export function b(): void {}\n',
  };
  const facts = new Map<string, FileFacts>(Object.entries(sources).map(([p, text]) => [p, extractFile(p, 'typescript', text).facts]));
  let specifiersResolved = 0;
  const modules: ModuleResolver = {
    resolve(_from: string, specifier: string): ModuleResolution {
      specifiersResolved++;
      const path = `${specifier.slice(2)}.ts`;
      return facts.has(path) ? { kind: 'file', path } : { kind: 'unresolved' };
    },
    invalidateFiles() {},
    invalidateConfig() {},
  };
  const resolver = new SymbolResolver({ facts: (p) => facts.get(p), entityId: () => 0, modules, idsNamed: () => [], kindOf: () => 'function' });
  const lookup = (name: string): number => {
    const before = specifiersResolved;
    const sym = resolver.resolveExport('barrel.ts', name, 0);
    assert.deepEqual(sym, { file: `${name}.ts`, entity: 0 });
    return specifiersResolved - before;
  };
  assert.equal(lookup('a'), 1, 'a cold lookup resolves the re-export');
  assert.equal(lookup('b'), 1);
  assert.equal(lookup('a'), 0, 'cached');

  resolver.invalidate('b.ts', 'all');
  assert.equal(lookup('a'), 0, 'b.ts changed: the lookup of a never consulted it and stays cached');
  assert.equal(lookup('b'), 1, 'the lookup of b consulted b.ts: computed again');

  resolver.invalidate('a.ts', 'params');
  assert.equal(lookup('a'), 0, 'parameter types alone: export lookups never read them');
  resolver.invalidate('barrel.ts', 'all');
  assert.equal(lookup('a'), 1, 'every lookup went through the barrel');
  assert.equal(lookup('b'), 1);

  resolver.invalidateExports();
  assert.equal(lookup('a'), 1, 'the file set changed: specifiers may lead elsewhere, nothing is kept');
});
