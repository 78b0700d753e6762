/**
 * The secrets detector: provider and cloud credentials by their published formats (OpenAI,
 * Anthropic, AWS, GCP, GitHub, Slack, Stripe), PEM private key blocks (service-account JSON
 * included), JWTs (three base64url parts whose header decodes to a JSON object with `alg`),
 * this gateway's own `pcl_` keys (checksum verified), and exact values the operator lists
 * (its provider keys). One pass of one pattern over the normalized text finds every format;
 * placeholders (`sk-xxxx…`) are not secrets and are left alone.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import { isWellFormedApiKey } from '../../identity/api-key-format.ts';
import { asciiBytes } from '../ascii.ts';
import type { GuardFinding, TextDetector } from '../detector.ts';
import { allMatches, INVISIBLE_ALLOWANCE, overlapFree, validateTypes } from '../detector-support.ts';
import { createLiteralMatcher } from '../literal-matcher.ts';
import { normalizeForScan, originalOffset, toOriginalSpan, trailingRunStart } from '../normalize.ts';
import {
  AWS_SECRET_NEAR,
  awsSecretSpans,
  openAwsSecretAt,
  openPrivateKeyAt,
  PRIVATE_KEY_MAX,
  privateKeySpan,
} from './blocks.ts';
import { openWrappedAt, wrappedPieces } from './wrapped.ts';

export const SECRET_TYPES = [
  'OPENAI_KEY',
  'ANTHROPIC_KEY',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'GCP_KEY',
  'GITHUB_TOKEN',
  'SLACK_TOKEN',
  'STRIPE_KEY',
  'PRIVATE_KEY',
  'JWT',
  'PORTCULLIS_KEY',
  'CONFIGURED_SECRET',
] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

export interface SecretsDetectorOptions {
  readonly types?: readonly string[];
  /** Exact secret values to find (e.g. the configured provider keys), reported as CONFIGURED_SECRET. */
  readonly extraValues?: readonly string[];
}

const MIN_EXTRA_VALUE = 8;
const MAX_EXTRA_VALUE = 4096;

// Each alternative is a named group; the name is the type. Bounded repetitions only. A new
// alternative needs its head in FORMAT_HEADS too (the corpus test of each format fails without).
const FORMATS = new RegExp(
  [
    '(?<![A-Za-z0-9_-])(?:',
    '(?<ANTHROPIC_KEY>sk-ant-[a-z]{2,8}\\d{2}-[A-Za-z0-9_-]{32,200})',
    '|(?<OPENAI_KEY>sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{32,250}|[A-Za-z0-9]{32,64}))',
    '|(?<AWS_ACCESS_KEY>(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA|AGPA|ANPA|ANVA|APKA|AIPA)[A-Z2-7]{16})',
    '|(?<GCP_KEY>AIza[0-9A-Za-z_-]{35})',
    '|(?<GITHUB_TOKEN>gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{70,240})',
    '|(?<SLACK_TOKEN>xox[bpars]-[A-Za-z0-9-]{10,250}|xapp-\\d-[A-Za-z0-9-]{10,250}|https://hooks\\.slack\\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32})',
    '|(?<STRIPE_KEY>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,247})',
    '|(?<PORTCULLIS_KEY>pcl_[0-9A-Za-z]{38})',
    '|(?<JWT>eyJ[A-Za-z0-9_-]{8,500}\\.[A-Za-z0-9_-]{2,4000}\\.[A-Za-z0-9_-]{0,700})',
    '|(?<PRIVATE_KEY>-----BEGIN (?:[A-Z0-9]{1,12} ){0,2}PRIVATE KEY(?: BLOCK)?-----)',
    ')(?![A-Za-z0-9_-])',
  ].join(''),
  'g',
);
/** FORMATS tried at one place (a wrapped token read as one, from its start). */
const FORMAT_AT = new RegExp(FORMATS.source, 'y');
const GROUPS = SECRET_TYPES.filter((t) => t !== 'AWS_SECRET_KEY' && t !== 'CONFIGURED_SECRET');

/**
 * What every match of FORMATS begins with, alternative by alternative (the pattern is
 * case-sensitive, and a match starts where a token starts): four characters where the
 * alternative fixes them, three for `sk-` and `eyJ`, which it does not.
 */
const FORMAT_HEADS = [
  'sk-',
  'eyJ',
  ...['sk_l', 'sk_t', 'rk_l', 'rk_t'],
  ...['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AROA', 'AIDA', 'AGPA', 'ANPA', 'ANVA', 'APKA', 'AIPA', 'AIza'],
  ...['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'gith'],
  ...['xoxb', 'xoxp', 'xoxa', 'xoxr', 'xoxs', 'xapp', 'http'],
  'pcl_',
  '----',
];
/** A head of a format that a wrapped key can start with (not a webhook URL or a PEM block, which wrap otherwise). */
const WRAPPED_HEAD = new RegExp(
  `(?<![A-Za-z0-9_-])(?:${FORMAT_HEADS.filter((h) => h !== 'http' && h !== '----').join('|')})`,
  'g',
);
const WRAPPED_HEAD_AT = new RegExp(WRAPPED_HEAD.source, 'y');
const isWrappedHeadAt = (text: string, at: number): boolean => {
  WRAPPED_HEAD_AT.lastIndex = at;
  return WRAPPED_HEAD_AT.test(text);
};
const headKey = (h: string) => [...h].reduce((k, c) => k * 128 + c.charCodeAt(0), 0);
const HEADS_3 = new Set(FORMAT_HEADS.filter((h) => h.length === 3).map(headKey));
const HEADS_4 = new Set(FORMAT_HEADS.filter((h) => h.length === 4).map(headKey));
const HEAD_FIRST = new Uint8Array(128);
for (const h of FORMAT_HEADS) HEAD_FIRST[h.charCodeAt(0)] = 1;
/** The characters FORMATS's look-behind refuses before a match: [A-Za-z0-9_-]. */
const TOKEN_UNIT = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9_-]/.test(String.fromCharCode(c))) TOKEN_UNIT[c] = 1;

/**
 * Whether FORMATS may match in the ASCII text of `bytes` (asciiBytes, which ends it with
 * zeros, so a head read past the end never matches): some token start holds one of
 * FORMAT_HEADS. Ordinary prose has none, and this loop over bytes costs a fraction of running
 * the pattern, whose leading look-behind and alternatives were tried at every position (about
 * 4 µs per 2 KB, 6 µs in a gateway). False only when no match can exist.
 */
export function mayHoldSecretFormat(bytes: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (HEAD_FIRST[c] !== 1 || (i > 0 && TOKEN_UNIT[bytes[i - 1]!] === 1)) continue;
    const three = (c * 128 + bytes[i + 1]!) * 128 + bytes[i + 2]!;
    if (HEADS_3.has(three) || HEADS_4.has(three * 128 + bytes[i + 3]!)) return true;
  }
  return false;
}

/** The body after a known prefix, for the placeholder check. */
const PREFIX =
  /^(?:sk-ant-[a-z]{2,8}\d{2}-|sk-(?:proj-|svcacct-|admin-|None-)?|AIza|gh[pousr]_|github_pat_|xox[bpars]-|xapp-\d-|(?:sk|rk)_(?:live|test)_)/;

export function createSecretsDetector(opts: SecretsDetectorOptions = {}): TextDetector {
  const types = new Set(validateTypes(opts.types, SECRET_TYPES, 'secrets.types'));
  const extras = validateExtraValues(opts.extraValues);
  const extraMatcher =
    extras.length > 0 && types.has('CONFIGURED_SECRET')
      ? createLiteralMatcher(extras, { caseSensitive: true })
      : undefined;
  const longestExtra = extras.reduce((n, v) => Math.max(n, v.length), 0);
  /** The type of a FORMATS match when it is a secret this detector reports (or an AWS key id
   *  an AWS secret needs nearby); undefined for placeholders, malformed JWTs and `pcl_` keys. */
  const acceptedType = (m: RegExpExecArray): SecretType | undefined => {
    const groups = m.groups!;
    const type = GROUPS.find((g) => groups[g] !== undefined) as SecretType;
    const value = m[0];
    if (!types.has(type) && !(type === 'AWS_ACCESS_KEY' && types.has('AWS_SECRET_KEY'))) return undefined;
    if (type === 'PRIVATE_KEY') return type;
    if (type === 'JWT') return jwtHeaderValid(value) ? type : undefined;
    if (type === 'PORTCULLIS_KEY') return isWellFormedApiKey(value) ? type : undefined;
    if (type !== 'AWS_ACCESS_KEY' && isPlaceholder(value.replace(PREFIX, ''))) return undefined;
    return type;
  };
  /**
   * Tokens cut by line breaks or spaces: from each head at a token start, the pieces read as
   * one (wrappedPieces); a match of the formats that ends where a piece ends, past the first
   * piece, is found over all of them. A key found whole in its first piece is extended this
   * way too, so a redacted key leaves none of its wrapped rest behind.
   */
  const wrappedFindings = (
    text: string,
    found: ReadonlyArray<{ type: SecretType; start: number; end: number }>,
  ): Array<{ type: SecretType; start: number; end: number }> => {
    const out: Array<{ type: SecretType; start: number; end: number }> = [];
    for (const head of allMatches(WRAPPED_HEAD, text)) {
      const pieces = wrappedPieces(text, head.index);
      if (pieces.length < 2) continue;
      let joined = '';
      const ends: number[] = [];
      for (const p of pieces) {
        joined += text.slice(p.start, p.end);
        ends.push(joined.length);
      }
      // The most pieces that read as one key (a match of the formats must end where the text
      // it is given ends, since a token character never follows a key).
      for (let k = pieces.length - 1; k >= 1; k--) {
        FORMAT_AT.lastIndex = 0;
        const m = FORMAT_AT.exec(joined.slice(0, ends[k]));
        if (m === null || m[0].length !== ends[k]) continue;
        const type = acceptedType(m);
        if (type === undefined || type === 'PRIVATE_KEY') continue;
        const end = pieces[k]!.end;
        if (!found.some((f) => f.start === head.index && f.end >= end)) out.push({ type, start: head.index, end });
        break;
      }
    }
    return out;
  };
  return {
    name: 'secrets',
    maxMatchLength: Math.max(PRIVATE_KEY_MAX, 5300, longestExtra) * INVISIBLE_ALLOWANCE,
    scan(original) {
      const norm = normalizeForScan(original);
      const text = norm.text;
      const raw: Array<{ type: SecretType; start: number; end: number }> = [];
      let awsKeyAt: number[] | undefined;
      // An ASCII text (most are) is first checked for the formats' heads; others always run it.
      const bytes = asciiBytes(text);
      const mayHold = bytes === undefined || mayHoldSecretFormat(bytes, text.length);
      const formats = mayHold ? allMatches(FORMATS, text) : [];
      // An AWS key id is also where an AWS secret is looked for; it is reported only when asked for.
      const add = (f: { type: SecretType; start: number; end: number }): void => {
        if (f.type === 'AWS_ACCESS_KEY') {
          awsKeyAt ??= [];
          awsKeyAt.push(f.start);
        }
        if (types.has(f.type)) raw.push(f);
      };
      for (const m of formats) {
        const type = acceptedType(m);
        if (type === undefined) continue;
        const end = m.index + m[0].length;
        add({ type, start: m.index, end: type === 'PRIVATE_KEY' ? privateKeySpan(text, m.index, end) : end });
      }
      // Keys cut by line breaks or spaces (wrapped.ts): read from each head as one token.
      if (mayHold) for (const f of wrappedFindings(text, raw)) add(f);
      if (types.has('AWS_SECRET_KEY') && (awsKeyAt !== undefined || AWS_SECRET_NEAR.test(text))) {
        for (const s of awsSecretSpans(text, awsKeyAt ?? []))
          if (!isPlaceholder(text.slice(s.start, s.end))) raw.push({ type: 'AWS_SECRET_KEY', ...s });
      }
      if (extraMatcher !== undefined)
        for (const m of extraMatcher.findAll(text)) raw.push({ type: 'CONFIGURED_SECRET', start: m.start, end: m.end });
      const spans = raw.map((f) => ({ type: f.type, ...toOriginalSpan(norm, f.start, f.end) }));
      // A configured value is also found as written, should normalization have changed it.
      if (extraMatcher !== undefined && text !== original) {
        for (const m of extraMatcher.findAll(original))
          spans.push({ type: 'CONFIGURED_SECRET', start: m.start, end: m.end });
      }
      // A private key block is one from its header on, whatever follows: certain at once.
      return overlapFree(spans).map(
        (f): GuardFinding =>
          f.type === 'PRIVATE_KEY'
            ? { detector: 'secrets', type: f.type, start: f.start, end: f.end, score: 1, certain: true }
            : { detector: 'secrets', type: f.type, start: f.start, end: f.end, score: 1 },
      );
    },
    pendingFrom(original) {
      const norm = normalizeForScan(original);
      const text = norm.text;
      // A token still being written (keys, JWTs, webhook URLs): the run of token characters the
      // text ends with. Longer than the longest token: only its last stretch can still grow.
      let open = trailingRunStart(text, isTokenChar, MAX_TOKEN);
      // Or a piece of a key cut by a line break or a space: held from the key's head.
      open = Math.min(open, openWrappedAt(text, open, isWrappedHeadAt) ?? text.length);
      if (types.has('PRIVATE_KEY')) open = Math.min(open, openPrivateKeyAt(text) ?? text.length);
      if (types.has('AWS_SECRET_KEY')) open = Math.min(open, openAwsSecretAt(text) ?? text.length);
      let at = originalOffset(norm, open);
      // A configured value may hold any character: the earliest place the text ends with its beginning.
      if (extraMatcher !== undefined) {
        for (const v of extras) at = Math.min(at, partialAt(original, v), partialAt(text, v, norm));
      }
      return at;
    },
  };
}

/** The longest token the formats match (a JWT). */
const MAX_TOKEN = 5300;
/** Letters, digits and `_-.:/+=`, the characters of keys, JWTs and webhook URLs. */
const isTokenChar = (c: number) =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  c === 95 ||
  c === 45 ||
  c === 46 ||
  c === 58 ||
  c === 47 ||
  c === 43 ||
  c === 61;

/** The earliest offset (in the original) from which `text` ends with a proper beginning of `value`. */
function partialAt(text: string, value: string, norm?: ReturnType<typeof normalizeForScan>): number {
  const first = value[0]!;
  const from = Math.max(0, text.length - value.length + 1);
  for (let i = text.indexOf(first, from); i !== -1; i = text.indexOf(first, i + 1)) {
    if (value.startsWith(text.slice(i))) return norm === undefined ? i : originalOffset(norm, i);
  }
  return norm === undefined ? text.length : norm.originalLength;
}

/** A run of few distinct characters (`xxxx…`, `0000…`, `your_key_here` padding) is a placeholder. */
function isPlaceholder(body: string): boolean {
  const distinct = new Set(body).size;
  return distinct < 8 || (/(?:x{6}|X{6}|\*{4}|\.{3}|your|example|placeholder|redacted)/i.test(body) && distinct < 16);
}

function jwtHeaderValid(token: string): boolean {
  const header = token.slice(0, token.indexOf('.'));
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

function validateExtraValues(values: readonly string[] | undefined): readonly string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values))
    throw gatewayError('guard.invalid_detector', {
      params: { path: 'secrets.extra_values', detail: 'expected a list of strings' },
    });
  for (const [i, v] of values.entries()) {
    // The value itself is a secret: the message says what is wrong with it, never what it is.
    if (typeof v !== 'string' || v.length < MIN_EXTRA_VALUE || v.length > MAX_EXTRA_VALUE) {
      throw gatewayError('guard.invalid_detector', {
        params: {
          path: `secrets.extra_values[${i}]`,
          detail: `each value must be a string of ${MIN_EXTRA_VALUE} to ${MAX_EXTRA_VALUE} characters`,
        },
      });
    }
  }
  return values;
}
