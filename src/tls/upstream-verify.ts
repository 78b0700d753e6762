/**
 * How the gateway checks a provider's certificate. Verification is always on — set
 * explicitly, so `NODE_TLS_REJECT_UNAUTHORIZED=0` in the environment cannot turn it off.
 * A provider may add a CA bundle (to the system roots, or instead of them with `ca_only`) and
 * pin public keys (RFC 7469 format): after the chain and host name check out, the leaf's SPKI
 * SHA-256 must be one of the pins, on every new connection.
 */
import { type ConnectionOptions, checkServerIdentity, getCACertificates, type PeerCertificate } from 'node:tls';
import type { ProviderConfig } from '../providers/config-types.ts';
import { readCaBundle } from './pem-files.ts';
import { spkiSha256 } from './spki-pin.ts';

export class TlsPinMismatchError extends Error {
  readonly code = 'PORTCULLIS_TLS_PIN_MISMATCH';
  readonly host: string;
  /** The pin the server presented (public, useful when rotating pins). */
  readonly presentedPin: string;
  constructor(host: string, presentedPin: string) {
    super(
      `the certificate of ${host} has public key pin ${presentedPin}, which is not among the configured pin_sha256 values`,
    );
    this.name = 'TlsPinMismatchError';
    this.host = host;
    this.presentedPin = presentedPin;
  }
}

/** OpenSSL verification results Node reports as `code`, plus Node's host-name mismatch. */
const VERIFICATION_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'PORTCULLIS_TLS_PIN_MISMATCH',
]);

/** True for an error (or one in its `cause` chain) that says the provider's certificate failed a check. */
export function findTlsVerificationError(e: unknown): Error | undefined {
  for (let cur = e, depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && VERIFICATION_CODES.has(code) && cur instanceof Error) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Options for the provider's connector. Reads the CA bundle now (startup), so a missing or
 * broken file fails the start, not a request.
 */
export function upstreamTlsOptions(
  cfg: Pick<ProviderConfig, 'id' | 'tls'>,
): ConnectionOptions & { maxCachedSessions?: number } {
  const tls = cfg.tls;
  const options: ConnectionOptions & { maxCachedSessions?: number } = { rejectUnauthorized: true };
  if (tls === undefined) return options;
  if (tls.caFile !== undefined) {
    let bundle: string[];
    try {
      bundle = readCaBundle(tls.caFile);
    } catch (err) {
      throw new Error(`provider ${cfg.id}: tls.ca_file: ${err instanceof Error ? err.message : String(err)}`);
    }
    // `ca` replaces Node's trust store, so "in addition to" means listing the defaults too
    // (they include NODE_EXTRA_CA_CERTS).
    options.ca = tls.caOnly ? bundle : [...getCACertificates('default'), ...bundle];
  }
  if (tls.pinSha256.length > 0) {
    const pins = new Set(tls.pinSha256);
    options.checkServerIdentity = (host: string, cert: PeerCertificate) => {
      const nameError = checkServerIdentity(host, cert);
      if (nameError !== undefined) return nameError;
      const presented = spkiSha256(cert.raw);
      return pins.has(presented) ? undefined : new TlsPinMismatchError(host, presented);
    };
    // Node skips checkServerIdentity on a resumed session; without resumption every new
    // connection is checked against the pins. Keep-alive pools make full handshakes rare.
    options.maxCachedSessions = 0;
  }
  return options;
}
