/**
 * Persistence of data keys (DEKs). Only wrapped keys are stored, never a key in the clear.
 * The memory implementation is used by tests; the SQLite/PostgreSQL tables implement the
 * same interface and must pass data-key-repository-contract.ts.
 *
 * Suggested table: data_keys(id PK, tenant_id, version, kek_id, wrapped BLOB, created_at,
 * encryptions, UNIQUE(tenant_id, version), INDEX(kek_id, id)) and
 * data_key_tombstones(id PK, tenant_id, shredded_at) holding no key material.
 */

export interface StoredDataKey {
  /** 32 lowercase hex characters (16 random bytes); also written into every ciphertext. */
  readonly id: string;
  readonly tenantId: string;
  /** 1, 2, … per tenant; the highest version is the tenant's current key. */
  readonly version: number;
  /** Id of the KEK that wrapped `wrapped`. */
  readonly kekId: string;
  readonly wrapped: Buffer;
  readonly createdAt: Date;
  /** Encryptions reserved under this key so far (an upper bound on those performed). */
  readonly encryptions: number;
}

export interface DataKeyTombstone {
  readonly id: string;
  readonly tenantId: string;
  readonly shreddedAt: Date;
}

export interface ListPage {
  /** Only keys whose id sorts after this one (keyset pagination). */
  readonly afterId?: string;
  readonly limit: number;
}

export interface DataKeyRepository {
  /** The tenant's key with the highest version. */
  getCurrent(tenantId: string): Promise<StoredDataKey | undefined>;
  getById(id: string): Promise<StoredDataKey | undefined>;
  /** False (and nothing written) when the tenant already has a key of this version, so two writers never both make "the current key". */
  insert(key: StoredDataKey): Promise<boolean>;
  /** Compare-and-set re-wrap: only if the key is still wrapped by `expectedKekId`. False otherwise. */
  replaceWrapping(id: string, expectedKekId: string, kekId: string, wrapped: Buffer): Promise<boolean>;
  /** Keys wrapped by `kekId`, ordered by id. */
  listByKekId(kekId: string, page: ListPage): Promise<StoredDataKey[]>;
  /** Distinct KEK ids that wrap at least one stored key. */
  kekIdsInUse(): Promise<string[]>;
  /** Atomically adds `count` to the key's encryption counter; the new total, or undefined if the key is gone. */
  reserveEncryptions(id: string, count: number): Promise<number | undefined>;
  /** Deletes every key of the tenant, leaving a tombstone (no key material) per key. Returns how many were deleted. */
  deleteAllForTenant(tenantId: string, at: Date): Promise<number>;
  getTombstone(id: string): Promise<DataKeyTombstone | undefined>;
}
