/**
 * Reading and checking PEM files: the listener's certificate and private key, and CA bundles.
 * Problems are described by file name and reason only; file contents (a private key) never
 * appear in a message.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const MAX_PEM_BYTES = 1024 * 1024;

export interface ServerPair {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint of the leaf (colon-separated hex), for logs. */
  readonly fingerprint256: string;
  readonly validTo: string;
}

function readText(path: string): string {
  const st = statSync(path);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if (st.size > MAX_PEM_BYTES) throw new Error(`${path} is larger than ${MAX_PEM_BYTES} bytes`);
  return readFileSync(path, 'utf8');
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code?.startsWith('E') && !code.startsWith('ERR_') ? code : err instanceof Error ? err.message : String(err);
}

/** A private key must be readable by its owner only: group/world access is refused. */
export function checkPrivateKeyFile(path: string): string[] {
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      return [
        `${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 on it`,
      ];
    }
    createPrivateKey(readText(path));
    return [];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && /^E[A-Z]+$/.test(code)) return [`cannot read ${path} (${code})`];
    return [`${path} does not hold a PEM private key`];
  }
}

/**
 * Reads a certificate (chain) and its key and proves they belong together and the leaf is
 * current. Throws an Error whose message is safe to log.
 */
export function loadServerPair(certFile: string, keyFile: string): ServerPair {
  const keyProblems = checkPrivateKeyFile(keyFile);
  if (keyProblems[0] !== undefined) throw new Error(keyProblems[0]);
  let cert: string;
  let key: string;
  try {
    cert = readText(certFile);
    key = readText(keyFile);
  } catch (err) {
    throw new Error(`cannot read the certificate or key (${describe(err)})`);
  }
  let leaf: X509Certificate;
  try {
    const first = cert.match(PEM_CERT)?.[0];
    if (first === undefined) throw new Error('no PEM certificate');
    leaf = new X509Certificate(first);
  } catch {
    throw new Error(`${certFile} does not hold a PEM certificate`);
  }
  if (Date.parse(leaf.validTo) <= Date.now())
    throw new Error(`${certFile}: the certificate expired on ${leaf.validTo}`);
  try {
    // Builds exactly what the listener will use; OpenSSL refuses a key that is not the certificate's.
    createSecureContext({ cert, key });
  } catch {
    throw new Error(`${certFile} and ${keyFile} do not belong together (the key is not the certificate's key)`);
  }
  return { cert, key, fingerprint256: leaf.fingerprint256, validTo: leaf.validTo };
}

export function checkKeyPair(certFile: string, keyFile: string): string[] {
  try {
    loadServerPair(certFile, keyFile);
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** Every certificate in a PEM bundle; throws when there is none or one does not parse. */
export function readCaBundle(path: string): string[] {
  const text = readText(path);
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) throw new Error(`${path} holds no PEM certificate`);
  for (const pem of certs) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(`${path} holds a certificate that does not parse`);
    }
  }
  return certs;
}

export function checkCaFile(path: string): string[] {
  try {
    readCaBundle(path);
    return [];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && /^E[A-Z]+$/.test(code)) return [`cannot read ${path} (${code})`];
    return [err instanceof Error ? err.message : String(err)];
  }
}
