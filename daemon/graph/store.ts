// The graph store: entities in columns addressed by small integer ids, edges as per-kind
// adjacency lists in both directions. It knows nothing of files on disk, parsing or
// resolution: the host tells it what exists and which edges hold.
import { EDGE_KINDS, ENTITY_KINDS, type EdgeKind, type EntityKind, type Resolution } from '../model.ts';
import { hashHex } from '../util/hash.ts';
import { Adjacency, edgeEntry, KIND_SHIFT, MAX_ENTITIES, OTHER_SHIFT } from './adjacency.ts';
import { KeyIndex } from './key-index.ts';
import { NameTable, type NameSlots } from './name-table.ts';

export const EDGE_KIND_INDEX: Record<EdgeKind, number> = Object.fromEntries(EDGE_KINDS.map((k, i) => [k, i])) as Record<EdgeKind, number>;
export const ENTITY_KIND_INDEX: Record<EntityKind, number> = Object.fromEntries(ENTITY_KINDS.map((k, i) => [k, i])) as Record<EntityKind, number>;

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
  /** `hash53` of the signature with whitespace runs collapsed. */
  signatureHash: number;
  doc?: string;
}

export class GraphStore {
  private capacity = 0;
  private kinds = new Uint8Array(0);
  private flags = new Uint8Array(0);
  private files = new Int32Array(0);
  private parents = new Int32Array(0);
  /** line, column, endLine, endColumn for each entity. */
  private positions = new Uint32Array(0);
  private qualifiedNames: (string | undefined)[] = [];
  private signatures: string[] = [];
  private signatureHashes = new Float64Array(0);
  private docs: (string | undefined)[] = [];
  /** One memo per entity for the query layer (see `memo`); grown when the first is set. */
  private memos: (object | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private nextId = 0;
  private liveCount = 0;

  /** File paths, interned: entities refer to them by index. */
  private readonly filePaths: string[] = [];
  /** `path#` of each file: a key is built with one concatenation. */
  private readonly keyPrefixes: string[] = [];
  private readonly fileIndex = new Map<string, number>();

  /** (file, qualified name) -> id: keys are not kept as strings, they are built when asked for. */
  private readonly keyIndex = new KeyIndex();
  /** Simple (last-segment) name -> ids sorted by key, for name lookups and name-matching. */
  private readonly names = new NameTable();
  /** Bumped by every change to entities or edges, for results cached per graph state (cycles). */
  version = 0;
  /** Bumped when an id comes into use or goes out of it, for tables built per id (the CSR's keys). */
  idsVersion = 0;

  private readonly out = new Adjacency();
  private readonly in = new Adjacency();
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
      this.keyPrefixes.push(`${path}#`);
      this.fileIndex.set(path, i);
    }
    return i;
  }

  /** Room for `additional` more entities at once (an index adds thousands): no growing step by step. */
  reserve(additional: number): void {
    this.ensureCapacity(this.nextId + additional);
    this.keyIndex.reserve(this, this.liveCount + additional);
  }

  addEntity(file: string, e: EntityInput): number {
    const id = this.freeIds.length ? this.freeIds.pop()! : this.nextId++;
    this.ensureCapacity(id + 1);
    this.files[id] = this.internFile(file);
    this.qualifiedNames[id] = e.qualifiedName;
    this.writeEntity(id, e);
    this.keyIndex.insert(this, id);
    this.names.add(simpleName(e.qualifiedName, file), id, (a, b) => this.compareKeys(a, b));
    this.liveCount++;
    this.version++;
    this.idsVersion++;
    return id;
  }

  /**
   * Order of two entities' keys in code units, as comparing `key(a)` with `key(b)` would give,
   * without building them: by qualified name within a file (the module first), by path across
   * files, except when one path starts the other (`a.ts`, `a.ts#x.ts`), where the keys are built.
   */
  compareKeys(a: number, b: number): number {
    const fa = this.files[a]!;
    const fb = this.files[b]!;
    if (fa === fb) {
      const qa = this.qualifiedNames[a]!;
      const qb = this.qualifiedNames[b]!;
      return qa < qb ? -1 : qa > qb ? 1 : 0;
    }
    const pa = this.filePaths[fa]!;
    const pb = this.filePaths[fb]!;
    if (pb.startsWith(pa) || pa.startsWith(pb)) {
      const ka = this.key(a);
      const kb = this.key(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    }
    return pa < pb ? -1 : 1;
  }

  /** Update what an entity says about itself; its identity (file, name) stays. */
  updateEntity(id: number, e: EntityInput): void {
    this.writeEntity(id, e);
  }

  private writeEntity(id: number, e: EntityInput): void {
    this.version++;
    this.forgetMemo(id);
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
    this.keyIndex.remove(this, id);
    this.names.remove(simpleName(qn, file), id);
    this.qualifiedNames[id] = undefined;
    this.signatures[id] = '';
    this.signatureHashes[id] = 0;
    this.docs[id] = undefined;
    this.forgetMemo(id);
    this.freeIds.push(id);
    this.liveCount--;
    this.version++;
    this.idsVersion++;
  }

  /**
   * What the query layer derived from this entity and keeps (its result record), or undefined.
   * The store drops an entity's memo whenever the entity is written or removed, so a memo never
   * describes an entity as it was.
   */
  memo(id: number): object | undefined {
    return this.memos[id];
  }

  private forgetMemo(id: number): void {
    // Guarded: a write past the end would grow the array during a build that never asks for memos.
    if (id < this.memos.length) this.memos[id] = undefined;
  }

  setMemo(id: number, memo: object): void {
    // Grown to the capacity at once (a loop of pushes keeps the array's elements fast): a store
    // written far past its end turns into a slow dictionary.
    while (this.memos.length < this.capacity) this.memos.push(undefined);
    this.memos[id] = memo;
  }

  /** The entity with this key (`path#Qualified.Name`, or the path of a module). */
  idOf(key: string): number | undefined {
    const module = this.fileIndex.get(key);
    if (module !== undefined) {
      const id = this.keyIndex.find(this, module, '');
      if (id !== undefined) return id;
    }
    // Paths may hold '#' too: try each split, shortest path first.
    for (let at = key.indexOf('#'); at >= 0; at = key.indexOf('#', at + 1)) {
      const file = this.fileIndex.get(key.slice(0, at));
      if (file === undefined) continue;
      const id = this.keyIndex.find(this, file, key.slice(at + 1));
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** Ids of the entities with this simple name, sorted by key. */
  idsNamed(simple: string): readonly number[] {
    return this.names.ids(simple);
  }

  /** How many entities have this simple name (`idsNamed(simple).length`, without an array). */
  namedCount(simple: string): number {
    return this.names.count(simple);
  }

  simpleNames(): IterableIterator<string> {
    return this.names.keys();
  }

  /** The simple names by slot, for indexes built over them (lookup's sorted name index). */
  get nameSlots(): NameSlots {
    return this.names;
  }

  /** Bumped whenever the set of simple names changes, for indexes built over it. */
  get namesVersion(): number {
    return this.names.version;
  }

  kind(id: number): EntityKind {
    return ENTITY_KINDS[this.kinds[id]!]!;
  }

  file(id: number): string {
    return this.filePaths[this.files[id]!]!;
  }

  /** Index of the entity's file among interned paths (`filePath(i)`), for per-file tallies. */
  fileIndexOf(id: number): number {
    return this.files[id]!;
  }

  filePath(index: number): string {
    return this.filePaths[index]!;
  }

  /** Interned paths so far (indexes 0..fileCount-1; paths of deleted files stay interned). */
  get fileCount(): number {
    return this.filePaths.length;
  }

  parent(id: number): number {
    return this.parents[id]!;
  }

  qualifiedName(id: number): string {
    return this.qualifiedNames[id]!;
  }

  /** Stable key: `path#Qualified.Name`, or the path for a module (built on each call). */
  key(id: number): string {
    const qn = this.qualifiedNames[id]!;
    return qn === '' ? this.filePaths[this.files[id]!]! : this.keyPrefixes[this.files[id]!]! + qn;
  }

  /** How results name an entity: its qualified name, or the path for a module. */
  displayName(id: number): string {
    const qn = this.qualifiedNames[id]!;
    return qn === '' ? this.file(id) : qn;
  }

  signature(id: number): string {
    return this.signatures[id]!;
  }

  doc(id: number): string | undefined {
    return this.docs[id];
  }

  line(id: number): number {
    return this.positions[id * 4]!;
  }

  exported(id: number): boolean {
    return (this.flags[id]! & FLAG_EXPORTED) !== 0;
  }

  /** The signature hash as exports show it (14 hex digits). */
  signatureHash(id: number): string {
    return hashHex(this.signatureHashes[id]!);
  }

  signatureHashValue(id: number): number {
    return this.signatureHashes[id]!;
  }

  entity(id: number): EntityRecord {
    const file = this.file(id);
    const qn = this.qualifiedNames[id]!;
    const p = id * 4;
    const r: EntityRecord = {
      id,
      key: this.key(id),
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
      signatureHash: this.signatureHash(id),
    };
    const doc = this.docs[id];
    if (doc !== undefined) r.doc = doc;
    return r;
  }

  addEdge(kind: EdgeKind, from: number, to: number, resolution: Resolution): void {
    const k = EDGE_KIND_INDEX[kind];
    const inferred = resolution === 'inferred';
    this.out.add(from, edgeEntry(to, k, inferred));
    this.in.add(to, edgeEntry(from, k, inferred));
    this.edgeCounts[k]![inferred ? 1 : 0]!++;
    this.version++;
  }

  /** Remove every outgoing edge of `from` (all kinds), keeping reverse indexes exact. */
  clearOutgoing(from: number): void {
    const pool = this.out.pool;
    const end = this.out.blockStart(from) + this.out.degree(from);
    for (let i = this.out.blockStart(from); i < end; i++) {
      const e = pool[i]!;
      const k = (e >> KIND_SHIFT) & 7;
      this.in.remove(e >> OTHER_SHIFT, edgeEntry(from, k, (e & 1) === 1));
      this.edgeCounts[k]![e & 1]!--;
    }
    this.out.clear(from);
    this.version++;
  }

  /** Targets (or sources, with direction 'in') of `id` over one edge kind. */
  neighbors(kind: EdgeKind, id: number, direction: 'out' | 'in', resolution: Resolution | 'any' = 'any'): number[] {
    const adj = direction === 'out' ? this.out : this.in;
    const k = EDGE_KIND_INDEX[kind];
    const out: number[] = [];
    for (let i = adj.start(id, k), end = adj.end(id, k); i < end; i++) {
      const e = adj.pool[i]!;
      if (resolution === 'any' || (resolution === 'inferred') === ((e & 1) === 1)) out.push(e >> OTHER_SHIFT);
    }
    return out;
  }

  /** Neighbours over one kind encoded as `id * 2 + inferred`, or undefined if none (a new array each call). */
  rawNeighbors(kind: EdgeKind, id: number, direction: 'out' | 'in'): number[] | undefined {
    const adj = direction === 'out' ? this.out : this.in;
    const k = EDGE_KIND_INDEX[kind];
    const start = adj.start(id, k);
    const end = adj.end(id, k);
    if (start === end) return undefined;
    const out: number[] = [];
    for (let i = start; i < end; i++) out.push(((adj.pool[i]! >> OTHER_SHIFT) << 1) | (adj.pool[i]! & 1));
    return out;
  }

  /**
   * The edges of one direction, for traversals that allocate nothing: entries
   * `adjacency.pool[i]` for i in `start(id, k)..end(id, k)` (k an EDGE_KIND_INDEX) are
   * `other << OTHER_SHIFT | k << KIND_SHIFT | inferred`. Valid until the next change to the graph.
   */
  adjacency(direction: 'out' | 'in'): Adjacency {
    return direction === 'out' ? this.out : this.in;
  }

  edgeCount(kind: EdgeKind, resolution: Resolution): number {
    return this.edgeCounts[EDGE_KIND_INDEX[kind]]![resolution === 'inferred' ? 1 : 0]!;
  }

  /** Give back the slack left by building: column headroom and unused edge room. */
  compact(): void {
    this.resize(this.nextId + (this.nextId >> 4));
    this.out.compact();
    this.in.compact();
  }

  private ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    if (n > MAX_ENTITIES) throw new Error(`graph store: more than ${MAX_ENTITIES} entities`);
    this.resize(Math.min(MAX_ENTITIES, Math.max(1024, this.capacity + (this.capacity >> 1), n)));
  }

  private resize(cap: number): void {
    this.kinds = resized(this.kinds, cap);
    this.flags = resized(this.flags, cap);
    this.files = resized(this.files, cap);
    this.parents = resized(this.parents, cap);
    this.positions = resized(this.positions, cap * 4);
    this.signatureHashes = resized(this.signatureHashes, cap);
    this.out.reserve(cap);
    this.in.reserve(cap);
    this.capacity = cap;
  }
}

/** The name people type: the last segment of the qualified name, or the file name for a module. */
export function simpleName(qualifiedName: string, file: string): string {
  if (qualifiedName === '') return file.slice(file.lastIndexOf('/') + 1);
  return qualifiedName.slice(qualifiedName.lastIndexOf('.') + 1);
}

function resized<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a.subarray(0, Math.min(a.length, size)) as unknown as ArrayLike<number>);
  return b;
}
