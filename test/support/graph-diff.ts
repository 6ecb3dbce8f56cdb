// Comparing a live graph with a fresh index of the same files: the check behind the
// invariant that incremental updates, live watching and snapshot restores all keep.
import { exportGraph, type ExportedEdge, type ExportedEntity, type ExportedGraph } from '../../daemon/export/graph-json.ts';
import { GraphHost } from '../../daemon/host.ts';

const DIFF_LINES = 20;

const entityLine = (e: ExportedEntity): string => JSON.stringify(e);
export const edgeLine = (e: ExportedEdge): string => `${e.kind} ${e.from} -> ${e.to} (${e.resolution})`;

/** Lines in `a` more often than in `b` (multisets: a duplicated edge is a difference too). */
function surplus(a: string[], b: string[]): string[] {
  const counts = new Map<string, number>();
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = counts.get(x) ?? 0;
    if (n > 0) counts.set(x, n - 1);
    else out.push(x);
  }
  return out.sort();
}

/** A compact diff of the live graph against a fresh one, or undefined when they are equal. */
export function graphDiff(live: ExportedGraph, fresh: ExportedGraph): string | undefined {
  const liveEntities = live.entities.map(entityLine);
  const freshEntities = fresh.entities.map(entityLine);
  const liveEdges = live.edges.map(edgeLine);
  const freshEdges = fresh.edges.map(edgeLine);
  const sections: [string, string[]][] = [
    ['entities missing from the live graph', surplus(freshEntities, liveEntities)],
    ['entities only in the live graph', surplus(liveEntities, freshEntities)],
    ['edges missing from the live graph', surplus(freshEdges, liveEdges)],
    ['edges only in the live graph', surplus(liveEdges, freshEdges)],
  ];
  if (sections.every(([, lines]) => lines.length === 0)) return undefined;
  const out: string[] = [];
  for (const [label, lines] of sections) {
    if (!lines.length) continue;
    out.push(`${label} (${lines.length}):`, ...lines.slice(0, DIFF_LINES).map((l) => `  ${l}`));
    if (lines.length > DIFF_LINES) out.push(`  ... ${lines.length - DIFF_LINES} more`);
  }
  return out.join('\n');
}

/** Compares `host` with a fresh index of its root; the diff, or undefined when equal. */
export async function diffWithFresh(host: GraphHost): Promise<string | undefined> {
  // In-thread parsing: for a few hundred files it is faster than starting workers.
  const fresh = await GraphHost.index(host.root, { workers: 0 });
  return graphDiff(exportGraph(host, host.root), exportGraph(fresh, fresh.root));
}
