// The export JSON (schema isg-graph/1, documented in SCHEMA.md): the whole graph with stable
// ids, so other tools (and the accuracy check) can consume it. The daemon serves it in pages
// (a big graph is tens of MB: one frame would block every other client while it is encoded),
// so the order is computed once per generation and each page builds only its own records.
import type { ExportedEdge, ExportedEntity, ExportedGraph } from '../../client/protocol.ts';
export type { ExportedEdge, ExportedEntity, ExportedGraph };
import type { GraphStore } from '../graph/store.ts';
import { EDGE_KINDS } from '../model.ts';
import type { GraphView } from '../queries/graph-view.ts';
import type { Neighbourhood } from './neighbourhood.ts';

/** One generation's export order: entity ids, and edges as (kind index, from id, target) triples. */
interface ExportOrder {
  generation: number;
  entities: Int32Array;
  edges: Int32Array;
}

const orders = new WeakMap<GraphStore, ExportOrder>();

/** Edge kinds in the order of their names, as the schema sorts edges. */
const KINDS_BY_NAME = EDGE_KINDS.map((k, i) => ({ k, i })).sort((a, b) => cmp(a.k, b.k));

function exportOrder(view: GraphView): ExportOrder {
  const s = view.store;
  const cached = orders.get(s);
  if (cached && cached.generation === view.generation) return cached;
  const records: ExportedEntity[] = [];
  const alive: number[] = [];
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id)) continue;
    alive.push(id);
    records[id] = exportEntity(view, id);
  }
  const byPosition = [...alive].sort((x, y) => byEntityOrder(records[x]!, records[y]!));
  // Edges sort by kind name, then from and to keys: ranks of keys make that a numeric sort.
  const keyRank = new Int32Array(s.idLimit);
  [...alive].sort((x, y) => cmp(s.key(x), s.key(y))).forEach((id, rank) => (keyRank[id] = rank));
  const triples: number[] = [];
  for (const { k, i } of KINDS_BY_NAME) {
    for (const id of alive) for (const t of s.rawNeighbors(k, id, 'out') ?? []) triples.push(i, id, t);
  }
  const count = triples.length / 3;
  const kindRank = new Int32Array(EDGE_KINDS.length);
  KINDS_BY_NAME.forEach(({ i }, rank) => (kindRank[i] = rank));
  const index = Array.from({ length: count }, (_, e) => e);
  index.sort((a, b) => {
    const [ka, kb] = [triples[a * 3]!, triples[b * 3]!];
    if (ka !== kb) return kindRank[ka]! - kindRank[kb]!;
    const [fa, fb] = [keyRank[triples[a * 3 + 1]!]!, keyRank[triples[b * 3 + 1]!]!];
    if (fa !== fb) return fa - fb;
    const [ta, tb] = [triples[a * 3 + 2]!, triples[b * 3 + 2]!];
    // same target: 'inferred' sorts before 'resolved'
    return keyRank[ta >> 1]! - keyRank[tb >> 1]! || (tb & 1) - (ta & 1);
  });
  const edges = new Int32Array(count * 3);
  index.forEach((e, j) => edges.set([triples[e * 3]!, triples[e * 3 + 1]!, triples[e * 3 + 2]!], j * 3));
  const order = { generation: view.generation, entities: Int32Array.from(byPosition), edges };
  orders.set(s, order);
  return order;
}

export function exportEntity(view: GraphView, id: number): ExportedEntity {
  const e = view.store.entity(id);
  const out: ExportedEntity = {
    id: e.key,
    kind: e.kind,
    name: e.name,
    file: e.file,
    line: e.line,
    column: e.column,
    endLine: e.endLine,
    endColumn: e.endColumn,
    exported: e.exported,
    signature: e.signature,
    signatureHash: e.signatureHash,
  };
  if (e.doc !== undefined) out.doc = e.doc;
  return out;
}

function edgeAt(view: GraphView, edges: Int32Array, j: number): ExportedEdge {
  const s = view.store;
  const t = edges[j * 3 + 2]!;
  return { kind: EDGE_KINDS[edges[j * 3]!]!, from: s.key(edges[j * 3 + 1]!), to: s.key(t >> 1), resolution: t & 1 ? 'inferred' : 'resolved' };
}

export function exportGraph(view: GraphView, root: string): ExportedGraph {
  const { entities, edges } = exportPage(view, root, 0, 0, Number.MAX_SAFE_INTEGER);
  return { schema: 'isg-graph/1', root, generation: view.generation, entities, edges };
}

export interface ExportPage extends ExportedGraph {
  totalEntities: number;
  totalEdges: number;
  /** Where the next page starts, while entities or edges remain. */
  next?: { entityOffset: number; edgeOffset: number };
}

/** Up to `limit` items from the given offsets: entities first, then edges with the room left. */
export function exportPage(view: GraphView, root: string, entityOffset: number, edgeOffset: number, limit: number): ExportPage {
  const order = exportOrder(view);
  const totalEntities = order.entities.length;
  const totalEdges = order.edges.length / 3;
  const entityEnd = Math.min(totalEntities, entityOffset + limit);
  const entities: ExportedEntity[] = [];
  for (let j = entityOffset; j < entityEnd; j++) entities.push(exportEntity(view, order.entities[j]!));
  const edgeEnd = entityEnd < totalEntities ? edgeOffset : Math.min(totalEdges, edgeOffset + limit - entities.length);
  const edges: ExportedEdge[] = [];
  for (let j = edgeOffset; j < edgeEnd; j++) edges.push(edgeAt(view, order.edges, j));
  const page: ExportPage = { schema: 'isg-graph/1', root, generation: view.generation, totalEntities, totalEdges, entities, edges };
  if (entityEnd < totalEntities || edgeEnd < totalEdges) page.next = { entityOffset: entityEnd, edgeOffset: Math.max(edgeOffset, edgeEnd) };
  return page;
}

/** A neighbourhood in the export schema: its entities and the edges between them, in export order. */
export function exportSubgraph(view: GraphView, root: string, n: Neighbourhood): ExportedGraph {
  const s = view.store;
  const entities = n.nodes.map((id) => exportEntity(view, id)).sort(byEntityOrder);
  const edges: ExportedEdge[] = n.edges.map((e) => ({ kind: e.kind, from: s.key(e.from), to: s.key(e.to), resolution: e.inferred ? 'inferred' : 'resolved' }));
  edges.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.resolution, b.resolution));
  return { schema: 'isg-graph/1', root, generation: view.generation, entities, edges };
}

/** Entities by file, then position, then id. */
function byEntityOrder(a: ExportedEntity, b: ExportedEntity): number {
  return a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || a.column - b.column || cmp(a.id, b.id);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
