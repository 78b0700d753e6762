/**
 * `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4). The client authenticates
 * (client-auth.ts), may narrow its scopes with `scope` (never widen them), and gets a
 * short-lived RFC 9068 access token.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import type { OAuthClientRecord } from '../../store/oauth-records.ts';
import { issueAccessToken } from './access-tokens.ts';
import { authenticateClient, type ClientAuthRequest } from './client-auth.ts';
import { isScopeToken } from './clients.ts';
import type { OAuthEndpointDeps } from './endpoint-deps.ts';
import { invalidRequest } from './http.ts';

export interface TokenResult {
  readonly body: Record<string, unknown>;
  readonly client: OAuthClientRecord;
}

export async function handleTokenRequest(deps: OAuthEndpointDeps, req: ClientAuthRequest): Promise<TokenResult> {
  const grantType = req.form.get('grant_type');
  if (grantType === undefined) throw invalidRequest('grant_type is required');
  if (grantType !== 'client_credentials')
    throw gatewayError('oauth.unsupported_grant_type', { internal: { grantType: grantType.slice(0, 64) } });
  const client = await authenticateClient(deps, req);
  const scopes = grantedScopes(client, req.form.get('scope'));
  let tenant: Awaited<ReturnType<typeof deps.store.getTenant>>;
  try {
    tenant = await deps.store.getTenant(client.tenantId);
  } catch (err) {
    throw gatewayError('store.unavailable', { cause: err });
  }
  if (tenant?.status === 'suspended')
    throw gatewayError('oauth.invalid_grant', { params: { detail: "the client's tenant is suspended" } });
  let issued: Awaited<ReturnType<typeof issueAccessToken>>;
  try {
    issued = await issueAccessToken(deps.ring, deps.config, client, scopes, deps.now());
  } catch (err) {
    // No signing key could be loaded (store down, key not decryptable): nothing is issued.
    throw gatewayError('store.unavailable', { cause: err });
  }
  return {
    client,
    body: {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      ...(issued.scope !== '' ? { scope: issued.scope } : {}),
    },
  };
}

/** No `scope`: everything registered. Otherwise a subset of it (RFC 6749 §3.3); anything else is invalid_scope. */
export function grantedScopes(client: OAuthClientRecord, requested: string | undefined): string[] {
  if (requested === undefined) return [...client.scopes];
  const tokens = requested.split(' ');
  const out: string[] = [];
  for (const s of tokens) {
    if (!isScopeToken(s) || !client.scopes.includes(s)) {
      throw gatewayError('oauth.invalid_scope', { internal: { requested: requested.slice(0, 200) } });
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}
