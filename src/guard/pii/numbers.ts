/**
 * Telling a run of digits apart: a payment card, a US social security number, a phone number,
 * or none of them (an order number, a date, an amount, a version). A run is only called
 * personal data when its checksum or its formatting says so; bare digits need a word nearby
 * ("phone", "SSN") to count.
 */
import { cardNetwork, luhnValid, ssnValid } from './checksums.ts';

export type NumberKind = 'CARD' | 'US_SSN' | 'PHONE';

const SSN_SHAPE = /^(\d{3})-(\d{2})-(\d{4})$/;
const SSN_SPACED = /^(\d{3})([ .])(\d{2})\2(\d{4})$/;
// Whole words only ('tel' is not in 'hotel', 'call' not in 'recall'); words for 'number' alone
// are left out, as they name order and invoice numbers as often as phone numbers.
const PHONE_CONTEXT =
  /(?:\b(?:phone|tel|mobile|cell|call|fax|whats ?app|sms|contact|reach|ring|telefon|handy|rufnummer|t[ée]l[ée]phone|portable|tel[ée]fono|m[óo]vil|celular)|电话|手机|聯絡|联系)[^\n]{0,20}$/iu;
const SSN_CONTEXT = /\b(?:ssn|social security|soc\.? sec\.?|tax ?id|itin)\b[^\n]{0,20}$/i;
const DATE_SHAPES = [/^\d{4}[-./]\d{1,2}[-./]\d{1,2}$/, /^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$/];

/**
 * The kind of the digit run `candidate` (digits with spaces, dashes, dots, parentheses and
 * an optional leading `+`), given up to 40 characters of text before it.
 */
export function classifyNumber(candidate: string, before: string): NumberKind | undefined {
  const digits = candidate.replace(/\D/g, '');
  const n = digits.length;
  const ssn = SSN_SHAPE.exec(candidate);
  if (ssn !== null) return ssnValid(ssn[1]!, ssn[2]!, ssn[3]!) ? 'US_SSN' : undefined;
  // Spaces or dots instead of dashes (`123 45 6789`): an SSN only with the word before it.
  const spelled = SSN_SPACED.exec(candidate);
  if (spelled !== null && SSN_CONTEXT.test(before))
    return ssnValid(spelled[1]!, spelled[3]!, spelled[4]!) ? 'US_SSN' : undefined;
  if (n === 9 && /^\d{9}$/.test(candidate) && SSN_CONTEXT.test(before)) {
    return ssnValid(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5)) ? 'US_SSN' : undefined;
  }
  if (DATE_SHAPES.some((re) => re.test(candidate))) return undefined;
  if (
    n >= 12 &&
    n <= 19 &&
    isCardFormatted(candidate) &&
    luhnValid(digits) &&
    !/^(\d)\1+$/.test(digits) &&
    cardNetwork(digits) !== undefined
  ) {
    return 'CARD';
  }
  if (isPhone(candidate, digits)) return 'PHONE';
  if (n >= 7 && n <= 15 && !candidate.includes('.') && PHONE_CONTEXT.test(before)) return 'PHONE';
  return undefined;
}

/**
 * Card numbers are written unbroken, in groups of 4 (Amex 4-6-5) with one kind of separator
 * (space, dash or dot), or spelled out digit by digit with one separator between every two
 * (`4 1 1 1 …`, how a model asked to dodge a filter writes one).
 */
function isCardFormatted(candidate: string): boolean {
  if (/^\d+$/.test(candidate)) return true;
  if (/^\d([ .-])\d(?:\1\d)+$/.test(candidate)) return true;
  const groups = candidate.split(/[ .-]/);
  const seps = candidate.replace(/\d/g, '');
  if (!/^(?: +|-+|\.+)$/.test(seps) || new Set(seps).size !== 1) return false;
  if (groups.some((g) => !/^\d+$/.test(g))) return false;
  const lens = groups.map((g) => g.length).join(',');
  if (lens === '4,6,5' || lens === '4,6,4') return true;
  return groups.slice(0, -1).every((g) => g.length === 4) && groups.at(-1)!.length >= 1 && groups.at(-1)!.length <= 4;
}

/**
 * A phone number by its formatting: international (`+44 20 7946 0958`, `0049 30 1234567`),
 * North American (`(415) 555-0132`, `415-555-0132`), or national with a trunk 0 and grouping
 * (`030 1234 5678`, `01 23 45 67 89`).
 */
function isPhone(candidate: string, digits: string): boolean {
  const n = digits.length;
  const groups = candidate
    .replace(/^\+/, '')
    .split(/[ .\-()]+/)
    .filter((g) => g !== '');
  if (candidate.startsWith('+')) return n >= 8 && n <= 15 && digits[0] !== '0' && (groups.length >= 2 || n >= 10);
  if (digits.startsWith('00') && digits[2] !== '0' && groups.length >= 2) return n >= 10 && n <= 15;
  if (groups.length < 2) return false;
  const dotted = candidate.includes('.');
  // Dots alone are how versions, amounts and IPs are written; a dotted phone needs 3+ groups.
  if (dotted && (groups.length < 3 || groups.some((g) => g.length > 4))) return false;
  if (n === 10 && /^\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]\d{4}$/.test(candidate)) return true;
  if (n === 11 && /^1[ .-]\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]\d{4}$/.test(candidate)) return true;
  return (
    digits[0] === '0' &&
    digits[1] !== '0' &&
    n >= 9 &&
    n <= 12 &&
    groups[0]!.length <= 5 &&
    groups.every((g) => g.length >= 2 && g.length <= 8)
  );
}
