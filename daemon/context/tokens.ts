// How many tokens an LLM will count in a text, estimated without a tokenizer's vocabulary (one
// is 10-50 MB of data). The text is split the way BPE tokenizers pre-split it (o200k: words,
// with a case change starting a new one, up to 3 digits, runs of punctuation, whitespace), and
// each piece counts one token, a long one a token per 8 characters. On rxjs, zod and effect
// sources this is 1.5% above o200k's real count in all, and within -6%/+12% for 90% of files
// (test/context.test.ts measures it against gpt-tokenizer).
const PIECES = /[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
const CHARS_PER_LONG_PIECE = 8;

export function estimateTokens(text: string): number {
  let n = 0;
  PIECES.lastIndex = 0;
  for (let m = PIECES.exec(text); m !== null; m = PIECES.exec(text)) {
    const len = m[0].length;
    n += len > CHARS_PER_LONG_PIECE ? Math.ceil(len / CHARS_PER_LONG_PIECE) : 1;
  }
  return n;
}
