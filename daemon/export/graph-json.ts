// The `--export` JSON (schema isg-graph/1, documented in SCHEMA.md): the whole graph with
// stable ids, so other tools (and the accuracy check) can consume it.
import { EDGE_KINDS, type EdgeKind } from '../model.ts';
import type { GraphView } from '../queries/graph-view.ts';

export interface ExportedEntity {
  id: string;
  kind: string;
  name: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  exported: boolean;
  signature: string;
  signatureHash: string;
  doc?: string;
}

export interface ExportedEdge {
  kind: EdgeKind;
  from: string;
  to: string;
  resolution: 'resolved' | 'inferred';
}

export interface ExportedGraph {
  schema: 'isg-graph/1';
  root: string;
  generation: number;
  entities: ExportedEntity[];
  edges: ExportedEdge[];
}

export function exportGraph(view: GraphView, root: string): ExportedGraph {
  const s = view.store;
  const entities: ExportedEntity[] = [];
  const edges: ExportedEdge[] = [];
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id)) continue;
    const e = s.entity(id);
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
    entities.push(out);
    for (const kind of EDGE_KINDS) {
      for (const t of s.rawNeighbors(kind, id, 'out') ?? []) {
        edges.push({ kind, from: e.key, to: s.key(t >> 1), resolution: t & 1 ? 'inferred' : 'resolved' });
      }
    }
  }
  entities.sort((a, b) => (a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || a.column - b.column || (a.id < b.id ? -1 : 1)));
  edges.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.resolution, b.resolution));
  return { schema: 'isg-graph/1', root, generation: view.generation, entities, edges };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
