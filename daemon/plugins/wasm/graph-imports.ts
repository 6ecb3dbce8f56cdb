// The `isg:plugin/graph` import of a component, answered from a CSR snapshot. The same code
// runs in the main thread (inline isolation) and in a plugin's worker (worker isolation), where
// the snapshot's typed arrays are views of the daemon's SharedArrayBuffer: nothing is copied
// per call, and indexes a call needs (keys, names, degree tables) are built once per snapshot,
// on first use.
import { CSR_DEAD, CSR_INFERRED_BIT, type CsrSnapshot } from '../../graph/csr.ts';
import { EDGE_KINDS, ENTITY_KINDS, type EdgeKind, type EntityKind } from '../../model.ts';

export type Direction = 'outgoing' | 'incoming';

export interface EntityInfo {
  id: number;
  key: string;
  name: string;
  kind: EntityKind;
  file: string;
}

export interface FileInfo {
  path: string;
  module: number;
}

export interface EdgeInfo {
  other: number;
  kind: EdgeKind;
  inferred: boolean;
}

/** The functions of `isg:plugin/graph`, named as jco binds them (camelCase). */
export interface GraphImports {
  generation(): bigint;
  idLimit(): number;
  lookup(key: string): number | undefined;
  find(name: string): Uint32Array;
  entity(id: number): EntityInfo | undefined;
  neighbors(id: number, kind: EdgeKind | undefined, dir: Direction): EdgeInfo[];
  degree(id: number, kind: EdgeKind | undefined, dir: Direction): number;
  degrees(kind: EdgeKind | undefined, dir: Direction): Uint32Array;
  edges(kind: EdgeKind): Uint32Array;
  files(): FileInfo[];
  modules(prefix: string): Uint32Array;
}

const KIND_CODE = new Map<string, number>(EDGE_KINDS.map((k, i) => [k, i]));
const DECODER = new TextDecoder();
const MODULE = ENTITY_KINDS.indexOf('module');
const KEY_SCANS_BEFORE_MAP = 16;

/** Lazily built lookups over one snapshot. */
class SnapshotIndex {
  private keys?: Map<string, number>;
  private scans = 0;
  private fileIndexes?: Map<string, number>;
  private modules?: (number | undefined)[];
  private names?: Map<string, number[]>;
  private readonly degreeTables = new Map<string, Uint32Array>();
  private readonly edgeLists = new Map<number, Uint32Array>();
  private fileList?: FileInfo[];
  /** What `entity` answered, per id: plugins ask for the same few entities call after call. */
  private readonly infos: (EntityInfo | undefined)[] = [];
  private scratch = new Uint8Array(256);

  readonly csr: CsrSnapshot;

  constructor(csr: CsrSnapshot) {
    this.csr = csr;
  }

  alive(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.csr.nodeCount && this.csr.entityKinds[id] !== CSR_DEAD;
  }

  key(id: number): string {
    const { keyBytes, keyOffsets } = this.csr;
    const start = keyOffsets[id]!;
    const length = keyOffsets[id + 1]! - start;
    // keyBytes may be a view of a SharedArrayBuffer, which TextDecoder refuses: the bytes are
    // copied into a scratch buffer (a slice allocated an ArrayBuffer per key, external memory
    // whose growth brought a plugin worker's scavenges every 76 calls of fan's top).
    if (length > this.scratch.length) this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2));
    this.scratch.set(keyBytes.subarray(start, start + length));
    return DECODER.decode(this.scratch.subarray(0, length));
  }

  /** The entity's info, made once per snapshot (the snapshot never changes; jco only reads it). */
  info(id: number): EntityInfo {
    let info = this.infos[id];
    if (!info) {
      const key = this.key(id);
      info = this.infos[id] = { id, key, name: this.qualifiedName(id, key), kind: ENTITY_KINDS[this.csr.entityKinds[id]!]!, file: this.file(id) };
    }
    return info;
  }

  file(id: number): string {
    return this.csr.fileTable[this.csr.files[id]!]!;
  }

  /** The qualified name: the key after `file#`, or the file for a module. */
  qualifiedName(id: number, key = this.key(id)): string {
    const file = this.file(id);
    return key.length > file.length ? key.slice(file.length + 1) : file;
  }

  /**
   * By the file the key starts with: a snapshot lives for one generation, and decoding every key
   * to build a map would cost a plugin that looks up one file per update milliseconds each time.
   */
  idOfKey(key: string): number | undefined {
    const hash = key.indexOf('#');
    const f = this.fileIndex().get(hash < 0 ? key : key.slice(0, hash));
    if (f === undefined) return undefined;
    if (hash < 0) return this.moduleOf()[f];
    // many lookups of the same generation: one map of every key pays for itself
    if (++this.scans > KEY_SCANS_BEFORE_MAP) {
      if (!this.keys) {
        this.keys = new Map();
        for (let id = 0; id < this.csr.nodeCount; id++) if (this.alive(id)) this.keys.set(this.key(id), id);
      }
      return this.keys.get(key);
    }
    const { files, nodeCount } = this.csr;
    for (let id = 0; id < nodeCount; id++) if (files[id] === f && this.alive(id) && this.key(id) === key) return id;
    return undefined;
  }

  private fileIndex(): Map<string, number> {
    this.fileIndexes ??= new Map(this.csr.fileTable.map((path, i) => [path, i]));
    return this.fileIndexes;
  }

  /** Module entity per index of the file table. */
  private moduleOf(): (number | undefined)[] {
    if (!this.modules) {
      this.modules = new Array<number | undefined>(this.csr.fileTable.length);
      for (let id = 0; id < this.csr.nodeCount; id++) if (this.csr.entityKinds[id] === MODULE) this.modules[this.csr.files[id]!] = id;
    }
    return this.modules;
  }

  idsOfName(name: string): number[] {
    if (!this.names) {
      const names = new Map<string, number[]>();
      const add = (n: string, id: number) => {
        const list = names.get(n);
        if (list) list.push(id);
        else names.set(n, [id]);
      };
      for (let id = 0; id < this.csr.nodeCount; id++) {
        if (!this.alive(id)) continue;
        const qualified = this.qualifiedName(id);
        add(qualified, id);
        const dot = qualified.lastIndexOf('.');
        if (dot >= 0 && this.csr.entityKinds[id] !== MODULE) add(qualified.slice(dot + 1), id);
      }
      this.names = names;
    }
    return this.names.get(name) ?? [];
  }

  fileInfos(): FileInfo[] {
    if (!this.fileList) {
      const modules = this.moduleOf();
      this.fileList = this.csr.fileTable.map((path, i) => ({ path, module: modules[i]! })).filter((f) => f.module !== undefined);
    }
    return this.fileList;
  }

  edges(kind: number): Uint32Array {
    let list = this.edgeLists.get(kind);
    if (list) return list;
    const { nodeCount, outOffsets, outKinds, outTargets } = this.csr;
    let n = 0;
    for (let e = 0; e < this.csr.edgeCount; e++) if ((outKinds[e]! & ~CSR_INFERRED_BIT) === kind) n++;
    list = new Uint32Array(n * 2);
    let at = 0;
    for (let id = 0; id < nodeCount; id++) {
      for (let e = outOffsets[id]!; e < outOffsets[id + 1]!; e++) {
        if ((outKinds[e]! & ~CSR_INFERRED_BIT) !== kind) continue;
        list[at++] = id;
        list[at++] = outTargets[e]!;
      }
    }
    this.edgeLists.set(kind, list);
    return list;
  }

  degrees(kind: number | undefined, dir: Direction): Uint32Array {
    const cacheKey = `${kind ?? '*'}${dir}`;
    let table = this.degreeTables.get(cacheKey);
    if (table) return table;
    const { nodeCount } = this.csr;
    const [offsets, kinds] = dir === 'outgoing' ? [this.csr.outOffsets, this.csr.outKinds] : [this.csr.inOffsets, this.csr.inKinds];
    table = new Uint32Array(nodeCount);
    for (let id = 0; id < nodeCount; id++) {
      if (kind === undefined) {
        table[id] = offsets[id + 1]! - offsets[id]!;
        continue;
      }
      let n = 0;
      for (let e = offsets[id]!; e < offsets[id + 1]!; e++) if ((kinds[e]! & ~CSR_INFERRED_BIT) === kind) n++;
      table[id] = n;
    }
    this.degreeTables.set(cacheKey, table);
    return table;
  }
}

/**
 * Graph imports over whatever snapshot `current()` returns at the time of each call, so a
 * plugin always reads the generation it was called at.
 */
export function graphImports(current: () => CsrSnapshot): GraphImports {
  let index: SnapshotIndex | undefined;
  const snap = (): SnapshotIndex => {
    const csr = current();
    if (index?.csr !== csr) index = new SnapshotIndex(csr);
    return index;
  };
  const kindCode = (kind: EdgeKind | undefined): number | undefined => (kind === undefined ? undefined : KIND_CODE.get(kind));
  return {
    generation: () => BigInt(snap().csr.generation),
    idLimit: () => snap().csr.nodeCount,
    lookup: (key) => snap().idOfKey(key),
    find: (name) => Uint32Array.from(snap().idsOfName(name)),
    entity(id) {
      const s = snap();
      return s.alive(id) ? s.info(id) : undefined;
    },
    neighbors(id, kind, dir) {
      const s = snap();
      if (!s.alive(id)) return [];
      const code = kindCode(kind);
      const { csr } = s;
      const [offsets, ends, kinds] = dir === 'outgoing' ? [csr.outOffsets, csr.outTargets, csr.outKinds] : [csr.inOffsets, csr.inSources, csr.inKinds];
      const out: EdgeInfo[] = [];
      for (let e = offsets[id]!; e < offsets[id + 1]!; e++) {
        const k = kinds[e]! & ~CSR_INFERRED_BIT;
        if (code === undefined || k === code) out.push({ other: ends[e]!, kind: EDGE_KINDS[k]!, inferred: (kinds[e]! & CSR_INFERRED_BIT) !== 0 });
      }
      return out;
    },
    degree(id, kind, dir) {
      const s = snap();
      if (!s.alive(id)) return 0;
      const code = kindCode(kind);
      const [offsets, kinds] = dir === 'outgoing' ? [s.csr.outOffsets, s.csr.outKinds] : [s.csr.inOffsets, s.csr.inKinds];
      if (code === undefined) return offsets[id + 1]! - offsets[id]!;
      let n = 0;
      for (let e = offsets[id]!; e < offsets[id + 1]!; e++) if ((kinds[e]! & ~CSR_INFERRED_BIT) === code) n++;
      return n;
    },
    degrees: (kind, dir) => snap().degrees(kindCode(kind), dir),
    edges: (kind) => {
      const code = kindCode(kind);
      return code === undefined ? new Uint32Array(0) : snap().edges(code);
    },
    files: () => snap().fileInfos(),
    modules: (prefix) => Uint32Array.from(snap().fileInfos().filter((f) => f.path.startsWith(prefix)), (f) => f.module),
  };
}
