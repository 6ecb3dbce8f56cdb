// stats: what is indexed, edges by kind (resolved and inferred), resolution counts, diagnostics.
import type { StatsResult } from '../../client/protocol.ts';
export type { StatsResult };
import { EDGE_KINDS, ENTITY_KINDS } from '../model.ts';
import { asArgs, optionalInt } from './args.ts';
import type { GraphView } from './graph-view.ts';

/** Args: `diagnostics` (how many diagnostics to list, default 20). */
export function stats(view: GraphView, rawArgs: unknown): StatsResult {
  const args = asArgs(rawArgs);
  const listed = optionalInt(args, 'diagnostics', 20, 0, 100000);
  const s = view.store;
  const entitiesByKind: Record<string, number> = Object.fromEntries(ENTITY_KINDS.map((k) => [k, 0]));
  for (let id = 0; id < s.idLimit; id++) if (s.isAlive(id)) entitiesByKind[s.kind(id)]!++;
  const edgesByKind: StatsResult['edgesByKind'] = {};
  const edges = { resolved: 0, inferred: 0 };
  for (const k of EDGE_KINDS) {
    const e = { resolved: s.edgeCount(k, 'resolved'), inferred: s.edgeCount(k, 'inferred') };
    edgesByKind[k] = e;
    edges.resolved += e.resolved;
    edges.inferred += e.inferred;
  }
  const diags = view.diagnostics();
  const byCode: Record<string, number> = {};
  for (const d of diags) byCode[d.code] = (byCode[d.code] ?? 0) + 1;
  const f = view.fileStats();
  return {
    generation: view.generation,
    files: f.files,
    bytes: f.bytes,
    lines: f.lines,
    skippedFiles: f.skipped,
    entities: s.entityCount,
    entitiesByKind,
    edges,
    edgesByKind,
    references: view.resolutionCounts(),
    diagnostics: { total: diags.length, byCode, first: diags.slice(0, listed) },
  };
}
