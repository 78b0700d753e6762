/**
 * Public-key pins in the RFC 7469 format: the base64 SHA-256 of the certificate's DER-encoded
 * SubjectPublicKeyInfo. A pin survives certificate renewal as long as the key is kept, and it
 * is what `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64` prints.
 */
import { createHash, X509Certificate } from 'node:crypto';

/** The pin of a certificate given as PEM text or DER bytes. */
export function spkiSha256(cert: string | Buffer): string {
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** A syntactically valid pin: 32 bytes in canonical, padded base64 (44 characters). */
export function isValidPin(pin: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(pin)) return false;
  return Buffer.from(pin, 'base64').toString('base64') === pin;
}
