// The daemon's side of the framing: bodies encoded and decoded with msgpackr, which is fast on
// large answers (a page of an export). Plain maps, no record extension, no extra types: any
// msgpack implementation can read these frames, the client's small codec among them.
import { Buffer } from 'node:buffer';
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import { FRAME_HEADER_BYTES } from '../../client/protocol.ts';

export { FrameDecoder, type FrameEvent } from '../../client/framing.ts';

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** One frame (header + body) for a value. */
export function encodeFrame(value: unknown): Buffer {
  const body = packr.pack(value);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** A msgpack body alone, without the frame header (an HTTP answer's). */
export function encodeBody(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeBody(body: Uint8Array): unknown {
  return unpackr.unpack(body);
}
