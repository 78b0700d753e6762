/**
 * What the HTTPS listener offers: TLS 1.3 by default; TLS 1.2 only when configured, and then
 * only forward-secret (ECDHE) AEAD suites; no renegotiation; the server's suite order wins.
 * The same options are rebuilt on every certificate reload, so a reload cannot weaken them.
 */
import { constants } from 'node:crypto';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { ServerTlsConfig } from './config-types.ts';
import { loadServerPair, readCaBundle, type ServerPair } from './pem-files.ts';

/** TLS 1.3 suites are all AEAD with ephemeral key exchange. */
export const TLS13_SUITES: readonly string[] = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];

/** TLS 1.2: ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305 only. */
export const TLS12_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
];

export interface LoadedServerTls {
  readonly context: SecureContextOptions;
  readonly pair: ServerPair;
}

/**
 * Reads the files and builds the secure-context options. Throws (with a loggable message)
 * when the pair or the client CA bundle is not usable.
 */
export function loadSecureContextOptions(cfg: ServerTlsConfig): LoadedServerTls {
  const pair = loadServerPair(cfg.certFile, cfg.keyFile);
  const ca = cfg.clientAuth !== 'none' && cfg.clientCaFile !== undefined ? readCaBundle(cfg.clientCaFile) : undefined;
  const context: SecureContextOptions = {
    cert: pair.cert,
    key: pair.key,
    minVersion: cfg.minVersion,
    maxVersion: 'TLSv1.3',
    // Node splits TLS_* names into the TLS 1.3 list; the rest is the TLS 1.2 list.
    ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
    honorCipherOrder: true,
    // Renegotiation has been a DoS and injection vector; TLS 1.3 dropped it altogether.
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    ...(ca === undefined ? {} : { ca }),
  };
  return { context, pair };
}

/** Listener options: the context plus whether client certificates are asked for and enforced. */
export function serverTlsOptions(cfg: ServerTlsConfig, loaded: LoadedServerTls): TlsOptions {
  return {
    ...loaded.context,
    requestCert: cfg.clientAuth !== 'none',
    // `optional` lets clients without a certificate in; a presented but invalid one is
    // refused by the listener after the handshake (see https-listener.ts).
    rejectUnauthorized: cfg.clientAuth === 'required',
  };
}

/** RFC 6797 Strict-Transport-Security value, or undefined when disabled (max-age 0). */
export function hstsHeaderValue(cfg: ServerTlsConfig): string | undefined {
  if (cfg.hstsMaxAgeS === 0) return undefined;
  return `max-age=${cfg.hstsMaxAgeS}${cfg.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`;
}
