/**
 * The Ed25519 key that signs checkpoints. It lives apart from the audit file: from config
 * (`audit.signing_key: "${file:…}"`, PKCS#8 PEM) or generated once into
 * `<data_dir>/audit-signing.key` (0600). Someone who can rewrite the audit file but cannot read
 * this key cannot produce checkpoints that verify.
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

/** The configured PEM, or the generated key file under the data folder (created on first use). */
export function resolveSigningKeyPem(
  configured: string | undefined,
  dataDir: string,
  opts: { create: boolean },
): string {
  if (configured !== undefined) return configured;
  const path = join(dataDir, AUDIT_SIGNING_KEY_FILE);
  if (opts.create) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const created = tryCreate(path);
    if (created !== undefined) return created;
  }
  return readKeyFile(path);
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
