/**
 * Key-encryption keys (KEKs). A KEK never encrypts data: it only wraps data keys, so it is
 * used a handful of times per tenant and can live outside the database (env var, file, or a
 * KMS behind this same interface). Every method is async so a remote KMS fits unchanged.
 *
 * The local KEK wraps with AES-256-GCM rather than AES Key Wrap (RFC 3394/5649): GCM takes
 * associated data, which binds a wrapped key to its data-key id and tenant, so a wrapped key
 * copied onto another record fails to unwrap. Random 96-bit IVs are safe here because a KEK
 * performs one wrap per data key created or re-wrapped, far below the 2^32 invocations per key
 * that NIST SP 800-38D allows for random IVs.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { CryptoError } from '../crypto-error.ts';
import { gcmOpen } from '../gcm.ts';

export interface KekProvider {
  /** Public, stable identifier of the key (never the key). Stored next to every wrapped data key. */
  readonly id: string;
  wrap(dek: Buffer, aad: Buffer): Promise<Buffer>;
  /** Rejects with CryptoError `tampered` when the wrapped key or the aad does not authenticate. */
  unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer>;
}

/** A KEK held in this process; `destroy` wipes it so tests can prove it is no longer needed. */
export interface LocalKek extends KekProvider {
  destroy(): void;
}

export const KEK_BYTES = 32;
const WRAP_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEK_ID_LABEL = 'portcullis/kek-id/v1\0';

/**
 * First 16 hex characters of SHA-256 over a domain-separation label and the key. Safe to show
 * and store: a 256-bit random key cannot be recovered from it, and the label keeps the value
 * from matching a hash computed for any other purpose.
 */
export function deriveKekId(key: Buffer): string {
  return createHash('sha256').update(KEK_ID_LABEL).update(key).digest('hex').slice(0, 16);
}

/** Takes ownership of `key` (a private copy is kept; wipe your own buffer after the call). */
export function createLocalKek(key: Buffer, source: string): LocalKek {
  if (key.length !== KEK_BYTES) {
    throw new CryptoError('bad_key', `${source} must hold exactly ${KEK_BYTES} bytes (got ${key.length})`);
  }
  const material = Buffer.alloc(KEK_BYTES);
  key.copy(material);
  const id = deriveKekId(material);
  let destroyed = false;

  function live(): Buffer {
    if (destroyed) throw new CryptoError('bad_key', `KEK ${id} has been destroyed`);
    return material;
  }

  return {
    id,
    async wrap(dek, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', live(), iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(dek), cipher.final()]);
      const out = Buffer.concat([Buffer.of(WRAP_VERSION), iv, body, cipher.getAuthTag()]);
      body.fill(0);
      return out;
    },
    async unwrap(wrapped, aad) {
      const key = live();
      if (wrapped.length < 1 + IV_BYTES + TAG_BYTES || wrapped[0] !== WRAP_VERSION) {
        throw new CryptoError('tampered', `a data key wrapped by KEK ${id} is malformed`);
      }
      const iv = wrapped.subarray(1, 1 + IV_BYTES);
      const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
      const body = wrapped.subarray(1 + IV_BYTES, wrapped.length - TAG_BYTES);
      return gcmOpen(
        key,
        { iv, body, tag },
        aad,
        `a data key wrapped by KEK ${id} failed authentication (modified, or moved to another record)`,
      );
    },
    destroy() {
      material.fill(0);
      destroyed = true;
    },
  };
}
