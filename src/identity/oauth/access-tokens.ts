/**
 * Access tokens of the built-in authorization server: JWTs in the RFC 9068 profile (`typ:
 * at+jwt`; iss, sub = client_id, aud, exp, iat, jti, client_id, scope) plus the gateway's own
 * identity claims (tenant, team, models). The gateway verifies them like any issuer's, through
 * the resource-server verifier with a local key source, plus a revocation check.
 */
import { randomUUID } from 'node:crypto';
import type { OAuthClientRecord } from '../../store/oauth-records.ts';
import type { Store } from '../../store/store.ts';
import type { JwtIssuerConfig } from '../config-types.ts';
import { loadJose } from '../jose-loader.ts';
import type { LocalIssuer } from '../jwt/verifier.ts';
import type { OAuthServerConfig } from './config-types.ts';
import type { SigningKeyRing } from './signing-keys.ts';

export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface IssuedToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresIn: number;
  readonly scope: string;
}

export async function issueAccessToken(
  ring: SigningKeyRing,
  cfg: OAuthServerConfig,
  client: OAuthClientRecord,
  scopes: readonly string[],
  at: Date,
): Promise<IssuedToken> {
  const { SignJWT } = await loadJose();
  const key = await ring.current();
  const iat = Math.floor(at.getTime() / 1000);
  const jti = randomUUID();
  const scope = scopes.join(' ');
  const token = await new SignJWT({
    client_id: client.clientId,
    ...(scope !== '' ? { scope } : {}),
    tenant: client.tenantId,
    ...(client.teamId !== null ? { team: client.teamId } : {}),
    models: [...client.allowedModels],
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(cfg.issuer)
    .setSubject(client.clientId)
    .setAudience(cfg.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + cfg.tokenTtlS)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, jti, expiresIn: cfg.tokenTtlS, scope };
}

/** The gateway as one of its own trusted issuers (keys local, `typ` required). */
export function ownIssuerConfig(cfg: OAuthServerConfig): JwtIssuerConfig {
  return {
    issuer: cfg.issuer,
    jwksUrl: undefined,
    discoveryUrl: undefined,
    audiences: [cfg.audience],
    // Both, so tokens signed before a change of signing_algorithm verify until they expire.
    algorithms: ['ES256', 'EdDSA'],
    clockSkewS: cfg.clockSkewS,
    allowPrivateNetwork: false,
    claims: { tenant: 'tenant', team: 'team', user: 'sub', models: 'models', scope: 'scope' },
    defaultModels: [],
    jwksRefreshMinIntervalS: 1,
    jwksCacheTtlS: cfg.keyRefreshIntervalS,
    requiredTyp: ACCESS_TOKEN_TYP,
  };
}

/**
 * Why a verified token of ours is no longer good: its jti was revoked, or its client was revoked
 * or deleted. Undefined when it is good. Store errors propagate (the verifier fails closed).
 */
export async function ownTokenRevocationReason(
  store: Store,
  payload: Readonly<Record<string, unknown>>,
): Promise<string | undefined> {
  const jti = payload['jti'];
  const clientId = payload['client_id'];
  if (typeof jti !== 'string' || jti === '') return 'missing_jti';
  if (typeof clientId !== 'string' || clientId !== payload['sub']) return 'invalid_client_id';
  if (await store.isOAuthAccessTokenRevoked(jti)) return 'token_revoked';
  const client = await store.getOAuthClient(clientId);
  if (client === undefined) return 'unknown_client';
  if (client.revokedAt !== null) return 'client_revoked';
  return undefined;
}

export function ownLocalIssuer(cfg: OAuthServerConfig, ring: SigningKeyRing, store: Store): LocalIssuer {
  return {
    config: ownIssuerConfig(cfg),
    keys: ring.keySource,
    afterVerify: (payload) => ownTokenRevocationReason(store, payload),
  };
}
