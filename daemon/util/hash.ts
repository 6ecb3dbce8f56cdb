import { createHash } from 'node:crypto';
import { isSpace } from './chars.ts';

/** SHA-256 of bytes, in hex: plugin artifacts' pins, bundles' inputs. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Content hash of a file's text: tells a real change from a touch. Of the text, or of the UTF-8
 * bytes it was decoded from (without a BOM), the same value: a file's bytes as read are hashed
 * as they are, where hashing its text would encode it again, most of the hash's cost.
 */
export function contentHash(content: string | Uint8Array): string {
  return createHash('sha1').update(content).digest('base64url');
}

/**
 * 53-bit string hash (cyrb53), exact in a double: cheap enough to run on every signature in the
 * extraction hot path, and collisions only cost a spurious "signature changed".
 */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish53(h1, h2);
}

/**
 * `hash53(text.replace(/\s+/g, ' '))` without making that string: a third of the time, on the
 * main thread while the workers parse (every entity's signature is hashed as its file arrives).
 */
export function hash53Collapsed(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let inSpace = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if ((c <= 0x20 || c >= 0xa0) && isSpace(c)) {
      if (inSpace) continue;
      inSpace = true;
      c = 0x20;
    } else inSpace = false;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish53(h1, h2);
}

function finish53(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A `hash53` as 14 hex digits, as exports show it. */
export function hashHex(hash: number): string {
  return hash.toString(16).padStart(14, '0');
}
