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
