/** Declared keys of the `oauth_server` section (read by config.ts). */
import { bool, configSection, int, oneOf, section, str } from '../../config/keys.ts';

export const OAUTH_SPEC = configSection(
  'oauth_server',
  section({
    enabled: bool(
      undefined,
      'the built-in authorization server (see [OAuth 2.0 for machine clients](authentication.md#oauth-20-for-machine-clients))',
      { default: '`true` when the section exists' },
    ),
    issuer: str(
      'the public base URL: `iss` of every token, base of the advertised endpoints, an accepted client-assertion `aud`; must not also be listed in `auth.jwt.issuers`',
      {
        default: '— (required)',
        allowed: '`https://host[:port]` exactly, no path; `http` only for a loopback host',
      },
    ),
    audience: str('`aud` of issued tokens (and what the gateway expects in them)', {
      value: 'portcullis',
      default: '`portcullis`',
      allowed: '1–512 printable characters without spaces',
    }),
    token_ttl_s: int(30, 86_400, 600, 'access token lifetime'),
    signing_algorithm: oneOf(['ES256', 'EdDSA'], 'ES256', 'algorithm of new signing keys (tokens of either verify)'),
    clock_skew_s: int(0, 300, 30, 'leeway for `exp`/`iat` of tokens and client assertions'),
    assertion_max_lifetime_s: int(10, 3600, 300, 'a `private_key_jwt` assertion may be valid for at most this long'),
    key_refresh_interval_s: int(
      1,
      3600,
      60,
      'how often an instance re-reads the signing keys (picks up a rotation); also part of the rotation overlap',
    ),
  }),
);
