/**
 * The `oauth_server` section: the gateway as an OAuth 2.0 authorization server for machine
 * clients (client credentials grant). Absent or `enabled: false` → no OAuth endpoints and the
 * gateway trusts no tokens of its own. The issuer is the public base URL clients reach the
 * gateway at: it is the `iss` of every token, the base of every advertised endpoint and one
 * of the two `aud` values a client assertion may carry, so it must be exact.
 */

import { keysOf } from '../../config/keys.ts';
import { isLoopbackHost } from '../../config/network-checks.ts';
import type { ConfigReader, Located } from '../../config/reader.ts';
import type { JwtIssuerConfig } from '../config-types.ts';
import { OAUTH_SPEC } from './config.keys.ts';
import type { OAuthServerConfig, OAuthSigningAlgorithm } from './config-types.ts';

const OAUTH_KEYS = keysOf(OAUTH_SPEC);
export const OAUTH_SIGNING_ALGORITHMS: readonly OAuthSigningAlgorithm[] = ['ES256', 'EdDSA'];
const PRINTABLE = /^[^\u0000-\u001f\u007f\s]{1,512}$/;

export function readOAuthServer(
  r: ConfigReader,
  at: Located,
  jwtIssuers: readonly JwtIssuerConfig[],
): OAuthServerConfig | undefined {
  const m = r.entries(at, OAUTH_KEYS);
  const f = (key: (typeof OAUTH_KEYS)[number]): Located => r.field(m, at, key);
  const enabled = r.bool(f('enabled'), at.node !== null) ?? false;
  if (!enabled) return undefined;

  let issuer: string | undefined;
  if (f('issuer').node === null) {
    r.report(
      at,
      'is required: the public base URL clients reach the gateway at, e.g. https://gateway.example.com',
      `${at.path}.issuer`,
    );
  } else {
    issuer = readIssuerUrl(r, f('issuer'));
    if (issuer !== undefined && jwtIssuers.some((i) => i.issuer === issuer)) {
      r.report(
        f('issuer'),
        'is also listed under auth.jwt.issuers; the gateway verifies its own tokens with its own keys, remove it there',
      );
    }
  }
  const audience = r.str(f('audience'), 'portcullis');
  if (audience !== undefined && !PRINTABLE.test(audience))
    r.report(f('audience'), 'expected 1..512 printable characters without spaces');
  const tokenTtlS = r.int(f('token_ttl_s'), { min: 30, max: 86_400, default: 600 });
  const signingAlgorithm = r.oneOf(f('signing_algorithm'), OAUTH_SIGNING_ALGORITHMS, 'ES256');
  const clockSkewS = r.int(f('clock_skew_s'), { min: 0, max: 300, default: 30 });
  const assertionMaxLifetimeS = r.int(f('assertion_max_lifetime_s'), { min: 10, max: 3600, default: 300 });
  const keyRefreshIntervalS = r.int(f('key_refresh_interval_s'), { min: 1, max: 3600, default: 60 });
  return {
    issuer: issuer ?? '',
    audience: audience ?? 'portcullis',
    tokenTtlS: tokenTtlS ?? 600,
    signingAlgorithm: signingAlgorithm ?? 'ES256',
    clockSkewS: clockSkewS ?? 30,
    assertionMaxLifetimeS: assertionMaxLifetimeS ?? 300,
    keyRefreshIntervalS: keyRefreshIntervalS ?? 60,
  };
}

/** `https://host[:port]` exactly (plain http only for a loopback host), no path, query, fragment or credentials. */
function readIssuerUrl(r: ConfigReader, at: Located): string | undefined {
  const text = r.str(at);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.report(at, 'expected an absolute URL such as https://gateway.example.com');
    return undefined;
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('expected an https URL');
  else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
    problems.push('must use https (plain http is only accepted for a loopback host, for local testing)');
  }
  if (url.username !== '' || url.password !== '') problems.push('must not contain credentials');
  if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#'))
    problems.push('must not contain a query or fragment');
  if (url.pathname !== '/')
    problems.push('must not have a path: the endpoints are served at /oauth/… and /.well-known/… of this origin');
  if (problems.length === 0 && text !== url.origin)
    problems.push(`write it exactly as ${url.origin} (the "iss" claim is compared byte for byte)`);
  for (const p of problems) r.report(at, p);
  return problems.length === 0 ? url.origin : undefined;
}
