/**
 * Which three-unit sequences a text holds, as a bit set of their hashes: one pass over the
 * text, after which "may this text contain literal L?" costs a few bit reads. A literal whose
 * every trigram is in the set may be in the text; one with a trigram missing is certainly not
 * (hash collisions only ever answer "may", never a wrong "no"). The injection detector asks it
 * for the words a cue needs after its trigger word (`prompt` after `show me your`), so that a
 * cue none of whose later words the text holds is not run at each of its trigger words.
 */

/** 2^14 bits: a 2 KB text sets about one in ten, so a literal of two or more trigrams that is
 *  not there is almost never taken to be. */
const BITS_LOG2 = 14;
const WORDS = 1 << (BITS_LOG2 - 5);

export type TrigramSet = Uint32Array;

export const newTrigramSet = (): TrigramSet => new Uint32Array(WORDS);

/** The hash of the trigram a, b, c, as the sets hold it. */
export const hash3 = (a: number, b: number, c: number) =>
  (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d)) >>> (32 - BITS_LOG2);

/** Puts the trigram of units a, b, c in `set`. A text's set is cleared (`fill(0)`) and filled
 *  by the pass over it that finds the trigger places (match.ts, readUnits). */
export function addTrigram(set: TrigramSet, a: number, b: number, c: number): void {
  addHash(set, hash3(a, b, c));
}

/** Puts a trigram already hashed (hash3) in `set`. */
export function addHash(set: TrigramSet, h: number): void {
  set[h >>> 5]! |= 1 << (h & 31);
}

/** 1 when the hashed trigram `h` is in `set`, else 0 (a number, so a reader can combine it
 *  without a branch). */
export function hasHash(set: TrigramSet, h: number): number {
  return (set[h >>> 5]! >>> (h & 31)) & 1;
}

/** The hashes of a literal's trigrams; a literal shorter than three units has none (and is
 *  then always taken to be present). */
export function trigramsOf(literal: string): Int32Array {
  const out = new Int32Array(Math.max(0, literal.length - 2));
  for (let i = 2; i < literal.length; i++)
    out[i - 2] = hash3(literal.charCodeAt(i - 2), literal.charCodeAt(i - 1), literal.charCodeAt(i));
  return out;
}

/** False only when the text `set` was filled from certainly does not contain the literal. */
export function mayContain(set: TrigramSet, trigrams: Int32Array): boolean {
  return mayContainRange(set, trigrams, 0, trigrams.length);
}

/** mayContain for the literal whose trigrams are `hashes[from..to)` (many literals in one array). */
export function mayContainRange(set: TrigramSet, hashes: Int32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const h = hashes[i]!;
    if (hasHash(set, h) === 0) return false;
  }
  return true;
}
