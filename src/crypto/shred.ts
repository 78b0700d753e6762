/**
 * Crypto-shredding: destroying a tenant's data keys makes every ciphertext of that tenant
 * unreadable wherever a copy of it lives (replicas, exports, backups of the data tables),
 * without finding and deleting each copy. The repository keeps a tombstone per destroyed key
 * (no key material) so decryption reports `shredded` rather than `unknown_key`.
 *
 * Limit, stated plainly: a backup of the data-key repository taken before the shred still
 * holds the wrapped keys, and with the KEK it unwraps them. Shredding is final for backups
 * only after the KEK is rotated (rotateMasterKey) and the old KEK destroyed. Other gateway
 * instances may hold the unwrapped keys in their cache until it expires (`cache.ttlMs`) or
 * until they are told to forget the tenant.
 */
import type { DataKeys } from './data-keys.ts';

export interface ShredResult {
  readonly tenantId: string;
  readonly keysDestroyed: number;
}

export async function shredTenant(dataKeys: DataKeys, tenantId: string, at: Date = new Date()): Promise<ShredResult> {
  if (typeof tenantId !== 'string' || tenantId === '') throw new TypeError('tenantId must be a non-empty string');
  // Forget first so this process stops encrypting under the keys being destroyed; again after, for anything loaded meanwhile.
  dataKeys.forgetTenant(tenantId);
  const keysDestroyed = await dataKeys.repository.deleteAllForTenant(tenantId, at);
  dataKeys.forgetTenant(tenantId);
  return { tenantId, keysDestroyed };
}
