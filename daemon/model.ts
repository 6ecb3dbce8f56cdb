// The vocabulary shared by ingestion, resolution, the graph and the queries.
// Everything here is plain data: it crosses worker_threads boundaries by structured clone
// and is what the `--export` schema is built from.

export const ENTITY_KINDS = [
  'module',
  'namespace',
  'class',
  'interface',
  'type',
  'enum',
  'function',
  'method',
  'constructor',
  'property',
  'variable',
] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export const EDGE_KINDS = [
  'contains',
  'extends',
  'implements',
  'calls',
  'uses-type',
  'imports',
  're-exports',
] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

/** How an edge was obtained: through scopes, imports and declared types, or by name matching only. */
export type Resolution = 'resolved' | 'inferred';

export type Severity = 'error' | 'warning' | 'info';

/** A problem found while reading or parsing a file. Never thrown: collected and reported. */
export interface Diagnostic {
  /** Path relative to the root, posix separators; '' for problems not tied to one file. */
  file: string;
  severity: Severity;
  /** Stable machine-readable code, e.g. 'binary-file', 'syntax-error', 'too-large'. */
  code: string;
  message: string;
  line?: number;
  column?: number;
}

export type Language = 'typescript' | 'tsx';

/** One source position, both 1-based (column counts UTF-16 code units). */
export interface Position {
  line: number;
  column: number;
}
