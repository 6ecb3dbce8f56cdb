// One-hop and transitive relation queries: implements, supertypes, callers, callees, uses, used-by.
import type { RelatedEntity, RelationResult } from '../../client/protocol.ts';
export type { RelatedEntity, RelationResult };
import type { EdgeKind } from '../model.ts';
import { asArgs, optionalBool, optionalInt } from './args.ts';
import { entityRef, relatedEntity, resolveEntity } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';
import { walk } from './traverse.ts';

interface RelationSpec {
  kinds: EdgeKind[];
  direction: 'out' | 'in';
  /** Transitive by default (implements: subclasses of implementors count too). */
  transitiveByDefault: boolean;
}

const RELATIONS = {
  implements: { kinds: ['implements', 'extends'], direction: 'in', transitiveByDefault: true },
  supertypes: { kinds: ['extends', 'implements'], direction: 'out', transitiveByDefault: true },
  callers: { kinds: ['calls'], direction: 'in', transitiveByDefault: false },
  callees: { kinds: ['calls'], direction: 'out', transitiveByDefault: false },
  uses: { kinds: ['uses-type'], direction: 'out', transitiveByDefault: false },
  'used-by': { kinds: ['uses-type'], direction: 'in', transitiveByDefault: false },
} satisfies Record<string, RelationSpec>;

export type RelationName = keyof typeof RELATIONS;
export const RELATION_NAMES = Object.keys(RELATIONS) as RelationName[];

/**
 * Args: `entity` (id or name), `transitive` (default: true for implements/supertypes, false
 * otherwise), `depth` (limit when transitive, default 10), `inferred` (also follow name-matched
 * edges, default true; each result says how it was found), `limit` (default 200).
 */
export function relation(name: RelationName, view: GraphView, rawArgs: unknown): RelationResult {
  const spec: RelationSpec = RELATIONS[name];
  const args = asArgs(rawArgs);
  const id = resolveEntity(view, args.entity);
  const transitive = optionalBool(args, 'transitive', spec.transitiveByDefault);
  const depth = transitive ? optionalInt(args, 'depth', 10, 1, 100) : 1;
  const includeInferred = optionalBool(args, 'inferred', true);
  const limit = optionalInt(args, 'limit', 200, 1, 100000);
  const reached = walk(view.store, [id], spec.kinds, spec.direction, depth, includeInferred);
  // implements of an interface: who implements it, and (transitively) who extends those.
  // Interfaces extending the target are included too: implementing them implements it.
  // Sized up front: growing the array by pushes was a sixth of a hub's query (200 results).
  const shown = Math.min(limit, reached.count);
  const results = new Array<RelatedEntity>(shown);
  for (let i = 0; i < shown; i++) {
    const r = reached.id(i);
    results[i] = relatedEntity(view.store, r, reached.distance(r), reached.inferred(r) ? 'inferred' : 'resolved');
  }
  return { entity: entityRef(view, id), total: reached.count, results };
}
