// A picture of part of the graph: the neighbourhood of one entity (both directions, chosen
// edge kinds, depth N) as Graphviz DOT or Mermaid.
import { EDGE_KINDS, type EdgeKind } from '../model.ts';
import { resolveEntity } from '../queries/entity-ref.ts';
import type { GraphView } from '../queries/graph-view.ts';

export interface Neighbourhood {
  nodes: number[];
  edges: { kind: EdgeKind; from: number; to: number; inferred: boolean }[];
  /** Entities were left out to stay within MAX_NODES. */
  truncated: boolean;
}

/** Beyond a few hundred boxes a picture is unreadable (and DOT layout slow). */
export const MAX_NODES = 400;

export function neighbourhood(view: GraphView, focus: string, depth: number, kinds: readonly EdgeKind[] = EDGE_KINDS.filter((k) => k !== 'contains')): Neighbourhood {
  const s = view.store;
  const start = resolveEntity(view, focus);
  const seen = new Set([start]);
  let truncated = false;
  let frontier = [start];
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: number[] = [];
    for (const v of frontier) {
      for (const kind of kinds) {
        for (const dir of ['out', 'in'] as const) {
          for (const t of s.rawNeighbors(kind, v, dir) ?? []) {
            const w = t >> 1;
            if (seen.has(w)) continue;
            if (seen.size >= MAX_NODES) {
              truncated = true;
              continue;
            }
            seen.add(w);
            next.push(w);
          }
        }
      }
    }
    frontier = next;
  }
  const edges: Neighbourhood['edges'] = [];
  for (const v of seen) {
    for (const kind of kinds) {
      for (const t of s.rawNeighbors(kind, v, 'out') ?? []) {
        if (seen.has(t >> 1)) edges.push({ kind, from: v, to: t >> 1, inferred: (t & 1) === 1 });
      }
    }
  }
  return { nodes: [...seen], edges, truncated };
}

export function toDot(view: GraphView, n: Neighbourhood): string {
  const s = view.store;
  const lines = ['digraph isg {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  for (const id of n.nodes) lines.push(`  n${id} [label=${JSON.stringify(`${s.kind(id)} ${label(view, id)}\n${s.file(id)}:${s.line(id)}`)}];`);
  for (const e of n.edges) lines.push(`  n${e.from} -> n${e.to} [label=${JSON.stringify(e.kind)}${e.inferred ? ', style=dashed' : ''}];`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function toMermaid(view: GraphView, n: Neighbourhood): string {
  const lines = ['flowchart LR'];
  for (const id of n.nodes) lines.push(`  n${id}["${escapeMermaid(`${view.store.kind(id)} ${label(view, id)}`)}"]`);
  for (const e of n.edges) lines.push(`  n${e.from} ${e.inferred ? '-.->' : '-->'}|${e.kind}| n${e.to}`);
  return lines.join('\n') + '\n';
}

function label(view: GraphView, id: number): string {
  const qn = view.store.qualifiedName(id);
  return qn === '' ? view.store.file(id) : qn;
}

function escapeMermaid(s: string): string {
  return s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}
