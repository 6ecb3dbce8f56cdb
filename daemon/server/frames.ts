// The daemon's side of the framing. Answers are encoded with the client's codec
// (client/msgpack.ts), which writes an entity's record fields once and copies their bytes after
// (a large answer listing 200 entities: ~110 µs with msgpackr, ~40 with it); requests are
// decoded with msgpackr. Plain maps, no record extension, no extra types: any msgpack
// implementation can read these frames.
import { Buffer } from 'node:buffer';
import { Unpackr } from 'msgpackr/unpack';
import { encode } from '../../client/msgpack.ts';

export { encodeFrame, FrameDecoder, type FrameEvent } from '../../client/framing.ts';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A msgpack body alone, without the frame header (an HTTP answer's). */
export function encodeBody(value: unknown): Buffer {
  const body = encode(value);
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export function decodeBody(body: Uint8Array): unknown {
  return unpackr.unpack(body);
}
