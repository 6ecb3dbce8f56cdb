// The core queries as a table of named operations: the daemon's socket, the CLI and (issue 5)
// the plugin host all dispatch through it, so each query is defined once.
import { IsgError } from '../errors.ts';
import { blastRadius } from './blast-radius.ts';
import { cycles } from './cycles.ts';
import { exportQuery } from './export.ts';
import type { GraphView } from './graph-view.ts';
import { lookup } from './lookup.ts';
import { outline } from './outline.ts';
import { relation, RELATION_NAMES } from './relations.ts';
import { stats } from './stats.ts';

export interface QueryDefinition {
  name: string;
  summary: string;
  run(view: GraphView, args: unknown): unknown;
}

export const CORE_QUERIES: readonly QueryDefinition[] = [
  { name: 'lookup', summary: 'find entities by id, name, prefix or fuzzy match', run: lookup },
  ...RELATION_NAMES.map((name) => ({
    name,
    summary: {
      implements: 'classes and interfaces implementing or extending an entity, transitively',
      supertypes: 'what an entity extends or implements, transitively',
      callers: 'who calls an entity',
      callees: 'what an entity calls',
      uses: 'types an entity uses in its signatures and annotations',
      'used-by': 'entities using a type',
    }[name],
    run: (view: GraphView, args: unknown) => relation(name, view, args),
  })),
  { name: 'blast-radius', summary: 'transitive dependents of an entity, by distance and file', run: blastRadius },
  { name: 'cycles', summary: 'import or call cycles (strongly connected components)', run: cycles },
  { name: 'outline', summary: 'the entities of a file in order', run: outline },
  { name: 'stats', summary: 'counts of files, entities, edges, references and diagnostics', run: stats },
  { name: 'export', summary: 'the graph (JSON, in pages) or a neighbourhood (JSON, DOT, Mermaid)', run: exportQuery },
];

const BY_NAME = new Map(CORE_QUERIES.map((q) => [q.name, q]));

export function runQuery(view: GraphView, op: string, args: unknown): unknown {
  const q = BY_NAME.get(op);
  if (!q) throw new IsgError('unknown-op', `unknown query "${op}"; known: ${CORE_QUERIES.map((x) => x.name).join(', ')}`);
  return q.run(view, args);
}
