// A read-only, compressed-sparse-row picture of one generation of the graph, for plugins that
// run outside the JS heap's object world: native addons read its typed arrays in place
// (N-API hands them the pointers), workers map the same SharedArrayBuffer. Nothing is copied
// per call; a snapshot is built once per generation, on demand.
import { EDGE_KINDS, ENTITY_KINDS } from '../model.ts';
import type { GraphStore } from './store.ts';

/** `kinds[i]` of an edge: the EDGE_KINDS index, plus this bit when the edge is name-matched. */
export const CSR_INFERRED_BIT = 0x80;
/** `entityKinds[id]` of an id that is not in use (ids are reused after deletions). */
export const CSR_DEAD = 0xff;

export interface CsrSnapshot {
  generation: number;
  /** Ids run 0..nodeCount-1; dead ids have kind CSR_DEAD and no edges. */
  nodeCount: number;
  edgeCount: number;
  buffer: SharedArrayBuffer;
  /** ENTITY_KINDS index per id. */
  entityKinds: Uint8Array;
  /** Index into `fileTable` per id. */
  files: Uint32Array;
  /** Out-edges of id `i` are `outTargets[outOffsets[i] .. outOffsets[i+1]]`, ordered by kind. */
  outOffsets: Uint32Array;
  outTargets: Uint32Array;
  outKinds: Uint8Array;
  /** The same edges reversed: sources of the edges into id `i`. */
  inOffsets: Uint32Array;
  inSources: Uint32Array;
  inKinds: Uint8Array;
  /** UTF-8 entity ids (`path#Qualified.Name`): bytes `keyBytes[keyOffsets[i] .. keyOffsets[i+1]]`. */
  keyOffsets: Uint32Array;
  keyBytes: Uint8Array;
  fileTable: string[];
}

/** What crosses to a worker: the buffer plus where each array starts; `fromShared` rebuilds views. */
export interface CsrTransfer {
  generation: number;
  nodeCount: number;
  edgeCount: number;
  buffer: SharedArrayBuffer;
  layout: Record<ArrayName, [byteOffset: number, length: number]>;
  fileTable: string[];
}

type ArrayName = 'entityKinds' | 'files' | 'outOffsets' | 'outTargets' | 'outKinds' | 'inOffsets' | 'inSources' | 'inKinds' | 'keyOffsets' | 'keyBytes';

const ARRAY_TYPES: Record<ArrayName, Uint8ArrayConstructor | Uint32ArrayConstructor> = {
  entityKinds: Uint8Array,
  files: Uint32Array,
  outOffsets: Uint32Array,
  outTargets: Uint32Array,
  outKinds: Uint8Array,
  inOffsets: Uint32Array,
  inSources: Uint32Array,
  inKinds: Uint8Array,
  keyOffsets: Uint32Array,
  keyBytes: Uint8Array,
};

export function buildCsr(store: GraphStore, generation: number): CsrSnapshot {
  const n = store.idLimit;
  const encoder = new TextEncoder();
  const keys: Uint8Array[] = new Array(n);
  let keyTotal = 0;
  let outTotal = 0;
  const inCounts = new Uint32Array(n);
  const fileIndex = new Map<string, number>();
  const fileTable: string[] = [];
  for (let id = 0; id < n; id++) {
    if (!store.isAlive(id)) {
      keys[id] = EMPTY;
      continue;
    }
    keys[id] = encoder.encode(store.key(id));
    keyTotal += keys[id]!.length;
    for (const kind of EDGE_KINDS) {
      const list = store.rawNeighbors(kind, id, 'out');
      if (!list) continue;
      outTotal += list.length;
      for (const t of list) inCounts[t >> 1]!++;
    }
  }
  const lengths: Record<ArrayName, number> = {
    entityKinds: n,
    files: n,
    outOffsets: n + 1,
    outTargets: outTotal,
    outKinds: outTotal,
    inOffsets: n + 1,
    inSources: outTotal,
    inKinds: outTotal,
    keyOffsets: n + 1,
    keyBytes: keyTotal,
  };
  const { buffer, layout } = allocate(lengths);
  const csr = viewsOf({ generation, nodeCount: n, edgeCount: outTotal, buffer, layout, fileTable });

  let acc = 0;
  for (let id = 0; id < n; id++) {
    csr.inOffsets[id] = acc;
    acc += inCounts[id]!;
  }
  csr.inOffsets[n] = acc;
  const inFill = csr.inOffsets.slice(0, n);

  let out = 0;
  let keyAt = 0;
  for (let id = 0; id < n; id++) {
    csr.outOffsets[id] = out;
    csr.keyOffsets[id] = keyAt;
    csr.keyBytes.set(keys[id]!, keyAt);
    keyAt += keys[id]!.length;
    if (!store.isAlive(id)) {
      csr.entityKinds[id] = CSR_DEAD;
      continue;
    }
    csr.entityKinds[id] = ENTITY_KIND_CODE[store.kind(id)]!;
    const file = store.file(id);
    let f = fileIndex.get(file);
    if (f === undefined) {
      f = fileTable.length;
      fileTable.push(file);
      fileIndex.set(file, f);
    }
    csr.files[id] = f;
    for (let k = 0; k < EDGE_KINDS.length; k++) {
      const list = store.rawNeighbors(EDGE_KINDS[k]!, id, 'out');
      if (!list) continue;
      for (const t of list) {
        const code = k | (t & 1 ? CSR_INFERRED_BIT : 0);
        csr.outTargets[out] = t >> 1;
        csr.outKinds[out] = code;
        out++;
        const slot = inFill[t >> 1]!++;
        csr.inSources[slot] = id;
        csr.inKinds[slot] = code;
      }
    }
  }
  csr.outOffsets[n] = out;
  csr.keyOffsets[n] = keyAt;
  return csr;
}

/** The parts of a snapshot that cross a worker boundary (the buffer is shared, not copied). */
export function toTransfer(csr: CsrSnapshot): CsrTransfer {
  const layout = {} as CsrTransfer['layout'];
  for (const name of Object.keys(ARRAY_TYPES) as ArrayName[]) {
    const a = csr[name];
    layout[name] = [a.byteOffset, a.length];
  }
  return { generation: csr.generation, nodeCount: csr.nodeCount, edgeCount: csr.edgeCount, buffer: csr.buffer, layout, fileTable: csr.fileTable };
}

export function fromTransfer(t: CsrTransfer): CsrSnapshot {
  return viewsOf(t);
}

/** The id string of entity `id` in a snapshot. */
export function csrKey(csr: CsrSnapshot, id: number): string {
  return DECODER.decode(csr.keyBytes.subarray(csr.keyOffsets[id]!, csr.keyOffsets[id + 1]!));
}

const EMPTY = new Uint8Array(0);
const DECODER = new TextDecoder();

const ENTITY_KIND_CODE: Record<string, number> = Object.fromEntries(ENTITY_KINDS.map((k, i) => [k, i]));

function allocate(lengths: Record<ArrayName, number>): { buffer: SharedArrayBuffer; layout: CsrTransfer['layout'] } {
  const layout = {} as CsrTransfer['layout'];
  let bytes = 0;
  for (const name of Object.keys(ARRAY_TYPES) as ArrayName[]) {
    const width = ARRAY_TYPES[name].BYTES_PER_ELEMENT;
    bytes = Math.ceil(bytes / width) * width;
    layout[name] = [bytes, lengths[name]];
    bytes += lengths[name] * width;
  }
  return { buffer: new SharedArrayBuffer(Math.max(bytes, 8)), layout };
}

function viewsOf(t: CsrTransfer): CsrSnapshot {
  const views = {} as Record<ArrayName, Uint8Array | Uint32Array>;
  for (const name of Object.keys(ARRAY_TYPES) as ArrayName[]) {
    const [offset, length] = t.layout[name];
    views[name] = ARRAY_TYPES[name] === Uint8Array ? new Uint8Array(t.buffer, offset, length) : new Uint32Array(t.buffer, offset, length);
  }
  return { generation: t.generation, nodeCount: t.nodeCount, edgeCount: t.edgeCount, buffer: t.buffer, fileTable: t.fileTable, ...(views as Pick<CsrSnapshot, ArrayName>) };
}
