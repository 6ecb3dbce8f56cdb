// The CSR snapshot (daemon/graph/csr.ts) must say exactly what the store says: every edge in
// both directions with its kind and resolution, every entity's kind, file and id, on a real
// corpus and after edits that free and reuse ids.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildCsr, CSR_DEAD, CSR_INFERRED_BIT, csrKey, fromTransfer, toTransfer, type CsrSnapshot } from '../daemon/graph/csr.ts';
import { GraphHost } from '../daemon/host.ts';
import { EDGE_KINDS, ENTITY_KINDS } from '../daemon/model.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const RXJS = join(packageRoot(), 'node_modules', 'rxjs', 'src');
let host: GraphHost;

before(async () => {
  host = await GraphHost.index(RXJS);
});

/** Every edge of the store as `kind from to resolution` lines, and the same read from a snapshot. */
function storeEdges(h: GraphHost): string[] {
  const out: string[] = [];
  for (let id = 0; id < h.store.idLimit; id++) {
    if (!h.store.isAlive(id)) continue;
    for (const kind of EDGE_KINDS) for (const r of ['resolved', 'inferred'] as const) for (const t of h.store.neighbors(kind, id, 'out', r)) out.push(`${kind} ${id} ${t} ${r}`);
  }
  return out.sort();
}

function csrEdges(csr: CsrSnapshot, direction: 'out' | 'in'): string[] {
  const out: string[] = [];
  const [offsets, ends, kinds] = direction === 'out' ? [csr.outOffsets, csr.outTargets, csr.outKinds] : [csr.inOffsets, csr.inSources, csr.inKinds];
  for (let id = 0; id < csr.nodeCount; id++) {
    for (let e = offsets[id]!; e < offsets[id + 1]!; e++) {
      const code = kinds[e]!;
      const [from, to] = direction === 'out' ? [id, ends[e]!] : [ends[e]!, id];
      out.push(`${EDGE_KINDS[code & ~CSR_INFERRED_BIT]} ${from} ${to} ${code & CSR_INFERRED_BIT ? 'inferred' : 'resolved'}`);
    }
  }
  return out.sort();
}

function assertMirrors(h: GraphHost, csr: CsrSnapshot): void {
  assert.equal(csr.nodeCount, h.store.idLimit);
  const expected = storeEdges(h);
  assert.ok(expected.length > 1000, `rxjs has thousands of edges, got ${expected.length}`);
  assert.equal(csr.edgeCount, expected.length);
  assert.deepEqual(csrEdges(csr, 'out'), expected);
  assert.deepEqual(csrEdges(csr, 'in'), expected);
  for (let id = 0; id < csr.nodeCount; id++) {
    if (!h.store.isAlive(id)) {
      assert.equal(csr.entityKinds[id], CSR_DEAD);
      continue;
    }
    assert.equal(ENTITY_KINDS[csr.entityKinds[id]!], h.store.kind(id));
    assert.equal(csr.fileTable[csr.files[id]!], h.store.file(id));
    assert.equal(csrKey(csr, id), h.store.key(id));
  }
}

test('a snapshot of rxjs holds every edge both ways, and every entity kind, file and id', () => {
  assertMirrors(host, buildCsr(host.store, host.generation));
});

test('a snapshot rebuilt from its transfer form reads the same shared memory', () => {
  const csr = buildCsr(host.store, host.generation);
  const t = toTransfer(csr);
  // structuredClone is what postMessage does to a worker: the SharedArrayBuffer is shared, not copied.
  const again = fromTransfer(structuredClone(t));
  assert.deepEqual(csrEdges(again, 'in'), csrEdges(csr, 'in'));
  csr.outTargets[0] = csr.outTargets[0]! + 1;
  assert.equal(again.outTargets[0], csr.outTargets[0], 'a write through one view is seen through the other');
});

test('after deleting a file and adding another, dead ids are marked and reused ids are right', async () => {
  const h = await GraphHost.index(RXJS);
  h.applyChanges([{ path: 'internal/operators/map.ts', text: null }]);
  assert.ok([...Array(h.store.idLimit).keys()].some((id) => !h.store.isAlive(id)), 'the deletion leaves dead ids');
  assertMirrors(h, buildCsr(h.store, h.generation));
  h.applyChanges([{ path: 'internal/added.ts', text: "import { Observable } from './Observable';\nexport function make(): Observable<number> { return new Observable<number>(); }\n" }]);
  assertMirrors(h, buildCsr(h.store, h.generation));
});

test('a snapshot built from the previous one is the snapshot built afresh, through edits that keep, free and reuse ids', async () => {
  const h = await GraphHost.index(RXJS);
  const file = 'internal/operators/map.ts';
  const text = h.factsOf(file) && (await import('node:fs')).readFileSync(join(RXJS, file), 'utf8');
  assert.ok(text);
  let previous = buildCsr(h.store, h.generation);
  const steps: [string, (string | null)][] = [
    [file, text.replace('return operate(', 'console.log(project);\n    return operate(')], // body only: no id comes or goes
    [file, `${text}\nexport function mapTwice<T>(x: T): T { return x; }\n`], // an entity added
    [file, null], // the file's entities freed
    ['internal/added.ts', "import { Observable } from './Observable';\nexport function make(): Observable<number> { return new Observable<number>(); }\n"], // ids reused
  ];
  for (const [step, [path, next]] of steps.entries()) {
    const idsBefore = h.store.idsVersion;
    h.applyChanges([{ path, text: next }]);
    const incremental = buildCsr(h.store, h.generation, previous);
    const fresh = buildCsr(h.store, h.generation);
    assertMirrors(h, incremental);
    assert.deepEqual(new Uint8Array(incremental.buffer), new Uint8Array(fresh.buffer), `${path}: the same bytes as a fresh build`);
    assert.deepEqual(incremental.fileTable, fresh.fileTable);
    if (step === 0) assert.equal(h.store.idsVersion, idsBefore, 'a body edit keeps every id');
    previous = incremental;
  }
});
