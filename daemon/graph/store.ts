// The graph store: entities in columns addressed by small integer ids, edges as per-kind
// adjacency lists in both directions. It knows nothing of files on disk, parsing or
// resolution: the host tells it what exists and which edges hold.
import { EDGE_KINDS, ENTITY_KINDS, type EdgeKind, type EntityKind, type Resolution } from '../model.ts';

export const EDGE_KIND_INDEX: Record<EdgeKind, number> = Object.fromEntries(EDGE_KINDS.map((k, i) => [k, i])) as Record<EdgeKind, number>;
export const ENTITY_KIND_INDEX: Record<EntityKind, number> = Object.fromEntries(ENTITY_KINDS.map((k, i) => [k, i])) as Record<EntityKind, number>;

/** Edge targets are stored as `id * 2 + (inferred ? 1 : 0)`: one number per edge, no objects. */
const encode = (id: number, inferred: boolean) => id * 2 + (inferred ? 1 : 0);

const FLAG_EXPORTED = 1;

export interface EntityRecord {
  id: number;
  /** Stable id: the module path, or `path#Qualified.Name`. */
  key: string;
  name: string;
  qualifiedName: string;
  kind: EntityKind;
  file: string;
  parent: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  exported: boolean;
  signature: string;
  signatureHash: string;
  doc?: string;
}

export interface EntityInput {
  kind: EntityKind;
  qualifiedName: string;
  parent: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  exported: boolean;
  signature: string;
  signatureHash: string;
  doc?: string;
}

type Adjacency = (number[] | undefined)[];

export class GraphStore {
  private capacity = 0;
  private kinds = new Uint8Array(0);
  private flags = new Uint8Array(0);
  private files = new Int32Array(0);
  private parents = new Int32Array(0);
  /** line, column, endLine, endColumn for each entity. */
  private positions = new Uint32Array(0);
  private qualifiedNames: (string | undefined)[] = [];
  /** Stable key of each entity: the same string instance as in `byKey`, so free to keep. */
  private readonly keyStrings: string[] = [];
  private signatures: string[] = [];
  private signatureHashes: string[] = [];
  private docs: (string | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private nextId = 0;
  private liveCount = 0;

  /** File paths, interned: entities refer to them by index. */
  private readonly filePaths: string[] = [];
  private readonly fileIndex = new Map<string, number>();

  /** Stable key -> id, for exact lookups. */
  private readonly byKey = new Map<string, number>();
  /** Simple (last-segment) name -> ids, for name lookups and name-matching. */
  private readonly bySimpleName = new Map<string, number[]>();
  /** Bumped whenever the set of simple names changes, for indexes built over it (lookup). */
  namesVersion = 0;

  private readonly out: Adjacency[] = EDGE_KINDS.map(() => []);
  private readonly in: Adjacency[] = EDGE_KINDS.map(() => []);
  private readonly edgeCounts = EDGE_KINDS.map(() => [0, 0]);

  get entityCount(): number {
    return this.liveCount;
  }

  /** Upper bound (exclusive) of ids in use: iterate `0..idLimit` and skip dead ids. */
  get idLimit(): number {
    return this.nextId;
  }

  isAlive(id: number): boolean {
    return id >= 0 && id < this.nextId && this.qualifiedNames[id] !== undefined;
  }

  internFile(path: string): number {
    let i = this.fileIndex.get(path);
    if (i === undefined) {
      i = this.filePaths.length;
      this.filePaths.push(path);
      this.fileIndex.set(path, i);
    }
    return i;
  }

  addEntity(file: string, e: EntityInput): number {
    const id = this.freeIds.length ? this.freeIds.pop()! : this.nextId++;
    this.ensureCapacity(id + 1);
    this.files[id] = this.internFile(file);
    this.qualifiedNames[id] = e.qualifiedName;
    this.writeEntity(id, e);
    const key = entityKey(file, e.qualifiedName);
    this.keyStrings[id] = key;
    this.byKey.set(key, id);
    const simple = simpleName(e.qualifiedName, file);
    const list = this.bySimpleName.get(simple);
    if (list) list.push(id);
    else {
      this.bySimpleName.set(simple, [id]);
      this.namesVersion++;
    }
    this.liveCount++;
    return id;
  }

  /** Update what an entity says about itself; its identity (file, name) stays. */
  updateEntity(id: number, e: EntityInput): void {
    this.writeEntity(id, e);
  }

  private writeEntity(id: number, e: EntityInput): void {
    this.kinds[id] = ENTITY_KIND_INDEX[e.kind];
    this.flags[id] = e.exported ? FLAG_EXPORTED : 0;
    this.parents[id] = e.parent;
    const p = id * 4;
    this.positions[p] = e.line;
    this.positions[p + 1] = e.column;
    this.positions[p + 2] = e.endLine;
    this.positions[p + 3] = e.endColumn;
    this.signatures[id] = e.signature;
    this.signatureHashes[id] = e.signatureHash;
    this.docs[id] = e.doc;
  }

  /** Remove an entity; it must have no edges left (the host clears them first). */
  removeEntity(id: number): void {
    const file = this.filePaths[this.files[id]!]!;
    const qn = this.qualifiedNames[id]!;
    this.byKey.delete(entityKey(file, qn));
    const simple = simpleName(qn, file);
    const list = this.bySimpleName.get(simple);
    if (list) {
      const i = list.indexOf(id);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) {
        this.bySimpleName.delete(simple);
        this.namesVersion++;
      }
    }
    this.qualifiedNames[id] = undefined;
    this.keyStrings[id] = '';
    this.signatures[id] = '';
    this.signatureHashes[id] = '';
    this.docs[id] = undefined;
    this.freeIds.push(id);
    this.liveCount--;
  }

  idOf(key: string): number | undefined {
    return this.byKey.get(key);
  }

  idsNamed(simple: string): readonly number[] {
    return this.bySimpleName.get(simple) ?? [];
  }

  simpleNames(): IterableIterator<string> {
    return this.bySimpleName.keys();
  }

  kind(id: number): EntityKind {
    return ENTITY_KINDS[this.kinds[id]!]!;
  }

  file(id: number): string {
    return this.filePaths[this.files[id]!]!;
  }

  parent(id: number): number {
    return this.parents[id]!;
  }

  qualifiedName(id: number): string {
    return this.qualifiedNames[id]!;
  }

  key(id: number): string {
    return this.keyStrings[id]!;
  }

  signature(id: number): string {
    return this.signatures[id]!;
  }


  line(id: number): number {
    return this.positions[id * 4]!;
  }

  exported(id: number): boolean {
    return (this.flags[id]! & FLAG_EXPORTED) !== 0;
  }

  signatureHash(id: number): string {
    return this.signatureHashes[id]!;
  }

  entity(id: number): EntityRecord {
    const file = this.file(id);
    const qn = this.qualifiedNames[id]!;
    const p = id * 4;
    const r: EntityRecord = {
      id,
      key: this.keyStrings[id]!,
      name: simpleName(qn, file),
      qualifiedName: qn,
      kind: this.kind(id),
      file,
      parent: this.parents[id]!,
      line: this.positions[p]!,
      column: this.positions[p + 1]!,
      endLine: this.positions[p + 2]!,
      endColumn: this.positions[p + 3]!,
      exported: this.exported(id),
      signature: this.signatures[id]!,
      signatureHash: this.signatureHashes[id]!,
    };
    const doc = this.docs[id];
    if (doc !== undefined) r.doc = doc;
    return r;
  }

  addEdge(kind: EdgeKind, from: number, to: number, resolution: Resolution): void {
    const k = EDGE_KIND_INDEX[kind];
    const inferred = resolution === 'inferred';
    push(this.out[k]!, from, encode(to, inferred));
    push(this.in[k]!, to, encode(from, inferred));
    this.edgeCounts[k]![inferred ? 1 : 0]!++;
  }

  /** Remove every outgoing edge of `from` (all kinds), keeping reverse indexes exact. */
  clearOutgoing(from: number): void {
    for (let k = 0; k < EDGE_KINDS.length; k++) {
      const list = this.out[k]![from];
      if (!list) continue;
      for (const t of list) {
        const to = t >> 1;
        const back = this.in[k]![to]!;
        const i = back.indexOf(from * 2 + (t & 1));
        back.splice(i, 1);
        if (!back.length) this.in[k]![to] = undefined;
        this.edgeCounts[k]![t & 1]!--;
      }
      this.out[k]![from] = undefined;
    }
  }

  /** Targets (or sources, with direction 'in') of `id` over one edge kind. */
  neighbors(kind: EdgeKind, id: number, direction: 'out' | 'in', resolution: Resolution | 'any' = 'any'): number[] {
    const list = (direction === 'out' ? this.out : this.in)[EDGE_KIND_INDEX[kind]]![id];
    if (!list) return [];
    const out: number[] = [];
    for (const t of list) {
      const inferred = (t & 1) === 1;
      if (resolution === 'any' || (resolution === 'inferred') === inferred) out.push(t >> 1);
    }
    return out;
  }

  /** Encoded adjacency (`id * 2 + inferred`) for traversals that want no allocation. */
  rawNeighbors(kind: EdgeKind, id: number, direction: 'out' | 'in'): readonly number[] | undefined {
    return (direction === 'out' ? this.out : this.in)[EDGE_KIND_INDEX[kind]]![id];
  }

  edgeCount(kind: EdgeKind, resolution: Resolution): number {
    return this.edgeCounts[EDGE_KIND_INDEX[kind]]![resolution === 'inferred' ? 1 : 0]!;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(1024, this.capacity * 2, n);
    this.kinds = grow(this.kinds, cap);
    this.flags = grow(this.flags, cap);
    this.files = grow(this.files, cap);
    this.parents = grow(this.parents, cap);
    this.positions = grow(this.positions, cap * 4);
    this.capacity = cap;
  }
}

export function entityKey(file: string, qualifiedName: string): string {
  return qualifiedName === '' ? file : `${file}#${qualifiedName}`;
}

/** The name people type: the last segment of the qualified name, or the file name for a module. */
export function simpleName(qualifiedName: string, file: string): string {
  if (qualifiedName === '') return file.slice(file.lastIndexOf('/') + 1);
  return qualifiedName.slice(qualifiedName.lastIndexOf('.') + 1);
}

function push(adj: Adjacency, at: number, value: number): void {
  const list = adj[at];
  if (list) list.push(value);
  else adj[at] = [value];
}

function grow<T extends Uint8Array | Int32Array | Uint32Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}
