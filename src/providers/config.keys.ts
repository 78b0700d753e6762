/** Declared keys of the `providers` section (read by config.ts). */
import { bool, configSection, int, mapOf, oneOf, secret, section, str } from '../config/keys.ts';
import { UPSTREAM_TLS_SPEC } from '../tls/config.keys.ts';
import { PROVIDER_KINDS } from './contract.ts';

export const PROVIDER_SPEC = section({
  kind: oneOf(PROVIDER_KINDS, undefined, 'adapter', { default: '—' }),
  base_url: str('including the version prefix (`…/v1`, Gemini `…/v1beta`)', {
    default: '—',
    allowed: 'absolute `https` URL (http only with `allow_private_network`)',
  }),
  api_key: secret('provider credential', { default: 'none' }),
  headers: mapOf('header', str('a header value; `${…}` references allowed'), {
    default: '`{}`',
    allowed: 'map',
    doc: 'extra static headers (credential-like headers must be references)',
  }),
  allow_private_network: bool(
    false,
    'allow loopback/private/link-local upstream addresses (checked at connect time, after DNS)',
  ),
  max_connections: int(1, 4096, 64, 'keep-alive pool size'),
  connect_timeout_ms: int(1, 3_600_000, 5000, 'TCP/TLS connect timeout'),
  tls: UPSTREAM_TLS_SPEC,
});

export const PROVIDERS_SPEC = configSection(
  'providers',
  mapOf('id', PROVIDER_SPEC, {
    keyPattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    doc: 'upstream providers by id (1–64 letters, digits, `.`, `_`, `-`); see [Providers](providers.md)',
  }),
);
