/**
 * Structural checks on a compact JWS before any key or signature work: size cap, exactly three
 * base64url parts, a non-empty signature, and a header and payload that decode to JSON objects.
 * Nothing read here is trusted; it only decides which issuer's keys to try (RFC 8725 §3.1, §3.8).
 */

/** Tokens above this are refused before parsing (headers are capped at 16 KiB anyway). */
export const MAX_TOKEN_BYTES = 8 * 1024;

const B64URL = /^[A-Za-z0-9_-]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface CompactParts {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

export type ParseResult = { ok: true; parts: CompactParts } | { ok: false; reason: string };

/**
 * True when the credential has the shape of a compact JWS (`xxx.yyy.zzz`, base64url parts; an
 * empty signature still counts so a stripped token is judged, and refused, as a token).
 * API keys never contain a dot.
 */
export function looksLikeJwt(credential: string): boolean {
  const parts = credential.split('.');
  if (parts.length !== 3) return false;
  const [h, p, s] = parts as [string, string, string];
  return B64URL.test(h) && B64URL.test(p) && (s === '' || B64URL.test(s));
}

export function parseCompact(token: string, maxBytes = MAX_TOKEN_BYTES): ParseResult {
  if (Buffer.byteLength(token, 'utf8') > maxBytes) return { ok: false, reason: 'token_too_large' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [h, p, s] = parts as [string, string, string];
  if (s === '') return { ok: false, reason: 'missing_signature' };
  if (!isBase64Url(h) || !isBase64Url(p) || !isBase64Url(s)) return { ok: false, reason: 'malformed' };
  const header = decodeJsonObject(h);
  const payload = decodeJsonObject(p);
  if (header === undefined) return { ok: false, reason: 'malformed_header' };
  if (payload === undefined) return { ok: false, reason: 'malformed_payload' };
  return { ok: true, parts: { header, payload } };
}

/** Canonical unpadded base64url: right alphabet, and a length that can occur (not 1 mod 4). */
function isBase64Url(s: string): boolean {
  return B64URL.test(s) && s.length % 4 !== 1;
}

function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(Buffer.from(part, 'base64url')));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
