/**
 * Key rotation, online.
 *
 * Master key (KEK): `rotateMasterKey` re-wraps every data key from the old KEK to the new one.
 * Each key is one compare-and-set update, so the run is idempotent and resumable: interrupted
 * anywhere, a rerun lists only the keys still under the old KEK and finishes them; nothing is
 * re-encrypted and no data is touched. While it runs, gateways are configured with the new KEK
 * as current and the old one as previous, so both unwrap; once it reports `remaining: 0` the
 * old KEK can be removed and destroyed. With a tenant key vault the seal is outside the KEK
 * wrap: each key is opened from its seal, re-wrapped, and sealed again under the same tenant
 * shred key (an unsealed legacy key comes out sealed); the vault itself is not touched.
 *
 * Data keys: `rotateDataKey` gives a tenant a new current DEK (new data is encrypted under it,
 * old data keeps decrypting); `reencrypt` moves existing ciphertexts to the current DEK in
 * batches, lazily or all at once, for rows the caller supplies.
 */
import { CryptoError } from './crypto-error.ts';
import type { DataKeyRepository, StoredDataKey } from './data-key-repository.ts';
import { type DataKeys, wrapAad } from './data-keys.ts';
import type { Envelope } from './envelope.ts';
import type { Binding } from './envelope-format.ts';
import type { KekProvider } from './kek/kek-provider.ts';
import { isSealed, type TenantKeyVault } from './vault/tenant-key-vault.ts';

export interface MasterKeyProgress {
  readonly rewrapped: number;
  /** Keys another writer re-wrapped or shredded first. */
  readonly skipped: number;
  /** Keys under the old KEK when the run started. */
  readonly total: number;
}

export interface MasterKeyResult extends MasterKeyProgress {
  /** Keys still under the old KEK at the end: new keys were wrapped by an instance whose current KEK is still the old one. */
  readonly remaining: number;
}

export interface MasterKeyOptions {
  readonly batchSize?: number;
  readonly onProgress?: (p: MasterKeyProgress) => void;
  /** The tenant key vault sealing the stored keys (required when they are sealed). */
  readonly vault?: TenantKeyVault;
}

const MAX_PASSES = 3;

export async function rotateMasterKey(
  repo: DataKeyRepository,
  oldKek: KekProvider,
  newKek: KekProvider,
  opts: MasterKeyOptions = {},
): Promise<MasterKeyResult> {
  const batchSize = batchOption(opts.batchSize);
  if (oldKek.id === newKek.id)
    throw new CryptoError('bad_key', `the old and the new KEK are the same key (${oldKek.id})`);
  let rewrapped = 0;
  let skipped = 0;
  let total = await countUnder(repo, oldKek.id);

  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let afterId: string | undefined;
    let sawAny = false;
    for (;;) {
      const page: StoredDataKey[] = await repo.listByKekId(
        oldKek.id,
        afterId === undefined ? { limit: batchSize } : { afterId, limit: batchSize },
      );
      if (page.length === 0) break;
      sawAny = true;
      for (const key of page) {
        if (await rewrap(repo, key, oldKek, newKek, opts.vault)) rewrapped++;
        else skipped++;
      }
      afterId = page[page.length - 1]?.id;
      opts.onProgress?.({ rewrapped, skipped, total: Math.max(total, rewrapped + skipped) });
    }
    if (!sawAny) break;
  }
  total = Math.max(total, rewrapped + skipped);
  const remaining = await countUnder(repo, oldKek.id);
  return { rewrapped, skipped, total, remaining };
}

async function rewrap(
  repo: DataKeyRepository,
  key: StoredDataKey,
  oldKek: KekProvider,
  newKek: KekProvider,
  vault: TenantKeyVault | undefined,
): Promise<boolean> {
  const aad = wrapAad(key);
  let dek: Buffer;
  try {
    let inner = key.wrapped;
    if (isSealed(key.wrapped)) {
      if (vault === undefined)
        throw new CryptoError(
          'bad_key',
          'it is sealed by a tenant key vault and none is configured (security.tenant_keys)',
        );
      try {
        inner = await vault.open(key.tenantId, key.wrapped, aad);
      } catch (err) {
        if (!(err instanceof CryptoError) || err.reason !== 'shredded') throw err;
        throw new CryptoError(
          'shredded',
          `${err.message}. The key is dead (the tenant was shredded while it was being created): run "portcullis tenants shred ${key.tenantId} --yes" again to remove it`,
          { cause: err },
        );
      }
    }
    dek = await oldKek.unwrap(inner, aad);
  } catch (err) {
    if (err instanceof CryptoError) {
      throw new CryptoError(
        err.reason,
        `data key ${key.id} of tenant ${key.tenantId} cannot be unwrapped with KEK ${oldKek.id}: ${err.message}; the rotation stopped here, rerun after fixing it`,
        { cause: err },
      );
    }
    throw err;
  }
  try {
    const inner = await newKek.wrap(dek, aad);
    const wrapped = vault === undefined ? inner : await vault.seal(key.tenantId, inner, aad);
    return await repo.replaceWrapping(key.id, oldKek.id, newKek.id, wrapped);
  } finally {
    dek.fill(0);
  }
}

async function countUnder(repo: DataKeyRepository, kekId: string): Promise<number> {
  let n = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await repo.listByKekId(kekId, afterId === undefined ? { limit: 1000 } : { afterId, limit: 1000 });
    n += page.length;
    if (page.length < 1000) return n;
    afterId = page[page.length - 1]?.id;
  }
}

/** A new current data key for the tenant; returns its id. */
export async function rotateDataKey(dataKeys: DataKeys, tenantId: string): Promise<string> {
  return (await dataKeys.rotate(tenantId)).id;
}

export interface EncryptedItem {
  readonly binding: Binding;
  readonly ciphertext: Uint8Array;
}

export interface ReencryptProgress {
  readonly examined: number;
  readonly reencrypted: number;
  readonly alreadyCurrent: number;
}

export interface ReencryptOptions {
  readonly batchSize?: number;
  /** Persists one batch of re-encrypted items (e.g. one UPDATE per row in a transaction). */
  readonly save: (batch: readonly EncryptedItem[]) => Promise<void>;
  readonly onProgress?: (p: ReencryptProgress) => void;
}

/**
 * Re-encrypts items not yet under their tenant's current data key. Items already current are
 * left alone, so a rerun after an interruption only does what is left.
 */
export async function reencrypt(
  envelope: Envelope,
  items: Iterable<EncryptedItem> | AsyncIterable<EncryptedItem>,
  opts: ReencryptOptions,
): Promise<ReencryptProgress> {
  const batchSize = batchOption(opts.batchSize);
  let examined = 0;
  let reencrypted = 0;
  let alreadyCurrent = 0;
  let batch: EncryptedItem[] = [];
  const currentIds = new Map<string, string | undefined>();

  const flush = async (): Promise<void> => {
    if (batch.length > 0) {
      await opts.save(batch);
      reencrypted += batch.length;
      batch = [];
    }
    currentIds.clear(); // a tenant's DEK may rotate between batches
    opts.onProgress?.({ examined, reencrypted, alreadyCurrent });
  };

  for await (const item of items) {
    examined++;
    const tenant = item.binding.tenant;
    if (!currentIds.has(tenant)) currentIds.set(tenant, await envelope.dataKeys.currentKeyId(tenant));
    if (currentIds.get(tenant) === envelope.dataKeyIdOf(item.ciphertext)) {
      alreadyCurrent++;
    } else {
      const plaintext = await envelope.decrypt(item.binding, item.ciphertext);
      try {
        const ciphertext = await envelope.encrypt(item.binding, plaintext);
        batch.push({ binding: item.binding, ciphertext });
        // encrypt may have created the tenant's first key or rotated an exhausted one
        currentIds.set(tenant, envelope.dataKeyIdOf(ciphertext));
      } finally {
        plaintext.fill(0);
      }
    }
    if (examined % batchSize === 0) await flush();
  }
  await flush();
  return { examined, reencrypted, alreadyCurrent };
}

function batchOption(value: number | undefined): number {
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || value < 1 || value > 10_000) {
    throw new CryptoError('bad_key', `batchSize must be an integer from 1 to 10000 (got ${String(value)})`);
  }
  return value;
}
