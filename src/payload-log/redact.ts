/**
 * Redaction of payload text before it is encrypted and stored. Built-in rules catch the
 * shapes that must never be kept even encrypted (credentials: API keys, bearer tokens, JWTs;
 * personal data: email addresses, payment card numbers); configured patterns
 * (`payload_log.redact`) run after them. Every match becomes `[REDACTED:<rule>]`.
 */
import { patternProblem } from './config.ts';

interface Rule {
  readonly name: string;
  readonly re: RegExp;
  /** Extra check on a match (e.g. Luhn); false keeps the text. */
  readonly accept?: (match: string) => boolean;
  /** Keeps part of the match (e.g. the "Bearer " scheme). */
  readonly keep?: (match: string) => string;
}

const BUILT_IN: readonly Rule[] = [
  // JWTs before generic tokens, so a bearer JWT is named for what it is.
  { name: 'jwt', re: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  { name: 'bearer_token', re: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, keep: (m) => `${m.split(/\s+/)[0]} ` },
  {
    name: 'api_key',
    re: /\b(?:pcl_[0-9A-Za-z]{20,}|sk-ant-[A-Za-z0-9_-]{16,}|(?:sk|pk|rk)-(?:proj-|live-|test-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,})/g,
  },
  { name: 'email', re: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b/g },
  { name: 'card_number', re: /\b\d(?:[ -]?\d){12,18}\b/g, accept: (m) => luhn(m.replace(/[ -]/g, '')) },
];

export type Redactor = (text: string) => string;

/** Throws TypeError naming the pattern's index when one is unusable (config validation normally catches it first). */
export function createRedactor(patterns: readonly string[]): Redactor {
  const rules: Rule[] = [...BUILT_IN];
  patterns.forEach((p, i) => {
    const problem = patternProblem(p);
    if (problem !== undefined) throw new TypeError(`payload_log.redact[${i}] ${problem}`);
    rules.push({ name: `rule_${i}`, re: new RegExp(p, 'g') });
  });
  return (text) => {
    let out = text;
    for (const rule of rules) {
      out = out.replace(rule.re, (m) => {
        if (rule.accept !== undefined && !rule.accept(m)) return m;
        return `${rule.keep?.(m) ?? ''}[REDACTED:${rule.name}]`;
      });
    }
    return out;
  };
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
