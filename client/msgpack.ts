// A small msgpack codec for the client side of the wire. The daemon writes and reads with
// msgpackr (Packr { useRecords: false, moreTypes: false }); this reads everything that can write
// and writes what it reads back to the same values. It is here because the client is loaded by
// every `isg` command: msgpackr is ~100 KB of JavaScript, and its load and first encode and
// decode were a sizeable share of a warm query's wall time.
//
// Values as msgpackr gives them: maps become plain objects (a key that is not a string is
// turned into one; `__proto__` becomes `__proto_`), 64-bit integers become BigInts, binary
// becomes a copy of its bytes, extension 0 is `undefined` and extension -1 is a Date. The
// protocol sends no other extension, so any other is an error, like a truncated body or bytes
// left over after the value. Writing, as msgpackr does with those options: integers that fit 32
// bits as integers and other numbers as float64, `undefined` as extension 0, a Date as a
// timestamp, a Map as a map, a Set, Error or RegExp as an array (of its items; of name,
// message and cause; of source and flags), byte arrays as binary, an object with `toJSON` as
// what that returns, any other object as a map of its own enumerable properties.
import { Buffer } from 'node:buffer';
import type { EntityRef } from './protocol.ts';

// Made when first needed: creating a TextDecoder costs a CLI query a fraction of a ms, and Node
// Buffers (what sockets hand over) decode without one.
let utf8Decoder: InstanceType<typeof TextDecoder> | undefined;
const utf8Encoder = new TextEncoder();

// ---- decoding -------------------------------------------------------------------------------

let src: Uint8Array = new Uint8Array(0);
let srcIsBuffer = false;
let view = new DataView(src.buffer);
let pos = 0;
let end = 0;
/** The whole input as Latin-1 (one character per byte), made when a string of a Buffer first needs it. */
let latin1: string | undefined;

/** The value in `bytes`, which must hold exactly one msgpack value. */
export function decode(bytes: Uint8Array): unknown {
  src = bytes;
  srcIsBuffer = Buffer.isBuffer(bytes);
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  end = bytes.length;
  try {
    const value = read();
    if (pos !== end) throw new Error(`msgpack: ${end - pos} bytes left after the value`);
    return value;
  } finally {
    src = new Uint8Array(0);
    srcIsBuffer = false;
    latin1 = undefined;
    view = new DataView(src.buffer);
    // The map stack holds this value's parts: not kept alive after it is returned.
    pairValues.fill(undefined, 0, pairsUsed);
    pairsTop = 0;
    pairsUsed = 0;
  }
}

function truncated(): Error {
  return new Error('msgpack: unexpected end of data');
}

function need(n: number): void {
  if (n > end - pos) throw truncated();
}

function read(): unknown {
  if (pos >= end) throw truncated();
  const b = src[pos++]!;
  if (b < 0x80) return b;
  if (b < 0x90) return readMap(b & 0x0f);
  if (b < 0xa0) return readArray(b & 0x0f);
  if (b < 0xc0) return readString(b & 0x1f);
  if (b >= 0xe0) return b - 0x100;
  let v: unknown;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return readBinary(readLength(1));
    case 0xc5:
      return readBinary(readLength(2));
    case 0xc6:
      return readBinary(readLength(4));
    case 0xc7:
      return readExtension(readLength(1));
    case 0xc8:
      return readExtension(readLength(2));
    case 0xc9:
      return readExtension(readLength(4));
    case 0xca:
      need(4);
      v = view.getFloat32(pos);
      pos += 4;
      return v;
    case 0xcb:
      need(8);
      v = view.getFloat64(pos);
      pos += 8;
      return v;
    case 0xcc:
      return readLength(1);
    case 0xcd:
      return readLength(2);
    case 0xce:
      return readLength(4);
    case 0xcf:
      need(8);
      v = view.getBigUint64(pos);
      pos += 8;
      return v;
    case 0xd0:
      need(1);
      return view.getInt8(pos++);
    case 0xd1:
      need(2);
      v = view.getInt16(pos);
      pos += 2;
      return v;
    case 0xd2:
      need(4);
      v = view.getInt32(pos);
      pos += 4;
      return v;
    case 0xd3:
      need(8);
      v = view.getBigInt64(pos);
      pos += 8;
      return v;
    case 0xd4:
      return readExtension(1);
    case 0xd5:
      return readExtension(2);
    case 0xd6:
      return readExtension(4);
    case 0xd7:
      return readExtension(8);
    case 0xd8:
      return readExtension(16);
    case 0xd9:
      return readString(readLength(1));
    case 0xda:
      return readString(readLength(2));
    case 0xdb:
      return readString(readLength(4));
    case 0xdc:
      return readArray(readLength(2));
    case 0xdd:
      return readArray(readLength(4));
    case 0xde:
      return readMap(readLength(2));
    case 0xdf:
      return readMap(readLength(4));
    default:
      throw new Error(`msgpack: unexpected byte 0x${b.toString(16)}`);
  }
}

/** An unsigned big-endian integer of `bytes` bytes. */
function readLength(bytes: 1 | 2 | 4): number {
  need(bytes);
  const n = bytes === 1 ? src[pos]! : bytes === 2 ? view.getUint16(pos) : view.getUint32(pos);
  pos += bytes;
  return n;
}

function readArray(n: number): unknown[] {
  // every item takes at least a byte: a length beyond what is left is a lie, not an allocation
  need(n);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = read();
  return out;
}

// Maps of one shape (the same keys in the same order) recur: every entity of an answer is one.
// Once a map's first key is read, its other keys are expected to be those of the shape last seen
// with that first key and as many keys, and are matched against their bytes: no string to find
// in the short-string cache per key (keys were a third of decoding an answer listing entities).

/** Keys and values of the maps being read, innermost last (a map's values may be maps). */
const pairKeys: string[] = [];
const pairValues: unknown[] = [];
let pairsTop = 0;
/** How far the stack was used while reading this value: what `decode` clears. */
let pairsUsed = 0;

interface Shape {
  keys: string[];
  /** Each key as written (a fixstr), to be matched byte for byte; undefined for a key that is not short ASCII. */
  written: (Uint8Array | undefined)[];
  /** Builds the shape's object with one object literal; made when the shape is seen a second time. */
  make?: (values: unknown[], from: number) => Record<string, unknown>;
}

/** Shapes by first key, the one last seen first; few per key, and a bounded number in all. */
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;
const MAX_SHAPES = 512;
const MAX_SHAPES_PER_KEY = 16;
const MAX_SHAPE_KEYS = 24;

function readMap(n: number): Record<string, unknown> {
  need(2 * n);
  if (n === 0 || n > MAX_SHAPE_KEYS) return readMapByKeys(n);
  const from = pairsTop;
  pairsTop += n;
  if (pairsTop > pairsUsed) pairsUsed = pairsTop;
  pairKeys[from] = mapKey();
  pairValues[from] = read();
  let guess = lastShape(pairKeys[from]!, n);
  for (let i = from + 1; i < from + n; i++) {
    const written = guess?.written[i - from];
    if (written !== undefined && skipBytes(written)) pairKeys[i] = guess!.keys[i - from]!;
    else {
      pairKeys[i] = mapKey();
      if (pairKeys[i] !== guess?.keys[i - from]) guess = undefined;
    }
    pairValues[i] = read();
  }
  pairsTop = from;
  const make = guess !== undefined ? (guess.make ??= builder(guess.keys)) : noteShape(from, n);
  if (make !== undefined) return make(pairValues, from);
  const out: Record<string, unknown> = {};
  for (let i = from; i < from + n; i++) out[pairKeys[i]!] = pairValues[i];
  return out;
}

function mapKey(): string {
  const key = readKey();
  return key === '__proto__' ? '__proto_' : key;
}

/** Steps over `bytes` if the input holds them next. */
function skipBytes(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (end - pos < n) return false;
  for (let j = 0; j < n; j++) if (src[pos + j] !== bytes[j]) return false;
  pos += n;
  return true;
}

function lastShape(first: string, n: number): Shape | undefined {
  const shape = shapes.get(first)?.[0];
  return shape !== undefined && shape.keys.length === n ? shape : undefined;
}

function readMapByKeys(n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) out[mapKey()] = read();
  return out;
}

/**
 * Makes the shape of the `n` keys at `from` of the stack the last seen with its first key; its
 * builder if it was seen before.
 */
function noteShape(from: number, n: number): Shape['make'] {
  const first = pairKeys[from]!;
  let list = shapes.get(first);
  if (list) {
    next: for (let s = 0; s < list.length; s++) {
      const shape = list[s]!;
      if (shape.keys.length !== n) continue;
      for (let i = 1; i < n; i++) if (shape.keys[i] !== pairKeys[from + i]) continue next;
      list[s] = list[0]!;
      list[0] = shape;
      return (shape.make ??= builder(shape.keys));
    }
  }
  if (shapeCount >= MAX_SHAPES || (list && list.length >= MAX_SHAPES_PER_KEY)) return undefined;
  const keys = pairKeys.slice(from, from + n);
  if (!list) shapes.set(first, (list = []));
  list.unshift({ keys, written: keys.map(writtenKey) });
  shapeCount++;
  return undefined;
}

/**
 * `(v, i) => ({ "k0": v[i], "k1": v[i + 1], ... })`, which V8 creates with its final layout at
 * once, where adding the properties one by one is a keyed store each (megamorphic here: every
 * map of every answer passes through the same code). Keys are written as JSON string literals,
 * which are JavaScript string literals: a key is never anything but a property name (and
 * `__proto__`, which in a literal would set the prototype, was renamed before).
 */
function builder(keys: string[]): NonNullable<Shape['make']> {
  const body = keys.map((k, i) => `${JSON.stringify(k)}: v[i + ${i}]`).join(', ');
  return new Function('v', 'i', `return { ${body} };`) as NonNullable<Shape['make']>;
}

/** A key's bytes as a fixstr, when it is ASCII and shorter than 32 characters. */
function writtenKey(key: string): Uint8Array | undefined {
  if (key.length >= 32 || !/^[\x00-\x7f]*$/.test(key)) return undefined;
  const bytes = new Uint8Array(key.length + 1);
  bytes[0] = 0xa0 | key.length;
  for (let i = 0; i < key.length; i++) bytes[i + 1] = key.charCodeAt(i);
  return bytes;
}

function readString(n: number): string {
  need(n);
  if (n > 0 && n < 16) return readShortString(n);
  const start = pos;
  pos += n;
  return utf8(start, pos);
}

/** The UTF-8 text of bytes of the input: one string made, with no decoder, for a Node Buffer. */
function utf8(from: number, to: number): string {
  if (srcIsBuffer) {
    // ASCII bytes read as Latin-1 are the same characters: a slice of the input read once as
    // Latin-1 (no copy from 13 characters up) instead of a call into the decoder per string,
    // which was ~100 ns each, most of the decoding of an answer listing 200 entities.
    for (let i = from; i < to; i++) if (src[i]! > 0x7f) return (src as Buffer).toString('utf8', from, to);
    latin1 ??= (src as Buffer).toString('latin1', 0, end);
    return latin1.slice(from, to);
  }
  if (to - from < 16) {
    // short ASCII: cheaper in JavaScript than a call into the decoder
    let s = '';
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      if (c > 0x7f) return (utf8Decoder ??= new TextDecoder()).decode(src.subarray(from, to));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return (utf8Decoder ??= new TextDecoder()).decode(src.subarray(from, to));
}

// Short strings repeat: keys (id, name, kind, file, line, ... in every entity) and values
// (kinds, `resolved`). An ASCII one is kept by a hash of its bytes and compared with them
// character by character instead of being decoded again: less time and, for a CLI query, less
// garbage (a large answer then costs no collection). Nothing is allocated to keep one.
const stringCache = new Array<string | undefined>(4096);

/** A string of 1 to 15 bytes at `pos` (its length already checked). */
function readShortString(n: number): string {
  const h = ((n << 5) ^ (n > 1 ? (src[pos]! << 8) | src[pos + 1]! : src[pos]!) ^ (n > 2 ? src[pos + n - 1]! << 3 : 0)) & 0xfff;
  const hit = stringCache[h];
  if (hit !== undefined && hit.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (hit.charCodeAt(i) !== src[pos + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      pos += n;
      return hit;
    }
  }
  const string = utf8(pos, pos + n);
  pos += n;
  // One character per byte: ASCII (a byte that is not decodes to U+FFFD, which no byte equals).
  if (string.length === n) stringCache[h] = string;
  return string;
}

function readKey(): string {
  const b = pos < end ? src[pos]! : 0;
  if (b < 0xa0 || b > 0xbf) return keyOf(read());
  pos++;
  return readString(b & 0x1f);
}

/** A copy of bytes of the input (a Node Buffer's own `slice` would be a view). */
function copy(from: number, to: number): Uint8Array {
  return Uint8Array.prototype.slice.call(src, from, to);
}

/** A map key as msgpackr gives it: strings as they are, numbers, booleans and null as strings. */
function keyOf(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint' || k === null || k === undefined) return String(k);
  throw new Error(`msgpack: a map key of type ${typeof k}`);
}

function readBinary(n: number): Uint8Array {
  need(n);
  const out = copy(pos, pos + n);
  pos += n;
  return out;
}

function readExtension(n: number): unknown {
  need(n + 1);
  const type = src[pos++]!;
  const data = src.subarray(pos, pos + n);
  pos += n;
  if (type === 0) return undefined;
  if (type === 0xff) return timestamp(data);
  throw new Error(`msgpack: extension type ${type} is not part of the protocol`);
}

/** The timestamp extension (-1) in its 32-, 64- and 96-bit forms. */
function timestamp(d: Uint8Array): Date {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (d.length === 4) return new Date(v.getUint32(0) * 1000);
  if (d.length === 8) {
    const hi = v.getUint32(0);
    return new Date((hi >>> 2) / 1e6 + ((hi & 0x3) * 0x100000000 + v.getUint32(4)) * 1000);
  }
  if (d.length === 12) return new Date(v.getUint32(0) / 1e6 + Number(v.getBigInt64(4)) * 1000);
  return new Date(NaN);
}

// ---- encoding -------------------------------------------------------------------------------

let out = new Uint8Array(1024);
let outView = new DataView(out.buffer);
let at = 0;

/**
 * `value` as msgpack, after `reserve` zero bytes (room for a frame header). The result is a
 * fresh array, owned by the caller.
 */
export function encode(value: unknown, reserve = 0): Uint8Array {
  at = 0;
  room(reserve);
  out.fill(0, 0, reserve);
  at = reserve;
  write(value);
  return out.slice(0, at);
}

function room(n: number): void {
  if (at + n <= out.length) return;
  let size = out.length * 2;
  while (size < at + n) size *= 2;
  const bigger = new Uint8Array(size);
  bigger.set(out.subarray(0, at));
  out = bigger;
  outView = new DataView(out.buffer);
}

function write(value: unknown): void {
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      return writeNumber(value);
    case 'boolean':
      room(1);
      out[at++] = value ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      return writeUndefined();
    case 'bigint':
      return writeBigInt(value);
    case 'object':
      if (value === null) {
        room(1);
        out[at++] = 0xc0;
        return;
      }
      return writeObject(value);
    case 'function':
      // msgpackr writes a function as undefined
      return writeUndefined();
    default:
      throw new Error(`msgpack: cannot write a ${typeof value}`);
  }
}

function writeUndefined(): void {
  room(3);
  out[at++] = 0xd4;
  out[at++] = 0;
  out[at++] = 0;
}

function writeNumber(n: number): void {
  room(9);
  if (n >>> 0 === n) {
    if (n < 0x80) out[at++] = n;
    else if (n < 0x100) {
      out[at++] = 0xcc;
      out[at++] = n;
    } else if (n < 0x10000) {
      out[at++] = 0xcd;
      outView.setUint16(at, n);
      at += 2;
    } else {
      out[at++] = 0xce;
      outView.setUint32(at, n);
      at += 4;
    }
  } else if (n >> 0 === n) {
    if (n >= -0x20) out[at++] = n + 0x100;
    else if (n >= -0x80) {
      out[at++] = 0xd0;
      out[at++] = n + 0x100;
    } else if (n >= -0x8000) {
      out[at++] = 0xd1;
      outView.setInt16(at, n);
      at += 2;
    } else {
      out[at++] = 0xd2;
      outView.setInt32(at, n);
      at += 4;
    }
  } else {
    out[at++] = 0xcb;
    outView.setFloat64(at, n);
    at += 8;
  }
}

function writeBigInt(n: bigint): void {
  room(9);
  if (n >= -0x8000000000000000n && n < 0x8000000000000000n) {
    out[at++] = 0xd3;
    outView.setBigInt64(at, n);
  } else if (n > 0n && n < 0x10000000000000000n) {
    out[at++] = 0xcf;
    outView.setBigUint64(at, n);
  } else {
    throw new RangeError(`msgpack: ${n} does not fit in 64 bits`);
  }
  at += 8;
}

function writeString(s: string): void {
  const n = s.length;
  if (n < 32) {
    // at most 3 bytes per UTF-16 unit: a fixstr or str8 header either way
    room(2 + 3 * n);
    const start = at;
    at += n * 3 < 32 ? 1 : 2;
    let bytes = 0;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      out[at + i] = c;
    }
    if (ascii) bytes = n;
    else bytes = utf8Encoder.encodeInto(s, out.subarray(at)).written;
    if (bytes < 32) {
      if (at - start === 2) out.copyWithin(start + 1, start + 2, start + 2 + bytes);
      out[start] = 0xa0 | bytes;
      at = start + 1 + bytes;
    } else {
      out[start] = 0xd9;
      out[start + 1] = bytes;
      at = start + 2 + bytes;
    }
    return;
  }
  room(5 + 3 * n);
  const start = at;
  const bytes = utf8Encoder.encodeInto(s, out.subarray(at + 5)).written;
  const header = bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
  if (header < 5) out.copyWithin(start + header, start + 5, start + 5 + bytes);
  if (header === 1) out[start] = 0xa0 | bytes;
  else if (header === 2) {
    out[start] = 0xd9;
    out[start + 1] = bytes;
  } else if (header === 3) {
    out[start] = 0xda;
    outView.setUint16(start + 1, bytes);
  } else {
    out[start] = 0xdb;
    outView.setUint32(start + 1, bytes);
  }
  at = start + header + bytes;
}

function writeHeader(n: number, fix: number, b16: number, b32: number, fixMax: number): void {
  room(5);
  if (n < fixMax) out[at++] = fix | n;
  else if (n < 0x10000) {
    out[at++] = b16;
    outView.setUint16(at, n);
    at += 2;
  } else {
    out[at++] = b32;
    outView.setUint32(at, n);
    at += 4;
  }
}

function writeArray(items: readonly unknown[]): void {
  writeHeader(items.length, 0x90, 0xdc, 0xdd, 16);
  for (let i = 0; i < items.length; i++) write(items[i]);
}

function writeBinary(bytes: Uint8Array): void {
  const n = bytes.length;
  room(5 + n);
  if (n < 0x100) {
    out[at++] = 0xc4;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0xc5;
    outView.setUint16(at, n);
    at += 2;
  } else {
    out[at++] = 0xc6;
    outView.setUint32(at, n);
    at += 4;
  }
  out.set(bytes, at);
  at += n;
}

function writeDate(d: Date): void {
  const ms = d.getTime();
  const seconds = ms / 1000;
  room(15);
  if (Number.isNaN(ms)) {
    out.set([0xd4, 0xff, 0xff], at);
    at += 3;
  } else if (d.getMilliseconds() === 0 && seconds >= 0 && seconds < 0x100000000) {
    out[at++] = 0xd6;
    out[at++] = 0xff;
    outView.setUint32(at, seconds);
    at += 4;
  } else if (seconds > 0 && seconds < 0x400000000) {
    out[at++] = 0xd7;
    out[at++] = 0xff;
    outView.setUint32(at, d.getMilliseconds() * 4000000 + ((seconds / 0x100000000) >> 0));
    outView.setUint32(at + 4, seconds);
    at += 8;
  } else {
    out[at++] = 0xc7;
    out[at++] = 12;
    out[at++] = 0xff;
    outView.setUint32(at, d.getMilliseconds() * 1000000);
    outView.setBigInt64(at + 4, BigInt(Math.floor(seconds)));
    at += 12;
  }
}

function writeObject(value: object): void {
  const ctor = (value as { constructor?: unknown }).constructor;
  if (ctor === Object || ctor === undefined) return writeMap(value as Record<string, unknown>);
  if (Array.isArray(value)) return writeArray(value);
  if (value instanceof Date) return writeDate(value);
  if (value instanceof Map) {
    writeHeader(value.size, 0x80, 0xde, 0xdf, 16);
    for (const [k, v] of value) {
      write(k);
      write(v);
    }
    return;
  }
  if (value instanceof Set) return writeArray([...value]);
  if (value instanceof Error) return writeArray([value.name, value.message, value.cause]);
  if (value instanceof RegExp) return writeArray([value.source, value.flags]);
  if (value instanceof ArrayBuffer) return writeBinary(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return writeBinary(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(value);
    if (json !== value) return write(json);
  }
  writeMap(value as Record<string, unknown>);
}

function writeMap(value: Record<string, unknown>): void {
  const keys = Object.keys(value);
  writeHeader(keys.length, 0x80, 0xde, 0xdf, 16);
  let i = keys.length >= REF_FIELDS.length && keys[0] === 'id' ? writeEntityFields(value, keys) : 0;
  for (; i < keys.length; i++) {
    const k = keys[i]!;
    writeString(k);
    write(value[k]);
  }
}

// ---- entity records -------------------------------------------------------------------------
// An answer listing entities is mostly their records' leading fields (EntityRef's), the same for
// an entity in every answer until it changes: writing them afresh was most of encoding such an
// answer (~110 µs for 200 entities). They are written once per entity and their bytes kept by
// id; a record whose fields hold other values than the kept ones (the entity moved) is written
// afresh and kept instead, so kept bytes are never stale.

/** EntityRef's fields in the order every record of the protocol starts with them. */
const REF_FIELDS = ['id', 'name', 'kind', 'file', 'line', 'location'] as const satisfies readonly (keyof EntityRef)[];

/** An entity's fields as last written; their bytes are `slab[start, end)`. */
interface KeptFields {
  name: unknown;
  kind: unknown;
  file: unknown;
  line: unknown;
  location: unknown;
  start: number;
  end: number;
}

// The bytes of all kept fields in one array: an array each cost ~300 bytes more per entity than
// its ~120 bytes (~540 bytes per entity in all, on effect). When the slab is full, everything
// kept is dropped and kept again as answers need it: at most 1 MB of bytes and the entries of
// ~9,000 entities (~3 MB), however many the answers name. Made when first needed (a CLI command
// never writes entities).
const SLAB_BYTES = 1 << 20;
let slab: Uint8Array | undefined;
let slabAt = 0;
const keptFields = new Map<string, KeptFields>();

/** Whether a value is compared by identity, so that it can stand for the bytes written of it. */
function byIdentity(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

/**
 * Writes the first keys of `value` if they are EntityRef's fields, from kept bytes when it can:
 * how many keys it wrote (0 if they are not those fields).
 */
function writeEntityFields(value: Record<string, unknown>, keys: string[]): number {
  for (let j = 1; j < REF_FIELDS.length; j++) if (keys[j] !== REF_FIELDS[j]) return 0;
  const { id, name, kind, file, line, location } = value;
  if (typeof id !== 'string') return 0;
  const kept = keptFields.get(id);
  // Object.is: 0 and -0 are written differently.
  if (kept !== undefined && Object.is(kept.name, name) && Object.is(kept.kind, kind) && Object.is(kept.file, file) && Object.is(kept.line, line) && Object.is(kept.location, location)) {
    room(kept.end - kept.start);
    out.set(slab!.subarray(kept.start, kept.end), at);
    at += kept.end - kept.start;
    return REF_FIELDS.length;
  }
  const start = at;
  for (const k of REF_FIELDS) {
    writeString(k);
    write(value[k]);
  }
  const n = at - start;
  if (n <= SLAB_BYTES / 64 && byIdentity(name) && byIdentity(kind) && byIdentity(file) && byIdentity(line) && byIdentity(location)) {
    slab ??= new Uint8Array(SLAB_BYTES);
    if (slabAt + n > SLAB_BYTES) {
      keptFields.clear();
      slabAt = 0;
    }
    slab.set(out.subarray(start, at), slabAt);
    keptFields.set(id, { name, kind, file, line, location, start: slabAt, end: slabAt + n });
    slabAt += n;
  }
  return REF_FIELDS.length;
}
