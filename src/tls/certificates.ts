/**
 * Certificate generation with WebCrypto keys (ECDSA P-256) and @peculiar/x509: the
 * self-signed pair behind `portcullis tls self-signed`, and a small CA that issues server and
 * client certificates (mutual-TLS setups and tests). Nothing here touches the network.
 */

import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import './reflect-metadata.ts';
import * as x509 from '@peculiar/x509';
import { spkiSha256 } from './spki-pin.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DAY_MS = 86_400_000;
/** Upper bound for --days; local test certificates need no more. */
export const MAX_DAYS = 3650;
export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export interface PemPair {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
  /** RFC 7469 pin: base64 SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
  readonly spkiPin: string;
}

export interface Authority extends PemPair {
  readonly subject: string;
}

export type CertUsage = 'server' | 'client' | 'server+client';

export interface SelfSignedOptions {
  /** DNS names and IP addresses for the subjectAltName (default: localhost, 127.0.0.1, ::1). */
  readonly hosts?: readonly string[];
  readonly days?: number;
  readonly commonName?: string;
}

export interface IssueOptions {
  readonly commonName: string;
  readonly hosts?: readonly string[];
  readonly days?: number;
  readonly usage: CertUsage;
}

const HOST_NAME =
  /^(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Throws on a host that can be neither a DNS name nor an IP literal in a subjectAltName. */
export function checkHost(host: string): void {
  if (isIP(host) !== 0) return;
  if (!HOST_NAME.test(host)) throw new Error(`"${host}" is not a DNS name or IP address`);
}

function checkDays(days: number): void {
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_DAYS)
    throw new Error(`days must be an integer from 1 to ${MAX_DAYS}`);
}

async function newKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
}

async function keyPem(keys: KeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

function sanExtension(hosts: readonly string[]): x509.SubjectAlternativeNameExtension {
  for (const h of hosts) checkHost(h);
  return new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) !== 0 ? 'ip' : 'dns', value: h })));
}

function validity(days: number): { notBefore: Date; notAfter: Date; serialNumber: string } {
  checkDays(days);
  // A minute of slack for clocks that are slightly behind.
  const notBefore = new Date(Date.now() - 60_000);
  // A positive 16-byte serial (top bit clear), as RFC 5280 asks.
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS), serialNumber: serial.toString('hex') };
}

function usageExtensions(usage: CertUsage): x509.Extension[] {
  const eku: string[] = [];
  if (usage !== 'client') eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (usage !== 'server') eku.push(x509.ExtendedKeyUsage.clientAuth);
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(eku),
  ];
}

function rdn(commonName: string): string {
  if (!/^[A-Za-z0-9 ._@:*-]{1,64}$/.test(commonName))
    throw new Error('common name: 1-64 letters, digits, spaces and ._@:*-');
  return `CN=${commonName}`;
}

async function finish(cert: x509.X509Certificate, keys: KeyPair): Promise<PemPair> {
  const pem = cert.toString('pem');
  return { cert: `${pem}\n`, key: await keyPem(keys), spkiPin: spkiSha256(pem) };
}

/** A self-signed server certificate (also usable as its own trust anchor by clients). */
export async function createSelfSigned(opts: SelfSignedOptions = {}): Promise<PemPair> {
  const hosts = opts.hosts ?? DEFAULT_HOSTS;
  if (hosts.length === 0) throw new Error('at least one host is needed');
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(opts.days ?? 365),
    name: rdn(opts.commonName ?? 'portcullis self-signed'),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      ...usageExtensions('server'),
      sanExtension(hosts),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(cert, keys);
}

/** A certificate authority that can sign server and client certificates. */
export async function createAuthority(commonName: string, days = 365): Promise<Authority> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(days),
    name: rdn(commonName),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { ...(await finish(cert, keys)), subject: cert.subject };
}

/** A leaf certificate signed by `ca`. */
export async function issueCertificate(ca: Authority, opts: IssueOptions): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importPkcs8(ca.key);
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    ...usageExtensions(opts.usage),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (opts.hosts !== undefined && opts.hosts.length > 0) extensions.push(sanExtension(opts.hosts));
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(opts.days ?? 365),
    subject: rdn(opts.commonName),
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return finish(cert, keys);
}

async function importPkcs8(pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
}
