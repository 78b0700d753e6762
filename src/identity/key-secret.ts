/**
 * The server secret behind API key hashes. From config when given (`${ENV}`/`${file:…}`),
 * otherwise generated once into `<dataDir>/key-hash.secret`. Losing it invalidates every key,
 * and leaking it lets a stolen database be brute-forced, so the file is owner-only and
 * anything looser, or of the wrong size, is refused rather than used.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { SecurityConfig } from '../crypto/config-types.ts';

export const KEY_HASH_SECRET_FILE = 'key-hash.secret';
const SECRET_BYTES = 32;
const MIN_CONFIGURED_CHARS = 32;
const POSIX = process.platform !== 'win32';

export class KeySecretError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySecretError';
  }
}

export function resolveKeyHashSecret(cfg: SecurityConfig): Buffer {
  if (cfg.keyHashSecret !== undefined) {
    if (cfg.keyHashSecret.length < MIN_CONFIGURED_CHARS) {
      throw new KeySecretError(`security.key_hash_secret must be at least ${MIN_CONFIGURED_CHARS} characters`);
    }
    return Buffer.from(cfg.keyHashSecret, 'utf8');
  }
  const path = join(cfg.dataDir, KEY_HASH_SECRET_FILE);
  ensureDataDir(cfg.dataDir);
  const created = tryCreate(path);
  return created ?? readSecretFile(path);
}

function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new KeySecretError(`data dir ${dir} is not a directory`);
    // Others who can write the folder could swap the secret file for one they know.
    if (POSIX && (st.mode & 0o022) !== 0) {
      throw new KeySecretError(
        `data dir ${dir} is writable by group or others (mode ${octal(st.mode)}); run: chmod 700 ${dir}`,
      );
    }
  } catch (err) {
    if (err instanceof KeySecretError) throw err;
    throw new KeySecretError(`cannot create data dir ${dir} (${code(err)})`, { cause: err });
  }
}

/**
 * Writes a complete temp file, then hard-links it into place: the link fails if the file
 * exists, so two processes starting together agree on one secret and neither reads a half-written file.
 * Undefined when the file already exists.
 */
function tryCreate(path: string): Buffer | undefined {
  const secret = randomBytes(SECRET_BYTES);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${secret.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(tmp, path);
    return secret;
  } catch (err) {
    if (code(err) === 'EEXIST') return undefined;
    throw new KeySecretError(`cannot create ${path} (${code(err)})`, { cause: err });
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readSecretFile(path: string): Buffer {
  let text: string;
  try {
    const st = lstatSync(path);
    if (!st.isFile()) throw new KeySecretError(`${path} is not a regular file`);
    const fd = openSync(path, 'r');
    try {
      const mode = fstatSync(fd).mode;
      if (POSIX && (mode & 0o077) !== 0) {
        throw new KeySecretError(
          `${path} has permissions ${octal(mode)}; it must be readable by its owner only (chmod 600 ${path})`,
        );
      }
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof KeySecretError) throw err;
    throw new KeySecretError(`cannot read ${path} (${code(err)})`, { cause: err });
  }
  const trimmed = text.trim();
  const secret = Buffer.from(trimmed, 'base64');
  if (secret.length !== SECRET_BYTES || secret.toString('base64') !== trimmed) {
    throw new KeySecretError(
      `${path} does not hold ${SECRET_BYTES} base64-encoded bytes; restore it from a backup (a new secret would invalidate every API key)`,
    );
  }
  return secret;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
