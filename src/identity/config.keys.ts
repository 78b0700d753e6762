/** Declared keys of the `auth` section (read by config.ts). */
import { anyOf, bool, configSection, int, list, oneOf, section, str } from '../config/keys.ts';
import { CLIENT_CERTS_SPEC } from './client-certs-config.keys.ts';
import { LOCKOUT_SPEC } from './lockout-config.keys.ts';

export const JWT_ALGORITHM_NAMES = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const claim = (value: string, what: string) =>
  str(`the claim holding ${what}`, {
    value,
    default: `\`${value}\``,
    allowed: 'claim name (1–128 printable characters)',
  });

export const CLAIMS_SPEC = section({
  tenant: claim('tenant', "the caller's tenant (required in every token)"),
  team: claim('team', "the caller's team"),
  user: claim('sub', "the caller's user (required in every token)"),
  models: claim('models', 'the model patterns the token may use'),
  scope: claim('scope', 'the scopes; endpoint scopes `chat` `embeddings` `models` `messages` narrow the endpoints'),
});

export const ISSUER_SPEC = section({
  issuer: str('the exact `iss` of its tokens (no normalisation: a trailing slash matters)', { default: '—' }),
  jwks_url: str('its JWKS; or instead `discovery_url`', { default: '—', allowed: 'https URL' }),
  discovery_url: str(
    'its OpenID / RFC 8414 metadata; `jwks_uri` is taken from it, and its `issuer` must equal `issuer`',
    { default: '—', allowed: 'https URL' },
  ),
  audience: anyOf([str('an audience'), list(str('an audience'))], {
    default: '—',
    allowed: 'string or list',
    doc: '`aud` must contain one of these',
  }),
  algorithms: list(oneOf(JWT_ALGORITHM_NAMES, undefined, 'a signature algorithm'), {
    default: '—',
    allowed: '`RS256/384/512` `PS256/384/512` `ES256/384/512` `EdDSA` `Ed25519`',
    doc: 'allow-list; `none` and `HS*` are refused at startup',
  }),
  clock_skew_s: int(0, 300, 30, 'leeway for `exp`, `nbf`, `iat`'),
  allow_private_network: bool(
    false,
    'JWKS/discovery on loopback/private addresses or plain http (checked at connect time, after DNS)',
  ),
  claims: section(CLAIMS_SPEC.keys, { doc: "where the caller's identity is in the token" }),
  default_models: list(str('a model name or pattern'), {
    default: '`[]`',
    allowed: 'model patterns',
    doc: 'models allowed when a token has no models claim (none by default)',
  }),
  jwks_refresh_min_interval_s: int(1, 3600, 30, 'at most one JWKS fetch per interval (rotation, unknown-`kid` storms)'),
  jwks_cache_ttl_s: int(1, 86_400, 600, 'how long fetched keys are used before refetching', {
    allowed: '≥ `jwks_refresh_min_interval_s`, ≤ 86400',
  }),
  typ: str("when set, the token's `typ` header must be this (RFC 9068 §4; `application/` prefix accepted)", {
    default: '— (not checked)',
    allowed: 'media type, e.g. `at+jwt`',
  }),
});

export const API_KEYS_SPEC = section({
  enabled: bool(
    true,
    'accept virtual API keys; `false` accepts JWT access tokens only (then at least one issuer is required)',
  ),
});

export const JWT_SPEC = section({
  issuers: list(ISSUER_SPEC, {
    maxItems: 32,
    default: '`[]`',
    allowed: '≤ 32',
    doc: 'issuers whose JWT access tokens are accepted (OAuth 2.0 resource server)',
  }),
});

export const AUTH_SPEC = configSection(
  'auth',
  section({
    api_keys: API_KEYS_SPEC,
    jwt: JWT_SPEC,
    lockout: LOCKOUT_SPEC,
    client_certificates: CLIENT_CERTS_SPEC,
  }),
);
