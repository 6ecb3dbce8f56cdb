// Length-prefixed msgpack frames: 4-byte big-endian body length, then the msgpack body. The
// FrameDecoder is shared by the client and the daemon so both split the stream the same way.
// Bodies are encoded with msgpack.ts on both sides; the client decodes with it too, the daemon
// with msgpackr (daemon/server/frames.ts). The two are checked against each other in
// test/msgpack.test.ts.
import { Buffer } from 'node:buffer';
import { decode, encode } from './msgpack.ts';
import { FRAME_HEADER_BYTES } from './protocol.ts';

/** One frame (header + body) for a value. */
export function encodeFrame(value: unknown): Uint8Array {
  const frame = encode(value, FRAME_HEADER_BYTES);
  new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES).setUint32(0, frame.length - FRAME_HEADER_BYTES);
  return frame;
}

export function decodeBody(body: Uint8Array): unknown {
  return decode(body);
}

export type FrameEvent = { kind: 'body'; body: Buffer } | { kind: 'too-large'; length: number };

/**
 * Splits a byte stream into frame bodies. A header announcing more than `maxBodyBytes` yields a
 * `too-large` event and the decoder stops: the stream can no longer be trusted to be aligned.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stopped = false;
  private readonly maxBodyBytes: number;

  constructor(maxBodyBytes: number) {
    this.maxBodyBytes = maxBodyBytes;
  }

  /** Bytes received but not yet handed out as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): FrameEvent[] {
    if (this.stopped) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: FrameEvent[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.maxBodyBytes) {
        this.stopped = true;
        this.chunks = [];
        this.buffered = 0;
        out.push({ kind: 'too-large', length });
        break;
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const frame = this.take(FRAME_HEADER_BYTES + length);
      out.push({ kind: 'body', body: frame.subarray(FRAME_HEADER_BYTES) });
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const frame = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return frame;
  }
}
