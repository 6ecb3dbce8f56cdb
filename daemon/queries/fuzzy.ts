/**
 * Subsequence match score of `needle` in `hay`, case-insensitive; 0 when not a subsequence.
 * Rewards consecutive runs, matches at word starts (camelCase humps, after `_`/`.`) and a
 * match at the very start, so `fsvc` ranks `FooService` above `fooServiceConfig`.
 */
export function fuzzyScore(needle: string, hay: string): number {
  if (!needle) return 0;
  const n = needle.toLowerCase();
  const h = hay.toLowerCase();
  if (h === n) return 1000;
  let score = 0;
  let j = 0;
  let run = 0;
  for (let i = 0; i < h.length && j < n.length; i++) {
    if (h[i] !== n[j]) {
      run = 0;
      continue;
    }
    const wordStart = i === 0 || hay[i - 1] === '_' || hay[i - 1] === '.' || (hay[i]! >= 'A' && hay[i]! <= 'Z' && hay[i - 1]! >= 'a' && hay[i - 1]! <= 'z');
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
