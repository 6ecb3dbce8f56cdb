// The graph store's compact structures against plain models of what they stand for: edge blocks
// (daemon/graph/adjacency.ts) against per-entity, per-kind lists; the key table
// (daemon/graph/key-index.ts) against a Map of key strings; key order without key strings
// against comparing the strings; the name table against sorted lists. Seeded random sequences
// of additions and removals, with paths chosen to hit the awkward cases ('#' in a path, a path
// that starts another).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adjacency, edgeEntry, KIND_SHIFT } from '../daemon/graph/adjacency.ts';
import { GraphStore, type EntityInput } from '../daemon/graph/store.ts';
import { EDGE_KINDS, type EdgeKind } from '../daemon/model.ts';
import { prng } from './support/prng.ts';

const SEED = 20261202;

test('edge blocks: entries per kind in insertion order through growth, removals, clears and compaction', () => {
  const random = prng(SEED);
  const adj = new Adjacency();
  const N = 300;
  adj.reserve(N);
  /** model[id][kind]: entries in insertion order. */
  const model = Array.from({ length: N }, () => EDGE_KINDS.map(() => [] as number[]));
  const check = () => {
    for (let id = 0; id < N; id++) {
      let mask = 0;
      let degree = 0;
      for (let k = 0; k < EDGE_KINDS.length; k++) {
        const got: number[] = [];
        for (let i = adj.start(id, k); i < adj.end(id, k); i++) got.push(adj.pool[i]!);
        assert.deepEqual(got, model[id]![k], `entity ${id}, kind ${EDGE_KINDS[k]}`);
        if (got.length) mask |= 1 << k;
        degree += got.length;
      }
      assert.equal(adj.kinds(id), mask, `kind mask of ${id}`);
      assert.equal(adj.degree(id), degree);
    }
  };
  for (let step = 0; step < 20000; step++) {
    // Skewed towards a few hub entities, as in-edges of popular types are.
    const id = random() < 0.3 ? Math.floor(random() * 5) : Math.floor(random() * N);
    const roll = random();
    if (roll < 0.7) {
      const k = Math.floor(random() * EDGE_KINDS.length);
      const e = edgeEntry(Math.floor(random() * 1000), k, random() < 0.2);
      adj.add(id, e);
      model[id]![k]!.push(e);
    } else if (roll < 0.95) {
      const k = Math.floor(random() * EDGE_KINDS.length);
      const list = model[id]![k]!;
      const e = list.length && random() < 0.9 ? list[Math.floor(random() * list.length)]! : edgeEntry(5000, k, false);
      const i = list.indexOf(e);
      assert.equal(adj.remove(id, e), i >= 0);
      if (i >= 0) list.splice(i, 1);
    } else if (roll < 0.99) {
      adj.clear(id);
      for (const list of model[id]!) list.length = 0;
    } else adj.compact();
    if (step % 2000 === 0) check();
  }
  check();
  adj.compact();
  check();
});

const input = (qualifiedName: string, kind: EntityInput['kind'] = 'function'): EntityInput => ({
  kind,
  qualifiedName,
  parent: -1,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
  exported: true,
  signature: qualifiedName,
  signatureHash: 0,
});

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

test('keys: found by id without being stored, ordered as their strings, names sorted by key', () => {
  const random = prng(SEED + 1);
  // 'a.ts' starts 'a.ts#b.ts' and 'a.tsx'; '#' inside a path; and names that repeat across files.
  const files = ['a.ts', 'a.tsx', 'a.ts#b.ts', 'dir/#x.ts', 'dir/b.ts', 'b.ts', 'a.t'];
  const names = ['f', 'g', 'C', 'C.m', 'C.#p', 'b.ts', 'N.C', 'N.C.m', 'x.y.z'];
  const store = new GraphStore();
  /** key -> id, as the store used to keep it. */
  const live = new Map<string, number>();
  const keyOf = (file: string, qn: string) => (qn === '' ? file : `${file}#${qn}`);
  for (let step = 0; step < 3000; step++) {
    const file = files[Math.floor(random() * files.length)]!;
    const qn = random() < 0.1 ? '' : names[Math.floor(random() * names.length)]!;
    const key = keyOf(file, qn);
    const id = live.get(key);
    if (id === undefined) live.set(key, store.addEntity(file, input(qn, qn === '' ? 'module' : 'function')));
    else if (random() < 0.6) {
      store.removeEntity(id);
      live.delete(key);
    }
  }
  assert.ok(live.size > 30, `${live.size} entities left`);
  for (const [key, id] of live) {
    assert.equal(store.idOf(key), id, key);
    assert.equal(store.key(id), key);
  }
  for (const file of files) for (const qn of ['', ...names]) if (!live.has(keyOf(file, qn))) assert.equal(store.idOf(keyOf(file, qn)), undefined, keyOf(file, qn));
  assert.equal(store.idOf('nowhere.ts#f'), undefined);
  const ids = [...live.values()];
  for (const a of ids) for (const b of ids) assert.equal(Math.sign(store.compareKeys(a, b)), compareStrings(store.key(a), store.key(b)), `${store.key(a)} vs ${store.key(b)}`);
  const simple = (qn: string, file: string) => (qn === '' ? file.slice(file.lastIndexOf('/') + 1) : qn.slice(qn.lastIndexOf('.') + 1));
  const expected = new Map<string, string[]>();
  for (const [key, id] of live) {
    const name = simple(store.qualifiedName(id), store.file(id));
    expected.set(name, [...(expected.get(name) ?? []), key]);
  }
  assert.deepEqual(new Set(store.simpleNames()), new Set(expected.keys()));
  for (const [name, keys] of expected) {
    assert.deepEqual(store.idsNamed(name).map((id) => store.key(id)), keys.sort(compareStrings), `ids named ${name}`);
    assert.equal(store.namedCount(name), keys.length);
  }
  assert.deepEqual(store.idsNamed('absent'), []);
});

test('names: the version moves when a name appears or goes, not when one more entity takes it', () => {
  const store = new GraphStore();
  const v0 = store.namesVersion;
  const a = store.addEntity('a.ts', input('f'));
  const v1 = store.namesVersion;
  assert.notEqual(v1, v0);
  const b = store.addEntity('b.ts', input('f'));
  assert.equal(store.namesVersion, v1);
  assert.deepEqual(store.idsNamed('f'), [a, b]);
  store.removeEntity(a);
  assert.equal(store.namesVersion, v1);
  assert.deepEqual(store.idsNamed('f'), [b]);
  store.removeEntity(b);
  assert.notEqual(store.namesVersion, v1);
  assert.equal(store.namedCount('f'), 0);
});

test('edges through the store: both directions agree after adds and clears, counts by resolution', () => {
  const random = prng(SEED + 2);
  const store = new GraphStore();
  const ids = Array.from({ length: 60 }, (_, i) => store.addEntity(`f${i % 7}.ts`, input(`e${i}`)));
  const kinds: EdgeKind[] = ['calls', 'uses-type', 'extends', 'implements'];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 400; i++) {
      const from = ids[Math.floor(random() * ids.length)]!;
      const to = ids[Math.floor(random() * ids.length)]!;
      store.addEdge(kinds[Math.floor(random() * kinds.length)]!, from, to, random() < 0.3 ? 'inferred' : 'resolved');
    }
    for (let i = 0; i < 20; i++) store.clearOutgoing(ids[Math.floor(random() * ids.length)]!);
    if (round === 2) store.compact();
    const outLines: string[] = [];
    const inLines: string[] = [];
    for (const id of ids) {
      for (const kind of kinds) {
        for (const t of store.rawNeighbors(kind, id, 'out') ?? []) outLines.push(`${kind} ${id} ${t >> 1} ${t & 1}`);
        for (const t of store.rawNeighbors(kind, id, 'in') ?? []) inLines.push(`${kind} ${t >> 1} ${id} ${t & 1}`);
      }
    }
    assert.deepEqual(inLines.sort(), outLines.sort());
    for (const kind of kinds) {
      const inferred = outLines.filter((l) => l.startsWith(`${kind} `) && l.endsWith(' 1')).length;
      assert.equal(store.edgeCount(kind, 'inferred'), inferred);
      assert.equal(store.edgeCount(kind, 'resolved'), outLines.filter((l) => l.startsWith(`${kind} `)).length - inferred);
    }
  }
  // The raw entry layout the traversals read.
  const adj = store.adjacency('out');
  for (const id of ids) {
    for (let k = 0; k < EDGE_KINDS.length; k++) {
      for (let i = adj.start(id, k); i < adj.end(id, k); i++) assert.equal((adj.pool[i]! >> KIND_SHIFT) & 7, k);
    }
    assert.deepEqual(
      store.neighbors('calls', id, 'out'),
      (store.rawNeighbors('calls', id, 'out') ?? []).map((t) => t >> 1),
    );
  }
});

test('reserve: room made at once for a batch, on a store already holding entities, finds every key as growing would', () => {
  const store = new GraphStore();
  const ids = new Map<string, number>();
  for (let i = 0; i < 100; i++) ids.set(`a.ts#f${i}`, store.addEntity('a.ts', input(`f${i}`, 'function')));
  store.reserve(5000);
  for (let i = 0; i < 5000; i++) ids.set(`b${i % 7}.ts#g${i}`, store.addEntity(`b${i % 7}.ts`, input(`g${i}`, 'function')));
  store.removeEntity(ids.get('a.ts#f3')!);
  ids.delete('a.ts#f3');
  for (const [key, id] of ids) {
    assert.equal(store.idOf(key), id, key);
    assert.equal(store.key(id), key);
  }
  assert.equal(store.idOf('a.ts#f3'), undefined);
  assert.equal(store.entityCount, ids.size);
});
