// What queries may see: a read-only view of one generation of the graph.
import type { GraphStore } from '../graph/store.ts';
import type { Diagnostic } from '../model.ts';

export interface GraphView {
  readonly store: GraphStore;
  readonly generation: number;
  filePaths(): Iterable<string>;
  moduleId(path: string): number | undefined;
  typeOnlyImports(path: string): ReadonlySet<string>;
  diagnostics(): Diagnostic[];
  resolutionCounts(): { resolved: number; inferred: number; external: number; unresolved: number };
  fileStats(): { files: number; bytes: number; lines: number; skipped: number };
}
