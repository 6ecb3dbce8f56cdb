// The snapshot file format. Every multi-byte integer is big-endian.
//
//   offset  size  content
//   0       8     magic "ISG-SNAP"
//   8       4     format version (FORMAT_VERSION)
//   12      4     header length H
//   16      8     body length B
//   24      20    SHA-1 of the H + B bytes that follow
//   44      H     header: msgpack map (SnapshotHeader)
//   44+H    B     body: msgpack values one after another (decoded only once the header is accepted):
//                 first the body's fields, with `records` replaced by their count (a load reads
//                 these alone first: `head()`), then each record
//
// The header is small and decoded on its own, so that a snapshot of another root or tool
// version is refused without decoding the body. The body is a sequence so that a writer can
// encode it a record at a time and let the daemon answer queries in between (a whole body was
// 0.2-0.4 s of one blocked thread on effect). Any problem is a SnapshotError saying what is
// wrong, never a crash.
import { createHash, type Hash } from 'node:crypto';
import { C1, Packr, Unpackr } from 'msgpackr';
import type { ToolVersions } from './versions.ts';

/** 4: bindings have a `memberPath` field (destructured names); 5: and a `literal` field, as variables have (object literals). */
export const FORMAT_VERSION = 5;

const MAGIC = Buffer.from('ISG-SNAP', 'latin1');
const PREFIX_BYTES = 44;
const CHECKSUM_BYTES = 20;

export interface SnapshotHeader {
  /** Absolute path of the indexed root. */
  root: string;
  tools: ToolVersions;
  /** `resolverVersion()` of the process that resolved the saved edges; absent in older snapshots. */
  resolver?: string;
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
// FileFacts' thousands of same-shaped objects compact without a field-by-field encoding.
// Sequential: a shape described in one value of the body serves the values after it. A fresh
// codec per snapshot, so a snapshot never depends on structures kept in memory. moreTypes: the
// facts' Int32Array rows come back as Int32Arrays, not as bytes. New options each time: msgpackr
// keeps its structures in the options object it is given.
const options = () => ({ useRecords: true, moreTypes: true, sequential: true });

/** A snapshot built a value at a time: `add` the body's values in order, then `finish`. */
export class SnapshotWriter {
  private readonly packr = new Packr(options());
  private readonly head: Buffer;
  private readonly parts: Buffer[] = [];
  private readonly checksum: Hash;
  private bodyBytes = 0;

  constructor(header: SnapshotHeader) {
    this.head = Buffer.from(new Packr(options()).pack(header));
    this.checksum = createHash('sha1').update(this.head);
  }

  add(value: unknown): void {
    // A copy: the codec's buffer is its own.
    const bytes = Buffer.from(this.packr.pack(value));
    this.parts.push(bytes);
    this.checksum.update(bytes);
    this.bodyBytes += bytes.length;
  }

  /** The file's bytes in order, in pieces (joining 15 MB into one buffer took 10-20 ms of the thread). */
  finish(): Buffer[] {
    return [prefix(this.head.length, this.bodyBytes, this.checksum.digest()), this.head, ...this.parts];
  }
}

/** A body's fields as the sequence starts with them: `records` (an array) replaced by its length. */
export function bodyHead(body: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(body.records) ? { ...body, records: body.records.length } : body;
}

/** The whole snapshot at once (tests, small hosts): the same bytes a SnapshotWriter makes. */
export function encodeSnapshot(header: SnapshotHeader, body: Record<string, unknown>): Buffer {
  const w = new SnapshotWriter(header);
  w.add(bodyHead(body));
  if (Array.isArray(body.records)) for (const r of body.records) w.add(r);
  return Buffer.concat(w.finish());
}

/** The file for an encoded header and body: prefix with lengths and checksum, then both. */
export function frameSnapshot(head: Uint8Array, main: Uint8Array): Buffer {
  return Buffer.concat([prefix(head.length, main.length, createHash('sha1').update(head).update(main).digest()), head, main]);
}

function prefix(headBytes: number, bodyBytes: number, checksum: Buffer): Buffer {
  const out = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(FORMAT_VERSION, 8);
  out.writeUInt32BE(headBytes, 12);
  out.writeBigUInt64BE(BigInt(bodyBytes), 16);
  checksum.copy(out, 24);
  return out;
}

export interface OpenedSnapshot {
  header: SnapshotHeader;
  /** The body's first value alone, its fields (`records` a count): all a load needs to tell what changed. */
  head(): unknown;
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
  let header: unknown;
  try {
    header = new Unpackr(options()).unpack(content.subarray(0, headLength));
  } catch (err) {
    throw notMsgpack('header', err);
  }
  if (!isHeader(header)) throw new SnapshotError('corrupt', 'the header lacks root, tools, writtenAt, generation or files');
  return { header, head: () => decodeHead(content.subarray(headLength)), body: () => decodeBody(content.subarray(headLength)) };
}

function decodeHead(bytes: Uint8Array): unknown {
  let head: unknown;
  try {
    new Unpackr(options()).unpackMultiple(bytes, (value) => {
      head = value;
      return false;
    });
  } catch (err) {
    throw notMsgpack('body', err);
  }
  if (typeof head !== 'object' || head === null || Array.isArray(head)) throw new SnapshotError('corrupt', 'the body does not start with a map of its fields');
  return head;
}

/** The body as the writer had it: its fields, with `records` an array again. */
function decodeBody(bytes: Uint8Array): unknown {
  let values: unknown[];
  try {
    values = new Unpackr(options()).unpackMultiple(bytes) as unknown[];
  } catch (err) {
    throw notMsgpack('body', err);
  }
  // msgpackr reads the byte msgpack never uses as a value of its own rather than failing.
  if (values.includes(C1)) throw notMsgpack('body', new Error('a value starts with 0xc1, a byte msgpack never uses'));
  const [first, ...records] = values;
  if (typeof first !== 'object' || first === null || Array.isArray(first)) throw new SnapshotError('corrupt', 'the body does not start with a map of its fields');
  const head = first as Record<string, unknown>;
  if (typeof head.records !== 'number') return head;
  if (records.length !== head.records) throw new SnapshotError('corrupt', `the body announces ${head.records} records and holds ${records.length}`);
  return { ...head, records };
}

function notMsgpack(part: string, err: unknown): SnapshotError {
  return new SnapshotError('corrupt', `the ${part} is not valid msgpack (${err instanceof Error ? err.message : String(err)})`);
}

function isHeader(h: unknown): h is SnapshotHeader {
  if (typeof h !== 'object' || h === null) return false;
  const r = h as Record<string, unknown>;
  return typeof r.root === 'string' && typeof r.tools === 'object' && r.tools !== null && typeof r.writtenAt === 'string' && typeof r.generation === 'number' && typeof r.files === 'number';
}
