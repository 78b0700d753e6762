/**
 * Envelope encryption of single values (a credential, a TOTP secret, a logged payload) with
 * AES-256-GCM under the tenant's current data key. Decryption either returns the whole,
 * authenticated plaintext or throws a CryptoError; it never returns partial or unauthenticated
 * bytes and never treats its input as plaintext.
 */
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CryptoError } from './crypto-error.ts';
import type { DataKeys } from './data-keys.ts';
import {
  associatedData,
  type Binding,
  CHECK_BYTES,
  describeBinding,
  encodeBinding,
  encodeHeader,
  IV_BYTES,
  parseCiphertext,
  TAG_BYTES,
} from './envelope-format.ts';
import { gcmOpen } from './gcm.ts';

export interface Envelope {
  encrypt(binding: Binding, plaintext: Uint8Array | string): Promise<Buffer>;
  decrypt(binding: Binding, ciphertext: Uint8Array): Promise<Buffer>;
  /** The data-key id a ciphertext names (`bad_format` if it is not one). */
  dataKeyIdOf(ciphertext: Uint8Array): string;
  /** True when the ciphertext is under the tenant's current data key (no re-encryption needed). */
  isCurrent(tenantId: string, ciphertext: Uint8Array): Promise<boolean>;
  readonly dataKeys: DataKeys;
}

export function createEnvelope(opts: { readonly dataKeys: DataKeys }): Envelope {
  const dataKeys = opts.dataKeys;

  return {
    dataKeys,
    async encrypt(binding, plaintext) {
      const bindingBytes = encodeBinding(binding);
      const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
      if (!(data instanceof Uint8Array)) throw new TypeError('plaintext must be a string, Buffer or Uint8Array');
      return dataKeys.withCurrentKey(binding.tenant, (dekId, key) => {
        const header = encodeHeader(dekId, bindingCheck(key.bindKey, bindingBytes));
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key.encKey, iv, { authTagLength: TAG_BYTES });
        cipher.setAAD(associatedData(header, bindingBytes));
        const body = cipher.update(data);
        const last = cipher.final();
        return Buffer.concat([header, iv, body, last, cipher.getAuthTag()]);
      });
    },

    async decrypt(binding, ciphertext) {
      const bindingBytes = encodeBinding(binding);
      const parsed = parseCiphertext(ciphertext);
      const where = describeBinding(binding);
      return dataKeys.withKey(parsed.dekId, (key) => {
        if (key.tenantId !== binding.tenant) {
          throw new CryptoError(
            'wrong_binding',
            `the ciphertext for ${where} was encrypted for another tenant (moved or copied from elsewhere)`,
          );
        }
        const expected = bindingCheck(key.bindKey, bindingBytes);
        if (!timingSafeEqual(expected, parsed.check)) {
          throw new CryptoError(
            'wrong_binding',
            `the ciphertext for ${where} was encrypted for another table, column or row (moved or copied from elsewhere)`,
          );
        }
        return gcmOpen(
          key.encKey,
          parsed,
          associatedData(parsed.header, bindingBytes),
          `the ciphertext for ${where} failed authentication (modified or truncated)`,
        );
      });
    },

    dataKeyIdOf(ciphertext) {
      return parseCiphertext(ciphertext).dekId;
    },

    async isCurrent(tenantId, ciphertext) {
      const dekId = parseCiphertext(ciphertext).dekId;
      return (await dataKeys.currentKeyId(tenantId)) === dekId;
    },
  };
}

function bindingCheck(bindKey: Buffer, bindingBytes: Buffer): Buffer {
  return createHmac('sha256', bindKey).update(bindingBytes).digest().subarray(0, CHECK_BYTES);
}
