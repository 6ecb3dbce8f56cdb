// Query results without node objects. node-tree-sitter 0.21.1 wraps every captured node in a
// JS object registered on its tree with a weak reference and a finalizer (about 5 µs a node
// here, more than the query itself); extraction reads a few numbers per node, so it calls the
// binding's native query and node methods directly and keeps nodes as rows of a typed array.
//
// The binding hands nodes over in a shared Uint32Array, six fields per node: the node id (two
// words), start byte, start row, start column in bytes, alias. Text is passed to tree-sitter as
// UTF-16, so bytes are twice the string offsets. Native node methods read their node from the
// first six fields of that array. This is the binding's internal protocol, so it is pinned to the
// version it was written against.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { SyntaxTree } from './parser.ts';

const require = createRequire(import.meta.url);
const PINNED_VERSION = '0.21.1';
const treeSitterPackage = require.resolve('tree-sitter/package.json');
const version = (require(treeSitterPackage) as { version: string }).version;
if (version !== PINNED_VERSION) {
  throw new Error(`isg needs tree-sitter ${PINNED_VERSION} (daemon/ingest/captures.ts reads its native node protocol), found ${version}`);
}

interface Binding {
  nodeTransferArray: Uint32Array;
  pointTransferArray: Uint32Array;
  NodeMethods: Record<string, (tree: SyntaxTree, ...args: unknown[]) => unknown>;
  getNodeTypeNamesById(language: unknown): (string | null)[];
}

// node-gyp-build caches the addon by path, so this is the instance `tree-sitter` itself loaded.
const binding = createRequire(treeSitterPackage)('node-gyp-build')(dirname(treeSitterPackage)) as Binding;
const methods = binding.NodeMethods;

const FIELDS = 6;

/** The parts of a compiled `Parser.Query` used here (its native entry point). */
export interface NativeQuery {
  _matches(tree: SyntaxTree, ...args: number[]): [(number | string)[], (number | object | null)[]];
}

/**
 * Nodes of one tree as rows of typed arrays. A handle is a row index; -1 is no node. Start
 * offset and position are free (they come with the row); everything else is one native call.
 */
export class NodeTable {
  readonly tree: SyntaxTree;
  private rows: Uint32Array;
  private symbols: Uint16Array;
  length = 0;
  private readonly typeNames: (string | null)[];

  constructor(tree: SyntaxTree, capacity = 256) {
    this.tree = tree;
    this.rows = new Uint32Array(capacity * FIELDS);
    this.symbols = new Uint16Array(capacity);
    this.typeNames = typeNamesOf(tree);
  }

  /** Identity of the node in its tree (the same node always has the same id). */
  id(h: number): number {
    return this.rows[h * FIELDS]! + this.rows[h * FIELDS + 1]! * 0x100000000;
  }

  start(h: number): number {
    return this.rows[h * FIELDS + 2]! >>> 1;
  }

  /** 0-based row of the node's start. */
  row(h: number): number {
    return this.rows[h * FIELDS + 3]!;
  }

  /** 0-based column of the node's start, in UTF-16 units. */
  column(h: number): number {
    return this.rows[h * FIELDS + 4]! >>> 1;
  }

  type(h: number): string {
    const symbol = this.symbols[h]!;
    const name = this.typeNames[symbol];
    if (name) return name;
    // Only named node types are listed by the binding; an anonymous one (`class`, `(`) is asked
    // for once per symbol.
    this.load(h);
    const type = methods.type!(this.tree) as string;
    this.typeNames[symbol] = type;
    return type;
  }

  end(h: number): number {
    this.load(h);
    return methods.endIndex!(this.tree) as number;
  }

  /** [row, column] of the node's end, 0-based. */
  endPosition(h: number): [number, number] {
    this.load(h);
    methods.endPosition!(this.tree);
    const p = binding.pointTransferArray;
    return [p[0]!, p[1]!];
  }

  parent(h: number): number {
    this.load(h);
    return this.adopt(methods.parent!(this.tree));
  }

  childForField(h: number, field: string): number {
    this.load(h);
    return this.adopt(methods.childForFieldName!(this.tree, field));
  }

  firstNamedChild(h: number): number {
    this.load(h);
    return this.adopt(methods.firstNamedChild!(this.tree));
  }

  namedChildren(h: number): number[] {
    this.load(h);
    return this.adoptAll(methods.namedChildren!(this.tree) as (number | object | null)[]);
  }

  children(h: number): number[] {
    this.load(h);
    return this.adoptAll(methods.children!(this.tree) as (number | object | null)[]);
  }

  /** The first child of `h` ending after `index` (a native scan of the children), -1 if none. */
  firstChildForIndex(h: number, index: number): number {
    this.load(h);
    return this.adopt(methods.firstChildForIndex!(this.tree, index));
  }

  nextSibling(h: number): number {
    this.load(h);
    return this.adopt(methods.nextSibling!(this.tree));
  }

  /** The smallest node spanning [start, end). */
  descendantInRange(h: number, start: number, end: number): number {
    this.load(h);
    return this.adopt(methods.descendantForIndex!(this.tree, start, end));
  }

  descendantForIndex(h: number, index: number): number {
    this.load(h);
    return this.adopt(methods.descendantForIndex!(this.tree, index, index));
  }

  hasError(h: number): boolean {
    this.load(h);
    return methods.hasError!(this.tree) as boolean;
  }

  /** The root node of the tree, as a handle. */
  root(): number {
    return this.pushWrapper(this.tree.rootNode);
  }

  /** Rows for the nodes a native call returned (numbers: rows in the transfer array; objects: cached wrappers). */
  adoptAll(nodes: (number | object | null)[]): number[] {
    const transfer = binding.nodeTransferArray;
    const out: number[] = new Array(nodes.length);
    let offset = 0;
    let wrappers = false;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (typeof n === 'number') {
        out[i] = this.pushFields(transfer, offset, n);
        offset += FIELDS;
      } else if (n === null || n === undefined) out[i] = -1;
      else {
        out[i] = this.pushFields(n as ArrayLike<number>, 0, 0);
        wrappers = true;
      }
    }
    // A wrapper's type is one more native call, which overwrites the transfer array: only once
    // every row has been copied out of it.
    if (wrappers) for (let i = 0; i < nodes.length; i++) if (typeof nodes[i] === 'object' && nodes[i] !== null) this.symbols[out[i]!] = this.symbolOf(out[i]!);
    return out;
  }

  private symbolOf(h: number): number {
    this.load(h);
    return methods.typeId!(this.tree) as number;
  }

  private adopt(n: unknown): number {
    if (typeof n === 'number') return this.pushFields(binding.nodeTransferArray, 0, n);
    return n === null || n === undefined ? -1 : this.pushWrapper(n);
  }

  private pushWrapper(wrapper: object): number {
    const h = this.pushFields(wrapper as ArrayLike<number>, 0, 0);
    this.symbols[h] = this.symbolOf(h);
    return h;
  }

  private pushFields(src: ArrayLike<number>, offset: number, symbol: number): number {
    const h = this.length++;
    if (h * FIELDS >= this.rows.length) this.grow();
    const base = h * FIELDS;
    for (let i = 0; i < FIELDS; i++) this.rows[base + i] = src[offset + i]!;
    this.symbols[h] = symbol;
    return h;
  }

  private grow(): void {
    const rows = new Uint32Array(this.rows.length * 2);
    rows.set(this.rows);
    this.rows = rows;
    const symbols = new Uint16Array(this.symbols.length * 2);
    symbols.set(this.symbols);
    this.symbols = symbols;
  }

  /** Writes node `h` where native node methods read their argument. */
  private load(h: number): void {
    const transfer = binding.nodeTransferArray;
    const base = h * FIELDS;
    for (let i = 0; i < FIELDS; i++) transfer[i] = this.rows[base + i]!;
  }

  /** Runs a native method on node `h` (for the few calls not wrapped above). */
  loadNode(h: number): SyntaxTree {
    this.load(h);
    return this.tree;
  }
}

const typeNamesCache = new WeakMap<object, (string | null)[]>();

function typeNamesOf(tree: SyntaxTree): (string | null)[] {
  const language = (tree as unknown as { language: object }).language;
  let names = typeNamesCache.get(language);
  if (!names) typeNamesCache.set(language, (names = binding.getNodeTypeNamesById(language)));
  return names;
}

/** The captures of one query run, in match order; capture `i` is node `first + i` of the table. */
export interface CaptureList {
  /** Number of captures. */
  length: number;
  /** Capture name of each capture (`captureId`). */
  name: Uint8Array;
  /** Pattern index of the match each capture belongs to. */
  pattern: Uint16Array;
  /** Index of the match each capture belongs to. */
  match: Uint32Array;
  /** Handle of the first capture's node in the table. */
  first: number;
}

export interface QueryOptions {
  /** Offsets in UTF-16 units, as everywhere in the binding. */
  startIndex?: number;
  endIndex?: number;
  /** Patterns may only start this deep below the node queried (tree-sitter's max_start_depth). */
  maxStartDepth?: number;
}

const captureIds = new Map<string, number>();
const captureNames: string[] = [];

/** A small number standing for a capture name, the same for every query. */
export function captureId(name: string): number {
  let id = captureIds.get(name);
  if (id === undefined) {
    id = captureNames.length;
    if (id > 255) throw new Error('extraction queries: more than 256 distinct capture names');
    captureNames.push(name);
    captureIds.set(name, id);
  }
  return id;
}

export function captureName(id: number): string {
  return captureNames[id]!;
}

/**
 * Runs `query` over node `at` of `table`'s tree; captured nodes are appended to the table.
 * tree-sitter 0.21.1's binding converts `endIndex` from UTF-16 units to bytes but not
 * `startIndex` (src/query.cc), so the start is converted here.
 */
export function runQuery(query: NativeQuery, table: NodeTable, at: number, options: QueryOptions = {}): CaptureList {
  const tree = table.loadNode(at);
  const [matches, nodes] = query._matches(tree, 0, 0, 0, 0, (options.startIndex ?? 0) * 2, options.endIndex ?? 0, 0xffffffff, options.maxStartDepth ?? 0xffffffff);
  const first = table.length;
  table.adoptAll(nodes);
  const count = nodes.length;
  const name = new Uint8Array(count);
  const pattern = new Uint16Array(count);
  const match = new Uint32Array(count);
  let c = 0;
  let m = -1;
  let p = 0;
  for (let i = 0; i < matches.length; i++) {
    const x = matches[i]!;
    if (typeof x === 'number') {
      p = x;
      m++;
      continue;
    }
    name[c] = captureId(x);
    pattern[c] = p;
    match[c] = m;
    c++;
  }
  return { length: count, name, pattern, match, first };
}
