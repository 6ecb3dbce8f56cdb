// Length-prefixed msgpack frames, shared by the client and the daemon so both read and write
// the wire the same way: 4-byte big-endian body length, then the msgpack body.
import { Buffer } from 'node:buffer';
// The subpath entries skip what the main one adds on Node (the optional native string
// extractor, streams): a third of the import time, which every CLI query pays at start-up.
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import { FRAME_HEADER_BYTES } from './protocol.ts';

// Plain maps for objects (no record extension): any msgpack implementation can read our frames.
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

export function decodeBody(body: Uint8Array): unknown {
  return unpackr.unpack(body);
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
