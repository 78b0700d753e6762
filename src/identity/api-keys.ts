/**
 * Issuing and checking API keys. Only the keyed hash is stored; the plaintext is returned once,
 * at creation. Verification refuses malformed keys before any store access, so garbage and
 * typos cost nothing and never reach the database.
 */
import { type KeyObject, randomUUID, timingSafeEqual } from 'node:crypto';
import { normalizeEndpoints, normalizeIpAllowlist } from '../policy/key-policy.ts';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import { displayPrefix, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key-format.ts';
import { normaliseFingerprint } from './client-cert-directory.ts';

export interface NewApiKey {
  readonly tenantId: string;
  readonly label: string;
  readonly allowedModels: readonly string[];
  /** ISO-8601; omitted or null for a key that does not expire. */
  readonly expiresAt?: string | null;
  /** Creation time; defaults to now. */
  readonly now?: Date;
  /** The key's team (null or omitted: tenant-wide). The caller checks the team exists in the tenant. */
  readonly teamId?: string | null;
  /** The admin user who owns the key. */
  readonly ownerUserId?: string | null;
  /** Who made it: an admin user id or `cli:<os user>`. */
  readonly createdBy?: string | null;
  /** Source CIDRs (IPv4/IPv6) the key may be used from; omitted or empty: anywhere. Validated (key-policy.ts). */
  readonly ipAllowlist?: readonly string[];
  /** Endpoints the key may call (chat, embeddings, models, messages); omitted or null: all. */
  readonly allowedEndpoints?: readonly string[] | null;
  /** Only the models listing. */
  readonly readOnly?: boolean;
  /** The key this one replaces (set by rotateApiKey). */
  readonly rotatedFrom?: string | null;
  /** Bind the key to one mTLS client certificate (SHA-256 fingerprint, either spelling); omitted or null: unbound. */
  readonly clientCertSha256?: string | null;
}

export type ApiKeyVerdict =
  | { readonly ok: true; readonly record: ApiKeyRecord }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' }
  /** A real key that is refused: the record is there for the security log (key id, prefix), never for the client. */
  | { readonly ok: false; readonly reason: 'revoked' | 'expired'; readonly record: ApiKeyRecord };

const MAX_LABEL_CHARS = 256;

export async function createApiKey(
  store: Store,
  secret: Buffer,
  opts: NewApiKey,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const now = opts.now ?? new Date();
  if (typeof opts.tenantId !== 'string' || opts.tenantId === '')
    throw new TypeError('tenantId must be a non-empty string');
  if (typeof opts.label !== 'string' || [...opts.label].length > MAX_LABEL_CHARS) {
    throw new TypeError(`label must be a string of at most ${MAX_LABEL_CHARS} characters`);
  }
  if (!Array.isArray(opts.allowedModels) || !opts.allowedModels.every((m) => typeof m === 'string' && m !== '')) {
    throw new TypeError('allowedModels must be a list of model names');
  }
  const expiresAt = opts.expiresAt ?? null;
  if (expiresAt !== null) {
    const ms = Date.parse(expiresAt);
    if (!Number.isFinite(ms)) throw new TypeError('expiresAt must be an ISO-8601 time');
    if (ms <= now.getTime()) throw new RangeError('expiresAt must be in the future');
  }
  const ipAllowlist = normalizeIpAllowlist(opts.ipAllowlist ?? []);
  const allowedEndpoints = normalizeEndpoints(opts.allowedEndpoints);
  let clientCertSha256: string | undefined;
  if (opts.clientCertSha256 != null) {
    clientCertSha256 =
      typeof opts.clientCertSha256 === 'string' ? normaliseFingerprint(opts.clientCertSha256) : undefined;
    if (clientCertSha256 === undefined)
      throw new TypeError(
        'clientCertSha256 must be a SHA-256 certificate fingerprint (32 colon-separated hex bytes or 64 hex digits)',
      );
  }
  const key = generateApiKey();
  const record: ApiKeyRecord = {
    id: `key_${randomUUID()}`,
    tenantId: opts.tenantId,
    label: opts.label,
    prefix: displayPrefix(key),
    hash: hashApiKey(key, secret),
    allowedModels: [...new Set(opts.allowedModels)],
    createdAt: now.toISOString(),
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    revokedAt: null,
    lastUsedAt: null,
    teamId: opts.teamId ?? null,
    ownerUserId: opts.ownerUserId ?? null,
    createdBy: opts.createdBy ?? null,
    ipAllowlist,
    allowedEndpoints,
    readOnly: opts.readOnly === true,
    rotatedFrom: opts.rotatedFrom ?? null,
    ...(clientCertSha256 !== undefined ? { clientCertSha256 } : {}),
  };
  await store.insertApiKey(record);
  return { key, record };
}

export async function verifyApiKey(
  store: Store,
  secret: Buffer | KeyObject,
  presented: string,
  now: Date,
): Promise<ApiKeyVerdict> {
  if (!isWellFormedApiKey(presented)) return { ok: false, reason: 'malformed' };
  const hash = hashApiKey(presented, secret);
  return judgeApiKey(await store.findApiKeyByHash(hash), hash, now);
}

/** The decision for a looked-up record (or none), shared by every verification path. */
export function judgeApiKey(record: ApiKeyRecord | undefined, hash: string, now: Date): ApiKeyVerdict {
  if (record === undefined) return { ok: false, reason: 'unknown' };
  // The lookup matched on the hash; comparing again in constant time keeps the decision itself
  // independent of any backend's comparison (collation, prefix index) behaviour.
  const expected = Buffer.from(hash, 'hex');
  const stored = Buffer.from(record.hash, 'hex');
  if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) return { ok: false, reason: 'unknown' };
  if (record.revokedAt !== null) return { ok: false, reason: 'revoked', record };
  if (record.expiresAt !== null && !(Date.parse(record.expiresAt) > now.getTime()))
    return { ok: false, reason: 'expired', record };
  return { ok: true, record };
}
