/**
 * The view of a text the detectors scan: what a reader (or a model) would see, not the code
 * points an attacker chose. NFKC folds full-width and mathematical letters (`ｉｇｎｏｒｅ`,
 * `𝐢𝐠𝐧𝐨𝐫𝐞`); zero-width, bidi and other invisible format characters are dropped
 * (`ig\u200Bnore`); Unicode tag characters, which some models read as ASCII while humans see
 * nothing, are decoded to that ASCII; Cyrillic, Greek and Armenian letters that look like Latin
 * ones are folded to Latin inside words that are written in Latin or only in look-alikes
 * (`іgnоrе` with Cyrillic і, о, е), so real Cyrillic or Greek text is left alone; decimal
 * digits of other scripts (`٤١١١`) are read as ASCII digits, and HTML character references
 * (`&#64;`, `&lt;`) and `%40` as the characters they stand for.
 *
 * Every character of the result keeps the span of the original it came from, so a finding in
 * the normalized text is reported at its place in the ORIGINAL text.
 */

import { codePointAt } from '../core/code-point.ts';
import { asciiBytes } from './ascii.ts';

export interface NormalizedText {
  /** The text to scan. */
  readonly text: string;
  /** Where in the original each UTF-16 unit of `text` came from: [sourceStart[i], sourceEnd[i]).
   *  Undefined when `text` is the original unchanged (the common, all-ASCII case). */
  readonly sourceStart: Int32Array | undefined;
  readonly sourceEnd: Int32Array | undefined;
  readonly originalLength: number;
}

// Invisible format characters: zero-width space/joiners, direction marks, bidi embeddings and
// isolates, word joiner and invisible operators, BOM, soft hyphen, Mongolian vowel separator,
// combining grapheme joiner, Arabic letter mark, Hangul fillers, variation selectors.
function isInvisible(cp: number): boolean {
  return (
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x2066 && cp <= 0x206f) ||
    cp === 0xfeff ||
    cp === 0x00ad ||
    cp === 0x180e ||
    cp === 0x034f ||
    cp === 0x061c ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x3164 ||
    cp === 0xffa0 ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0xfff9 && cp <= 0xfffb)
  );
}

/** Look-alikes of Latin letters (Unicode confusables that NFKC leaves alone). */
const HOMOGLYPHS: ReadonlyMap<number, string> = new Map(
  Object.entries({
    // Cyrillic
    а: 'a',
    в: 'b',
    е: 'e',
    ѐ: 'e',
    ё: 'e',
    һ: 'h',
    і: 'i',
    ї: 'i',
    ј: 'j',
    к: 'k',
    ӏ: 'l',
    м: 'm',
    н: 'h',
    о: 'o',
    р: 'p',
    с: 'c',
    ѕ: 's',
    т: 't',
    у: 'y',
    ү: 'y',
    х: 'x',
    ԁ: 'd',
    ԛ: 'q',
    ԝ: 'w',
    ɡ: 'g',
    ı: 'i',
    А: 'A',
    В: 'B',
    Е: 'E',
    Ѕ: 'S',
    І: 'I',
    Ј: 'J',
    К: 'K',
    М: 'M',
    Н: 'H',
    О: 'O',
    Р: 'P',
    С: 'C',
    Т: 'T',
    У: 'Y',
    Х: 'X',
    Ү: 'Y',
    Ԁ: 'D',
    Ԛ: 'Q',
    Ԝ: 'W',
    Ӏ: 'I',
    // Greek
    α: 'a',
    ε: 'e',
    ι: 'i',
    κ: 'k',
    ν: 'v',
    ο: 'o',
    ρ: 'p',
    τ: 't',
    υ: 'u',
    χ: 'x',
    γ: 'y',
    ω: 'w',
    Α: 'A',
    Β: 'B',
    Ε: 'E',
    Ζ: 'Z',
    Η: 'H',
    Ι: 'I',
    Κ: 'K',
    Μ: 'M',
    Ν: 'N',
    Ο: 'O',
    Ρ: 'P',
    Τ: 'T',
    Υ: 'Y',
    Χ: 'X',
    // Armenian
    օ: 'o',
    ս: 'u',
    հ: 'h',
    ո: 'n',
    ց: 'g',
    զ: 'q',
    Տ: 'S',
    Օ: 'O',
  }).map(([k, v]) => [k.codePointAt(0)!, v]),
);

const COMBINING = /\p{M}/u;
const LETTER = /\p{L}/u;
/** Anything the slow path would change besides NFKC: invisibles, tags, combining marks,
 *  look-alikes, decimal digits of other scripts (all at U+0660 or later). */
// (Combining marks, U+034F and the variation selectors included, are \p{M}.)
const SPECIAL =
  /[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\u0131\u0261\u0370-\u03ff\u0400-\u04ff\u0500-\u052f\u0530-\u058f]|\p{M}|[\u{e0000}-\u{e007f}]|[\u{e0100}-\u{e01ef}]|(?=[^\0-\u065f])\p{Nd}/u;

/** The last text normalized and its view: every detector of a policy scans the same text in
 *  turn, so the view is computed once per text, not once per detector. The view is read-only. */
let lastText: string | undefined;
let lastView: NormalizedText | undefined;

/** The normalized view of `text` and the way back to it. Never throws. */
export function normalizeForScan(text: string): NormalizedText {
  if (text === lastText && lastView !== undefined) return lastView;
  const view = computeView(text);
  lastText = text;
  lastView = view;
  return view;
}

/**
 * Characters written as HTML character references (`&#64;`, `&#x40;`, `&commat;`, `&lt;`) and
 * `@` written as a URL escape (`%40`, how an address sits in a query string), and the escapes
 * of JSON and JavaScript strings (`\u0069`, `\x69`: text pasted from a tool's JSON): read as the
 * characters they stand for, as a browser or a model reads them. An address written
 * `jane&#64;example.com` or `jane%40example.com`, and an instruction spelled in numeric
 * references (`&#105;&#103;&#110;…`), were read as other text. Other URL escapes are left alone
 * (`%2F` in a URL is not a slash to anyone reading it). Read once: `&amp;lt;` is `&lt;`.
 */
const ESCAPE_SOURCE =
  '&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});|&(?:amp|lt|gt|quot|apos|nbsp|commat|period|colon|sol|lowbar|hyphen|num|excl|quest);|%40|\\\\u[0-9a-fA-F]{4}|\\\\x[0-9a-fA-F]{2}';
const ESCAPE_ALL = new RegExp(ESCAPE_SOURCE, 'g');
const HAS_ESCAPE = new RegExp(ESCAPE_SOURCE);
const NAMED_REFERENCES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  commat: '@',
  period: '.',
  colon: ':',
  sol: '/',
  lowbar: '_',
  hyphen: '-',
  num: '#',
  excl: '!',
  quest: '?',
};
const mayHoldEscape = (text: string): boolean =>
  ((text.includes('&') || text.includes('\\')) && HAS_ESCAPE.test(text)) || text.includes('%40');

/** What `reference` (a match of ESCAPE_SOURCE) stands for, or undefined when it names no
 *  character a reader would see (a control character, a surrogate, beyond Unicode). */
function characterOf(reference: string): string | undefined {
  if (reference === '%40') return '@';
  let cp: number;
  if (reference[0] === '\\') cp = parseInt(reference.slice(2), 16);
  else if (reference[1] !== '#') return NAMED_REFERENCES[reference.slice(1, -1)];
  else {
    const hex = reference[2] === 'x' || reference[2] === 'X';
    cp = hex ? parseInt(reference.slice(3, -1), 16) : parseInt(reference.slice(2, -1), 10);
  }
  if (!(cp >= 0x20 || cp === 9 || cp === 10 || cp === 13) || cp > 0x10ffff) return undefined;
  if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x7f && cp < 0xa0)) return undefined;
  return String.fromCodePoint(cp);
}

function computeView(text: string): NormalizedText {
  if (!mayHoldEscape(text)) return plainView(text);
  const read = readReferences(text);
  if (read === undefined) return plainView(text);
  // The view of the text the references were read in, mapped back through them.
  const view = plainView(read.text);
  if (view.sourceStart === undefined || view.sourceEnd === undefined)
    return { text: view.text, sourceStart: read.starts, sourceEnd: read.ends, originalLength: text.length };
  const sourceStart = new Int32Array(view.sourceStart.length);
  const sourceEnd = new Int32Array(view.sourceEnd.length);
  for (let k = 0; k < sourceStart.length; k++) {
    sourceStart[k] = read.starts[view.sourceStart[k]!]!;
    sourceEnd[k] = read.ends[view.sourceEnd[k]! - 1]!;
  }
  return { text: view.text, sourceStart, sourceEnd, originalLength: text.length };
}

/** `text` with its references read (ESCAPE_SOURCE), and where each unit came from; undefined
 *  when none stands for a character. A pass of its own, so that a text whose only change is a
 *  reference (`&amp;` in HTML, most of them ASCII) is not read unit by unit: 2 KB with one
 *  `&amp;` took 127 µs that way, 8–12 µs like this, against about 1 µs without it. */
function readReferences(text: string): { text: string; starts: Int32Array; ends: Int32Array } | undefined {
  // Every reference is longer than the one or two units it stands for: the view is never longer.
  const starts = new Int32Array(text.length);
  const ends = new Int32Array(text.length);
  let n = 0;
  let out = '';
  let copied = 0;
  ESCAPE_ALL.lastIndex = 0;
  const positions = identity(text.length + 1);
  for (let m = ESCAPE_ALL.exec(text); m !== null; m = ESCAPE_ALL.exec(text)) {
    const decoded = characterOf(m[0]);
    if (decoded === undefined) continue;
    out += text.slice(copied, m.index) + decoded;
    starts.set(positions.subarray(copied, m.index), n);
    ends.set(positions.subarray(copied + 1, m.index + 1), n);
    n += m.index - copied;
    for (let k = 0; k < decoded.length; k++) {
      starts[n] = m.index;
      ends[n++] = m.index + m[0].length;
    }
    copied = m.index + m[0].length;
  }
  if (copied === 0) return undefined;
  out += text.slice(copied);
  starts.set(positions.subarray(copied, text.length), n);
  ends.set(positions.subarray(copied + 1, text.length + 1), n);
  n += text.length - copied;
  return { text: out, starts: starts.subarray(0, n), ends: ends.subarray(0, n) };
}

/** 0, 1, 2, …, n - 1, shared and read only: offset maps of unchanged stretches are copied from
 *  it in runs (`set`), and an unchanged text's map is a view of it, allocating nothing. */
let IDENTITY = new Int32Array(0);
export function identity(n: number): Int32Array {
  if (IDENTITY.length < n) {
    IDENTITY = new Int32Array(Math.max(n, 2 * IDENTITY.length, 4096));
    for (let i = 0; i < IDENTITY.length; i++) IDENTITY[i] = i;
  }
  return IDENTITY.subarray(0, n);
}

function plainView(text: string): NormalizedText {
  if (asciiBytes(text) !== undefined)
    return { text, sourceStart: undefined, sourceEnd: undefined, originalLength: text.length };
  const needsNfkc = text.normalize('NFKC') !== text;
  if (!needsNfkc && !SPECIAL.test(text))
    return { text, sourceStart: undefined, sourceEnd: undefined, originalLength: text.length };
  const out: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const emit = (s: string, start: number, end: number): void => {
    for (let k = 0; k < s.length; k++) {
      out.push(s.charCodeAt(k));
      starts.push(start);
      ends.push(end);
    }
  };
  let i = 0;
  while (i < text.length) {
    const cp = codePointAt(text, i);
    const width = cp > 0xffff ? 2 : 1;
    if (cp < 0x80 && !(text.charCodeAt(i + 1) >= 0x300)) {
      out.push(cp);
      starts.push(i);
      ends.push(i + 1);
      i += 1;
      continue;
    }
    if (isInvisible(cp)) {
      i += width;
      continue;
    }
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      if (cp >= 0xe0020 && cp <= 0xe007e) emit(String.fromCharCode(cp - 0xe0000), i, i + width);
      i += width;
      continue;
    }
    // A base character with its combining marks is normalized as one cluster (é = e + U+0301).
    let j = i + width;
    while (j < text.length) {
      const next = codePointAt(text, j);
      if (next < 0x300) break;
      const w = next > 0xffff ? 2 : 1;
      if (isInvisible(next)) {
        j += w;
        continue;
      }
      if (!COMBINING.test(String.fromCodePoint(next))) break;
      j += w;
    }
    if (j - i === width && !needsNfkc) {
      for (let k = i; k < j; k++) {
        out.push(text.charCodeAt(k));
        starts.push(i);
        ends.push(j);
      }
    } else {
      let cluster = text.slice(i, j);
      if (j - i > width) cluster = [...cluster].filter((c) => !isInvisible(c.codePointAt(0)!)).join('');
      emit(cluster.normalize('NFKC'), i, j);
    }
    i = j;
  }
  foldHomoglyphWords(out);
  foldDigits(out);
  let result = '';
  for (let k = 0; k < out.length; k += 4096) result += String.fromCharCode(...out.slice(k, k + 4096));
  return {
    text: result,
    sourceStart: Int32Array.from(starts),
    sourceEnd: Int32Array.from(ends),
    originalLength: text.length,
  };
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;
const digitValues = new Map<number, number>();
/**
 * Decimal digits of other scripts (Arabic-Indic `٤١١١`, Devanagari, Bengali, Thai…), which
 * NFKC leaves alone, as ASCII digits: a card number or phone number written in them is the
 * same number (a model asked to write one so that a filter misses it can). In place; a digit's
 * value is its distance from the first digit of its run of ten (Unicode keeps each script's
 * digits 0–9 contiguous).
 */
function foldDigits(codes: number[]): void {
  for (let k = 0; k < codes.length; k++) {
    const code = codes[k]!;
    if (code < 0x660 || (code >= 0xd800 && code <= 0xdfff)) continue;
    let value = digitValues.get(code);
    if (value === undefined) {
      value = -1;
      if (DECIMAL_DIGIT.test(String.fromCharCode(code))) {
        let zero = code;
        while (zero > code - 9 && DECIMAL_DIGIT.test(String.fromCharCode(zero - 1))) zero--;
        value = code - zero;
      }
      if (digitValues.size < 4096) digitValues.set(code, value);
    }
    if (value >= 0) codes[k] = 0x30 + value;
  }
}

/** Folds look-alikes in words written in Latin letters or only in look-alikes. In place. */
function foldHomoglyphWords(codes: number[]): void {
  let w = 0;
  while (w < codes.length) {
    if (!isWordCode(codes[w]!)) {
      w++;
      continue;
    }
    let end = w;
    let latin = false;
    let confusable = 0;
    let letters = 0;
    while (end < codes.length && isWordCode(codes[end]!)) {
      const code = codes[end]!;
      if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) latin = true;
      else if (code >= 0x80) {
        if (HOMOGLYPHS.has(code)) confusable++;
        if (LETTER.test(String.fromCharCode(code))) letters++;
      }
      end++;
    }
    if (confusable > 0 && (latin || confusable === letters)) {
      for (let k = w; k < end; k++) {
        const folded = HOMOGLYPHS.get(codes[k]!);
        if (folded !== undefined) codes[k] = folded.charCodeAt(0);
      }
    }
    w = end;
  }
}

function isWordCode(code: number): boolean {
  if (code < 0x80)
    return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
  // Surrogates count as word characters so a word is not split inside an astral letter.
  if (code >= 0xd800 && code <= 0xdfff) return true;
  const c = String.fromCharCode(code);
  return LETTER.test(c) || COMBINING.test(c);
}

/** The original span of the normalized span [start, end). */
export function toOriginalSpan(n: NormalizedText, start: number, end: number): { start: number; end: number } {
  if (n.sourceStart === undefined || n.sourceEnd === undefined) return { start, end };
  if (end <= start) {
    const at = start < n.sourceStart.length ? n.sourceStart[start]! : n.originalLength;
    return { start: at, end: at };
  }
  return { start: n.sourceStart[start]!, end: n.sourceEnd[end - 1]! };
}

/** The offset in the original where the normalized character `at` came from; the original's
 *  length for the end of the text. For the open point of a stream (detector.ts pendingFrom). */
export function originalOffset(n: NormalizedText, at: number): number {
  if (n.sourceStart === undefined) return Math.min(at, n.originalLength);
  return at < n.sourceStart.length ? n.sourceStart[at]! : n.originalLength;
}

/** The start of the run of characters `isRunChar` accepts that ends `text`, looking back at
 *  most `maxBack` characters (text.length when the text does not end in such a character). */
export function trailingRunStart(text: string, isRunChar: (code: number) => boolean, maxBack: number): number {
  const stop = Math.max(0, text.length - maxBack);
  let i = text.length;
  while (i > stop && isRunChar(text.charCodeAt(i - 1))) i--;
  return i;
}
