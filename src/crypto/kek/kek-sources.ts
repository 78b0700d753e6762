/**
 * Where a local KEK comes from: a secret value (an env var, or a config `${…}` reference the
 * config loader has already resolved) or a key file. The format is the same everywhere:
 * standard base64 of exactly 32 random bytes (`openssl rand -base64 32`). Anything else is
 * refused with an error that names the source, never the value.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { CryptoError } from '../crypto-error.ts';
import { createLocalKek, KEK_BYTES, type LocalKek } from './kek-provider.ts';

const MAX_KEY_FILE_BYTES = 4096;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const POSIX = process.platform !== 'win32';
const HINT = `generate one with: openssl rand -base64 ${KEK_BYTES}`;

/** `source` describes where the value came from ("environment variable X", "security.master_key"). */
export function kekFromSecretValue(value: string, source: string): LocalKek {
  const text = value.trim();
  if (text === '') throw new CryptoError('bad_key', `${source} is empty; ${HINT}`);
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    throw new CryptoError(
      'bad_key',
      `${source} is not standard base64; it must hold base64 of exactly ${KEK_BYTES} bytes (${HINT})`,
    );
  }
  const key = Buffer.from(text, 'base64');
  try {
    if (key.length !== KEK_BYTES) {
      throw new CryptoError(
        'bad_key',
        `${source} decodes to ${key.length} bytes; it must hold base64 of exactly ${KEK_BYTES} bytes (${HINT})`,
      );
    }
    return createLocalKek(key, source);
  } finally {
    key.fill(0);
  }
}

export function kekFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): LocalKek {
  const value = env[name];
  if (value === undefined) throw new CryptoError('bad_key', `environment variable ${name} is not set; ${HINT}`);
  return kekFromSecretValue(value, `environment variable ${name}`);
}

/**
 * Reads a key file. Symlinks are followed (Kubernetes mounts secrets that way) but the file
 * they reach must be a regular file that neither group nor others can read or write.
 */
export function kekFromFile(path: string): LocalKek {
  let raw: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new CryptoError('bad_key', `KEK file ${path} is not a regular file`);
      if (POSIX && (st.mode & 0o077) !== 0) {
        const mode = `0${(st.mode & 0o777).toString(8)}`;
        throw new CryptoError(
          'bad_key',
          `KEK file ${path} has permissions ${mode}; it must be readable by its owner only (chmod 600 ${path})`,
        );
      }
      if (st.size > MAX_KEY_FILE_BYTES)
        throw new CryptoError('bad_key', `KEK file ${path} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
      raw = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CryptoError('bad_key', `cannot read KEK file ${path} (${code})`, { cause: err });
  }
  try {
    return kekFromSecretValue(raw.toString('utf8'), `KEK file ${path}`);
  } finally {
    raw.fill(0);
  }
}
