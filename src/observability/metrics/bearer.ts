/**
 * The metrics listener's optional bearer token. Both sides are hashed to a fixed length before
 * a timing-safe comparison, so neither the content nor the length of the configured token
 * leaks through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A checker for `Authorization: Bearer <token>` against the configured token. */
export function createBearerCheck(token: string): (authorization: string | string[] | undefined) => boolean {
  if (token === '') throw new Error('metrics bearer token must not be empty');
  const expected = digest(token);
  return (authorization) => {
    if (typeof authorization !== 'string') return false;
    const m = BEARER.exec(authorization);
    // Still compare on a malformed header, so a refusal takes the same path either way.
    const presented = digest(m?.[1] ?? '');
    return timingSafeEqual(presented, expected) && m !== null;
  };
}
