/**
 * The tenant key vault: one random 32-byte *shred key* per tenant, kept OUTSIDE the store (so
 * outside the store's backups). Every wrapped data key written to the store is sealed under its
 * tenant's shred key:
 *
 *   stored = SEAL(shred key of the tenant, KEK.wrap(DEK, wrapAad), wrapAad)
 *
 * so reading a data key needs the store, the master key AND the tenant's vault entry. Shredding
 * a tenant destroys its vault entry: a backup of the store taken before the shred then holds
 * only blobs sealed under a key that exists nowhere, unreadable even with the master key. The
 * seal sits outside the KEK wrap, so a master-key rotation never touches the vault.
 *
 * Sealed format (v1), all lengths in bytes:
 *   magic 0xC5 'T' 'K' 'V' (4) | version 0x01 (1) | tenant tag (8) | shred key id (16) | IV (12) | body | GCM tag (16)
 * The magic cannot be confused with a local KEK blob (those start with 0x01). The tenant tag
 * (a hash of the tenant id) lets a blob moved to another tenant be reported as `tampered`; the
 * random key id lets a blob whose key was destroyed and later re-created for the same tenant
 * be reported as `shredded`. AES-256-GCM with AAD = label ‖ header ‖ the data key's wrap AAD
 * (its id, tenant and version), so a sealed blob only opens on the record it was made for.
 *
 * Backends (file, postgres, or a KMS with per-tenant keys) only store key records; this file
 * holds the one implementation of the format.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { CryptoError } from '../crypto-error.ts';
import { gcmOpen } from '../gcm.ts';

/**
 * Backends must be read-your-writes consistent: `open` right after a `seal` (from any process)
 * must find the key. data-keys.ts treats `shredded` right after sealing a new data key as a
 * concurrent shred and finishes that shred (deletes the tenant's data keys), so an eventually
 * consistent store would destroy data.
 */
export interface TenantKeyVault {
  /** `file`, `postgres`, or another backend's name (shown in logs and CLI output). */
  readonly kind: string;
  /** Seals under the tenant's shred key, creating the key on first use (race-safe across processes). */
  seal(tenantId: string, inner: Buffer, aad: Buffer): Promise<Buffer>;
  /** CryptoError `shredded` when the tenant's shred key is gone (or was replaced: key id mismatch), `tampered` when it does not authenticate. */
  open(tenantId: string, sealed: Buffer, aad: Buffer): Promise<Buffer>;
  /** Destroys the tenant's shred key; idempotent; true if one existed. */
  destroy(tenantId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** One tenant's shred key as a backend stores it. Callers wipe both buffers after use. */
export interface ShredKeyRecord {
  readonly id: Buffer;
  readonly key: Buffer;
}

/** What a backend implements: storage of key records, nothing cryptographic beyond it. */
export interface ShredKeyStore {
  readonly kind: string;
  /** The tenant's key, or undefined when there is none (never created, or destroyed). */
  get(tenantId: string): Promise<ShredKeyRecord | undefined>;
  /** Stores `candidate` unless the tenant already has a key; returns the key that is stored (the same for every concurrent caller). */
  getOrCreate(tenantId: string, candidate: ShredKeyRecord): Promise<ShredKeyRecord>;
  destroy(tenantId: string): Promise<boolean>;
  close(): Promise<void>;
}

export const SHRED_KEY_BYTES = 32;
export const SHRED_KEY_ID_BYTES = 16;
const MAGIC = Buffer.from([0xc5, 0x54, 0x4b, 0x56]);
const VERSION = 1;
const TENANT_TAG_BYTES = 8;
const IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + TENANT_TAG_BYTES + SHRED_KEY_ID_BYTES + IV_BYTES;
const SEAL_AAD_LABEL = Buffer.from('portcullis/tenant-seal/v1\0', 'utf8');
const TENANT_TAG_LABEL = 'portcullis/tenant-tag/v1\0';

/** True when `blob` carries the sealed-format magic (it may still be malformed or forged). */
export function isSealed(blob: Uint8Array): boolean {
  return blob.length >= MAGIC.length && MAGIC.equals(blob.subarray(0, MAGIC.length));
}

export function tenantTag(tenantId: string): Buffer {
  return createHash('sha256').update(TENANT_TAG_LABEL).update(tenantId, 'utf8').digest().subarray(0, TENANT_TAG_BYTES);
}

export function newShredKey(): ShredKeyRecord {
  return { id: randomBytes(SHRED_KEY_ID_BYTES), key: randomBytes(SHRED_KEY_BYTES) };
}

export function wipe(record: ShredKeyRecord | undefined): void {
  record?.key.fill(0);
}

function checkTenant(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId === '') throw new TypeError('tenantId must be a non-empty string');
}

/** The vault over a backend: the seal format lives here, the backend only keeps key records. */
export function createTenantKeyVault(store: ShredKeyStore): TenantKeyVault {
  return {
    kind: store.kind,
    async seal(tenantId, inner, aad) {
      checkTenant(tenantId);
      const candidate = newShredKey();
      let record: ShredKeyRecord | undefined;
      try {
        record = await store.getOrCreate(tenantId, candidate);
        return sealWith(record, tenantId, inner, aad);
      } finally {
        wipe(candidate);
        wipe(record);
      }
    },
    async open(tenantId, sealed, aad) {
      checkTenant(tenantId);
      const parts = parse(sealed, tenantId);
      const record = await store.get(tenantId);
      try {
        if (record === undefined) {
          throw new CryptoError(
            'shredded',
            `the shred key of tenant ${tenantId} is not in the ${store.kind} tenant key vault (destroyed by a shred, or this is not the vault that sealed it)`,
          );
        }
        if (!record.id.equals(parts.keyId)) {
          throw new CryptoError(
            'shredded',
            `the shred key of tenant ${tenantId} that sealed this data key was destroyed (the ${store.kind} vault now holds a newer one)`,
          );
        }
        return openWith(record.key, parts, aad, tenantId);
      } finally {
        wipe(record);
      }
    },
    destroy(tenantId) {
      checkTenant(tenantId);
      return store.destroy(tenantId);
    },
    close: () => store.close(),
  };
}

function sealWith(record: ShredKeyRecord, tenantId: string, inner: Buffer, aad: Buffer): Buffer {
  if (record.key.length !== SHRED_KEY_BYTES || record.id.length !== SHRED_KEY_ID_BYTES) {
    throw new CryptoError('bad_key', `the shred key of tenant ${tenantId} in the tenant key vault is malformed`);
  }
  const header = Buffer.concat([MAGIC, Buffer.of(VERSION), tenantTag(tenantId), record.id, randomBytes(IV_BYTES)]);
  const cipher = createCipheriv('aes-256-gcm', record.key, header.subarray(HEADER_BYTES - IV_BYTES), {
    authTagLength: GCM_TAG_BYTES,
  });
  cipher.setAAD(Buffer.concat([SEAL_AAD_LABEL, header, aad]));
  return Buffer.concat([header, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
}

interface SealedParts {
  readonly header: Buffer;
  readonly keyId: Buffer;
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

function parse(sealed: Buffer, tenantId: string): SealedParts {
  if (!isSealed(sealed) || sealed.length < HEADER_BYTES + 1 + GCM_TAG_BYTES) {
    throw new CryptoError('tampered', `a sealed data key of tenant ${tenantId} is truncated or malformed`);
  }
  if (sealed[MAGIC.length] !== VERSION) {
    throw new CryptoError(
      'bad_format',
      `a sealed data key of tenant ${tenantId} has seal version ${sealed[MAGIC.length]}, this code reads ${VERSION}`,
    );
  }
  const tagAt = MAGIC.length + 1;
  if (!sealed.subarray(tagAt, tagAt + TENANT_TAG_BYTES).equals(tenantTag(tenantId))) {
    throw new CryptoError(
      'tampered',
      `a sealed data key presented for tenant ${tenantId} was sealed for another tenant (moved between records)`,
    );
  }
  const idAt = tagAt + TENANT_TAG_BYTES;
  return {
    header: sealed.subarray(0, HEADER_BYTES),
    keyId: sealed.subarray(idAt, idAt + SHRED_KEY_ID_BYTES),
    iv: sealed.subarray(HEADER_BYTES - IV_BYTES, HEADER_BYTES),
    body: sealed.subarray(HEADER_BYTES, sealed.length - GCM_TAG_BYTES),
    tag: sealed.subarray(sealed.length - GCM_TAG_BYTES),
  };
}

function openWith(key: Buffer, p: SealedParts, aad: Buffer, tenantId: string): Buffer {
  return gcmOpen(
    key,
    p,
    Buffer.concat([SEAL_AAD_LABEL, p.header, aad]),
    `a sealed data key of tenant ${tenantId} failed authentication (modified, or moved to another record)`,
  );
}
