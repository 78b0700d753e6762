/**
 * Key rotation: a new key with the same settings (tenant, team, owner, models, IP allowlist,
 * endpoint scope, read-only flag, expiry) replaces an old one, which keeps working for a grace
 * period so clients can be redeployed, and is refused as expired afterwards. Both changes are
 * one store transaction: there is never a moment with two unlimited keys or none.
 */
import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-format.ts';

export interface RotateOptions {
  /** How long the old key keeps working, 0..30 days. 0 ends it at once. */
  readonly graceSeconds: number;
  readonly now?: Date;
  /** Who rotated it: an admin user id or `cli:<os user>`. */
  readonly createdBy?: string | null;
}

export const MAX_GRACE_SECONDS = 30 * 86_400;

export class KeyRotationError extends Error {
  readonly reason: 'not_found' | 'revoked' | 'expired';
  constructor(reason: 'not_found' | 'revoked' | 'expired', message: string) {
    super(message);
    this.name = 'KeyRotationError';
    this.reason = reason;
  }
}

/** Returns the new key (shown once) and both records as stored after the rotation. */
export async function rotateApiKey(
  store: Store,
  secret: Buffer,
  id: string,
  opts: RotateOptions,
): Promise<{ key: string; record: ApiKeyRecord; old: ApiKeyRecord }> {
  const now = opts.now ?? new Date();
  if (!Number.isSafeInteger(opts.graceSeconds) || opts.graceSeconds < 0 || opts.graceSeconds > MAX_GRACE_SECONDS) {
    throw new RangeError(`graceSeconds must be an integer from 0 to ${MAX_GRACE_SECONDS} (30 days)`);
  }
  const old = await store.getApiKey(id);
  if (old === undefined) throw new KeyRotationError('not_found', `no API key with id ${id}`);
  if (old.revokedAt !== null)
    throw new KeyRotationError('revoked', `API key ${id} is revoked; create a new key instead`);
  if (old.expiresAt !== null && Date.parse(old.expiresAt) <= now.getTime()) {
    throw new KeyRotationError('expired', `API key ${id} has expired; create a new key instead`);
  }
  const key = generateApiKey();
  const replacement: ApiKeyRecord = {
    ...old,
    id: `key_${randomUUID()}`,
    prefix: displayPrefix(key),
    hash: hashApiKey(key, secret),
    createdAt: now.toISOString(),
    revokedAt: null,
    lastUsedAt: null,
    createdBy: opts.createdBy ?? old.createdBy,
    rotatedFrom: old.id,
  };
  const graceEnd = new Date(now.getTime() + opts.graceSeconds * 1000).toISOString();
  // Lost a race with a revocation (or the key vanished) between the read and the transaction.
  if (!(await store.rotateApiKey({ oldId: old.id, oldExpiresAt: graceEnd, replacement }))) {
    throw new KeyRotationError('revoked', `API key ${id} was revoked or removed while rotating`);
  }
  const stored = await store.getApiKey(old.id);
  return { key, record: replacement, old: stored ?? old };
}
