/**
 * Test support for the JWT verifier: an in-memory "IdP" (key pairs, a JWKS, signing), a
 * fetcher that serves its JWKS and counts fetches, and an issuer config builder.
 */
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { JwtIssuerConfig } from '../config-types.ts';
import { FetchFailed, type JsonFetcher } from './fetch-json.ts';

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKey(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** Unix seconds of the frozen test clock. */
export const NOW_S = 1_760_000_000;
export const frozenClock = (): Date => new Date(NOW_S * 1000);

export async function sign(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

export function issuerConfig(issuer: string, over: Partial<JwtIssuerConfig> = {}): JwtIssuerConfig {
  return {
    issuer,
    jwksUrl: `${issuer}jwks.json`,
    discoveryUrl: undefined,
    audiences: ['portcullis'],
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    clockSkewS: 30,
    allowPrivateNetwork: false,
    claims: { tenant: 'tenant', team: 'team', user: 'sub', models: 'models', scope: 'scope' },
    defaultModels: [],
    jwksRefreshMinIntervalS: 30,
    jwksCacheTtlS: 600,
    ...over,
  };
}

/** Claims of a good token at the frozen clock; override per test. */
export function goodClaims(issuer: string, over: JWTPayload = {}): JWTPayload {
  return {
    iss: issuer,
    aud: 'portcullis',
    sub: 'user-1',
    tenant: 'acme',
    team: 'ml',
    models: ['gpt', 'claude*'],
    scope: 'chat embed',
    iat: NOW_S - 10,
    exp: NOW_S + 300,
    ...over,
  };
}

/** Serves documents by URL from memory; `down` makes every fetch fail. Counts fetches per URL. */
export class FakeIdp implements JsonFetcher {
  readonly docs = new Map<string, unknown>();
  readonly fetches: string[] = [];
  down = false;

  publish(url: string, keys: readonly TestKey[]): void {
    this.docs.set(url, { keys: keys.map((k) => k.publicJwk) });
  }

  count(url: string): number {
    return this.fetches.filter((u) => u === url).length;
  }

  async get(url: string): Promise<unknown> {
    this.fetches.push(url);
    if (this.down) throw new FetchFailed(`GET ${url} failed: connection refused`);
    if (!this.docs.has(url)) throw new FetchFailed(`GET ${url} answered HTTP 404`);
    return structuredClone(this.docs.get(url));
  }

  async close(): Promise<void> {}
}
