/**
 * The `auth` section: which credentials the gateway accepts. API keys (on by default) and JWT
 * access tokens from configured issuers (OAuth 2.0 resource server). Everything an attacker
 * could exploit in a JWT verifier is decided here, at startup: the algorithm allow-list is
 * asymmetric only (no `none`, no HMAC, so HS/RS confusion cannot happen) and key sources must
 * be https unless private-network use is opted into.
 */
import { isSeq } from 'yaml';
import { keysOf } from '../config/keys.ts';
import { outboundUrlProblems } from '../config/network-checks.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type { ClientAuthMode } from '../tls/config-types.ts';
import { readClientCertificates } from './client-certs-config.ts';
import { API_KEYS_SPEC, AUTH_SPEC, CLAIMS_SPEC, ISSUER_SPEC, JWT_ALGORITHM_NAMES, JWT_SPEC } from './config.keys.ts';
import type { AuthConfig, JwtAlgorithm, JwtClaimNames, JwtIssuerConfig } from './config-types.ts';
import { readLockout } from './lockout-config.ts';

const AUTH_KEYS = keysOf(AUTH_SPEC);
const JWT_KEYS = keysOf(JWT_SPEC);
const ISSUER_KEYS = keysOf(ISSUER_SPEC);
const CLAIM_KEYS = keysOf(CLAIMS_SPEC);
const DEFAULT_CLAIMS: JwtClaimNames = { tenant: 'tenant', team: 'team', user: 'sub', models: 'models', scope: 'scope' };

/** The keys table's list: one source for the reader, the config reference and the type. */
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = JWT_ALGORITHM_NAMES;
export const MAX_ISSUERS = 32;
const MAX_TEXT = 512;
const MAX_MODEL_PATTERNS = 256;
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

/**
 * `ownIssuer`: the built-in authorization server is enabled, so its tokens are a way in even with no API keys or outside issuers.
 * `clientAuth`: `server.tls.client_auth`; `client_certificates` needs the listener to verify certificates.
 */
export function readAuth(
  r: ConfigReader,
  at: Located,
  ownIssuer = false,
  clientAuth: ClientAuthMode = 'none',
): AuthConfig {
  const m = r.entries(at, AUTH_KEYS);
  const keysAt = r.field(m, at, 'api_keys');
  const keysMap = r.entries(keysAt, keysOf(API_KEYS_SPEC));
  const apiKeysEnabled = r.bool(r.field(keysMap, keysAt, 'enabled'), true);
  const jwtAt = r.field(m, at, 'jwt');
  const jwtMap = r.entries(jwtAt, JWT_KEYS);
  const issuersAt = r.field(jwtMap, jwtAt, 'issuers');
  const issuers: JwtIssuerConfig[] = [];
  const seen = new Set<string>();
  const items = r.items(issuersAt) ?? [];
  if (items.length > MAX_ISSUERS) r.report(issuersAt, `at most ${MAX_ISSUERS} issuers`);
  for (const item of items) {
    const issuer = readIssuer(r, item);
    if (issuer === undefined) continue;
    if (seen.has(issuer.issuer))
      r.report(item, `issuer ${JSON.stringify(issuer.issuer)} is configured twice`, `${item.path}.issuer`);
    seen.add(issuer.issuer);
    issuers.push(issuer);
  }
  const clientCertificates = readClientCertificates(r, r.field(m, at, 'client_certificates'), clientAuth);
  const certIdentities = clientCertificates.some((c) => c.mode === 'identity');
  if (apiKeysEnabled === false && items.length === 0 && !ownIssuer && !certIdentities) {
    r.report(
      r.field(keysMap, keysAt, 'enabled'),
      'api_keys are disabled and no JWT issuer (nor oauth_server) is configured: nobody could authenticate',
    );
  }
  return {
    apiKeys: { enabled: apiKeysEnabled ?? true },
    jwt: { issuers },
    lockout: readLockout(r, r.field(m, at, 'lockout')),
    ...(clientCertificates.length > 0 ? { clientCertificates } : {}),
  };
}

function readIssuer(r: ConfigReader, at: Located): JwtIssuerConfig | undefined {
  if (at.node === null) {
    r.report(at, 'expected a map with at least issuer, jwks_url or discovery_url, audience and algorithms');
    return undefined;
  }
  const m = r.entries(at, ISSUER_KEYS);
  if (m === undefined) return undefined;
  const f = (key: (typeof ISSUER_KEYS)[number]): Located => r.field(m, at, key);
  const allowPrivateNetwork = r.bool(f('allow_private_network'), false) ?? false;

  const issuer = r.str(f('issuer'));
  if (issuer !== undefined && (issuer.length > MAX_TEXT || !PRINTABLE.test(issuer))) {
    r.report(f('issuer'), `expected 1..${MAX_TEXT} printable characters (the exact "iss" value of the tokens)`);
  }
  const jwksUrl = f('jwks_url').node === null ? undefined : readKeySourceUrl(r, f('jwks_url'), allowPrivateNetwork);
  const discoveryUrl =
    f('discovery_url').node === null ? undefined : readKeySourceUrl(r, f('discovery_url'), allowPrivateNetwork);
  const hasJwks = f('jwks_url').node !== null;
  const hasDiscovery = f('discovery_url').node !== null;
  if (hasJwks && hasDiscovery) r.report(f('discovery_url'), 'set either jwks_url or discovery_url, not both');
  if (!hasJwks && !hasDiscovery) r.report(at, 'one of jwks_url or discovery_url is required', `${at.path}.jwks_url`);

  const refreshMin = r.int(f('jwks_refresh_min_interval_s'), { min: 1, max: 3600, default: 30 });
  const cacheTtl = r.int(f('jwks_cache_ttl_s'), { min: 1, max: 86_400, default: 600 });
  if (refreshMin !== undefined && cacheTtl !== undefined && cacheTtl < refreshMin) {
    r.report(f('jwks_cache_ttl_s'), `must not be less than jwks_refresh_min_interval_s (${refreshMin})`);
  }
  return {
    issuer: issuer ?? '',
    jwksUrl,
    discoveryUrl,
    audiences: readAudiences(r, f('audience')),
    algorithms: readAlgorithms(r, f('algorithms')),
    clockSkewS: r.int(f('clock_skew_s'), { min: 0, max: 300, default: 30 }) ?? 0,
    allowPrivateNetwork,
    claims: readClaimNames(r, f('claims')),
    defaultModels: readModelPatterns(r, f('default_models')),
    jwksRefreshMinIntervalS: refreshMin ?? 0,
    jwksCacheTtlS: cacheTtl ?? 0,
    ...readRequiredTyp(r, f('typ')),
  };
}

/** https (http only with allow_private_network), no credentials or fragment, no literal private host without opt-in. */
function readKeySourceUrl(r: ConfigReader, at: Located, allowPrivateNetwork: boolean): string | undefined {
  const text = r.str(at);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.report(at, 'expected an absolute https URL');
    return undefined;
  }
  const errors = outboundUrlProblems(url, text, allowPrivateNetwork);
  for (const e of errors) r.report(at, e);
  return errors.length === 0 ? url.href : undefined;
}

/** RFC 9068 §4 `typ` check, opt-in per issuer: many IdPs still send `JWT` or nothing. */
function readRequiredTyp(r: ConfigReader, at: Located): { requiredTyp?: string } {
  if (at.node === null) return {};
  const typ = r.str(at);
  if (typ === undefined) return {};
  if (!/^[A-Za-z0-9.+/-]{1,64}$/.test(typ)) {
    r.report(at, 'expected a media type such as at+jwt');
    return {};
  }
  return { requiredTyp: typ };
}

function readAudiences(r: ConfigReader, at: Located): string[] {
  if (at.node === null) {
    r.report(at, 'is required (the audience this gateway expects in "aud", e.g. portcullis)');
    return [];
  }
  const list = isSeq(at.node) ? (r.items(at) ?? []) : [at];
  const out: string[] = [];
  for (const item of list) {
    const aud = r.str(item);
    if (aud === undefined) continue;
    if (aud.length > MAX_TEXT || !PRINTABLE.test(aud)) r.report(item, `expected 1..${MAX_TEXT} printable characters`);
    else out.push(aud);
  }
  if (list.length === 0) r.report(at, 'must name at least one audience');
  return out;
}

function readAlgorithms(r: ConfigReader, at: Located): JwtAlgorithm[] {
  if (at.node === null) {
    r.report(
      at,
      `is required: the signature algorithms this issuer uses (one or more of ${JWT_ALGORITHMS.join(', ')})`,
    );
    return [];
  }
  const out: JwtAlgorithm[] = [];
  const items = r.items(at) ?? [];
  if (items.length === 0 && isSeq(at.node)) r.report(at, 'must list at least one algorithm');
  for (const item of items) {
    const alg = r.str(item);
    if (alg === undefined) continue;
    if (alg.toLowerCase() === 'none') r.report(item, 'unsigned tokens (alg "none") are never accepted');
    else if (/^HS\d+$/i.test(alg)) {
      r.report(
        item,
        `${alg} is refused: HMAC algorithms need a shared secret, and allowing them next to public keys enables algorithm confusion`,
      );
    } else if (!(JWT_ALGORITHMS as readonly string[]).includes(alg))
      r.report(item, `expected one of: ${JWT_ALGORITHMS.join(', ')}`);
    else if (out.includes(alg as JwtAlgorithm)) r.report(item, `${alg} is listed twice`);
    else out.push(alg as JwtAlgorithm);
  }
  return out;
}

function readClaimNames(r: ConfigReader, at: Located): JwtClaimNames {
  const m = r.entries(at, CLAIM_KEYS);
  const name = (key: (typeof CLAIM_KEYS)[number]): string => {
    const v = r.str(r.field(m, at, key), DEFAULT_CLAIMS[key]);
    if (v !== undefined && (v.length > 128 || !PRINTABLE.test(v))) {
      r.report(r.field(m, at, key), 'expected a claim name of 1..128 printable characters');
      return DEFAULT_CLAIMS[key];
    }
    return v ?? DEFAULT_CLAIMS[key];
  };
  return {
    tenant: name('tenant'),
    team: name('team'),
    user: name('user'),
    models: name('models'),
    scope: name('scope'),
  };
}

function readModelPatterns(r: ConfigReader, at: Located): string[] {
  const out: string[] = [];
  const items = r.items(at) ?? [];
  if (items.length > MAX_MODEL_PATTERNS) r.report(at, `at most ${MAX_MODEL_PATTERNS} model patterns`);
  for (const item of items) {
    const p = r.str(item);
    if (p === undefined) continue;
    if (p.length > 256 || !PRINTABLE.test(p))
      r.report(item, 'expected a model name or pattern (1..256 printable characters, * as wildcard)');
    else out.push(p);
  }
  return out;
}
