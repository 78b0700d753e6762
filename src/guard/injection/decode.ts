/**
 * Encoded instructions: runs of base64 or hex that decode to readable text are decoded so the
 * cues can be looked for in what a model would read after decoding them. Binary payloads
 * (images, hashes, keys) do not decode to text and are skipped; the number and size of
 * candidates per text are capped so a flood of them costs bounded work.
 */

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
 * their usual separators, long enough to carry an instruction. One pass over the text; the
 * candidate patterns then run on these regions only (most texts have none).
 */
function encodedRegions(text: string): Array<[number, number]> {
  const regions: Array<[number, number]> = [];
  let b64Start = -1;
  let hexStart = -1;
  let hexDigits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0;
    const cls = c < 128 && i < text.length ? CLASS[c]! : 0;
    if (cls & B64) {
      if (b64Start < 0) b64Start = i;
    } else if (b64Start >= 0) {
      if (i - b64Start >= MIN_RUN) regions.push([b64Start, i]);
      b64Start = -1;
    }
    if (cls & HEXISH) {
      if (hexStart < 0) {
        hexStart = i;
        hexDigits = 0;
      }
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)) hexDigits++;
    } else if (hexStart >= 0) {
      if (hexDigits >= MIN_RUN) regions.push([hexStart, i]);
      hexStart = -1;
    }
  }
  return regions;
}

export function encodedCandidates(text: string): EncodedCandidate[] {
  const out: EncodedCandidate[] = [];
  const seen = new Set<number>();
  for (const [from, to] of encodedRegions(text)) {
    // A little context on each side, for the patterns' boundary checks.
    const lo = Math.max(0, from - 1);
    const region = text.slice(lo, Math.min(text.length, to + 1));
    for (const m of region.matchAll(BASE64)) {
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
    for (const m of region.matchAll(HEX)) {
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
const ROT13_WORDS = /\b(?:gur|naq|lbh|lbhe|vtaber|nyy|guvf|jvgu|sbe|cerivbhf|vafgehpgvbaf|cevag|flfgrz|cebzcg)\b/g;

/** Whether the folded text reads like ROT13-encoded English (two different common words). */
export function looksRot13(folded: string): boolean {
  const seen = new Set<string>();
  for (const m of folded.matchAll(ROT13_WORDS)) if (seen.add(m[0]).size >= 2) return true;
  return false;
}
