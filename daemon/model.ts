// The vocabulary shared by ingestion, resolution, the graph and the queries. The kinds and
// the diagnostic shape are part of the wire contract, so they are defined in client/ and
// re-exported here; what follows is daemon-internal. Everything here is plain data: it
// crosses worker_threads boundaries by structured clone.
export { EDGE_KINDS, ENTITY_KINDS } from '../client/protocol.ts';
export type { Diagnostic, EdgeKind, EntityKind, Resolution, Severity } from '../client/protocol.ts';

export type Language = 'typescript' | 'tsx';

/** One source position, both 1-based (column counts UTF-16 code units). */
export interface Position {
  line: number;
  column: number;
}
