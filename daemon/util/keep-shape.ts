// V8 gives an object the hidden class (map) its constructor's assignments lead to: a chain of
// maps from the class's first one, one per field. Only that first map is held by the class; the
// others live as long as an object has them. Optimized code checks for the maps it was compiled
// against and holds them weakly, so when every instance of a class dies before a full GC (an
// object made afresh for each extraction or resolution and dropped at its end), the GC frees
// its maps and throws away every optimized function that checked for them ("weak objects" in
// `--trace-deopt`): the next objects get new maps, and after every mark-compact the edits ran the
// extraction and resolution unoptimized until V8 compiled them again (traced on effect: 21
// functions at one full GC, NodeTable's methods, runQuery, assemble and resolveFile among them).
// One instance of each such class is kept for the life of the thread, so its maps stay.
const kept: object[] = [];

/** Keeps `instance`, and with it the maps of its class's instances, alive for good; returns it. */
export function keepShape<T extends object>(instance: T): T {
  kept.push(instance);
  return instance;
}
