// Native results name entities by their ids in the snapshot they were computed on; clients
// get entity refs (`{ id, name, kind, file, line, location }`). Two conventions, the only
// ones (native/isg-plugin/src/value.rs): a Uint32Array is a list of entity ids and becomes a
// list of refs; an object with a `$entity` id gets that entity's ref fields instead. Other
// typed arrays become plain arrays, so every result is plain data on the wire.
import type { EntityRef } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { CSR_DEAD, csrKey, type CsrSnapshot } from '../graph/csr.ts';
import { ENTITY_KINDS } from '../model.ts';
import { entityRef } from '../queries/entity-ref.ts';
import type { GraphView } from '../queries/graph-view.ts';

export const ENTITY_KEY = '$entity';

/**
 * `raw` with entity ids of `csr` replaced by refs. When the view has moved on to another
 * generation (a call answered by a child process while the graph changed), ids are matched
 * by their id string; an entity gone since then keeps its snapshot's file and has line 0.
 */
export function entityResults(plugin: string, raw: unknown, csr: CsrSnapshot | undefined, view: () => GraphView): unknown {
  let refOf: ((id: number) => EntityRef) | undefined;
  const ref = (id: number): EntityRef => {
    if (!csr) throw new IsgError('plugin-error', `plugin "${plugin}" returned entity ids, but it reads no graph (it was not granted graph:read)`);
    if (!Number.isInteger(id) || id < 0 || id >= csr.nodeCount || csr.entityKinds[id] === CSR_DEAD) {
      throw new IsgError('plugin-error', `plugin "${plugin}" returned entity id ${id}, which is not an entity of generation ${csr.generation}`);
    }
    refOf ??= refsFor(csr, view());
    return refOf(id);
  };
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint32Array) return Array.from(v, ref);
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, field] of Object.entries(v)) {
      if (k === ENTITY_KEY) Object.assign(out, ref(field as number));
      else out[k] = walk(field);
    }
    return out;
  };
  return walk(raw);
}

function refsFor(csr: CsrSnapshot, view: GraphView): (id: number) => EntityRef {
  if (view.generation === csr.generation) return (id) => entityRef(view, id);
  return (id) => {
    const key = csrKey(csr, id);
    const now = view.store.idOf(key);
    if (now !== undefined) return entityRef(view, now);
    const file = csr.fileTable[csr.files[id]!]!;
    const hash = key.indexOf('#');
    return { id: key, name: hash < 0 ? file : key.slice(hash + 1), kind: ENTITY_KINDS[csr.entityKinds[id]!]!, file, line: 0, location: file };
  };
}
