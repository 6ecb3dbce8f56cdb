// Plain msgpack, the same options as the wire (client/framing.ts): objects as maps, no record
// extension, no JS-only types, so a component written in any language can read what it is sent;
// undefined as nil (not msgpackr's extension type), and the smallest map header that fits, which
// a hand-written decoder is likeliest to expect.
import { C1, Packr, RESET_BUFFER_MODE, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
/** The same, with binaries copied out rather than returned as views of the bytes decoded. */
const copyingUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

/**
 * A view into msgpackr's scratch buffer, which every Packr of the process shares and packs into
 * one value after another: use it at once (copy it out, send it). What is kept goes through `packOwn`.
 */
export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * The same, for a value sent at once and never kept: the next value packed (by any Packr) is
 * written over it. Packed one after another, 64 KiB values fill msgpackr's scratch buffer every
 * few calls, and each time it allocates another (256 KiB, external memory, which drives GCs);
 * packed over one another, they reuse it.
 */
export function packTransient(value: unknown): Uint8Array {
  return packr.pack(value, RESET_BUFFER_MODE);
}

/**
 * The same in bytes of its own, for what is kept (a plugin's settings, for as long as it runs).
 * A kept view pins the whole scratch buffer, which grows with the largest value packed before
 * (36 MB after a 3 MB string), and postMessage copies all of it to the worker it is sent to.
 */
export function packOwn(value: unknown): Uint8Array {
  // A copy: msgpackr returns a Node Buffer, whose slice() is another view.
  return new Uint8Array(packr.pack(value));
}

/**
 * Exactly one msgpack value; throws on anything else (truncated, trailing bytes, the never-used
 * 0xc1). Its binaries are views of `bytes`, which must be the caller's own to keep.
 */
export function unpack(bytes: Uint8Array): unknown {
  return checked(unpackr.unpack(bytes));
}

/**
 * The same from bytes that are not the caller's to keep (a worker's answer, in a buffer the next
 * call writes over): the value holds nothing of them, its binaries copied out and its strings decoded.
 */
export function unpackCopy(bytes: Uint8Array): unknown {
  return checked(copyingUnpackr.unpack(bytes));
}

function checked(value: unknown): unknown {
  if (value === C1) throw new Error('0xc1 is not a msgpack value');
  return value;
}
