/**
 * The verified client certificate of a mutual-TLS connection, read once per connection and
 * shared by every request on it. Only certificates the listener verified are returned.
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { ClientCertInfo } from '../core/context.ts';

const cache = new WeakMap<TLSSocket, ClientCertInfo | null>();

export function clientCertOf(socket: Socket): ClientCertInfo | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cached = cache.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const info = readPeer(socket);
  cache.set(socket, info ?? null);
  return info;
}

/** True when the peer sent a certificate at all (verified or not). */
export function hasPeerCertificate(socket: TLSSocket): boolean {
  const peer = socket.getPeerCertificate();
  return peer !== null && typeof peer === 'object' && Buffer.isBuffer(peer.raw);
}

function readPeer(socket: TLSSocket): ClientCertInfo | undefined {
  const peer = socket.getPeerCertificate();
  if (peer === null || typeof peer !== 'object' || !Buffer.isBuffer(peer.raw)) return undefined;
  const cert = new X509Certificate(peer.raw);
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validTo: cert.validTo,
  };
}

/** Node gives one RDN per line; logs and contexts want one line. */
function distinguishedName(multiline: string): string {
  return multiline
    .split('\n')
    .filter((l) => l !== '')
    .join(', ');
}
