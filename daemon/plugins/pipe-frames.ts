// Length-prefixed msgpack over a pipe, as between the native tier and its child processes:
// a 4-byte big-endian body length, then the body (the wire protocol's framing). Typed arrays
// keep their type (msgpackr `moreTypes`), so entity id lists survive the trip.
//
// Bulk bytes (a snapshot's buffer) do not go through msgpack, which packs a view of a
// SharedArrayBuffer element by element: a message may carry a `payload`, sent raw right
// after its frame (the frame says how long) and handed back as the message's `payload`.
import { Packr } from 'msgpackr';
import { FRAME_HEADER_BYTES } from '../../client/protocol.ts';

const packr = new Packr({ moreTypes: true, useRecords: false });

/** Frames larger than this are refused: a peer sending one is broken, not busy. */
export const MAX_PIPE_FRAME_BYTES = 2 ** 31 - 1;

const PAYLOAD_KEY = 'payloadBytes';

/** The chunks to write for `message`, with `payload` (if any) following it uncopied. */
export function encodeFrame(message: object, payload?: Uint8Array): Uint8Array[] {
  const body = packr.pack(payload ? { ...message, [PAYLOAD_KEY]: payload.byteLength } : message);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return payload ? [frame, payload] : [frame];
}

/** Collects chunks and hands back each complete message; large frames are joined once. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** A message whose payload is still arriving. */
  private waiting: { message: Record<string, unknown>; bytes: number } | undefined;

  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.waiting) {
        if (this.buffered < this.waiting.bytes) return out;
        const { message, bytes } = this.waiting;
        message.payload = this.take(bytes);
        delete message[PAYLOAD_KEY];
        this.waiting = undefined;
        out.push(message);
        continue;
      }
      if (this.buffered < FRAME_HEADER_BYTES) return out;
      const length = this.join().readUInt32BE(0);
      if (length > MAX_PIPE_FRAME_BYTES) throw new Error(`a frame of ${length} bytes is larger than ${MAX_PIPE_FRAME_BYTES}`);
      if (this.buffered < FRAME_HEADER_BYTES + length) return out;
      const message = packr.unpack(this.take(FRAME_HEADER_BYTES + length).subarray(FRAME_HEADER_BYTES)) as Record<string, unknown>;
      const bytes = message?.[PAYLOAD_KEY];
      if (typeof bytes === 'number') this.waiting = { message, bytes };
      else out.push(message);
    }
  }

  /** The first `n` buffered bytes. */
  private take(n: number): Buffer {
    const all = this.join();
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return all.subarray(0, n);
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}
