// The isg:plugin@0.2.0 imports for AssemblyScript plugins, lowered by hand to the canonical ABI
// (wit/isg-plugin.wit): strings go out as UTF-8, and what the host hands back in memory it
// allocated through `cabi_realloc` is copied into AssemblyScript values and freed at once.
// Built with the `incremental` runtime, whose collector runs as objects are made (the `minimal`
// one collects only when asked, and a check of every file left ~1 MB of garbage per call on rxjs).
// What the host allocates is not managed: it lives until `release`. An import without a result
// type that throws (one not granted) unwinds the plugin's frames past the runtime's shadow stack,
// whose slots for them then stay taken (what they referenced stays alive): a leak on that error only.

/** The return area of an import: 36 bytes (an option<entity-info>), 4-aligned. */
const RET = memory.data(40, 8);

/**
 * The host's large allocations (a file's text, every edge of a kind) go to one block kept for
 * them, grown when too small: made and freed one after the other among small allocations, each
 * would find the space of the last one split by those, and the heap would grow file by file.
 */
const LARGE: usize = 4096;
let large: usize = 0;
let largeSize: usize = 0;
let largeInUse = false;

/**
 * The allocator the host lowers arguments and import results with. An empty allocation takes no
 * memory: lists of nothing (and jco's empty strings) are never freed, see `release`.
 */
export function cabi_realloc(old: usize, oldSize: usize, align: usize, size: usize): usize {
  if (size == 0) return align;
  if (oldSize != 0 && old == large) {
    if (size > largeSize) {
      const p = heap.alloc(size);
      memory.copy(p, large, oldSize);
      heap.free(large);
      large = p;
      largeSize = size;
    }
    return large;
  }
  if (oldSize != 0) return heap.realloc(old, size);
  if (size < LARGE || largeInUse) return heap.alloc(size);
  if (size > largeSize) {
    if (large) heap.free(large);
    large = heap.alloc(size);
    largeSize = size;
  }
  largeInUse = true;
  return large;
}

/** Frees what the host allocated for `len` items at `ptr` (nothing for none: see `cabi_realloc`). */
export function release(ptr: usize, len: usize): void {
  if (len == 0) return;
  if (ptr == large) largeInUse = false;
  else heap.free(ptr);
}

/** A string the host allocated, copied and freed. */
export function takeString(ptr: usize, len: usize): string {
  const s = String.UTF8.decodeUnsafe(ptr, len);
  release(ptr, len);
  return s;
}

// ---- graph ----------------------------------------------------------------------------------

export const enum EdgeKind { Contains, Extends, Implements, Calls, UsesType, Imports, ReExports }
export const enum Direction { Outgoing, Incoming }

// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'generation') declare function _generation(): u64;
// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'id-limit') declare function _idLimit(): u32;
// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'lookup') declare function _lookup(ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'entity') declare function _entity(id: u32, ret: usize): void;
// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'neighbors') declare function _neighbors(id: u32, hasKind: u32, kind: u32, dir: u32, ret: usize): void;
// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'edges') declare function _edges(kind: u32, ret: usize): void;
// @ts-ignore: decorator
@external('isg:plugin/graph@0.2.0', 'modules') declare function _modules(ptr: usize, len: usize, ret: usize): void;

export function generation(): u64 {
  return _generation();
}

export function idLimit(): u32 {
  return _idLimit();
}

/** The entity with exactly this key, or -1. */
export function lookup(key: string): i64 {
  const b = String.UTF8.encode(key);
  _lookup(changetype<usize>(b), <usize>b.byteLength, RET);
  return load<u8>(RET) ? <i64>load<u32>(RET, 4) : -1;
}

/** The file of entity `id`, or null when there is none. */
export function entityFile(id: u32): string | null {
  _entity(id, RET);
  if (!load<u8>(RET)) return null;
  // [some][id][key ptr, len][name ptr, len][kind][file ptr, len]
  release(load<usize>(RET, 8), load<usize>(RET, 12));
  release(load<usize>(RET, 16), load<usize>(RET, 20));
  return takeString(load<usize>(RET, 28), load<usize>(RET, 32));
}

/** The entities at the other end of `id`'s edges of one kind. */
export function neighbors(id: u32, kind: EdgeKind, dir: Direction): StaticArray<u32> {
  _neighbors(id, 1, kind, dir, RET);
  const ptr = load<usize>(RET);
  const n = load<usize>(RET, 4);
  // edge records of 8 bytes: [other u32][kind u8][inferred u8]
  const out = new StaticArray<u32>(<i32>n);
  for (let i: usize = 0; i < n; i++) unchecked((out[<i32>i] = load<u32>(ptr + (i << 3))));
  release(ptr, n);
  return out;
}

/** Every edge of one kind as flat [source, target, ...] pairs. */
export function edges(kind: EdgeKind): StaticArray<u32> {
  _edges(kind, RET);
  return takeU32s();
}

/** The module entities of the files under `prefix`. */
export function modules(prefix: string): StaticArray<u32> {
  const b = String.UTF8.encode(prefix);
  _modules(changetype<usize>(b), <usize>b.byteLength, RET);
  return takeU32s();
}

/** The list<u32> in the return area, copied and freed. */
function takeU32s(): StaticArray<u32> {
  const ptr = load<usize>(RET);
  const n = load<usize>(RET, 4);
  const out = new StaticArray<u32>(<i32>n);
  memory.copy(changetype<usize>(out), ptr, n << 2);
  release(ptr, n);
  return out;
}

// ---- source ---------------------------------------------------------------------------------

// @ts-ignore: decorator
@external('isg:plugin/source@0.2.0', 'read') declare function _read(ptr: usize, len: usize, ret: usize): void;

/** Bytes the host allocated, until `free()`. */
export class Bytes {
  constructor(public ptr: usize, public len: usize) {}
  free(): void {
    release(this.ptr, this.len);
  }
}

/**
 * The text of an indexed file as UTF-8, to be freed, or null when the host cannot give it (the
 * error is dropped). Not made a string: a plugin scanning whole files keeps its memory small.
 */
export function read(file: string): Bytes | null {
  const b = String.UTF8.encode(file);
  _read(changetype<usize>(b), <usize>b.byteLength, RET);
  const text = new Bytes(load<usize>(RET, 4), load<usize>(RET, 8));
  if (!load<u8>(RET)) return text;
  text.free();
  return null;
}

// ---- host -----------------------------------------------------------------------------------

export const enum Level { Debug, Info, Warn, Error }

// @ts-ignore: decorator
@external('isg:plugin/host@0.2.0', 'config') declare function _config(ret: usize): void;
// @ts-ignore: decorator
@external('isg:plugin/host@0.2.0', 'log') declare function _log(level: u32, ptr: usize, len: usize): void;

/** The plugin's settings as msgpack, in memory the caller frees with `release(ptr, len)`: [ptr, len]. */
export function config(): StaticArray<usize> {
  _config(RET);
  const out = new StaticArray<usize>(2);
  out[0] = load<usize>(RET);
  out[1] = load<usize>(RET, 4);
  return out;
}

export function log(level: Level, message: string): void {
  const b = String.UTF8.encode(message);
  _log(level, changetype<usize>(b), <usize>b.byteLength);
}
