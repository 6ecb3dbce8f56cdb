// Comparing a live graph with a fresh index of the same files: the check behind the
// invariant that incremental updates, live watching and snapshot restores all keep.
import { exportGraph, type ExportedEdge, type ExportedEntity, type ExportedGraph } from '../../daemon/export/graph-json.ts';
import { GraphHost } from '../../daemon/host.ts';
import type { DiscoverOptions } from '../../daemon/ingest/discover.ts';
import { runQuery } from '../../daemon/queries/core.ts';

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

/**
 * Compares `host` with a fresh index of its root (and, with `withQueries`, query answers); the
 * diff, or undefined when equal. `discover`: the includes and excludes `host` was built with.
 */
export async function diffWithFresh(host: GraphHost, withQueries = false, discover: DiscoverOptions = {}): Promise<string | undefined> {
  // In-thread parsing: for a few hundred files it is faster than starting workers.
  const fresh = await GraphHost.index(host.root, { ...discover, workers: 0 });
  return graphDiff(exportGraph(host, host.root), exportGraph(fresh, fresh.root)) ?? (withQueries ? queryDiff(host, fresh) : undefined);
}

// ---- comparing query answers ------------------------------------------------------------

/**
 * Answers of the core queries on a sample of entities, in a form that does not depend on
 * numeric ids or on the order edges were added in (a patched graph adds them in another
 * order): walks compared as sets per distance, cycles as sorted member lists. Lookups are
 * ordered by score and id, so they are compared as they are. The queries keep caches between
 * calls (name index, walk buffers, cycles per graph version): a stale one shows up here.
 */
function queryAnswers(host: GraphHost, keys: string[]): string[] {
  const out: string[] = [];
  const ask = (op: string, args: Record<string, unknown>): unknown => {
    try {
      return runQuery(host, op, args);
    } catch (err) {
      return { error: (err as { code?: string }).code, message: (err as Error).message };
    }
  };
  const walked = (r: unknown): unknown => {
    const x = r as { total?: number; results?: { id: string; distance: number; resolution: string }[] };
    return x.results ? { total: x.total, results: x.results.map((e) => `${e.distance} ${e.id} ${e.resolution}`).sort() } : r;
  };
  for (const key of keys) {
    const simple = key.slice(key.lastIndexOf('#') + 1).split('.').pop()!;
    for (const args of [{ name: simple }, { name: simple.slice(0, 2), mode: 'prefix' }, { name: simple.slice(0, 1) + simple.slice(-1), mode: 'fuzzy', limit: 30 }]) out.push(`lookup ${JSON.stringify(args)} ${JSON.stringify(ask('lookup', args))}`);
    for (const op of ['implements', 'supertypes', 'callers', 'callees', 'uses', 'used-by']) out.push(`${op} ${key} ${JSON.stringify(walked(ask(op, { entity: key, limit: 100000 })))}`);
    const blast = ask('blast-radius', { entity: key, limit: 100000 }) as { total?: number; files?: number; byDistance?: { distance: number; entities: { id: string; resolution: string }[] }[]; byFile?: unknown };
    const byDistance = blast.byDistance?.map((d) => `${d.distance}: ${d.entities.map((e) => `${e.id} ${e.resolution}`).sort().join(', ')}`);
    out.push(`blast-radius ${key} ${JSON.stringify(blast.byDistance ? { total: blast.total, files: blast.files, byFile: blast.byFile, byDistance } : blast)}`);
  }
  for (const kind of ['imports', 'calls']) {
    const r = ask('cycles', { kind, limit: 100000 }) as { total: number; cycles: { members: { id: string }[] }[] };
    out.push(`cycles ${kind} ${r.total} ${r.cycles.map((c) => c.members.map((m) => m.id).join(' ')).sort().join(' | ')}`);
  }
  return out;
}

function queryDiff(live: GraphHost, fresh: GraphHost): string | undefined {
  // Every 40th key in id order, plus the busiest entities: hubs exercise the walks most.
  const all = exportGraph(fresh, fresh.root).entities.map((e) => e.id).sort();
  const s = fresh.store;
  const busiest = all.map((k) => s.idOf(k)!).sort((a, b) => s.neighbors('calls', b, 'in').length + s.neighbors('uses-type', b, 'in').length - (s.neighbors('calls', a, 'in').length + s.neighbors('uses-type', a, 'in').length)).slice(0, 5).map((id) => s.key(id));
  const keys = [...all.filter((_, i) => i % 40 === 0), ...busiest];
  const a = queryAnswers(live, keys);
  const b = queryAnswers(fresh, keys);
  const differing = a.map((line, i) => [line, b[i]!]).filter(([x, y]) => x !== y);
  if (!differing.length) return undefined;
  return [`query answers differ (${differing.length} of ${a.length}):`, ...differing.slice(0, 3).flatMap(([x, y]) => [`  live:  ${x!.slice(0, 600)}`, `  fresh: ${y!.slice(0, 600)}`])].join('\n');
}
