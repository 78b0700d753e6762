/**
 * Client ids and secrets of OAuth clients. The secret is 256 random bits, generated here, never
 * chosen by a person; it is stored as HMAC-SHA-256 under the server secret
 * (`security.key_hash_secret`, as API keys are), bound to the client id.
 *
 * Why HMAC and not scrypt: a slow hash only protects low-entropy secrets against guessing.
 * 256 random bits cannot be guessed either way, and a slow hash on an unauthenticated endpoint
 * would hand attackers a cheap way to burn the gateway's CPU. The keyed hash adds what matters
 * here: a stolen database alone does not even allow offline checking of candidate secrets.
 */
import { createHmac, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';

export const CLIENT_ID_PREFIX = 'pcc_';
export const CLIENT_SECRET_PREFIX = 'pcs_';
const CLIENT_ID = /^pcc_[A-Za-z0-9_-]{22}$/;
const CLIENT_SECRET = /^pcs_[A-Za-z0-9_-]{43}$/;
const LABEL = 'portcullis oauth client secret v1\u0000';

export function generateClientId(): string {
  return `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`;
}

export function generateClientSecret(): string {
  return `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function isWellFormedClientId(id: string): boolean {
  return CLIENT_ID.test(id);
}

export function isWellFormedClientSecret(secret: string): boolean {
  return CLIENT_SECRET.test(secret);
}

/** Hex HMAC over (label, client id, secret): a hash copied to another client's row does not verify there. */
export function hashClientSecret(clientId: string, secret: string, serverSecret: Buffer | KeyObject): string {
  return createHmac('sha256', serverSecret)
    .update(LABEL)
    .update(clientId)
    .update('\u0000')
    .update(secret)
    .digest('hex');
}

/** Constant-time check of a presented secret against the stored hash (false for any malformed input). */
export function clientSecretMatches(
  clientId: string,
  presented: string,
  storedHash: string | null,
  serverSecret: Buffer | KeyObject,
): boolean {
  // Hash even when the outcome is known, so a wrong format and a wrong secret cost the same.
  const actual = Buffer.from(hashClientSecret(clientId, presented, serverSecret), 'hex');
  if (storedHash === null || !/^[0-9a-f]{64}$/.test(storedHash)) return false;
  return timingSafeEqual(actual, Buffer.from(storedHash, 'hex')) && isWellFormedClientSecret(presented);
}
