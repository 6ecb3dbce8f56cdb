/**
 * Subsequence match score of `needle` in `hay`, case-insensitive; 0 when not a subsequence.
 * Rewards consecutive runs, matches at word starts (camelCase humps, after `_`/`.`) and a
 * match at the very start, so `fsvc` ranks `FooService` above `fooServiceConfig`.
 */
export function fuzzyScore(needle: string, hay: string): number {
  if (!needle) return 0;
  return fuzzyScoreLower(needle.toLowerCase(), hay, hay.toLowerCase());
}

/** `fuzzyScore` with the needle and the haystack already lower-cased (`h` is `hay.toLowerCase()`). */
export function fuzzyScoreLower(n: string, hay: string, h: string): number {
  if (h === n) return 1000;
  let score = 0;
  let j = 0;
  let run = 0;
  for (let i = 0; i < h.length && j < n.length; i++) {
    if (h.charCodeAt(i) !== n.charCodeAt(j)) {
      run = 0;
      continue;
    }
    // Past the end of `hay` (lower-casing can lengthen a string) charCodeAt is NaN: no word start.
    const before = hay.charCodeAt(i - 1);
    const at = hay.charCodeAt(i);
    const wordStart = i === 0 || before === 95 /* _ */ || before === 46 /* . */ || (at >= 65 && at <= 90 && before >= 97 && before <= 122);
    run++;
    score += 1 + run * 2 + (wordStart ? 5 : 0) + (i === 0 ? 10 : 0);
    j++;
  }
  if (j < n.length) return 0;
  return score - Math.max(0, h.length - n.length) * 0.1;
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
