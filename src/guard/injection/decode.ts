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

export function encodedCandidates(text: string): EncodedCandidate[] {
  const out: EncodedCandidate[] = [];
  for (const m of text.matchAll(BASE64)) {
    if (out.length >= MAX_CANDIDATES) break;
    const run = m[0].slice(0, MAX_CANDIDATE_CHARS);
    // A run of letters only (a long word, a camelCase identifier) is not base64 in practice.
    if (!/[0-9+/=]/.test(run) && !(/[A-Z]/.test(run) && /[a-z]/.test(run))) continue;
    const decoded = readable(Buffer.from(run.replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64'));
    if (decoded !== undefined) out.push({ start: m.index, end: m.index + m[0].length, decoded });
  }
  for (const m of text.matchAll(HEX)) {
    if (out.length >= MAX_CANDIDATES) break;
    const digits = m[0].slice(0, MAX_CANDIDATE_CHARS).replace(/\\x|0x|%|[\s,:]/g, '');
    if (digits.length % 2 !== 0) continue;
    const decoded = readable(Buffer.from(digits, 'hex'));
    if (decoded !== undefined) out.push({ start: m.index, end: m.index + m[0].trimEnd().length, decoded });
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
