// The isg:plugin/graph import (daemon/plugins/wasm/graph-imports.ts) answers what the store says,
// on rxjs: keys both ways (by scan and by map), names, entity info, edges by kind and direction.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildCsr, type CsrSnapshot } from '../daemon/graph/csr.ts';
import { GraphHost } from '../daemon/host.ts';
import { simpleName } from '../daemon/graph/store.ts';
import { EDGE_KINDS } from '../daemon/model.ts';
import { graphImports, type GraphImports } from '../daemon/plugins/wasm/graph-imports.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

let host: GraphHost;
let csr: CsrSnapshot;
let g: GraphImports;

before(async () => {
  host = await GraphHost.index(join(packageRoot(), 'node_modules', 'rxjs', 'src'));
  csr = buildCsr(host.store, host.generation);
  g = graphImports(() => csr);
});

const alive = () => [...Array(host.store.idLimit).keys()].filter((id) => host.store.isAlive(id));

test('lookup finds every sampled key, module paths and entity keys, and nothing for unknown keys', () => {
  const ids = alive().filter((_, i) => i % 37 === 0);
  assert.ok(ids.length > 16, 'enough lookups to pass from scanning to the key map');
  for (const id of ids) assert.equal(g.lookup(host.store.key(id)), id, host.store.key(id));
  assert.equal(g.lookup('internal/Observable.ts'), host.moduleId('internal/Observable.ts'));
  assert.equal(g.lookup('internal/Observable.ts#NoSuchThing'), undefined);
  assert.equal(g.lookup('no/such/file.ts'), undefined);
  assert.equal(g.generation(), BigInt(host.generation));
  assert.equal(g.idLimit(), host.store.idLimit);
});

test('find by simple and qualified name; entity info', () => {
  const id = g.lookup('internal/Observable.ts#Observable.subscribe')!;
  assert.ok(id !== undefined);
  assert.ok(g.find('subscribe').includes(id));
  assert.ok(g.find('Observable.subscribe').includes(id));
  assert.deepEqual(g.entity(id), { id, key: 'internal/Observable.ts#Observable.subscribe', name: 'Observable.subscribe', kind: 'method', file: 'internal/Observable.ts' });
  const mod = host.moduleId('internal/Observable.ts')!;
  assert.deepEqual(g.entity(mod), { id: mod, key: 'internal/Observable.ts', name: 'internal/Observable.ts', kind: 'module', file: 'internal/Observable.ts' });
  assert.equal(g.entity(-1), undefined);
  assert.equal(g.entity(csr.nodeCount), undefined);
  for (const id2 of alive().slice(0, 200)) assert.ok(g.find(simpleName(host.store.qualifiedName(id2), host.store.file(id2))).includes(id2) || host.store.kind(id2) === 'module');
});

test('neighbors, degree, degrees and edges agree with the store, per kind and direction', () => {
  let pairs = 0;
  for (const kind of EDGE_KINDS) {
    const out = g.degrees(kind, 'outgoing');
    const inn = g.degrees(kind, 'incoming');
    const flat = g.edges(kind);
    let total = 0;
    for (const id of alive()) {
      for (const [dir, degrees] of [['out', out], ['in', inn]] as const) {
        const expected = [...host.store.neighbors(kind, id, dir, 'resolved').map((t) => `${t} r`), ...host.store.neighbors(kind, id, dir, 'inferred').map((t) => `${t} i`)].sort();
        const got = g.neighbors(id, kind, dir === 'out' ? 'outgoing' : 'incoming');
        assert.deepEqual(got.map((e) => `${e.other} ${e.inferred ? 'i' : 'r'}`).sort(), expected);
        assert.ok(got.every((e) => e.kind === kind));
        assert.equal(g.degree(id, kind, dir === 'out' ? 'outgoing' : 'incoming'), expected.length);
        assert.equal(degrees[id], expected.length);
      }
      total += out[id]!;
    }
    assert.equal(flat.length, total * 2);
    pairs += total;
  }
  assert.equal(pairs, csr.edgeCount);
  const some = g.lookup('internal/Observable.ts')!;
  assert.equal(g.neighbors(some, undefined, 'outgoing').length, g.degree(some, undefined, 'outgoing'));
});

test('files and modules: every indexed file with its module entity, by prefix', () => {
  const files = g.files();
  assert.equal(files.length, [...host.filePaths()].length);
  for (const f of files) assert.equal(f.module, host.moduleId(f.path), f.path);
  const operators = g.modules('internal/operators/');
  assert.deepEqual([...operators].sort((a, b) => a - b), files.filter((f) => f.path.startsWith('internal/operators/')).map((f) => f.module).sort((a, b) => a - b));
  assert.equal(g.modules('').length, files.length);
});
