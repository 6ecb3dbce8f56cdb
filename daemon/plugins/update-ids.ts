// What the WebAssembly and native tiers hand a plugin's onUpdate hook: the update with its added
// and changed entities as ids, which their graph reads take, instead of keys they would have to
// look up one by one across the boundary. Removed entities keep their keys: their ids name
// nothing any more (and are reused later).
import type { UpdateEvent } from '../../client/protocol.ts';
import type { GraphCapability } from './api.ts';

export interface IdUpdate {
  generation: number;
  files: string[];
  /**
   * Ids in the graph as the hook is called (the generation of the update, or a later one when more
   * updates are on their way); an entity gone again is left out: the next update says so.
   */
  added: Uint32Array;
  changed: Uint32Array;
  removed: string[];
}

/** One mapping per update and generation of the graph, shared by every plugin told of it. */
const mapped = new WeakMap<UpdateEvent, { at: number; ids: IdUpdate }>();

/**
 * The update with ids, through `graph` (a plugin's own capability): without graph:read, ids mean
 * nothing to the plugin, and the lists are empty.
 */
export function withIds(update: UpdateEvent, graph: GraphCapability): IdUpdate {
  let view;
  try {
    view = graph.view();
  } catch {
    return { generation: update.generation, files: update.files, added: new Uint32Array(0), changed: new Uint32Array(0), removed: update.removed };
  }
  const known = mapped.get(update);
  if (known?.at === view.generation) return known.ids;
  const { store } = view;
  const ids = (keys: string[]) => {
    const out: number[] = [];
    for (const key of keys) {
      const id = store.idOf(key);
      if (id !== undefined) out.push(id);
    }
    return Uint32Array.from(out);
  };
  const result: IdUpdate = { generation: update.generation, files: update.files, added: ids(update.added), changed: ids(update.changed), removed: update.removed };
  mapped.set(update, { at: view.generation, ids: result });
  return result;
}
