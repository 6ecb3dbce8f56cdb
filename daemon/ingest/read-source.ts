// Reads one source file as text, refusing anything that would feed the parser garbage or
// blow up memory. Every refusal is a Diagnostic, never an exception: one bad file must not
// stop an index run.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Diagnostic } from '../model.ts';
import { contentHash } from '../util/hash.ts';

/** `hash`: the text's contentHash. */
export type ReadSourceResult = { ok: true; text: string; bytes: number; hash: string } | { ok: false; diagnostic: Diagnostic };

/** How far we look for a NUL byte: git's "is it binary?" heuristic, which text never trips. */
const BINARY_SNIFF_BYTES = 8 * 1024;

// O_NONBLOCK so that opening a FIFO returns at once (and is then refused as not a regular file)
// instead of waiting for a writer; it changes nothing for regular files.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

// fatal: reject malformed input instead of inserting U+FFFD. ignoreBOM defaults to false,
// which makes the decoder strip a leading BOM.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readSource(absPath: string, relPath: string, maxBytes: number): ReadSourceResult {
  let buffer: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(absPath, OPEN_FLAGS);
    // fstat on the open descriptor: the size we check is the size of the file we read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) return refuse(relPath, 'unreadable', 'not a regular file');
    if (stat.size > maxBytes) return { ok: false, diagnostic: tooLargeDiagnostic(relPath, stat.size, maxBytes) };
    buffer = readFileSync(fd);
  } catch (err) {
    return refuse(relPath, 'unreadable', `cannot be read (${errorReason(err)})`);
  } finally {
    // A failed close of a read-only descriptor loses nothing; it must not turn into a throw.
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {}
    }
  }
  // The file may have grown between fstat and read.
  if (buffer.length > maxBytes) return { ok: false, diagnostic: tooLargeDiagnostic(relPath, buffer.length, maxBytes) };
  const nul = buffer.subarray(0, BINARY_SNIFF_BYTES).indexOf(0);
  if (nul >= 0) return refuse(relPath, 'binary-file', `binary content (NUL byte at offset ${nul})`);
  let text: string;
  try {
    text = utf8.decode(buffer);
  } catch {
    return refuse(relPath, 'invalid-utf8', 'not valid UTF-8');
  }
  const bom = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  return { ok: true, text, bytes: buffer.length, hash: contentHash(bom ? buffer.subarray(3) : buffer) };
}

export function tooLargeDiagnostic(relPath: string, size: number, maxBytes: number): Diagnostic {
  let actual = formatBytes(size);
  let limit = formatBytes(maxBytes);
  // Rounding can make both look equal ("5 MB exceeds the 5 MB limit"); show exact bytes then.
  if (actual === limit) [actual, limit] = [`${size} bytes`, `${maxBytes} bytes`];
  return diagnostic(relPath, 'too-large', `${actual} exceeds the ${limit} limit (maxFileBytes)`);
}

/** A short reason for a filesystem error: "permission denied (EACCES)". */
export function errorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const text = code === undefined ? undefined : ERRNO_TEXT.get(code);
  if (text !== undefined) return `${text} (${code})`;
  return code ?? (err instanceof Error ? err.message : String(err));
}

export function diagnostic(relPath: string, code: string, reason: string): Diagnostic {
  return { file: relPath, severity: 'warning', code, message: `skipped ${relPath || '.'}: ${reason}` };
}

const ERRNO_TEXT = new Map([
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['ENOENT', 'no such file'],
  ['EISDIR', 'is a directory'],
  ['ENOTDIR', 'not a directory'],
  ['ELOOP', 'too many levels of symbolic links'],
  ['EIO', 'I/O error'],
]);

function refuse(relPath: string, code: string, reason: string): ReadSourceResult {
  return { ok: false, diagnostic: diagnostic(relPath, code, reason) };
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toFixed(1))} ${units[unit]}`;
}
