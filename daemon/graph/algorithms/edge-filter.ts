// Which edges of a CSR snapshot an algorithm follows, as a table indexed by an edge's kind
// code (kind index plus CSR_INFERRED_BIT): one byte read per edge in the inner loops.
import type { EdgeKind } from '../../model.ts';
import { EDGE_KINDS } from '../../model.ts';
import { CSR_INFERRED_BIT } from '../csr.ts';

export type EdgeFilter = Uint8Array;

export function edgeFilter(kinds: readonly EdgeKind[], inferred: boolean): EdgeFilter {
  const admits = new Uint8Array(256);
  for (const kind of kinds) {
    const code = EDGE_KINDS.indexOf(kind);
    admits[code] = 1;
    if (inferred) admits[code | CSR_INFERRED_BIT] = 1;
  }
  return admits;
}
