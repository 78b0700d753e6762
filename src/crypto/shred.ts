/**
 * Crypto-shredding: destroying a tenant's data keys makes every ciphertext of that tenant
 * unreadable wherever a copy of it lives (replicas, exports, backups of the data tables),
 * without finding and deleting each copy. The repository keeps a tombstone per destroyed key
 * (no key material) so decryption reports `shredded` rather than `unknown_key`.
 *
 * Backups of the store: with a tenant key vault (vault/), every stored data key is sealed
 * under the tenant's shred key, which lives outside the store; the shred destroys that key
 * too, so a backup of the store taken before the shred holds only keys that nothing can open
 * any more, even with the master key. Limit, stated plainly: a copy of the VAULT taken before
 * the shred revives the tenant (together with a store backup and the master key) for as long
 * as that copy exists, so the vault's backups must be kept no longer than you are willing to
 * wait for a shred to become final. Without a vault (`tenant_keys.vault: none`, the default
 * with PostgreSQL) a store backup stays readable until the master key is rotated
 * (rotateMasterKey) and the old one destroyed. Other gateway instances may hold the unwrapped
 * keys in their cache until it expires (`cache.ttlMs`) or until they are told to forget the
 * tenant.
 *
 * Order and reruns: the data keys are deleted first, then the vault key is destroyed. A crash
 * in between leaves the vault key; a rerun deletes nothing more but still destroys it.
 */
import type { DataKeys } from './data-keys.ts';

export interface ShredResult {
  readonly tenantId: string;
  readonly keysDestroyed: number;
  /** `file`, `postgres`, … or `none` when no tenant key vault is configured. */
  readonly vault: string;
  /** True when this run destroyed the tenant's shred key (false: none was left, or no vault). */
  readonly vaultKeyDestroyed: boolean;
}

export async function shredTenant(dataKeys: DataKeys, tenantId: string, at: Date = new Date()): Promise<ShredResult> {
  if (typeof tenantId !== 'string' || tenantId === '') throw new TypeError('tenantId must be a non-empty string');
  // Forget first so this process stops encrypting under the keys being destroyed; again after, for anything loaded meanwhile.
  dataKeys.forgetTenant(tenantId);
  const keysDestroyed = await dataKeys.repository.deleteAllForTenant(tenantId, at);
  const vaultKeyDestroyed = dataKeys.vault === undefined ? false : await dataKeys.vault.destroy(tenantId);
  dataKeys.forgetTenant(tenantId);
  return { tenantId, keysDestroyed, vault: dataKeys.vault?.kind ?? 'none', vaultKeyDestroyed };
}
