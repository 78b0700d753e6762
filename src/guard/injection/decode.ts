/**
 * Encoded instructions: runs of base64 or hex that decode to readable text are decoded so the
 * cues can be looked for in what a model would read after decoding them. Binary payloads
 * (images, hashes, keys) do not decode to text and are skipped; the number and size of
 * candidates per text are capped so a flood of them costs bounded work.
 */
import { allMatches } from '../detector-support.ts';

export interface EncodedCandidate {
  /** Span of the encoded run in the normalized text. */
  readonly start: number;
  readonly end: number;
  readonly decoded: string;
}

const BASE64 = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])/g;
const HEX = /(?<![0-9A-Za-z])(?:(?:\\x|0x|%)?[0-9A-Fa-f]{2}[\s,:]{0,2}){12,}/g;
const MAX_CANDIDATES = 16;
const MAX_CANDIDATE_CHARS = 64 * 1024;

const B64 = 1;
const HEXISH = 2;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9+/_=-]/.test(ch)) CLASS[c]! |= B64;
  if (/[0-9A-Fa-f\s,:x%\\]/.test(ch)) CLASS[c]! |= HEXISH;
}
const MIN_RUN = 24;

/**
 * Regions that may hold an encoded payload: runs of base64 characters, or of hex digits with
 * their usual separators, long enough to carry an instruction. The candidate patterns then run
 * on these regions only (most texts have none). Either kind of region is at least MIN_RUN
 * characters of its class, so the search looks at every MIN_RUN-th character and reads back
 * only from one that is in the class: ordinary prose (words shorter than MIN_RUN, hex runs
 * broken by other letters) is skipped at a few reads per MIN_RUN characters.
 */
function encodedRegions(text: string): Array<[number, number]> {
  const regions = [...classRuns(text, B64, 0), ...classRuns(text, HEXISH, MIN_RUN)];
  // In the order they end, base64 first at the same end (the order of one left-to-right pass).
  if (regions.length > 1) regions.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
  return regions.map(([from, to]) => [from, to]);
}

const classOf = (text: string, i: number): number => {
  const c = text.charCodeAt(i);
  return c < 128 ? CLASS[c]! : 0;
};
const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** Maximal runs of characters of class `cls` at least MIN_RUN long (holding at least
 *  `minHexDigits` hex digits), tagged with the class. */
function classRuns(text: string, cls: number, minHexDigits: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const n = text.length;
  // Invariant: i is 0 or text[i - 1] is not of the class, so a run found from i starts at i.
  let i = 0;
  while (i + MIN_RUN <= n) {
    const probe = i + MIN_RUN - 1;
    if (!(classOf(text, probe) & cls)) {
      i = probe + 1;
      continue;
    }
    let back = probe - 1;
    while (back >= i && classOf(text, back) & cls) back--;
    if (back >= i) {
      i = back + 1;
      continue;
    }
    let end = probe + 1;
    while (end < n && classOf(text, end) & cls) end++;
    if (minHexDigits > 0) {
      let digits = 0;
      for (let k = i; k < end && digits < minHexDigits; k++) if (isHexDigit(text.charCodeAt(k))) digits++;
      if (digits >= minHexDigits) out.push([i, end, cls]);
    } else out.push([i, end, cls]);
    i = end + 1;
  }
  return out;
}

export function encodedCandidates(text: string): EncodedCandidate[] {
  const out: EncodedCandidate[] = [];
  const seen = new Set<number>();
  for (const [from, to] of encodedRegions(text)) {
    // A little context on each side, for the patterns' boundary checks.
    const lo = Math.max(0, from - 1);
    const region = text.slice(lo, Math.min(text.length, to + 1));
    for (const m of allMatches(BASE64, region)) {
      if (out.length >= MAX_CANDIDATES) return out;
      if (seen.has(lo + m.index)) continue;
      const run = m[0].slice(0, MAX_CANDIDATE_CHARS);
      // A run of letters only (a long word, a camelCase identifier) is not base64 in practice.
      if (!/[0-9+/=]/.test(run) && !(/[A-Z]/.test(run) && /[a-z]/.test(run))) continue;
      const decoded = readable(
        Buffer.from(
          run.replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')),
          'base64',
        ),
      );
      if (decoded !== undefined) {
        seen.add(lo + m.index);
        out.push({ start: lo + m.index, end: lo + m.index + m[0].length, decoded });
      }
    }
    for (const m of allMatches(HEX, region)) {
      if (out.length >= MAX_CANDIDATES) return out;
      if (seen.has(lo + m.index)) continue;
      const digits = m[0].slice(0, MAX_CANDIDATE_CHARS).replace(/\\x|0x|%|[\s,:]/g, '');
      if (digits.length % 2 !== 0) continue;
      const decoded = readable(Buffer.from(digits, 'hex'));
      if (decoded !== undefined) {
        seen.add(lo + m.index);
        out.push({ start: lo + m.index, end: lo + m.index + m[0].trimEnd().length, decoded });
      }
    }
  }
  return out;
}

/** The bytes as text when they are UTF-8 text with words in it, else undefined. */
function readable(bytes: Buffer): string | undefined {
  if (bytes.length < 12) return undefined;
  const s = bytes.toString('utf8');
  let printable = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 || (c >= 0xa0 && c !== 0xfffd)) printable++;
  }
  return printable / s.length >= 0.9 && /\s/.test(s) ? s : undefined;
}

/** Common English words as they read after ROT13 (the, and, you, your, ignore, all, this, with,
 *  for, previous, instructions, print, system, prompt), none of them an English word itself. */
export const ROT13_WORD_LIST: readonly string[] = [
  'gur',
  'naq',
  'lbh',
  'lbhe',
  'vtaber',
  'nyy',
  'guvf',
  'jvgu',
  'sbe',
  'cerivbhf',
  'vafgehpgvbaf',
  'cevag',
  'flfgrz',
  'cebzcg',
];
const ROT13_WORDS = new RegExp(`\\b(?:${ROT13_WORD_LIST.join('|')})\\b`, 'g');

/** Whether the folded text reads like ROT13-encoded English (two different common words). */
export function looksRot13(folded: string): boolean {
  const seen = new Set<string>();
  for (const m of allMatches(ROT13_WORDS, folded)) if (seen.add(m[0]).size >= 2) return true;
  return false;
}
