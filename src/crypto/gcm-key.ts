/**
 * AES-256-GCM decryption of key material (a wrapped data key, a sealed one), shared by the
 * KEK (kek/kek-provider.ts) and the tenant key vault (vault/tenant-key-vault.ts): on a failed
 * tag nothing decrypted is left behind, and the result lives in a dedicated (non-pooled)
 * buffer, so the caller can wipe it without touching anything else.
 */
import { createDecipheriv } from 'node:crypto';
import { CryptoError } from './crypto-error.ts';

export const GCM_TAG_LENGTH = 16;

export interface GcmParts {
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

/** The plaintext key, or CryptoError `tampered` with `failure` as its message. */
export function openKeyMaterial(key: Buffer, parts: GcmParts, aad: Buffer, failure: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: GCM_TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(parts.tag);
  const head = decipher.update(parts.body);
  try {
    decipher.final();
  } catch (err) {
    head.fill(0);
    throw new CryptoError('tampered', failure, { cause: err });
  }
  const out = Buffer.alloc(head.length);
  head.copy(out);
  head.fill(0);
  return out;
}
