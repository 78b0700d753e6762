/**
 * One issuer's signing keys: its JWKS (found directly or through its discovery document),
 * cached for `jwks_cache_ttl_s`, refetched when a token names a key the cache does not hold
 * (the IdP rotated), but never more than once per `jwks_refresh_min_interval_s`, so a storm of
 * made-up `kid`s cannot turn the gateway into a load generator against the IdP. When the IdP
 * cannot be reached, keys fetched earlier keep working for a bounded time; with no matching
 * key the token is refused (fail closed).
 */
import type { CryptoKey, JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose';
import type { JwtIssuerConfig } from '../config-types.ts';
import { type Jose, loadJose } from '../jose-loader.ts';
import type { JsonFetcher } from './fetch-json.ts';

/** Keys fetched before an IdP outage stay usable this long past their TTL. */
export const DEFAULT_MAX_STALE_MS = 24 * 3600 * 1000;
const MAX_KEYS = 100;

/** The token names no key this issuer publishes (even after an allowed refetch). */
export class NoMatchingKey extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoMatchingKey';
  }
}

/** No usable key set: the JWKS could not be fetched and nothing usable is cached. */
export class KeysUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeysUnavailable';
  }
}

export interface KeySource {
  /** The verification key for this (unverified) header, from this issuer's JWKS only. */
  resolve(header: JWSHeaderParameters): Promise<CryptoKey>;
}

export interface KeySourceOptions {
  readonly issuer: JwtIssuerConfig;
  readonly fetcher: JsonFetcher;
  /** Milliseconds clock (tests freeze it). */
  readonly now: () => number;
  readonly maxStaleMs?: number;
  /** Told about refetches that failed (the verifier logs them). */
  readonly onFetchError?: (err: unknown) => void;
}

type KeySet = ReturnType<Jose['createLocalJWKSet']>;

export function createKeySource(opts: KeySourceOptions): KeySource {
  const { issuer, fetcher, now } = opts;
  const ttlMs = issuer.jwksCacheTtlS * 1000;
  const minIntervalMs = issuer.jwksRefreshMinIntervalS * 1000;
  const maxStaleMs = opts.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
  let keys: KeySet | undefined;
  let fetchedAt = 0;
  let lastAttemptAt: number | undefined;
  let inFlight: Promise<boolean> | undefined;

  const mayFetch = (t: number): boolean => lastAttemptAt === undefined || t - lastAttemptAt >= minIntervalMs;

  /** One fetch at a time; callers arriving meanwhile share it. Resolves true when keys were replaced. */
  function refresh(): Promise<boolean> {
    if (inFlight) return inFlight;
    lastAttemptAt = now();
    inFlight = (async () => {
      try {
        const { createLocalJWKSet } = await loadJose();
        const jwks = await loadJwks(issuer, fetcher);
        keys = createLocalJWKSet(jwks);
        fetchedAt = now();
        return true;
      } catch (err) {
        opts.onFetchError?.(err);
        return false;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return {
    async resolve(header) {
      let refreshed = false;
      if (inFlight) refreshed = await inFlight;
      const t = now();
      if ((keys === undefined || t - fetchedAt >= ttlMs) && mayFetch(t)) refreshed = await refresh();
      if (keys === undefined) throw new KeysUnavailable(`no keys for ${issuer.issuer}: the JWKS could not be fetched`);
      if (now() - fetchedAt >= ttlMs + maxStaleMs)
        throw new KeysUnavailable(`keys for ${issuer.issuer} are stale and the JWKS cannot be fetched`);
      try {
        return await keys(header);
      } catch (err) {
        // jose is loaded already (it built `keys`); its error classes tell the failures apart.
        const { errors } = await loadJose();
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw new NoMatchingKey(describeKeyError(err, errors));
      }
      // An unknown key: the IdP may have rotated. Refetch, unless we just did or did recently.
      if (!refreshed && mayFetch(now()) && (await refresh())) {
        try {
          return await keys(header);
        } catch (err) {
          const { errors } = await loadJose();
          throw new NoMatchingKey(describeKeyError(err, errors));
        }
      }
      throw new NoMatchingKey("no key in the issuer's JWKS matches the token header");
    },
  };
}

function describeKeyError(err: unknown, errors: Jose['errors']): string {
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'several keys match and the token names no kid';
  if (err instanceof errors.JWKSNoMatchingKey) return "no key in the issuer's JWKS matches the token header";
  return `key selection failed: ${(err as Error).message}`;
}

/** The issuer's JWKS, through discovery when configured, reduced to public asymmetric keys. */
async function loadJwks(issuer: JwtIssuerConfig, fetcher: JsonFetcher): Promise<JSONWebKeySet> {
  let url = issuer.jwksUrl;
  if (url === undefined) {
    if (issuer.discoveryUrl === undefined) throw new Error('issuer has neither jwks_url nor discovery_url');
    url = jwksUriFromDiscovery(await fetcher.get(issuer.discoveryUrl), issuer);
  }
  return publicKeysOnly(await fetcher.get(url));
}

/** RFC 8414 §3.3 / OpenID Discovery §4.3: the document must name the configured issuer exactly. */
export function jwksUriFromDiscovery(doc: unknown, issuer: JwtIssuerConfig): string {
  if (!isObject(doc)) throw new Error('discovery document is not a JSON object');
  if (doc['issuer'] !== issuer.issuer) throw new Error('discovery document names a different issuer');
  const uri = doc['jwks_uri'];
  if (typeof uri !== 'string') throw new Error('discovery document has no jwks_uri');
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new Error('discovery jwks_uri is not a URL');
  }
  const httpsOnly = !issuer.allowPrivateNetwork;
  if (parsed.protocol !== 'https:' && (httpsOnly || parsed.protocol !== 'http:'))
    throw new Error('discovery jwks_uri must use https');
  if (parsed.username !== '' || parsed.password !== '')
    throw new Error('discovery jwks_uri must not carry credentials');
  return parsed.href;
}

/** Drops symmetric keys and anything carrying private parameters; those never verify tokens here. */
export function publicKeysOnly(doc: unknown): JSONWebKeySet {
  if (!isObject(doc) || !Array.isArray(doc['keys'])) throw new Error('JWKS is not an object with a keys list');
  const list = doc['keys'] as unknown[];
  if (list.length > MAX_KEYS) throw new Error(`JWKS has more than ${MAX_KEYS} keys`);
  const keys: JWK[] = [];
  for (const k of list) {
    if (!isObject(k) || typeof k['kty'] !== 'string') continue;
    if (k['kty'] === 'oct' || 'd' in k || 'p' in k || 'q' in k || 'k' in k) continue;
    keys.push(k as JWK);
  }
  return { keys };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
