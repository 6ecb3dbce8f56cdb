// JSON with comments and trailing commas, as tsc accepts in tsconfig.json. The text is
// rewritten into strict JSON (comments and dangling commas blanked, strings untouched) and
// handed to JSON.parse, which is faster and stricter than a hand-written value parser.

/** The value of a JSONC text, or undefined when it is not valid JSONC. Never throws. */
export function parseJsonc(text: string): unknown {
  const stripped = stripComments(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (stripped === undefined) return undefined;
  try {
    return JSON.parse(dropTrailingCommas(stripped));
  } catch {
    return undefined;
  }
}

/** Replaces `//` and `/* *\/` comments outside strings by spaces; undefined if one is unterminated. */
function stripComments(text: string): string | undefined {
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i);
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      const end = text[i + 1] === '/' ? lineEnd(text, i) : text.indexOf('*/', i + 2) + 2;
      if (end === 1) return undefined;
      out += text.slice(copied, i) + ' ';
      copied = end;
      i = end - 1;
    }
  }
  return out + text.slice(copied);
}

/** Removes a `,` whose next non-blank character closes an object or array. */
function dropTrailingCommas(text: string): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i);
    } else if (c === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (text[j] === '}' || text[j] === ']') {
        out += text.slice(copied, i);
        copied = i + 1;
      }
    }
  }
  return out + text.slice(copied);
}

/** Index of the quote closing the string that opens at `start` (or the last index if unclosed). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return Math.min(i, text.length - 1);
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}
