/**
 * Admin password hashing and policy. scrypt (node:crypto) with N = 2^17, r = 8, p = 1 (OWASP's
 * recommended minimum: 128 MiB and a few hundred milliseconds per guess), a 16-byte random
 * salt and a 32-byte output, stored as `scrypt$N$r$p$salt$hash` (base64url) so the cost can be
 * raised later without invalidating stored hashes. Verification compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { accountWords, passwordStrength } from './password-strength.ts';

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
export const MIN_PASSWORD_CHARS = 12;
export const MAX_PASSWORD_CHARS = 256;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// A stored hash names its own cost; refuse absurd ones so a tampered row cannot exhaust memory.
const MAX_N = 2 ** 20;
const FORMAT = /^scrypt\$(\d{1,8})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/;

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      length,
      { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (err, key) => {
        if (err) reject(err);
        else resolve(key);
      },
    );
  });
}

function checkCost(cost: ScryptCost): void {
  const { N, r, p } = cost;
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0)
    throw new RangeError('scrypt N must be a power of two from 2 to 2^20');
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16)
    throw new RangeError('scrypt r must be 1..32 and p 1..16');
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  checkCost(cost);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, cost, HASH_BYTES);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** False for a wrong password and for a stored value that is not a hash we wrote (fail closed). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (m === null) return false;
  const cost = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  try {
    checkCost(cost);
  } catch {
    return false;
  }
  const expected = Buffer.from(m[5]!, 'base64url');
  const actual = await derive(password, Buffer.from(m[4]!, 'base64url'), cost, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password at the same cost, verified against when the email is unknown,
 * so an unknown account takes as long to refuse as a wrong password.
 */
export function dummyPasswordHash(cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64url'), cost);
}

/**
 * Undefined when acceptable; otherwise why not (safe to show: it never echoes the password).
 * Rules, in order: a string of 12–256 characters without control characters; not containing
 * the email's name; not on zxcvbn-ts's list of common and breached passwords; and a zxcvbn
 * strength of at least MIN_PASSWORD_SCORE, judged with the account's own words (email, its
 * parts, `tenantId` and other `accountInputs`, "portcullis") as things a guesser would try.
 */
export async function passwordProblem(
  password: unknown,
  email?: string,
  accountInputs: readonly string[] = [],
): Promise<string | undefined> {
  if (typeof password !== 'string') return 'it must be a string';
  const chars = [...password];
  if (chars.length < MIN_PASSWORD_CHARS) return `it must be at least ${MIN_PASSWORD_CHARS} characters`;
  if (chars.length > MAX_PASSWORD_CHARS) return `it must be at most ${MAX_PASSWORD_CHARS} characters`;
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'it must not contain control characters';
  const local = email?.toLowerCase().split('@')[0];
  if (local !== undefined && local.length >= 4 && password.toLowerCase().includes(local))
    return 'it must not contain the email name';
  return (await passwordStrength(password, accountWords(email, accountInputs))).problem;
}
