/**
 * The PII detector: email addresses, phone numbers, payment cards, IBANs, US social security
 * numbers and IP addresses, each validated (Luhn and issuer ranges, mod-97 and country length,
 * never-issued SSN ranges, octet and group ranges) so that order numbers, dates, UUIDs, hashes
 * and version strings are left alone. Scans the normalized view (full-width digits, zero-width
 * characters between digits) and reports positions in the original text.
 */
import { isIPv6 } from 'node:net';
import type { GuardFinding, TextDetector } from '../detector.ts';
import { allMatches, INVISIBLE_ALLOWANCE, overlapFree, validateTypes } from '../detector-support.ts';
import { normalizeForScan, originalOffset, toOriginalSpan, trailingRunStart } from '../normalize.ts';
import { IBAN_LENGTHS, ibanValid } from './checksums.ts';
import { classifyNumber } from './numbers.ts';
import { writtenEmailSpans, writtenEmailStart } from './written-email.ts';

export const PII_TYPES = ['EMAIL', 'PHONE', 'CARD', 'IBAN', 'US_SSN', 'IP_ADDRESS'] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface PiiDetectorOptions {
  /** The types to find; all of PII_TYPES when absent. */
  readonly types?: readonly string[];
}

// Bounded repetitions everywhere, anchored by look-behinds so a run is tried from its start
// only: each pattern does work linear in the text.
const EMAIL =
  /(?<![\w.%+-])[\w.%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,4}[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/g;
const FILE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'bmp', 'avif', 'tiff']);
const NUMBER = /(?<![\w.+\-/@#$€£¥])\+?\(?\d[\d \-.()]{4,36}\d/g;
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,31}/g;
/** A lower- or mixed-case IBAN counts when written in groups of four, or after the word. */
const IBAN_GROUPED = /^[A-Za-z0-9]{4}(?: [A-Za-z0-9]{4}){2,}(?: [A-Za-z0-9]{1,4})?$/;
const IBAN_CONTEXT = /\biban\b[^\n]{0,20}$/i;
const IPV4 = /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)/g;
/** Sticky: tried only at the start of a run of hex digits and colons that holds a colon. */
const IPV6 =
  /(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:])[0-9A-Fa-f:]{3,39}(?:\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)/y;
const VERSION_CUE = /(?:\bv|\bver\.?|\bversion|\brelease|\bbuild)\s*$/i;
const NUMBER_TRAILER = /^(?:\w|[.\-/:,]\d)/;

/**
 * The longest span a finding of each type covers, in visible characters, including the cue a
 * bare number needs in front of it (so a window keeps the cue with the digits): an email is
 * 64 + @ + 4 × 64 + 24, or written out (written-email.ts) 64 + 17 + 4 × (63 + 17) + 24 with
 * each at or dot form up to 17 (`   [   at   ]   `); a number run 40 (a card spelled digit by digit: 19 digits, 18
 * separators) plus a cue of up to 15 characters and 20 between;
 * an IBAN 4 + 31 × 2; an IPv6 address 39 + an embedded IPv4 16.
 */
const MAX_VISIBLE_SPAN: Readonly<Record<PiiType, number>> = {
  EMAIL: 425,
  PHONE: 80,
  CARD: 80,
  US_SSN: 80,
  IBAN: 66,
  IP_ADDRESS: 56,
};

export function createPiiDetector(opts: PiiDetectorOptions = {}): TextDetector {
  const types = new Set<PiiType>(validateTypes(opts.types, PII_TYPES, 'pii.types') as PiiType[]);
  const want = (t: PiiType) => types.has(t);
  const wantNumbers = want('PHONE') || want('CARD') || want('US_SSN');
  return {
    name: 'pii',
    maxMatchLength: Math.max(...[...types].map((t) => MAX_VISIBLE_SPAN[t])) * INVISIBLE_ALLOWANCE,
    scan(original) {
      const norm = normalizeForScan(original);
      const text = norm.text;
      const raw: Array<{ type: PiiType; start: number; end: number }> = [];
      if (want('EMAIL')) {
        if (text.includes('@')) {
          for (const m of allMatches(EMAIL, text)) {
            const tld = m[0].slice(m[0].lastIndexOf('.') + 1).toLowerCase();
            if (!FILE_EXTENSIONS.has(tld)) raw.push({ type: 'EMAIL', start: m.index, end: m.index + m[0].length });
          }
        }
        for (const f of writtenEmailSpans(text)) raw.push({ type: 'EMAIL', ...f });
      }
      if (want('IBAN')) {
        for (const m of allMatches(IBAN, text)) {
          const upper = m[0].toUpperCase();
          const span = ibanSpan(upper);
          if (span === undefined) continue;
          // Written in lower case (how a model asked to slip one past a filter may write it), an
          // IBAN-shaped code is more often an identifier: it needs the usual groups or the word.
          const written = m[0].slice(0, span);
          if (
            written !== upper.slice(0, span) &&
            !IBAN_GROUPED.test(written) &&
            !IBAN_CONTEXT.test(text.slice(Math.max(0, m.index - 30), m.index))
          )
            continue;
          raw.push({ type: 'IBAN', start: m.index, end: m.index + span });
        }
      }
      if (wantNumbers) {
        for (const m of allMatches(NUMBER, text)) {
          const end = m.index + m[0].length;
          if (NUMBER_TRAILER.test(text.slice(end, end + 2))) continue;
          const kind = classifyNumber(m[0], text.slice(Math.max(0, m.index - 40), m.index));
          if (kind !== undefined && want(kind)) raw.push({ type: kind, start: m.index, end });
        }
      }
      if (want('IP_ADDRESS')) {
        if (text.includes('.')) {
          for (const m of allMatches(IPV4, text)) {
            if (!VERSION_CUE.test(text.slice(Math.max(0, m.index - 12), m.index)))
              raw.push({ type: 'IP_ADDRESS', start: m.index, end: m.index + m[0].length });
          }
        }
        for (const f of ipv6Spans(text)) raw.push({ type: 'IP_ADDRESS', ...f });
      }
      return overlapFree(raw).map((f): GuardFinding => {
        const span = toOriginalSpan(norm, f.start, f.end);
        return { detector: 'pii', type: f.type, start: span.start, end: span.end, score: 1 };
      });
    },
    pendingFrom(original) {
      const norm = normalizeForScan(original);
      const text = norm.text;
      let open = text.length;
      // An address still being written: the run of address characters the text ends with.
      // Or written out (`jane [at] example [dot] com`): back over each at or dot form and the run before it.
      if (want('EMAIL')) {
        const run = trailingRunStart(text, isEmailChar, MAX_VISIBLE_SPAN.EMAIL);
        open = Math.min(open, writtenEmailStart(text, run, isEmailChar, MAX_VISIBLE_SPAN.EMAIL));
      }
      // A number (card, phone, SSN, IPv4) more digits could complete or spoil: the trailing run
      // of number characters from its first digit, `+` or `(`, and a separator a digit may follow.
      if (wantNumbers || want('IP_ADDRESS')) {
        let end = text.length;
        if (end > 0 && TRAILER_SEPARATOR.includes(text[end - 1]!)) end--;
        let at = trailingRunStart(text.slice(0, end), isNumberChar, NUMBER_SPAN);
        while (at < end && !isNumberStart(text.charCodeAt(at))) at++;
        if (at < end) open = Math.min(open, at);
      }
      // An IBAN: letters, digits and single spaces, from a word that starts with two letters and
      // two digits (or as much of that as the text has so far).
      if (want('IBAN')) {
        let at = trailingRunStart(text, isIbanChar, MAX_VISIBLE_SPAN.IBAN);
        while (at < text.length && !isIbanStart(text, at)) at++;
        if (at < text.length) open = Math.min(open, at);
      }
      if (want('IP_ADDRESS')) open = Math.min(open, trailingRunStart(text, isIpv6Char, MAX_VISIBLE_SPAN.IP_ADDRESS));
      return originalOffset(norm, open);
    },
  };
}

/** A number run is at most 40 characters, and its trailer check reads two more. */
const NUMBER_SPAN = 42;
const TRAILER_SEPARATOR = '.-/:,';
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isLetter = (c: number) => (c | 32) >= 97 && (c | 32) <= 122;
const isDigit = (c: number) => c >= 48 && c <= 57;
/** An address's characters, and `&`, `#` and `\\`, which begin a reference or escape still
 *  being written (`jane&#6`, `jane\\u00`: read as `@` once it ends, normalize.ts). */
const isEmailChar = (c: number) =>
  isAlnum(c) ||
  c === 95 ||
  c === 46 ||
  c === 37 ||
  c === 43 ||
  c === 45 ||
  c === 64 ||
  c === 38 ||
  c === 35 ||
  c === 92;
/** Digits, space, dash, dot, parentheses and plus. */
const isNumberChar = (c: number) =>
  (c >= 48 && c <= 57) || c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 43;
const isNumberStart = (c: number) => (c >= 48 && c <= 57) || c === 43 || c === 40;
const isIbanChar = (c: number) => isAlnum(c) || c === 32;
/** Where an IBAN could start: a word's first letter, then a letter and two digits as far as the text goes. */
function isIbanStart(text: string, at: number): boolean {
  const n = text.length;
  return (
    isLetter(text.charCodeAt(at)) &&
    (at === 0 || !isAlnum(text.charCodeAt(at - 1))) &&
    (at + 1 >= n || isLetter(text.charCodeAt(at + 1))) &&
    (at + 2 >= n || isDigit(text.charCodeAt(at + 2))) &&
    (at + 3 >= n || isDigit(text.charCodeAt(at + 3)))
  );
}
const isIpv6Char = (c: number) => isHexOrColon(c) || c === 46 || c === 37;

const isHexOrColon = (c: number) => c === 58 || (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/**
 * IPv6 addresses. The pattern is tried only at the start of each run of hex digits and colons
 * that holds a colon (found from the colons), not at every position of the text: a text with
 * times and ratios (`06:00`) no longer costs the pattern's look-arounds at every character.
 */
function ipv6Spans(text: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let done = -1;
  for (let colon = text.indexOf(':'); colon !== -1; colon = text.indexOf(':', colon + 1)) {
    if (colon < done) continue;
    let start = colon;
    while (start > 0 && colon - start < 4 && isHexOrColon(text.charCodeAt(start - 1))) start--;
    // Inside a longer run: the address (if any) starts at the run's start, already tried.
    if (start > 0 && isHexOrColon(text.charCodeAt(start - 1)) && colon - start >= 4) {
      done = colon + 1;
      continue;
    }
    IPV6.lastIndex = start;
    const m = IPV6.exec(text);
    if (m !== null && isIPv6(m[0]) && m[0].split(':').filter((g) => g !== '').length >= 2) {
      out.push({ start, end: start + m[0].length });
      done = start + m[0].length;
    } else {
      done = colon + 1;
    }
  }
  return out;
}

/** The length of the valid IBAN at the start of `candidate` (spaces included), if any. */
function ibanSpan(candidate: string): number | undefined {
  const length = IBAN_LENGTHS.get(candidate.slice(0, 2));
  if (length === undefined) return undefined;
  let compact = '';
  let i = 0;
  for (; i < candidate.length && compact.length < length; i++) if (candidate[i] !== ' ') compact += candidate[i];
  if (compact.length !== length) return undefined;
  // The IBAN must end where a group ends, not in the middle of a longer code.
  if (i < candidate.length && candidate[i] !== ' ') return undefined;
  return ibanValid(compact) ? i : undefined;
}
