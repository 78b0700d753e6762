/**
 * The Ed25519 key that signs checkpoints. It lives apart from the audit file: from config
 * (`audit.signing_key: "${file:…}"`, PKCS#8 PEM) or generated once into
 * `<audit.key_dir>/audit-signing.key` (0600; by default `<data_dir>-keys/`, outside the log's
 * folder). Someone who can rewrite the audit file but cannot read this key cannot produce
 * checkpoints that verify. Older versions generated the key beside the log
 * (`<data_dir>/audit-signing.key`); the first start that finds it there moves it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../observability/logger.ts';

export const AUDIT_SIGNING_KEY_FILE = 'audit-signing.key';
const POSIX = process.platform !== 'win32';
const MAX_KEY_FILE_BYTES = 16 * 1024;

export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}

export interface CheckpointSigner {
  /** Base64 SPKI DER: recorded with each checkpoint and compared by verify. */
  readonly publicKey: string;
  /** Short SHA-256 fingerprint of the public key, for humans. */
  readonly fingerprint: string;
  sign(message: Buffer): string;
}

export function parsePrivateKeyPem(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new SigningKeyError(`${source} is not a PEM private key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(
      `${source} is a ${key.asymmetricKeyType ?? 'unknown'} key; audit checkpoints need an Ed25519 key`,
    );
  }
  return key;
}

/** A public key from PEM (SPKI) or from a private key PEM; returned as base64 SPKI DER. */
export function publicKeyFromPem(pem: string, source: string): string {
  let key: KeyObject;
  try {
    key = pem.includes('PRIVATE KEY')
      ? createPublicKey(parsePrivateKeyPem(pem, source))
      : createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    if (err instanceof SigningKeyError) throw err;
    throw new SigningKeyError(`${source} is not a PEM public key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${source} is not an Ed25519 key`);
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

export function fingerprintOf(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 16);
}

export function createSigner(privateKey: KeyObject): CheckpointSigner {
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    publicKey,
    fingerprint: fingerprintOf(publicKey),
    sign: (message) => sign(null, message, privateKey).toString('base64'),
  };
}

export function verifySignature(publicKey: string, message: Buffer, signature: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, message, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Where a generated key is kept, and where older versions kept it. */
export interface GeneratedKeyPaths {
  readonly generatedKeyPath: string;
  readonly legacyKeyPath: string;
}

export interface ResolveKeyOptions {
  /** Create the key (and move a legacy one) when missing: the gateway and writing commands. Readers never create. */
  readonly create: boolean;
  readonly log?: Logger;
}

/**
 * The configured PEM, or the generated key (created on first use with `create`). A key found at
 * the legacy place beside the log is moved out when `create` is set, and read in place otherwise
 * (verify and export never change files).
 */
export function resolveSigningKeyPem(
  configured: string | undefined,
  paths: GeneratedKeyPaths,
  opts: ResolveKeyOptions,
): string {
  if (configured !== undefined) return configured;
  const { generatedKeyPath: path, legacyKeyPath: legacy } = paths;
  if (!opts.create) return readKeyFile(existsSync(path) || !existsSync(legacy) ? path : legacy);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (legacy !== path && existsSync(legacy)) moveLegacyKey(legacy, path, opts.log);
  const created = tryCreate(path);
  if (created !== undefined) {
    opts.log?.warn(
      { event: 'audit.signing_key_generated', path },
      `generated the audit signing key at ${path}; keep a copy elsewhere (verify needs its public half) and configure audit.signing_key in production`,
    );
    return created;
  }
  return readKeyFile(path);
}

/**
 * Moves a key generated beside the log by an older version: hard link into the new place, then
 * unlink the old name (a copy when they are on different file systems). When both exist and
 * differ, the new one stays in use and the old one is left for the operator, with a warning.
 */
function moveLegacyKey(legacy: string, path: string, log: Logger | undefined): void {
  const pem = readKeyFile(legacy);
  if (existsSync(path)) {
    if (readKeyFile(path) === pem) {
      rmSync(legacy, { force: true });
      return;
    }
    log?.warn(
      { event: 'audit.signing_key_legacy_left', legacy, path },
      `an older audit signing key is still at ${legacy}, beside the audit log, and differs from the one in use (${path}); keep its public half to verify old checkpoints (audit verify --public-key), then destroy it`,
    );
    return;
  }
  try {
    linkSync(legacy, path);
  } catch (err) {
    if (code(err) !== 'EXDEV')
      throw new SigningKeyError(`cannot move the audit signing key from ${legacy} to ${path} (${code(err)})`, {
        cause: err,
      });
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  }
  unlinkSync(legacy);
  log?.warn(
    { event: 'audit.signing_key_moved', from: legacy, to: path },
    `moved the audit signing key from ${legacy} (beside the audit log) to ${path}: a copy of the log's folder no longer carries the key that vouches for it`,
  );
}

/** Complete temp file, then a hard link into place: concurrent starters agree on one key. */
function tryCreate(path: string): string | undefined {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, pem, { mode: 0o600, flag: 'wx' });
    linkSync(tmp, path);
    return pem;
  } catch (err) {
    if (code(err) === 'EEXIST') return undefined;
    throw new SigningKeyError(`cannot create ${path} (${code(err)})`, { cause: err });
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readKeyFile(path: string): string {
  try {
    const st = lstatSync(path);
    if (!st.isFile()) throw new SigningKeyError(`${path} is not a regular file`);
    if (st.size > MAX_KEY_FILE_BYTES) throw new SigningKeyError(`${path} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
    const fd = openSync(path, 'r');
    try {
      const mode = fstatSync(fd).mode;
      if (POSIX && (mode & 0o077) !== 0) {
        throw new SigningKeyError(
          `${path} has permissions 0${(mode & 0o777).toString(8)}; it must be readable by its owner only (chmod 600 ${path})`,
        );
      }
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof SigningKeyError) throw err;
    throw new SigningKeyError(`cannot read audit signing key ${path} (${code(err)})`, { cause: err });
  }
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
