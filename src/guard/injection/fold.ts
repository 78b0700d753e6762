/**
 * The folded view the injection cues are matched in: lower case, Latin diacritics stripped
 * (`précédentes` → `precedentes`), leetspeak read as letters inside words that mix letters and
 * digits (`1gn0r3` → `ignore`), and letters spaced out to dodge word matching
 * (`i g n o r e`, `i.g.n.o.r.e`) joined again, combining marks dropped, and what stands between
 * words read as the cues need it (between-words.ts: escaped spaces, HTML tags, underscores,
 * long runs of separators). Each folded unit keeps the index of the
 * normalized unit it came from, so a cue found here is placed in the original text.
 */

import { codePointAt } from '../../core/code-point.ts';
import { asciiBytes } from '../ascii.ts';
import { identity } from '../normalize.ts';
import { readMarkup, spaceUnderscores, squeezeSeparators } from './between-words.ts';

export interface FoldedText {
  readonly text: string;
  /** Index in the normalized text of each unit of `text`. */
  readonly from: Int32Array;
  /** Positions (in the normalized text) where leetspeak or spacing had to be undone, a sign of
   *  deliberate obfuscation; undefined when there were none. */
  readonly changed: Uint8Array | undefined;
}

const LEET = new Int32Array(128);
for (const [from, to] of Object.entries({
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
})) {
  LEET[from.charCodeAt(0)] = to.charCodeAt(0);
}
const leetOf = (c: number) => (c < 128 ? LEET[c]! : 0);
const diacriticCache = new Map<number, number>();

/** Lower case without diacritics, one UTF-16 unit for one (units that would grow stay). */
function baseLetter(code: number): number {
  if (code < 0x80) return code >= 0x41 && code <= 0x5a ? code + 32 : code;
  let cached = diacriticCache.get(code);
  if (cached === undefined) {
    const lower = String.fromCharCode(code).toLowerCase();
    if (lower.length !== 1) cached = code;
    else {
      const l = lower.charCodeAt(0);
      // Latin-1 Supplement to Latin Extended-B, and Latin Extended Additional (`ḿ`, `ẃ`, `ṕ`:
      // precomposed forms a text with an accent on every letter is also made of).
      cached = (l >= 0xc0 && l <= 0x24f) || (l >= 0x1e00 && l <= 0x1eff) ? lower.normalize('NFD').charCodeAt(0) : l;
    }
    if (diacriticCache.size < 4096) diacriticCache.set(code, cached);
  }
  return cached;
}

const isAlpha = (c: number) =>
  (c >= 0x61 && c <= 0x7a) || (c > 0xbf && c !== 0xd7 && c !== 0xf7 && c < 0x2000) || (c >= 0x3040 && c <= 0x9fff);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
/** Whether unit `c` is a letter as the folded view joins spaced letters (Latin, other
 *  alphabets, CJK): a stream holds a run of such letters spaced out. */
export const isFoldedLetter = (c: number): boolean => isAlpha(baseLetter(c));
const SPACERS = new Set([' ', '.', '-', '_', '*', '|', '/', '\u00a0', '+', '~', ',', '\n'].map((c) => c.charCodeAt(0)));
/** Whether unit `c` is one that letters spaced out to dodge word matching are separated by. */
export const isSpacer = (c: number): boolean => SPACERS.has(c);
const UTF16 = { decode: (c: Uint16Array) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('utf16le') };

/** Four letters spaced out alike: the trick only the slow path undoes. Most texts have none
 *  (and no units beyond ASCII) and take the fast path. */
const MAYBE_SPACED = /(?:^|[^a-z])[a-z]([ ._*|/+~,\u00a0\n-])[a-z]\1[a-z]\1[a-z](?![a-z])/;
const NON_ASCII = /[\u0080-\uffff]/;
/** A digit or leet symbol next to a letter: the seam of a possibly leet word. Written with
 *  look-arounds so that the search scans for the rarer class (about 5x faster on prose with
 *  figures than `[a-z][0-9@$!|]|[0-9@$!|][a-z]`, which tried both branches at every letter). */
const LEET_SEAM = /(?<=[a-z])[0-9@$!|]|[0-9@$!|](?=[a-z])/g;
const isLeetWordCode = (c: number) =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x40 || c === 0x24 || c === 0x21 || c === 0x7c;

const isLower = (c: number) => c >= 0x61 && c <= 0x7a;

/**
 * Leetspeak undone in a stretch of ASCII letters, digits and leet symbols (lower case), by the
 * slow path's rule: the stretch splits into runs that begin with a letter or a leet digit and
 * hold letters, digits, and leet symbols with a letter on each side; a run of two letters at
 * least, one leet character at least and not more leet than letters + 2 is read as letters.
 * A symbol at a run's edge is punctuation, not leet: `prompt!!!` stays, and `<|im_start|>`
 * keeps its bars (read as `l`, they hid the chat-template token from its cue whenever another
 * word of the text looked leet). `changed` marks the runs rewritten, offset by `at`.
 */
function unleetStretch(stretch: string, changed: { marks?: Uint8Array; n: number; at: number }): string {
  let out = '';
  let copied = 0;
  const n = stretch.length;
  for (let i = 0; i < n; ) {
    const c = stretch.charCodeAt(i);
    if (!isLower(c) && !(isDigit(c) && LEET[c] !== 0)) {
      i++;
      continue;
    }
    let j = i;
    let letters = 0;
    let leet = 0;
    for (; j < n; j++) {
      const d = stretch.charCodeAt(j);
      if (isLower(d)) letters++;
      else if (isDigit(d)) {
        if (LEET[d] !== 0) leet++;
      } else if (LEET[d] !== 0 && j > i && j + 1 < n && isLower(stretch.charCodeAt(j + 1))) leet++;
      else break;
    }
    if (letters >= 2 && leet >= 1 && j - i >= 3 && leet <= letters + 2) {
      let run = '';
      for (let k = i; k < j; k++) {
        const l = LEET[stretch.charCodeAt(k)]!;
        run += l !== 0 ? String.fromCharCode(l) : stretch[k];
      }
      out += stretch.slice(copied, i) + run;
      copied = j;
      changed.marks ??= new Uint8Array(changed.n);
      changed.marks.fill(1, changed.at + i, changed.at + j);
    }
    i = j;
  }
  return copied === 0 ? stretch : out + stretch.slice(copied);
}

export function foldForCues(normalized: string): FoldedText {
  const markup = readMarkup(normalized);
  let letters: FoldedText;
  if (markup === undefined) letters = foldLetters(spaceUnderscores(normalized));
  else {
    letters = mapBack(foldLetters(spaceUnderscores(markup.text)), markup.kept, normalized.length);
    if (markup.hidden.length > 0) {
      const changed = letters.changed ?? new Uint8Array(normalized.length);
      for (const at of markup.hidden) changed[at] = 1;
      letters = { ...letters, changed };
    }
  }
  const squeezed = squeezeSeparators(letters.text, letters.from);
  return squeezed === undefined ? letters : { ...squeezed, changed: letters.changed };
}

/** `f`, folded from a text whose unit k was unit kept[k] of a text of n units, mapped back to that text. */
function mapBack(f: FoldedText, kept: ArrayLike<number>, n: number): FoldedText {
  let changed: Uint8Array | undefined;
  if (f.changed !== undefined) {
    changed = new Uint8Array(n);
    for (let k = 0; k < f.changed.length; k++) if (f.changed[k] === 1) changed[kept[k]!] = 1;
  }
  const from = new Int32Array(f.from.length);
  for (let k = 0; k < from.length; k++) from[k] = kept[f.from[k]!]!;
  return { text: f.text, from, changed };
}

function foldLetters(normalized: string): FoldedText {
  const n = normalized.length;
  const lower = normalized.toLowerCase();
  // An ASCII text (asciiBytes, known already from normalization) lower-cases to ASCII of the
  // same length, without a search for other units. A few other units lower-case to ASCII (the
  // Kelvin sign to `k`), hence the search on the lower-cased text when the bytes say no.
  if (
    (asciiBytes(normalized) !== undefined || (lower.length === n && !NON_ASCII.test(lower))) &&
    !MAYBE_SPACED.test(lower)
  ) {
    // The common case: ASCII, nothing spaced out; leetspeak is undone in place (same length),
    // in the stretches around each seam (a text without one is returned as it is).
    let text = '';
    const changed: { marks?: Uint8Array; n: number; at: number } = { n, at: 0 };
    let copied = 0;
    LEET_SEAM.lastIndex = 0;
    // `test` builds no match object; the match is one unit, so it ends at lastIndex.
    while (LEET_SEAM.test(lower)) {
      let start = LEET_SEAM.lastIndex - 1;
      let end = start + 1;
      // The stretch of letters, digits and leet symbols around the seam: the slow path's runs
      // never cross its ends (every unit outside it ends a run).
      while (start > 0 && isLeetWordCode(lower.charCodeAt(start - 1))) start--;
      while (end < n && isLeetWordCode(lower.charCodeAt(end))) end++;
      const word = lower.slice(start, end);
      changed.at = start;
      const folded = unleetStretch(word, changed);
      if (folded !== word) {
        text += lower.slice(copied, start) + folded;
        copied = end;
      }
      LEET_SEAM.lastIndex = end;
    }
    if (copied === 0) return { text: lower, from: identity(n), changed: undefined };
    return { text: text + lower.slice(copied), from: identity(n), changed: changed.marks };
  }
  return HAS_MARK.test(normalized) ? foldWithoutMarks(normalized) : foldGeneral(normalized);
}

const HAS_MARK = /\p{M}/u;
const MARK = /^\p{M}$/u;

/**
 * Combining marks that normalization could not compose into a letter (`d́`, the stacks of
 * "zalgo" text: `Í̵g̷n̸o̶r̴e̵`) split the words they sit on, and hid every cue (28 of the
 * project's 35 attacks with an acute accent on every letter went through). They are dropped
 * from the folded view; a Latin letter that carried one is marked changed (a sign of deliberate
 * obfuscation, as leetspeak is). Marks of other scripts are dropped too: no cue holds one.
 */
function foldWithoutMarks(normalized: string): FoldedText {
  const n = normalized.length;
  const kept: number[] = [];
  const codes: number[] = [];
  const marked: number[] = [];
  for (let i = 0; i < n; ) {
    const cp = codePointAt(normalized, i);
    const width = cp > 0xffff ? 2 : 1;
    if (cp >= 0x300 && MARK.test(String.fromCodePoint(cp))) {
      const letter = kept.length > 0 ? kept[kept.length - 1]! : -1;
      if (letter >= 0 && isLower(baseLetter(normalized.charCodeAt(letter)))) marked.push(letter);
    } else
      for (let k = i; k < i + width; k++) {
        kept.push(k);
        codes.push(normalized.charCodeAt(k));
      }
    i += width;
  }
  const folded = mapBack(foldGeneral(UTF16.decode(Uint16Array.from(codes))), kept, n);
  if (marked.length === 0) return folded;
  const changed = folded.changed ?? new Uint8Array(n);
  for (const letter of marked) changed[letter] = 1;
  return { ...folded, changed };
}

/** The general path: any text, unit by unit (combining marks already dropped). */
function foldGeneral(normalized: string): FoldedText {
  const n = normalized.length;
  const codes = new Uint16Array(n);
  for (let i = 0; i < n; i++) codes[i] = baseLetter(normalized.charCodeAt(i));
  let changed: Uint8Array | undefined;
  const at = (i: number) => (i >= 0 && i < n ? codes[i]! : 0);

  // Leetspeak: inside a run of letters, digits and leet symbols holding at least two letters
  // and one leet character, the leet characters are read as the letters they imitate.
  for (let i = 0; i < n; ) {
    if (!isAlpha(codes[i]!) && leetOf(codes[i]!) === 0) {
      i++;
      continue;
    }
    let j = i;
    let letters = 0;
    let leet = 0;
    for (;;) {
      const c = at(j);
      if (j >= n) break;
      if (isAlpha(c)) letters++;
      else if (isDigit(c)) {
        if (leetOf(c) !== 0) leet++;
      } else if (leetOf(c) !== 0 && j > i && isAlpha(at(j + 1))) leet++;
      else break;
      j++;
    }
    if (j === i) {
      i++;
      continue;
    }
    if (letters >= 2 && leet >= 1 && j - i >= 3 && leet <= letters + 2) {
      for (let k = i; k < j; k++) {
        const l = leetOf(codes[k]!);
        if (l !== 0) codes[k] = l;
      }
      changed ??= new Uint8Array(n);
      changed.fill(1, i, j);
    }
    i = j;
  }

  // Spaced-out letters: single letters each followed by the same one spacer character are one
  // word. Runs of four or more letters prove the trick is in use; then shorter runs
  // (`t h e`) are joined too. A wider gap between runs stays a word break.
  const keep = new Uint8Array(n).fill(1);
  const runs: Array<[number, number, number]> = [];
  for (let i = 0; i < n; ) {
    const spacer = at(i + 1);
    if (!isAlpha(at(i)) || isAlpha(at(i - 1)) || !SPACERS.has(spacer)) {
      i++;
      continue;
    }
    let j = i;
    let letters = 0;
    while (isAlpha(at(j)) && at(j + 1) === spacer && isAlpha(at(j + 2)) && !isAlpha(at(j + 3))) {
      letters++;
      j += 2;
    }
    if (isAlpha(at(j)) && !isAlpha(at(j + 1))) letters++;
    if (letters >= 2) runs.push([i, j, letters]);
    i = j + 1;
  }
  let joined = false;
  if (runs.some((r) => r[2] >= 4)) {
    changed ??= new Uint8Array(n);
    for (const [i, j] of runs) {
      for (let k = i + 1; k < j; k += 2) keep[k] = 0;
      changed.fill(1, i, j + 1);
    }
    joined = true;
  }

  let text: string;
  let from: Int32Array;
  if (!joined) {
    text = UTF16.decode(codes);
    from = identity(n);
  } else {
    const kept = new Uint16Array(n);
    from = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++)
      if (keep[i] === 1) {
        kept[m] = codes[i]!;
        from[m++] = i;
      }
    text = UTF16.decode(kept.subarray(0, m));
    from = from.subarray(0, m);
  }
  return { text, from, changed };
}

/** ROT13 of each unit up to 0xff (the letters a–z move, every other unit stays). */
const ROT13_UNIT = Uint8Array.from({ length: 256 }, (_, c) => (c >= 97 && c <= 122 ? ((c - 84) % 26) + 97 : c));
/** Kept from text to text while this small; a longer text gets its own. */
let ROT13_SCRATCH = Buffer.allocUnsafe(4096);

/** ROT13 of the letters a–z, length-preserving (so `from` still applies). A text of units up to
 *  0xff (nearly every folded text) goes through a byte buffer: a stream window's injection
 *  detector reads each step's tail in ROT13 (0.4 against 1.4 µs for 140 units with an array of
 *  units, 1.4 with a string built unit by unit). */
export function rot13(text: string): string {
  const n = text.length;
  let bytes = ROT13_SCRATCH;
  if (bytes.length < n) {
    bytes = Buffer.allocUnsafe(n);
    if (n <= 65536) ROT13_SCRATCH = bytes;
  }
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return rot13Wide(text);
    bytes[i] = ROT13_UNIT[c]!;
  }
  return bytes.toString('latin1', 0, n);
}

function rot13Wide(text: string): string {
  const n = text.length;
  const codes = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    codes[i] = c <= 0xff ? ROT13_UNIT[c]! : c;
  }
  return UTF16.decode(codes);
}
