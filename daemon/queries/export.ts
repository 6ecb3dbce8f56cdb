// export: the whole graph as JSON (in pages), or the neighbourhood of one entity as JSON, DOT
// or Mermaid. The same documents `isg index --export` writes, served by the daemon.
import type { ExportResult } from '../../client/protocol.ts';
export type { ExportResult };
import { IsgError } from '../errors.ts';
import { exportPage, exportSubgraph } from '../export/graph-json.ts';
import { neighbourhood, toDot, toMermaid } from '../export/neighbourhood.ts';
import { asArgs, edgeKinds, optionalEnum, optionalInt, optionalString } from './args.ts';
import { entityRef } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';

// About 0.5 MB of msgpack: small enough that encoding a page never holds up other clients for long.
const DEFAULT_PAGE = 2000;

/**
 * Args: `format` (json, dot or mermaid; default json), `focus` (an entity: export its
 * neighbourhood; required for dot and mermaid), `depth` (hops from focus, default 1), `kinds`
 * (edge kinds around focus), `entityOffset`/`edgeOffset`/`limit` (paging of the whole graph).
 */
export function exportQuery(view: GraphView, rawArgs: unknown): ExportResult {
  const args = asArgs(rawArgs);
  const format = optionalEnum(args, 'format', ['json', 'dot', 'mermaid'] as const, 'json');
  const focus = optionalString(args, 'focus');
  const root = rootOf(view);
  if (focus === undefined || focus === '') {
    if (format !== 'json') throw new IsgError('bad-args', `format ${format} draws a neighbourhood: give "focus", the entity to draw around (a picture of the whole graph would be unreadable)`);
    const page = exportPage(view, root, optionalInt(args, 'entityOffset', 0, 0, Number.MAX_SAFE_INTEGER), optionalInt(args, 'edgeOffset', 0, 0, Number.MAX_SAFE_INTEGER), optionalInt(args, 'limit', DEFAULT_PAGE, 1, 100_000));
    return { format, ...page, truncated: false };
  }
  const n = neighbourhood(view, focus, optionalInt(args, 'depth', 1, 0, 10), edgeKinds(args, 'kinds'));
  const centre = entityRef(view, n.nodes[0]!); // the focus comes first
  if (format === 'json') {
    const graph = exportSubgraph(view, root, n);
    return { format, ...graph, focus: centre, totalEntities: graph.entities.length, totalEdges: graph.edges.length, truncated: n.truncated };
  }
  return { format, focus: centre, nodes: n.nodes.length, edges: n.edges.length, truncated: n.truncated, text: format === 'dot' ? toDot(view, n) : toMermaid(view, n) };
}

/**
 * The indexed root for the document's `root` field. GraphView does not name it; the views the
 * daemon and the CLI pass (GraphHost) do.
 */
function rootOf(view: GraphView): string {
  const root = (view as { root?: unknown }).root;
  return typeof root === 'string' ? root : '';
}
