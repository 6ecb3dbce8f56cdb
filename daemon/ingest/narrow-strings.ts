// V8 stores a string one byte per character when every character is at most U+00FF, and two
// bytes otherwise; a slice of a text keeps the text's width. One arrow or emoji in a comment
// makes a whole file's text two-byte, and with it every name, signature and doc sliced from it,
// ASCII though they are: 55 of effect's 572 files and 127 of zod's 332. Those strings then take
// twice the memory for as long as the graph holds them, and encoding an answer that holds them
// took msgpackr three times as long (a 32 KB `callers` answer: ~300 µs against ~110). So the
// facts of such a file are given one-byte copies of the strings that can have them, once, where
// a file is extracted cold.
import { Buffer } from 'node:buffer';
import { mapNameStrings, type FileFacts } from './facts.ts';

const WIDE = /[^\x00-\xff]/;

/** The text holds a character above U+00FF, so V8 keeps it (and its slices) two bytes per character. */
export function isWide(text: string): boolean {
  return WIDE.test(text);
}

/** `s`, one byte per character when its characters allow (a Latin-1 round trip is lossless then). */
export function narrow(s: string): string {
  return WIDE.test(s) ? s : Buffer.from(s, 'latin1').toString('latin1');
}

/** Every string of `facts` narrowed in place where it can be. */
export function narrowFacts(facts: FileFacts): void {
  mapNameStrings(facts, narrow);
  for (const e of facts.entities) {
    e.signature = narrow(e.signature);
    if (e.doc !== undefined) e.doc = narrow(e.doc);
    if (e.paramTypes) e.paramTypes = e.paramTypes.map((t) => (t === null ? t : narrow(t)));
  }
}
