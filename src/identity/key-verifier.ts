/**
 * Verifies presented API keys on the request path. Two costs dominate a naive check: setting
 * up the HMAC key and a store lookup per request. The secret is turned into a KeyObject once,
 * and records that were found are cached by their hash for a short time, so a key revoked
 * from another process (the CLI, another instance) stops working within `cacheTtlMs`.
 * `invalidate` drops cached records at once: revocations made through this process, and those
 * broadcast by other processes over Redis (revocation-broadcast.ts).
 *
 * Only keys that exist are cached: caching misses would let anyone fill the cache with
 * well-formed garbage. Revoked and expired records are cached too, so a leaked revoked key
 * hammering the gateway does not reach the store on every request.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import { hashApiKey, isWellFormedApiKey } from './api-key-format.ts';
import { type ApiKeyVerdict, judgeApiKey } from './api-keys.ts';

export interface KeyVerifierOptions {
  readonly store: Store;
  readonly secret: Buffer;
  /** How long a found record is trusted without asking the store again; 0 disables caching. */
  readonly cacheTtlMs?: number;
  readonly maxCacheEntries?: number;
  /** Monotonic clock in ms (tests). */
  readonly clock?: () => number;
  /**
   * False while this instance could be missing revocation broadcasts (the Redis subscriber is
   * down): the cache is then neither read nor filled, so every request asks the store.
   */
  readonly cacheUsable?: () => boolean;
}

export interface KeyVerifier {
  verify(presented: string, now: Date): Promise<ApiKeyVerdict>;
  /** Forget one key's cached record (by key id), or every cached record. */
  invalidate(keyId?: string): void;
}

interface CacheEntry {
  readonly record: ApiKeyRecord;
  readonly until: number;
}

export const DEFAULT_KEY_CACHE_TTL_MS = 1000;

export function createKeyVerifier(opts: KeyVerifierOptions): KeyVerifier {
  const ttl = opts.cacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
  const max = opts.maxCacheEntries ?? 10_000;
  if (!(Number.isInteger(ttl) && ttl >= 0 && ttl <= 60_000))
    throw new Error('key verifier: cacheTtlMs must be an integer 0..60000');
  if (!(Number.isInteger(max) && max >= 1)) throw new Error('key verifier: maxCacheEntries must be a positive integer');
  if (opts.secret.length < 32) throw new Error('key verifier: the hashing secret must be at least 32 bytes');
  const secret: KeyObject = createSecretKey(opts.secret);
  const clock = opts.clock ?? (() => performance.now());
  const cache = new Map<string, CacheEntry>();
  const cacheUsable = opts.cacheUsable ?? (() => true);
  // Bumped by every invalidation: a lookup that raced with one does not cache what it read.
  let generation = 0;

  return {
    async verify(presented, now) {
      if (!isWellFormedApiKey(presented)) return { ok: false, reason: 'malformed' };
      const hash = hashApiKey(presented, secret);
      const useCache = ttl > 0 && cacheUsable();
      if (useCache) {
        const hit = cache.get(hash);
        if (hit !== undefined && hit.until > clock()) return judgeApiKey(hit.record, hash, now);
      }
      const before = generation;
      const record = await opts.store.findApiKeyByHash(hash);
      if (record !== undefined && useCache && before === generation && cacheUsable()) {
        cache.delete(hash);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(hash, { record, until: clock() + ttl });
      }
      return judgeApiKey(record, hash, now);
    },
    invalidate(keyId) {
      generation++;
      if (keyId === undefined) {
        cache.clear();
        return;
      }
      for (const [hash, entry] of cache) if (entry.record.id === keyId) cache.delete(hash);
    },
  };
}
