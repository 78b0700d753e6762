/**
 * A small, bounded, short-lived cache of unwrapped data keys, so each encryption does not
 * cost a KEK call (which may be a KMS round trip). Entries expire after `ttlMs` and the least
 * recently used one is evicted past `maxEntries`; every way out of the cache wipes the key
 * bytes with fill(0). (Wiping is best effort: OpenSSL and the garbage collector may hold
 * copies this code cannot reach.)
 */
import { CryptoError } from './crypto-error.ts';

export interface CachedKey {
  readonly tenantId: string;
  /** Derived AES-256-GCM key for data. */
  readonly encKey: Buffer;
  /** Derived HMAC key for the binding check. */
  readonly bindKey: Buffer;
}

export interface KeyCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now: () => number;
}

export interface KeyCache {
  get(dekId: string): CachedKey | undefined;
  set(dekId: string, key: CachedKey): void;
  /** Wipes and drops one tenant's keys (shredding, or another instance's invalidation message). */
  forgetTenant(tenantId: string): number;
  clear(): void;
  readonly size: number;
}

export function createKeyCache(opts: KeyCacheOptions): KeyCache {
  if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1 || opts.maxEntries > 1_000_000) {
    throw new CryptoError(
      'bad_key',
      `key cache maxEntries must be an integer from 1 to 1000000 (got ${String(opts.maxEntries)})`,
    );
  }
  if (!Number.isInteger(opts.ttlMs) || opts.ttlMs < 0 || opts.ttlMs > 86_400_000) {
    throw new CryptoError(
      'bad_key',
      `key cache ttlMs must be an integer from 0 to 86400000 (got ${String(opts.ttlMs)})`,
    );
  }
  // Map keeps insertion order: re-inserting on use makes the first entry the least recently used.
  const entries = new Map<string, { key: CachedKey; expiresAt: number }>();

  function drop(dekId: string): void {
    const e = entries.get(dekId);
    if (e === undefined) return;
    entries.delete(dekId);
    e.key.encKey.fill(0);
    e.key.bindKey.fill(0);
  }

  return {
    get(dekId) {
      const e = entries.get(dekId);
      if (e === undefined) return undefined;
      if (opts.now() >= e.expiresAt) {
        drop(dekId);
        return undefined;
      }
      entries.delete(dekId);
      entries.set(dekId, e);
      return e.key;
    },
    set(dekId, key) {
      drop(dekId);
      if (opts.ttlMs === 0) {
        key.encKey.fill(0);
        key.bindKey.fill(0);
        return;
      }
      entries.set(dekId, { key, expiresAt: opts.now() + opts.ttlMs });
      while (entries.size > opts.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        drop(oldest);
      }
    },
    forgetTenant(tenantId) {
      let n = 0;
      for (const [id, e] of [...entries]) {
        if (e.key.tenantId === tenantId) {
          drop(id);
          n++;
        }
      }
      return n;
    },
    clear() {
      for (const id of [...entries.keys()]) drop(id);
    },
    get size() {
      return entries.size;
    },
  };
}
