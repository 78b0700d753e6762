/**
 * "Did you mean": the allowed word closest to a misspelt one, when it is close enough to be a
 * typo (at most two edits, and fewer than half the word's letters) rather than another word.
 */
const MAX_INPUT = 64;

export function nearest(word: string, allowed: readonly string[]): string | undefined {
  if (word.length === 0 || word.length > MAX_INPUT) return undefined;
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const d = editDistance(w, candidate.toLowerCase());
    if (d < bestDistance && d <= 2 && d * 2 < Math.max(w.length, candidate.length)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance counting an adjacent transposition (`prot` → `port`) as one edit. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
