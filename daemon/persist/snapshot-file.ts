// The snapshot file format. Every multi-byte integer is big-endian.
//
//   offset  size  content
//   0       8     magic "ISG-SNAP"
//   8       4     format version (FORMAT_VERSION)
//   12      4     header length H
//   16      8     body length B
//   24      20    SHA-1 of the H + B bytes that follow
//   44      H     header: msgpack map (SnapshotHeader)
//   44+H    B     body: msgpack, whatever the writer passed (decoded only once the header is accepted)
//
// The header is small and decoded on its own, so that a snapshot of another root or tool
// version is refused without decoding the body. Any problem is a SnapshotError saying what is
// wrong, never a crash.
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { ToolVersions } from './versions.ts';

export const FORMAT_VERSION = 2;

const MAGIC = Buffer.from('ISG-SNAP', 'latin1');
const PREFIX_BYTES = 44;
const CHECKSUM_BYTES = 20;

export interface SnapshotHeader {
  /** Absolute path of the indexed root. */
  root: string;
  tools: ToolVersions;
  /** ISO time the snapshot was encoded. */
  writtenAt: string;
  /** Graph generation the snapshot holds. */
  generation: number;
  files: number;
}

export type SnapshotProblem = 'corrupt' | 'incompatible';

export class SnapshotError extends Error {
  readonly problem: SnapshotProblem;

  constructor(problem: SnapshotProblem, message: string) {
    super(message);
    this.name = 'SnapshotError';
    this.problem = problem;
  }
}

// Records: each object shape is described once and its values follow as arrays, which keeps
// FileFacts' thousands of same-shaped objects compact without a field-by-field encoding. A
// fresh Packr per message, so a snapshot never depends on structures kept in memory.
// moreTypes: the facts' Int32Array rows come back as Int32Arrays, not as bytes.
const packr = () => new Packr({ useRecords: true, moreTypes: true });

export function encodeSnapshot(header: SnapshotHeader, body: unknown): Buffer {
  return frameSnapshot(packr().pack(header), packr().pack(body));
}

/** The file for an encoded header and body: prefix with lengths and checksum, then both. */
export function frameSnapshot(head: Uint8Array, main: Uint8Array): Buffer {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(FORMAT_VERSION, 8);
  prefix.writeUInt32BE(head.length, 12);
  prefix.writeBigUInt64BE(BigInt(main.length), 16);
  createHash('sha1').update(head).update(main).digest().copy(prefix, 24);
  return Buffer.concat([prefix, head, main]);
}

export interface OpenedSnapshot {
  header: SnapshotHeader;
  /** Decodes the body; throws a SnapshotError if it is not valid msgpack. */
  body(): unknown;
}

/** Checks framing and checksum and decodes the header; throws a SnapshotError naming the problem. */
export function openSnapshot(bytes: Uint8Array): OpenedSnapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new SnapshotError('corrupt', 'not an isg snapshot (bad magic bytes)');
  if (buf.length < PREFIX_BYTES) throw new SnapshotError('corrupt', `truncated: ${buf.length} bytes, shorter than the ${PREFIX_BYTES}-byte prefix`);
  const version = buf.readUInt32BE(8);
  if (version !== FORMAT_VERSION) throw new SnapshotError('incompatible', `format version ${version}, this isg reads version ${FORMAT_VERSION}`);
  const headLength = buf.readUInt32BE(12);
  const bodyLength = buf.readBigUInt64BE(16);
  const expected = BigInt(PREFIX_BYTES + headLength) + bodyLength;
  if (BigInt(buf.length) < expected) throw new SnapshotError('corrupt', `truncated: ${buf.length} bytes, the prefix announces ${expected}`);
  if (BigInt(buf.length) > expected) throw new SnapshotError('corrupt', `${BigInt(buf.length) - expected} unexpected bytes after the body`);
  const content = buf.subarray(PREFIX_BYTES);
  const checksum = createHash('sha1').update(content).digest();
  if (!checksum.equals(buf.subarray(24, 24 + CHECKSUM_BYTES))) throw new SnapshotError('corrupt', 'checksum mismatch (the file was modified or partly written)');
  const header = decode(content.subarray(0, headLength), 'header');
  if (!isHeader(header)) throw new SnapshotError('corrupt', 'the header lacks root, tools, writtenAt, generation or files');
  return { header, body: () => decode(content.subarray(headLength), 'body') };
}

function decode(bytes: Uint8Array, part: string): unknown {
  try {
    return packr().unpack(bytes);
  } catch (err) {
    throw new SnapshotError('corrupt', `the ${part} is not valid msgpack (${err instanceof Error ? err.message : String(err)})`);
  }
}

function isHeader(h: unknown): h is SnapshotHeader {
  if (typeof h !== 'object' || h === null) return false;
  const r = h as Record<string, unknown>;
  return typeof r.root === 'string' && typeof r.tools === 'object' && r.tools !== null && typeof r.writtenAt === 'string' && typeof r.generation === 'number' && typeof r.files === 'number';
}
