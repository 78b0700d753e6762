/**
 * Webhook signatures. Every delivery carries
 *   Portcullis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, "<t>.<raw body>")>
 * The timestamp is inside the MAC, so a receiver that also checks it is recent refuses a
 * replayed delivery; `Portcullis-Event-Id` lets it drop a retry it has already processed.
 * `verifyWebhookSignature` is what a receiver written in TypeScript/JavaScript can call.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'portcullis-signature';
export const EVENT_ID_HEADER = 'portcullis-event-id';
export const EVENT_TYPE_HEADER = 'portcullis-event-type';
export const DEFAULT_TOLERANCE_S = 300;

export function computeSignature(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export function signatureHeader(
  secret: string,
  body: string | Buffer,
  timestamp: number = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** Accept timestamps at most this many seconds from now, either way (default 300). */
  readonly toleranceS?: number;
  /** Current time in unix seconds (tests). */
  readonly now?: number;
}

/**
 * True when `header` carries a `v1` signature of exactly `body` under `secret`, made within
 * `toleranceS` of now. Pass the raw body bytes as received, before any JSON parsing. Never
 * throws on malformed input: anything it cannot check is false.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Buffer,
  opts: VerifyOptions = {},
): boolean {
  if (typeof secret !== 'string' || secret === '' || typeof header !== 'string' || header.length > 4096) return false;
  const toleranceS = opts.toleranceS ?? DEFAULT_TOLERANCE_S;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return false;
      timestamp = Number(value);
    } else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      candidates.push(value);
    }
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  if (!(Math.abs(now - timestamp) <= toleranceS)) return false;
  const expected = Buffer.from(computeSignature(secret, timestamp, body), 'hex');
  let ok = false;
  // Every candidate is compared (a receiver rotating secrets may be sent several).
  for (const c of candidates) ok = timingSafeEqual(expected, Buffer.from(c, 'hex')) || ok;
  return ok;
}
