/**
 * Per-tenant data keys (DEKs): 32 random bytes, stored only wrapped by the current KEK, kept
 * unwrapped in memory briefly (key-cache.ts). Each DEK is used through two derived keys (HKDF):
 * one for AES-256-GCM, one for the binding check, so no key serves two algorithms.
 *
 * Encryptions under a DEK are counted through the repository in reserved blocks, so the count
 * survives restarts and is shared by every instance (a crash only over-counts). NIST SP 800-38D
 * caps random 96-bit IVs at 2^32 encryptions per key; once a DEK reaches the (much lower)
 * `maxEncryptionsPerKey`, the tenant gets a new current DEK and the old one only decrypts.
 *
 * With a tenant key vault (vault/tenant-key-vault.ts) every wrapped DEK is also sealed under
 * its tenant's shred key before it is stored, so reading it needs the vault entry too; a
 * legacy unsealed DEK (stored before the vault was enabled) is still read, and re-stored
 * sealed on the way (`sealLegacyKeys` does the same for all of them at startup).
 */
import { hkdfSync, randomBytes, randomFillSync } from 'node:crypto';
import { CryptoError, isCryptoError } from './crypto-error.ts';
import type { DataKeyRepository, StoredDataKey } from './data-key-repository.ts';
import type { KekProvider } from './kek/kek-provider.ts';
import { createKeyring, type Keyring, wrongKekMessage } from './kek/keyring.ts';
import { type CachedKey, createKeyCache, type KeyCache } from './key-cache.ts';
import { isSealed, type TenantKeyVault } from './vault/tenant-key-vault.ts';

export const DEK_BYTES = 32;
export const GCM_RANDOM_IV_LIMIT = 2 ** 32;
export const DEFAULT_MAX_ENCRYPTIONS_PER_KEY = 2 ** 28;
const DEFAULT_RESERVATION_BLOCK = 1024;
const WRAP_AAD_LABEL = 'portcullis/dek-wrap/v1';

export interface DataKeysOptions {
  readonly repository: DataKeyRepository;
  /** Wraps every new data key. */
  readonly kek: KekProvider;
  /** Still accepted for unwrapping; only while a master-key rotation is under way. */
  readonly previousKeks?: readonly KekProvider[];
  /** Encryptions per DEK before the tenant gets a new one (1 – 2^32; default 2^28). */
  readonly maxEncryptionsPerKey?: number;
  /** Encryptions reserved from the repository at a time (1 – 1,000,000, ≤ the maximum; default 1024). */
  readonly reservationBlock?: number;
  readonly cache?: { readonly maxEntries?: number; readonly ttlMs?: number };
  readonly now?: () => number;
  /** Seals every stored DEK under its tenant's shred key (makes shredding final for store backups). */
  readonly vault?: TenantKeyVault;
}

export interface KekCheck {
  /** KEK ids wrapping at least one stored data key. */
  readonly inUse: readonly string[];
  /** Configured previous KEKs that wrap nothing any more: the rotation is complete, remove them. */
  readonly retired: readonly string[];
}

export interface DataKeys {
  readonly repository: DataKeyRepository;
  readonly keyring: Keyring;
  /** The tenant key vault sealing the stored DEKs; undefined when none is configured. */
  readonly vault: TenantKeyVault | undefined;
  /** Runs `use` synchronously with the tenant's current DEK, counting one encryption. */
  withCurrentKey<T>(tenantId: string, use: (dekId: string, key: CachedKey) => T): Promise<T>;
  /** Runs `use` synchronously with the DEK `dekId` (for decryption). */
  withKey<T>(dekId: string, use: (key: CachedKey) => T): Promise<T>;
  currentKeyId(tenantId: string): Promise<string | undefined>;
  /** Makes a new current DEK for the tenant; older DEKs keep decrypting what they encrypted. */
  rotate(tenantId: string): Promise<StoredDataKey>;
  /** Wipes the tenant's unwrapped keys and reservations in this process. */
  forgetTenant(tenantId: string): void;
  /** Startup check: every stored DEK must be unwrappable by a configured KEK (`wrong_kek` otherwise). */
  verifyKeks(): Promise<KekCheck>;
  /** Wipes every cached key. */
  close(): void;
}

export function wrapAad(key: Pick<StoredDataKey, 'id' | 'tenantId' | 'version'>): Buffer {
  return Buffer.from(JSON.stringify([WRAP_AAD_LABEL, key.id, key.tenantId, key.version]), 'utf8');
}

export function createDataKeys(opts: DataKeysOptions): DataKeys {
  const repo = opts.repository;
  const vault = opts.vault;
  const keyring = createKeyring(opts.kek, opts.previousKeks);
  const max = intOption(
    'maxEncryptionsPerKey',
    opts.maxEncryptionsPerKey,
    DEFAULT_MAX_ENCRYPTIONS_PER_KEY,
    1,
    GCM_RANDOM_IV_LIMIT,
  );
  const block = intOption(
    'reservationBlock',
    opts.reservationBlock,
    Math.min(DEFAULT_RESERVATION_BLOCK, max),
    1,
    Math.min(1_000_000, max),
  );
  const now = opts.now ?? Date.now;
  const cache: KeyCache = createKeyCache({
    maxEntries: opts.cache?.maxEntries ?? 1000,
    ttlMs: opts.cache?.ttlMs ?? 5 * 60_000,
    now,
  });
  const reservations = new Map<string, { dekId: string; remaining: number }>();
  const tenantLocks = new Map<string, Promise<unknown>>();

  function serialized<T>(tenantId: string, task: () => Promise<T>): Promise<T> {
    const prev = tenantLocks.get(tenantId) ?? Promise.resolve();
    const run = prev.then(task, task);
    const tail = run.catch(() => undefined);
    tenantLocks.set(tenantId, tail);
    void tail.then(() => {
      if (tenantLocks.get(tenantId) === tail) tenantLocks.delete(tenantId);
    });
    return run;
  }

  async function createKey(tenantId: string, version: number): Promise<StoredDataKey | undefined> {
    const dek = Buffer.alloc(DEK_BYTES);
    randomFillSync(dek);
    try {
      const id = randomBytes(16).toString('hex');
      const aad = wrapAad({ id, tenantId, version });
      const inner = await keyring.current.wrap(dek, aad);
      const wrapped = vault === undefined ? inner : await vault.seal(tenantId, inner, aad);
      const record: StoredDataKey = {
        id,
        tenantId,
        version,
        kekId: keyring.current.id,
        wrapped,
        createdAt: new Date(now()),
        encryptions: 0,
      };
      if (!(await repo.insert(record))) return undefined;
      if (vault !== undefined) {
        // A shred elsewhere may have destroyed the tenant's shred key between the seal and the
        // insert: this key could then never be opened. The shred wins: finish it and start over.
        try {
          (await vault.open(tenantId, wrapped, aad)).fill(0);
        } catch (err) {
          if (!isCryptoError(err, 'shredded')) throw err;
          await repo.deleteAllForTenant(tenantId, new Date(now()));
          forgetTenant(tenantId);
          return undefined;
        }
      }
      return record;
    } finally {
      dek.fill(0);
    }
  }

  async function reserveOne(tenantId: string): Promise<string> {
    const fast = takeReserved(tenantId);
    if (fast !== undefined) return fast;
    return serialized(tenantId, async () => {
      const again = takeReserved(tenantId);
      if (again !== undefined) return again;
      for (let attempt = 0; attempt < 8; attempt++) {
        const current = (await repo.getCurrent(tenantId)) ?? (await createKey(tenantId, 1));
        if (current === undefined) continue; // another writer created version 1 first
        const total = await repo.reserveEncryptions(current.id, block);
        if (total === undefined) continue; // shredded meanwhile
        const allowed = Math.min(total, max) - (total - block);
        if (allowed > 0) {
          reservations.set(tenantId, { dekId: current.id, remaining: allowed - 1 });
          return current.id;
        }
        await createKey(tenantId, current.version + 1); // exhausted; losing the race to another writer is fine
      }
      throw new CryptoError(
        'unknown_key',
        `could not obtain a current data key for tenant ${tenantId} (concurrent changes kept winning)`,
      );
    });
  }

  function takeReserved(tenantId: string): string | undefined {
    const r = reservations.get(tenantId);
    if (r === undefined || r.remaining <= 0) return undefined;
    r.remaining--;
    return r.dekId;
  }

  async function loadKey(dekId: string): Promise<CachedKey> {
    const record = await repo.getById(dekId);
    if (record === undefined) {
      const tomb = await repo.getTombstone(dekId);
      if (tomb !== undefined) {
        throw new CryptoError(
          'shredded',
          `data key ${dekId} of tenant ${tomb.tenantId} was destroyed (crypto-shredded) at ${tomb.shreddedAt.toISOString()}; its data cannot be recovered`,
        );
      }
      throw new CryptoError('unknown_key', `no data key ${dekId} exists`);
    }
    const kek = keyring.forUnwrap(record.kekId, `data key ${dekId} of tenant ${record.tenantId} was`);
    const aad = wrapAad(record);
    const sealed = isSealed(record.wrapped);
    const inner = sealed ? await openSeal(record, aad) : record.wrapped;
    const dek = await kek.unwrap(inner, aad);
    if (!sealed && vault !== undefined) await sealLegacy(record, aad);
    try {
      return deriveKeys(dek, record.tenantId);
    } finally {
      dek.fill(0);
    }
  }

  async function openSeal(record: StoredDataKey, aad: Buffer): Promise<Buffer> {
    if (vault === undefined) {
      throw new CryptoError(
        'bad_key',
        `data key ${record.id} of tenant ${record.tenantId} is sealed by a tenant key vault, but none is configured (security.tenant_keys.vault is none): configure the vault that sealed it`,
      );
    }
    try {
      return await vault.open(record.tenantId, record.wrapped, aad);
    } catch (err) {
      if (isCryptoError(err, 'shredded')) {
        throw new CryptoError(
          'shredded',
          `data key ${record.id} of tenant ${record.tenantId} cannot be opened: the tenant's shred key was destroyed (crypto-shredded), so its data cannot be recovered (${err.message})`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Lazy migration: re-stores a legacy unsealed key sealed (same KEK, compare-and-set on it). Best effort: the read goes on regardless. */
  async function sealLegacy(record: StoredDataKey, aad: Buffer): Promise<void> {
    try {
      const sealedBlob = await vault!.seal(record.tenantId, record.wrapped, aad);
      await repo.replaceWrapping(record.id, record.kekId, record.kekId, sealedBlob);
    } catch {
      // retried on the next load and by sealLegacyKeys at the next start
    }
  }

  function forgetTenant(tenantId: string): void {
    reservations.delete(tenantId);
    cache.forgetTenant(tenantId);
  }

  async function withKey<T>(dekId: string, use: (key: CachedKey) => T): Promise<T> {
    const cached = cache.get(dekId);
    if (cached !== undefined) return use(cached);
    const key = await loadKey(dekId);
    // Used before it is cached, in the same tick: nothing can evict (and wipe) it in between.
    try {
      return use(key);
    } finally {
      cache.set(dekId, key);
    }
  }

  return {
    repository: repo,
    keyring,
    vault,
    async withCurrentKey(tenantId, use) {
      const dekId = await reserveOne(tenantId);
      try {
        return await withKey(dekId, (key) => use(dekId, key));
      } catch (err) {
        // The reserved key was shredded by another instance: start over from the repository once.
        if (!isCryptoError(err, 'shredded') && !isCryptoError(err, 'unknown_key')) throw err;
        if (reservations.get(tenantId)?.dekId === dekId) reservations.delete(tenantId);
        const fresh = await reserveOne(tenantId);
        return withKey(fresh, (key) => use(fresh, key));
      }
    },
    withKey,
    async currentKeyId(tenantId) {
      return (await repo.getCurrent(tenantId))?.id;
    },
    rotate(tenantId) {
      return serialized(tenantId, async () => {
        for (let attempt = 0; attempt < 8; attempt++) {
          const current = await repo.getCurrent(tenantId);
          const created = await createKey(tenantId, (current?.version ?? 0) + 1);
          if (created !== undefined) {
            reservations.delete(tenantId);
            return created;
          }
        }
        throw new CryptoError(
          'unknown_key',
          `could not rotate the data key of tenant ${tenantId} (concurrent changes kept winning)`,
        );
      });
    },
    forgetTenant,
    async verifyKeks() {
      const inUse = await repo.kekIdsInUse();
      const unknown = inUse.filter((id) => !keyring.ids.includes(id));
      if (unknown.length > 0)
        throw new CryptoError('wrong_kek', wrongKekMessage('data keys were', unknown, keyring.ids));
      const retired = keyring.ids.filter((id) => id !== keyring.current.id && !inUse.includes(id));
      return { inUse, retired };
    },
    close() {
      cache.clear();
      reservations.clear();
    },
  };
}

/**
 * Seals every stored data key that is not sealed yet (stored before the vault was enabled),
 * so that backups taken from now on hold no key the master key alone opens. Needs no KEK: the
 * KEK-wrapped blob is sealed as it is, under a compare-and-set on its KEK id. Idempotent.
 */
export async function sealLegacyKeys(repo: DataKeyRepository, vault: TenantKeyVault, pageSize = 500): Promise<number> {
  let sealedCount = 0;
  for (const kekId of await repo.kekIdsInUse()) {
    let afterId: string | undefined;
    for (;;) {
      const page = await repo.listByKekId(
        kekId,
        afterId === undefined ? { limit: pageSize } : { afterId, limit: pageSize },
      );
      for (const key of page) {
        if (isSealed(key.wrapped)) continue;
        const blob = await vault.seal(key.tenantId, key.wrapped, wrapAad(key));
        if (await repo.replaceWrapping(key.id, kekId, kekId, blob)) sealedCount++;
      }
      if (page.length < pageSize) break;
      afterId = page[page.length - 1]!.id;
    }
  }
  return sealedCount;
}

function deriveKeys(dek: Buffer, tenantId: string): CachedKey {
  const salt = Buffer.alloc(0);
  const encKey = Buffer.from(hkdfSync('sha256', dek, salt, 'portcullis/envelope/v1/aes-256-gcm', 32));
  const bindKey = Buffer.from(hkdfSync('sha256', dek, salt, 'portcullis/envelope/v1/binding-check', 32));
  return { tenantId, encKey, bindKey };
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CryptoError('bad_key', `${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}
