/** Declared keys of `server.tls` and `providers.<id>.tls` (read by config.ts). */
import { bool, int, list, oneOf, section, str } from '../config/keys.ts';

export const SERVER_TLS_SPEC = section(
  {
    cert_file: str('PEM certificate (chain); setting `server.tls` makes the listener HTTPS', { allowed: 'path' }),
    key_file: str('PEM private key; a key readable by group or others is refused', {
      allowed: 'path, mode `0600`',
      default: '—',
    }),
    min_version: oneOf(
      ['TLSv1.3', 'TLSv1.2'],
      'TLSv1.3',
      'with `TLSv1.2`, only ECDHE + AEAD suites (AES-GCM, ChaCha20-Poly1305) are offered',
    ),
    hsts_max_age_s: int(
      0,
      2 * 365 * 86_400,
      31_536_000,
      '`Strict-Transport-Security` max-age on every HTTPS response (0: no header)',
    ),
    hsts_include_subdomains: bool(false, 'adds `includeSubDomains`'),
    client_auth: oneOf(
      ['none', 'optional', 'required'],
      'none',
      'mutual TLS: `required` refuses handshakes without a valid client certificate; `optional` admits clients without one but refuses an invalid one',
    ),
    client_ca_file: str('CA bundle client certificates must chain to; required unless `client_auth: none`', {
      allowed: 'path',
    }),
    reload: bool(true, 'watch the certificate, key and client CA and swap them without dropping connections'),
  },
  { doc: 'the HTTPS listener; absent: plain HTTP', default: 'none (plain HTTP)' },
);

export const UPSTREAM_TLS_SPEC = section({
  ca_file: str('extra trusted CA certificates (PEM), added to the system roots', { allowed: 'path', default: 'none' }),
  ca_only: bool(false, 'trust only `ca_file` (needs `ca_file`)'),
  pin_sha256: list(str('a base64 SHA-256 SPKI pin'), {
    maxItems: 16,
    default: '`[]`',
    allowed: 'base64 SHA-256 SPKI pins (RFC 7469), ≤ 16',
    doc: "the provider's leaf public key must match one; checked on every new connection",
  }),
});
