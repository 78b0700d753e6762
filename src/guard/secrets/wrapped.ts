/**
 * Credentials cut by line breaks or single spaces: a key wrapped at a column (a terminal, an
 * email, a model asked to slip it past a filter: `sk-proj-…` over three lines, an AWS key id
 * split in two). Read as one token, every piece after the first must look like part of a
 * random key (a digit, or a capital letter after its first character), so that ordinary words
 * after a key on the next line are never joined to it.
 */

/** The most pieces one token is read from, and the most characters they hold together. */
export const MAX_PIECES = 8;
export const MAX_WRAPPED = 400;
/** Indentation after a line break, read as part of the break. */
const MAX_INDENT = 8;

export interface Piece {
  readonly start: number;
  readonly end: number;
}

/** The characters of a wrapped token's pieces: those of the formats' keys and JWTs. */
export const isPieceChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 95 || c === 45 || c === 46;
const isBlank = (c: number): boolean => c === 32 || c === 9;

/** Whether text[start, end) looks like part of a random key: a digit, or a capital after its first character. */
export function keyLike(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (i > start && c >= 65 && c <= 90)) return true;
  }
  return false;
}

/** Where the break that starts at `at` ends (a line break with its indentation, or one space or tab), or -1. */
function breakEnd(text: string, at: number): number {
  let k = at;
  if (text.charCodeAt(k) === 13) k++;
  if (text.charCodeAt(k) === 10) {
    k++;
    const stop = k + MAX_INDENT;
    while (k < stop && isBlank(text.charCodeAt(k))) k++;
    return k;
  }
  return k === at && isBlank(text.charCodeAt(k)) ? k + 1 : -1;
}

/** The pieces of the token that starts at `start`: its run, then each key-like run after a break. */
export function wrappedPieces(text: string, start: number): Piece[] {
  const pieces: Piece[] = [];
  let i = start;
  let total = 0;
  while (pieces.length < MAX_PIECES) {
    let j = i;
    while (j < text.length && j - i < MAX_WRAPPED && isPieceChar(text.charCodeAt(j))) j++;
    if (j === i || (pieces.length > 0 && !keyLike(text, i, j))) break;
    pieces.push({ start: i, end: j });
    total += j - i;
    if (total >= MAX_WRAPPED) break;
    const next = breakEnd(text, j);
    if (next === -1 || next >= text.length || !isPieceChar(text.charCodeAt(next))) break;
    i = next;
  }
  return pieces;
}

/** Where the break that ends at `at` starts (see breakEnd), or -1. */
function breakStart(text: string, at: number): number {
  let k = at;
  const stop = Math.max(0, at - MAX_INDENT);
  while (k > stop && isBlank(text.charCodeAt(k - 1))) k--;
  if (k > 0 && text.charCodeAt(k - 1) === 10) {
    k--;
    if (k > 0 && text.charCodeAt(k - 1) === 13) k--;
    return k;
  }
  return at - k === 1 ? k : -1;
}

/**
 * For a stream: the start of a token with a key's head (`isHeadAt`) that the end of `text` may
 * still be a piece of, reading back from `at` (where the trailing run starts, or the end) over
 * breaks and key-like pieces; undefined when there is none.
 */
export function openWrappedAt(
  text: string,
  at: number,
  isHeadAt: (text: string, at: number) => boolean,
): number | undefined {
  let pieces = 0;
  let chars = text.length - at;
  while (pieces < MAX_PIECES && chars < MAX_WRAPPED) {
    const b = breakStart(text, at);
    if (b <= 0) return undefined;
    let s = b;
    while (s > 0 && b - s < MAX_WRAPPED && isPieceChar(text.charCodeAt(s - 1))) s--;
    if (s === b) return undefined;
    if (isHeadAt(text, s)) return s;
    if (!keyLike(text, s, b)) return undefined;
    chars = text.length - s;
    pieces++;
    at = s;
  }
  return undefined;
}
