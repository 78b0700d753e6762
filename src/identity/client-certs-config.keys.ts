/** Declared keys of `auth.client_certificates[]` (read by client-certs-config.ts). */
import { list, oneOf, section, str } from '../config/keys.ts';

export const CLIENT_CERT_SPEC = section({
  fingerprint_sha256: str("the certificate's SHA-256 fingerprint; exactly one of this and `subject`", {
    default: '—',
    allowed: '32 colon-separated hex bytes or 64 hex digits, any case',
  }),
  subject: str('exact subject DN as logged in `clientCertSubject` (any certificate from the trusted CA with it)', {
    default: '—',
    allowed: 'DN string, e.g. `CN=svc, O=Acme`',
  }),
  tenant: str('the tenant the certificate is (identity) or binds (bind)', {
    default: '— (required)',
    allowed: 'id (`[A-Za-z0-9][A-Za-z0-9._-]{0,63}`)',
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  }),
  team: str("identity: the caller's team; bind: only that team's keys/tokens are bound", {
    default: '—',
    allowed: 'id',
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  }),
  label: str('shown in logs and records', { default: '— (required)', allowed: '1–128 printable chars' }),
  allowed_models: list(str('a model name or pattern (`*` wildcard)'), {
    default: '—',
    allowed: 'model patterns (required for `identity`, refused for `bind`)',
    doc: 'models the certificate identity may use',
  }),
  mode: oneOf(
    ['identity', 'bind'],
    undefined,
    "`identity`: the certificate authenticates alone; `bind`: the tenant's (team's) keys and tokens also need it",
    { default: '— (required)' },
  ),
});

export const CLIENT_CERTS_SPEC = list(CLIENT_CERT_SPEC, {
  maxItems: 1000,
  default: '`[]`',
  allowed: '≤ 1000; needs `server.tls.client_auth` ≠ `none`',
  doc: 'verified mTLS client certificates as identities or key bindings (see [Client certificates](authentication.md#client-certificates-mutual-tls-identities)); a certificate may be mapped once',
});
