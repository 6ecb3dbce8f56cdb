// Plain msgpack, the same options as the wire (client/framing.ts): objects as maps, no record
// extension, no JS-only types, so a component written in any language can read what it is sent;
// undefined as nil (not msgpackr's extension type), and the smallest map header that fits, which
// a hand-written decoder is likeliest to expect.
import { C1, Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Exactly one msgpack value; throws on anything else (truncated, trailing bytes, the never-used 0xc1). */
export function unpack(bytes: Uint8Array): unknown {
  const value = unpackr.unpack(bytes);
  if (value === C1) throw new Error('0xc1 is not a msgpack value');
  return value;
}
