/**
 * The master key (the local KEK) as an operator writes it: base64 of 32 bytes
 * (`openssl rand -base64 32`) or 64 hex digits (`openssl rand -hex 32`). The two cannot be
 * confused: base64 of 32 bytes is 44 characters. Errors name the source, never the value.
 */
import { CryptoError } from '../crypto-error.ts';
import { createLocalKek, KEK_BYTES, type LocalKek } from './kek-provider.ts';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const EXPECTED = `expected base64 of ${KEK_BYTES} bytes (openssl rand -base64 ${KEK_BYTES}) or ${KEK_BYTES * 2} hex digits (openssl rand -hex ${KEK_BYTES})`;

export function masterKeyFromValue(value: string, source: string): LocalKek {
  const text = value.trim();
  if (text === '') throw new CryptoError('bad_key', `${source} is empty; ${EXPECTED}`);
  let key: Buffer;
  if (HEX_KEY.test(text)) key = Buffer.from(text, 'hex');
  else if (BASE64.test(text) && text.length % 4 === 0) key = Buffer.from(text, 'base64');
  else throw new CryptoError('bad_key', `${source} is neither base64 nor hex; ${EXPECTED}`);
  try {
    if (key.length !== KEK_BYTES)
      throw new CryptoError('bad_key', `${source} decodes to ${key.length} bytes; ${EXPECTED}`);
    return createLocalKek(key, source);
  } finally {
    key.fill(0);
  }
}

/** A problem with a master key value, for config validation; undefined when it is usable. */
export function masterKeyProblem(value: string): string | undefined {
  try {
    masterKeyFromValue(value, 'the referenced value').destroy();
    return undefined;
  } catch (err) {
    return err instanceof CryptoError ? err.message : 'the referenced value is not a usable master key';
  }
}
