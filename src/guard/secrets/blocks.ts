/**
 * Secrets that are more than one token: a PEM private key block (header, base64 body, footer;
 * in a service-account JSON the newlines are `\n` escapes), and an AWS secret access key, which
 * has no prefix of its own and is recognised by standing near an access key id or its name.
 */

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
  for (const m of text.matchAll(SECRET_CANDIDATE)) {
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
