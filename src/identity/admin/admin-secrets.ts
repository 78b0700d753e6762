/**
 * The random secrets of admin authentication and how they are kept: session ids, CSRF tokens,
 * admin API tokens (`pca_`), enrolment tokens (`pce_`) and recovery codes. All come from the
 * CSPRNG; the store only ever sees an HMAC-SHA-256 of them under the server secret (the same
 * `security.key_hash_secret` as API keys), each kind under its own label so a hash of one kind
 * can never stand in for another.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const ADMIN_TOKEN_PREFIX = 'pca_';
export const ENROLMENT_TOKEN_PREFIX = 'pce_';
export const RECOVERY_CODE_COUNT = 10;
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^pc[ae]_[A-Za-z0-9_-]{43}$/;
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;
// Crockford-like: no 0/O, 1/I/L, so a code read off paper is typed right.
const RECOVERY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const RECOVERY_CHARS = 10;

export type SecretKind = 'session' | 'csrf' | 'admin-token' | 'enrolment' | 'recovery-code';

export function keyedHash(secret: Buffer, kind: SecretKind, value: string): string {
  return createHmac('sha256', secret).update(`portcullis-admin-${kind}\u0000`).update(value, 'utf8').digest('hex');
}

function randomToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function newSessionId(): string {
  return randomToken();
}

export function isWellFormedSessionId(value: string): boolean {
  return SESSION_SHAPE.test(value);
}

/** Derived, not stored: the CSRF token is a keyed hash of the session id, so it lives and dies with it. */
export function csrfTokenFor(secret: Buffer, sessionId: string): string {
  return createHmac('sha256', secret).update('portcullis-admin-csrf\u0000').update(sessionId).digest('base64url');
}

export function csrfTokenMatches(secret: Buffer, sessionId: string, presented: string): boolean {
  const expected = Buffer.from(csrfTokenFor(secret, sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function newAdminToken(): string {
  return ADMIN_TOKEN_PREFIX + randomToken();
}

export function newEnrolmentToken(): string {
  return ENROLMENT_TOKEN_PREFIX + randomToken();
}

export function isWellFormedToken(value: string, prefix: string): boolean {
  return value.startsWith(prefix) && TOKEN_SHAPE.test(value);
}

/** `pca_` + 8 characters: enough to tell tokens apart in listings, far too few to guess the rest. */
export function tokenDisplayPrefix(token: string): string {
  return token.slice(0, 12);
}

/** Ten codes of 10 characters (~50 bits each), shown as `XXXXX-XXXXX`. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const codes: string[] = [];
  const limit = 256 - (256 % RECOVERY_ALPHABET.length);
  while (codes.length < count) {
    let raw = '';
    while (raw.length < RECOVERY_CHARS) {
      for (const b of randomBytes(RECOVERY_CHARS * 2)) {
        if (b >= limit) continue;
        raw += RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length];
        if (raw.length === RECOVERY_CHARS) break;
      }
    }
    codes.push(`${raw.slice(0, 5)}-${raw.slice(5)}`);
  }
  return codes;
}

/** Upper-cased, separators and spaces removed; undefined when it cannot be a recovery code. */
export function normaliseRecoveryCode(code: string): string | undefined {
  const clean = code.replace(/[\s-]/g, '').toUpperCase();
  if (clean.length !== RECOVERY_CHARS) return undefined;
  for (const ch of clean) if (!RECOVERY_ALPHABET.includes(ch)) return undefined;
  return clean;
}
