// Length-prefixed msgpack over a pipe, as between the native tier and its child processes:
// a 4-byte big-endian body length, then the body (the wire protocol's framing). Typed arrays
// keep their type (msgpackr `moreTypes`), so entity id lists survive the trip.
import { Packr } from 'msgpackr';
import { FRAME_HEADER_BYTES } from '../../client/protocol.ts';

const packr = new Packr({ moreTypes: true, useRecords: false });

/** Frames larger than this are refused: a peer sending one is broken, not busy. */
export const MAX_PIPE_FRAME_BYTES = 2 ** 31 - 1;

export function encodeFrame(message: unknown): Buffer {
  const body = packr.pack(message);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Collects chunks and hands back each complete message; large frames are joined once. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) return out;
      const head = this.chunks[0]!.length >= FRAME_HEADER_BYTES ? this.chunks[0]! : this.join();
      const length = head.readUInt32BE(0);
      if (length > MAX_PIPE_FRAME_BYTES) throw new Error(`a frame of ${length} bytes is larger than ${MAX_PIPE_FRAME_BYTES}`);
      if (this.buffered < FRAME_HEADER_BYTES + length) return out;
      const all = this.join();
      out.push(packr.unpack(all.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)));
      const rest = all.subarray(FRAME_HEADER_BYTES + length);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }
}
