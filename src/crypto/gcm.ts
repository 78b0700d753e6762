/**
 * AES-256-GCM decryption shared by the KEK (kek/kek-provider.ts), the tenant key vault
 * (vault/tenant-key-vault.ts) and the envelope (envelope.ts): GCM releases bytes before the
 * tag is checked, so on a failed tag they are wiped and nothing decrypted is left behind; the
 * result lives in a dedicated (non-pooled) buffer, so the caller can wipe it without touching
 * anything else.
 */
import { createDecipheriv } from 'node:crypto';
import { CryptoError } from './crypto-error.ts';

export const GCM_TAG_LENGTH = 16;

export interface GcmParts {
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

/** The plaintext, or CryptoError `tampered` with `failure` as its message. */
export function gcmOpen(key: Buffer, parts: GcmParts, aad: Buffer, failure: string): Buffer {
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
