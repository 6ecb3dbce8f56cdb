// A read-only, compressed-sparse-row picture of one generation of the graph, for plugins that
// run outside the JS heap's object world: native addons read its typed arrays in place
// (N-API hands them the pointers), workers map the same SharedArrayBuffer. Nothing is copied
// per call; a snapshot is built once per generation, on demand.
import { ENTITY_KINDS } from '../model.ts';
import { KIND_SHIFT, OTHER_SHIFT } from './adjacency.ts';
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

/**
 * The snapshot of `store` at `generation`. With the previous snapshot of the same store, the
 * tables that depend only on which ids are in use (keys, files) are copied from it when no id
 * came or went since: an edit inside a file changes edges and kinds, not keys.
 */
export function buildCsr(store: GraphStore, generation: number, previous?: CsrSnapshot): CsrSnapshot {
  const n = store.idLimit;
  const stamp = previous && ID_TABLES.get(previous);
  const reuse = stamp && stamp.store === store && stamp.idsVersion === store.idsVersion && previous!.nodeCount === n ? previous : undefined;
  // The store's blocks already hold each entity's out-edges ordered by kind: they are copied
  // entry by entry, with no per-entity arrays (this runs once per generation a plugin reads).
  const adj = store.adjacency('out');
  let outTotal = 0;
  const inCounts = new Uint32Array(n);
  for (let id = 0; id < n; id++) {
    const from = adj.blockStart(id);
    const to = from + (store.isAlive(id) ? adj.degree(id) : 0);
    outTotal += to - from;
    for (let i = from; i < to; i++) inCounts[adj.pool[i]! >> OTHER_SHIFT]!++;
  }
  const keys = reuse ? undefined : encodeKeys(store, n);
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
    keyBytes: reuse ? reuse.keyBytes.length : keys!.bytes.length,
  };
  const { buffer, layout } = allocate(lengths);
  const fileTable = reuse ? reuse.fileTable : [];
  const csr = viewsOf({ generation, nodeCount: n, edgeCount: outTotal, buffer, layout, fileTable });
  if (reuse) {
    csr.keyOffsets.set(reuse.keyOffsets);
    csr.keyBytes.set(reuse.keyBytes);
    csr.files.set(reuse.files);
  } else writeIdTables(store, csr, keys!);
  ID_TABLES.set(csr, { store, idsVersion: store.idsVersion });

  let acc = 0;
  for (let id = 0; id < n; id++) {
    csr.inOffsets[id] = acc;
    acc += inCounts[id]!;
  }
  csr.inOffsets[n] = acc;
  const inFill = csr.inOffsets.slice(0, n);

  let out = 0;
  for (let id = 0; id < n; id++) {
    csr.outOffsets[id] = out;
    if (!store.isAlive(id)) {
      csr.entityKinds[id] = CSR_DEAD;
      continue;
    }
    csr.entityKinds[id] = ENTITY_KIND_CODE[store.kind(id)]!;
    const from = adj.blockStart(id);
    const to = from + adj.degree(id);
    for (let i = from; i < to; i++) {
      const e = adj.pool[i]!;
      const target = e >> OTHER_SHIFT;
      const code = ((e >> KIND_SHIFT) & 7) | (e & 1 ? CSR_INFERRED_BIT : 0);
      csr.outTargets[out] = target;
      csr.outKinds[out] = code;
      out++;
      const slot = inFill[target]!++;
      csr.inSources[slot] = id;
      csr.inKinds[slot] = code;
    }
  }
  csr.outOffsets[n] = out;
  return csr;
}

/** Which store, at which `idsVersion`, a snapshot built here took its keys and files from. */
const ID_TABLES = new WeakMap<CsrSnapshot, { store: GraphStore; idsVersion: number }>();

interface EncodedKeys {
  keys: string[];
  bytes: Uint8Array;
  /** Every key is ASCII: its byte length is its length. */
  ascii: boolean;
}

/**
 * All keys' UTF-8 bytes, back to back (dead ids have the empty key). Encoded as one string: one
 * call into the encoder instead of one per entity, which was most of the build's time.
 */
function encodeKeys(store: GraphStore, n: number): EncodedKeys {
  const keys: string[] = new Array(n);
  let chars = 0;
  for (let id = 0; id < n; id++) {
    keys[id] = store.isAlive(id) ? store.key(id) : '';
    chars += keys[id]!.length;
  }
  const bytes = ENCODER.encode(keys.join(''));
  return { keys, bytes, ascii: bytes.length === chars };
}

function writeIdTables(store: GraphStore, csr: CsrSnapshot, { keys, bytes, ascii }: EncodedKeys): void {
  csr.keyBytes.set(bytes);
  const fileIndex = new Map<string, number>();
  let keyAt = 0;
  for (let id = 0; id < csr.nodeCount; id++) {
    csr.keyOffsets[id] = keyAt;
    keyAt += ascii ? keys[id]!.length : utf8Length(keys[id]!);
    if (!store.isAlive(id)) continue;
    const file = store.file(id);
    let f = fileIndex.get(file);
    if (f === undefined) {
      f = csr.fileTable.length;
      csr.fileTable.push(file);
      fileIndex.set(file, f);
    }
    csr.files[id] = f;
  }
  csr.keyOffsets[csr.nodeCount] = keyAt;
}

function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair
      i++;
    } else bytes += 3; // also a lone surrogate, which the encoder writes as U+FFFD
  }
  return bytes;
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

const ENCODER = new TextEncoder();
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
