/**
 * Secrets that are more than one token: a PEM private key block (header, base64 body, footer;
 * in a service-account JSON the newlines are `\n` escapes), and an AWS secret access key, which
 * has no prefix of its own and is recognised by standing near an access key id or its name.
 */
import { allMatches } from '../detector-support.ts';

/** The longest private key block covered: an 8192-bit RSA key in PKCS#1 PEM is about 6.3 KB. */
export const PRIVATE_KEY_MAX = 7000;
const END_MARK = '-----END ';
const BODY_CHAR = /[A-Za-z0-9+/=\s\\:,-]/;

/**
 * Where the block whose header ends at `headerEnd` ends: after its footer when present within
 * PRIVATE_KEY_MAX; otherwise after the base64 body that follows (a truncated key still leaks).
 */
export function privateKeySpan(text: string, start: number, headerEnd: number): number {
  const limit = Math.min(text.length, start + PRIVATE_KEY_MAX);
  const footer = text.indexOf(END_MARK, headerEnd);
  if (footer !== -1 && footer < limit) {
    const close = text.indexOf('-----', footer + END_MARK.length);
    if (close !== -1 && close + 5 <= limit) return close + 5;
  }
  let end = headerEnd;
  while (end < limit && BODY_CHAR.test(text[end]!)) end++;
  return end;
}

/** A line naming an AWS secret key, or an access key id nearby, makes a 40-character run a secret key. */
export const AWS_SECRET_NEAR = /aws.{0,20}secret|secret.?access.?key/i;
const SECRET_CANDIDATE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const NEAR = 400;

export function awsSecretSpans(text: string, accessKeyAt: readonly number[]): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  for (const m of allMatches(SECRET_CANDIDATE, text)) {
    const v = m[0];
    // Random keys mix upper, lower and digits; a 40-letter word run or a hex digest does not.
    if (!/[A-Z]/.test(v) || !/[a-z]/.test(v) || !/[0-9]/.test(v)) continue;
    const near =
      accessKeyAt.some((at) => Math.abs(at - m.index) <= NEAR) ||
      AWS_SECRET_NEAR.test(text.slice(Math.max(0, m.index - 60), m.index));
    if (near) out.push({ start: m.index, end: m.index + v.length });
  }
  return out;
}

const BEGIN = '-----BEGIN';
/** A header being written, or written with its block not yet closed by a footer. */
const HEADER_SO_FAR = /^-----BEGIN(?: [A-Z0-9 ]{0,40})?-{0,5}$/;
const HEADER = /^-----BEGIN (?:[A-Z0-9]{1,12} ){0,2}PRIVATE KEY(?: BLOCK)?-----/;
/** Dashes, or the beginning of BEGIN after them, at the end of a text. */
const DASHES_AT_END = /-{1,5}(?:B|BE|BEG|BEGI)?$/;

/**
 * Streams: where a private key block that text still to come could continue begins: a header
 * still being written (`-----BEGIN RSA PRIV`), or a complete header whose block has no footer
 * yet. Undefined when there is none.
 */
export function openPrivateKeyAt(text: string): number | undefined {
  const dashes = DASHES_AT_END.exec(text.slice(-10));
  let open = dashes === null ? undefined : text.length - dashes[0].length;
  const at = text.lastIndexOf(BEGIN);
  if (at === -1 || text.length - at > PRIVATE_KEY_MAX) return open;
  const rest = text.slice(at);
  const header = HEADER.exec(rest);
  if (header === null) {
    if (HEADER_SO_FAR.test(rest)) open = Math.min(open ?? at, at);
    return open;
  }
  // Complete header: open while the block reaches the end of the text without a closed footer.
  if (privateKeySpan(text, at, at + header[0].length) >= text.length) return Math.min(open ?? at, at);
  return open;
}

const OPEN_CANDIDATE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * Streams: a 40-character run that an access key id still to come (within NEAR characters)
 * would make an AWS secret key, or a run still being written. Undefined when there is none.
 */
export function openAwsSecretAt(text: string): number | undefined {
  const from = Math.max(0, text.length - NEAR - 41);
  const tail = text.slice(from);
  for (const m of allMatches(OPEN_CANDIDATE, tail)) {
    const v = m[0];
    if (/[A-Z]/.test(v) && /[a-z]/.test(v) && /[0-9]/.test(v)) return from + m.index;
  }
  return undefined;
}
