/**
 * `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009). Both require client
 * authentication. Introspection answers `{"active":false}` for anything it will not describe —
 * invalid, expired, revoked, someone else's — so it cannot be used to probe tokens. A client
 * sees its own tokens; a client holding the `oauth:introspect` scope also sees the tokens of
 * other clients of its own tenant (a resource server). Revocation is always 200 (RFC 7009
 * §2.2) and only ever revokes the caller's own tokens.
 */
import type { JWSHeaderParameters } from 'jose';
import { loadJose } from '../jose-loader.ts';
import { parseCompact } from '../jwt/compact.ts';
import { ACCESS_TOKEN_TYP, ownTokenRevocationReason } from './access-tokens.ts';
import { authenticateClient, type ClientAuthRequest } from './client-auth.ts';
import type { OAuthEndpointDeps } from './endpoint-deps.ts';
import { invalidRequest } from './http.ts';

export const INTROSPECT_SCOPE = 'oauth:introspect';
const MAX_TOKEN_CHARS = 8 * 1024;

export type OwnTokenCheck =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string; readonly claims?: Readonly<Record<string, unknown>> };

/**
 * Signature, issuer, audience, `typ` and expiry of a token this server issued. With
 * `checkRevocation`, a revoked token or client also fails (with the claims, for revocation).
 */
export async function checkOwnToken(
  deps: OAuthEndpointDeps,
  token: string,
  checkRevocation: boolean,
): Promise<OwnTokenCheck> {
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'too_large' };
  const parsed = parseCompact(token);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const { header } = parsed.parts;
  if (['jku', 'x5u', 'jwk', 'x5c', 'crit'].some((h) => h in header)) return { ok: false, reason: 'header_refused' };
  if (header['alg'] !== 'ES256' && header['alg'] !== 'EdDSA') return { ok: false, reason: 'alg_not_allowed' };
  const { jwtVerify, errors } = await loadJose();
  let claims: Readonly<Record<string, unknown>>;
  try {
    const key = await deps.ring.keySource.resolve(header as JWSHeaderParameters);
    const result = await jwtVerify(token, key, {
      algorithms: ['ES256', 'EdDSA'],
      issuer: deps.config.issuer,
      audience: deps.config.audience,
      typ: ACCESS_TOKEN_TYP,
      clockTolerance: deps.config.clockSkewS,
      currentDate: deps.now(),
      requiredClaims: ['exp', 'jti', 'client_id', 'sub'],
    });
    claims = result.payload as Readonly<Record<string, unknown>>;
  } catch (err) {
    return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
  if (!checkRevocation) return { ok: true, claims };
  const revoked = await ownTokenRevocationReason(deps.store, claims);
  return revoked === undefined ? { ok: true, claims } : { ok: false, reason: revoked, claims };
}

function tokenParam(req: ClientAuthRequest): string {
  const token = req.form.get('token');
  if (token === undefined) throw invalidRequest('token is required');
  return token;
}

export async function handleIntrospection(
  deps: OAuthEndpointDeps,
  req: ClientAuthRequest,
): Promise<{ body: Record<string, unknown>; clientId: string }> {
  const caller = await authenticateClient(deps, req);
  const token = tokenParam(req);
  const inactive = { body: { active: false }, clientId: caller.clientId };
  const check = await checkOwnToken(deps, token, true);
  if (!check.ok) return inactive;
  const c = check.claims;
  const own = c['client_id'] === caller.clientId;
  const sameTenantResourceServer = caller.scopes.includes(INTROSPECT_SCOPE) && c['tenant'] === caller.tenantId;
  if (!own && !sameTenantResourceServer) return inactive;
  return {
    clientId: caller.clientId,
    body: {
      active: true,
      token_type: 'Bearer',
      client_id: c['client_id'],
      sub: c['sub'],
      iss: c['iss'],
      aud: c['aud'],
      exp: c['exp'],
      iat: c['iat'],
      jti: c['jti'],
      ...(typeof c['scope'] === 'string' ? { scope: c['scope'] } : {}),
      tenant: c['tenant'],
      ...(c['team'] !== undefined ? { team: c['team'] } : {}),
    },
  };
}

export async function handleRevocation(
  deps: OAuthEndpointDeps,
  req: ClientAuthRequest,
): Promise<{ revoked: boolean; clientId: string }> {
  const caller = await authenticateClient(deps, req);
  const token = tokenParam(req);
  // Revocation must work for a token that is already revoked or whose client is, so no revocation check here.
  const check = await checkOwnToken(deps, token, false);
  if (!check.ok || check.claims['client_id'] !== caller.clientId) return { revoked: false, clientId: caller.clientId };
  const jti = check.claims['jti'];
  const exp = check.claims['exp'];
  if (typeof jti !== 'string' || typeof exp !== 'number') return { revoked: false, clientId: caller.clientId };
  await deps.store.revokeOAuthAccessToken({
    jti,
    clientId: caller.clientId,
    expiresAt: new Date((exp + deps.config.clockSkewS) * 1000).toISOString(),
    revokedAt: deps.now().toISOString(),
  });
  return { revoked: true, clientId: caller.clientId };
}
