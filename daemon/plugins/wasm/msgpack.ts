// Plain msgpack, the same options as the wire (client/framing.ts): objects as maps, no record
// extension, no JS-only types, so a component written in any language can read what it is sent;
// undefined as nil (not msgpackr's extension type), and the smallest map header that fits, which
// a hand-written decoder is likeliest to expect.
import { C1, Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/**
 * A view into msgpackr's scratch buffer, which every Packr of the process shares and packs into
 * one value after another: use it at once (copy it out, send it). What is kept goes through `packOwn`.
 */
export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
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

/** Exactly one msgpack value; throws on anything else (truncated, trailing bytes, the never-used 0xc1). */
export function unpack(bytes: Uint8Array): unknown {
  const value = unpackr.unpack(bytes);
  if (value === C1) throw new Error('0xc1 is not a msgpack value');
  return value;
}
