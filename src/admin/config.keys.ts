/** Declared keys of the `admin` section (read by config.ts). */
import { anyOf, bool, configSection, int, list, oneOf, section, str } from '../config/keys.ts';

export const ADMIN_LISTEN_SPEC = section({
  host: str('admin listen address', {
    value: '127.0.0.1',
    default: '`127.0.0.1`',
    allowed: 'address; a non-loopback host requires `server.tls`',
  }),
  port: int(0, 65_535, undefined, 'admin listen port; must differ from `server.port`', { default: '— (required)' }),
});

export const ADMIN_SESSION_SPEC = section({
  idle_timeout_s: int(60, 86_400, 1800, 'a session ends after this long without a request'),
  absolute_timeout_s: int(300, 30 * 86_400, 43_200, 'a session ends this long after login, however active', {
    allowed: '300–2592000, ≥ `idle_timeout_s`',
  }),
});

export const ADMIN_LOCKOUT_SPEC = section({
  threshold: int(
    1,
    1000,
    5,
    'failed logins from one address (or for one account from one address) that lock that source',
  ),
  window_s: int(1, 86_400, 900, 'failures are counted over this sliding window'),
  base_lockout_s: int(1, 86_400, 60, 'first lockout; each further one doubles up to the max'),
  max_lockout_s: int(1, 7 * 86_400, 3600, 'longest lockout', { allowed: '`base_lockout_s`–604800' }),
});

export const ADMIN_SPEC = configSection(
  'admin',
  section(
    {
      enabled: bool(true, '`false` keeps the section but serves nothing', {
        default: '`true` when the section is present',
      }),
      listen: anyOf([oneOf(['none'], undefined, 'the main listener'), ADMIN_LISTEN_SPEC], {
        default: '`none` (main listener)',
        allowed: '`none` or `{host, port}`',
        doc: 'a separate listener for the admin API only (then the main listener answers `/admin/v1` with 404)',
      }),
      session: ADMIN_SESSION_SPEC,
      secure_cookie: bool(
        undefined,
        '`Secure` cookie named `__Host-portcullis_admin` (else `portcullis_admin`); set `true` behind a TLS-terminating proxy',
        { default: '`true` with `server.tls`, else `false`' },
      ),
      allowed_origins: list(str('an origin'), {
        default: '`[]`',
        allowed: 'origins (`https://host[:port]`)',
        doc: "`Origin` values accepted besides the request's own `Host` (the console's public URL behind a proxy)",
      }),
      max_body_bytes: int(1024, 1_048_576, 65_536, 'larger admin request bodies get `413`'),
      enrolment_ttl_s: int(300, 30 * 86_400, 86_400, 'lifetime of one-time enrolment tokens (new users, MFA resets)'),
      lockout: ADMIN_LOCKOUT_SPEC,
    },
    {
      doc: 'present: the admin API is served under `/admin/v1` (see [Admin sign-in](admin-api.md#admin-sign-in-sessions-and-tokens))',
      default: 'absent (no admin API)',
    },
  ),
);
