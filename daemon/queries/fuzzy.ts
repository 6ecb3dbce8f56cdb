/** Lower-case an ASCII code unit. */
export const foldAscii = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/**
 * Subsequence match score of `needle` in `hay`, case-insensitive; 0 when not a subsequence.
 * Rewards consecutive runs, matches at word starts (camelCase humps, after `_`/`.`) and a
 * match at the very start, so `fsvc` ranks `FooService` above `fooServiceConfig`.
 */
export function fuzzyScore(needle: string, hay: string): number {
  if (!needle) return 0;
  return fuzzyScoreLower(needle.toLowerCase(), hay, hay.toLowerCase());
}

/**
 * `fuzzyScore` with the needle lower-cased, and `h` the lower-cased `hay`; with `h` undefined,
 * `hay` is ASCII and is lower-cased on the fly (no copy).
 */
export function fuzzyScoreLower(n: string, hay: string, h?: string): number {
  const lower = h ?? hay;
  const fold = h === undefined;
  const length = lower.length;
  if (length === n.length) {
    let i = 0;
    while (i < length && (fold ? foldAscii(lower.charCodeAt(i)) : lower.charCodeAt(i)) === n.charCodeAt(i)) i++;
    if (i === length) return 1000;
  }
  let score = 0;
  let j = 0;
  let run = 0;
  for (let i = 0; i < length && j < n.length; i++) {
    const c = lower.charCodeAt(i);
    if ((fold ? foldAscii(c) : c) !== n.charCodeAt(j)) {
      run = 0;
      continue;
    }
    // Past the end of `hay` (lower-casing can lengthen a string) there is no word start. Reading
    // out of range (NaN from charCodeAt) made this loop ten times slower.
    const before = i > 0 && i <= hay.length ? hay.charCodeAt(i - 1) : 0;
    const at = i < hay.length ? hay.charCodeAt(i) : 0;
    const wordStart = i === 0 || before === 95 /* _ */ || before === 46 /* . */ || (at >= 65 && at <= 90 && before >= 97 && before <= 122);
    run++;
    score += 1 + run * 2 + (wordStart ? 5 : 0) + (i === 0 ? 10 : 0);
    j++;
  }
  if (j < n.length) return 0;
  return score - Math.max(0, length - n.length) * 0.1;
}

/**
 * Optimal-string-alignment distance between `a` and `b` (insertions, deletions, substitutions and
 * swaps of neighbours), or `max + 1` as soon as it must exceed `max`. For "did you mean": typos
 * like `Subscriptoin` or `Subjact` are not subsequences of the intended name.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      row.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    before = previous;
    previous = row;
  }
  return Math.min(previous[b.length]!, max + 1);
}
