/**
 * identify, token path: a credential shaped like a JWT goes to the verifier of the configured
 * issuers. A refusal is one answer for every reason (`auth.invalid_token`, 401, RFC 6750
 * `error="invalid_token"`); the reason, the claimed issuer and the `kid` go to the security
 * log, never the token.
 *
 * Endpoint scopes: a token whose scopes name any of the endpoint scopes API keys use (`chat`,
 * `embeddings`, `models`, `messages`) may call only those endpoints (`403
 * auth.endpoint_not_allowed` otherwise), as a key created with `--endpoints` may. A token that
 * names none of them is not narrowed by endpoint, like a key without `--endpoints`; its models
 * claim still applies.
 */
import type { Caller, RequestContext } from '../../core/context.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { JwtVerdict, JwtVerifier } from '../../identity/jwt/verifier.ts';
import { endpointOf } from '../../policy/key-policy.ts';
import { KEY_ENDPOINTS, type KeyEndpoint } from '../../store/store.ts';

const MAX_LABEL_CHARS = 128;

export async function callerFromJwt(
  ctx: RequestContext,
  verifier: JwtVerifier,
  token: string,
  onFailure?: (reason: string) => void,
): Promise<Caller> {
  let verdict: JwtVerdict | { readonly ok: false; readonly reason: string; readonly error: string };
  try {
    verdict = await verifier.verify(token);
  } catch (err) {
    // The verifier turns every expected failure into a verdict; anything else still refuses.
    verdict = { ok: false as const, reason: 'verifier_error', error: (err as Error).message };
  }
  if (!verdict.ok) {
    ctx.log.warn(
      {
        event: 'auth.failure',
        method: 'jwt',
        reason: verdict.reason,
        requestId: ctx.id,
        remoteAddress: ctx.http.remoteAddress,
        issuer: 'issuer' in verdict ? verdict.issuer : undefined,
        kid: 'kid' in verdict ? verdict.kid : undefined,
      },
      'authentication failed',
    );
    onFailure?.(verdict.reason);
    throw gatewayError('auth.invalid_token');
  }
  const id = verdict.identity;
  const endpoints = endpointScopes(id.scopes);
  if (endpoints.length > 0) {
    const endpoint = endpointOf(ctx.surface, ctx.operation);
    if (!endpoints.includes(endpoint)) {
      ctx.log.warn(
        {
          event: 'auth.endpoint_not_allowed',
          method: 'jwt',
          endpoint,
          keyId: id.keyId,
          issuer: id.issuer,
          requestId: ctx.id,
        },
        'token not scoped for this endpoint',
      );
      onFailure?.('endpoint_not_allowed');
      throw gatewayError('auth.endpoint_not_allowed', { params: { endpoint } });
    }
  }
  return {
    kind: 'jwt',
    keyId: id.keyId,
    keyPrefix: 'jwt',
    tenantId: id.tenantId,
    label: id.subject.length > MAX_LABEL_CHARS ? `${id.subject.slice(0, MAX_LABEL_CHARS)}…` : id.subject,
    allowedModels: id.allowedModels,
    subject: id.subject,
    issuer: id.issuer,
    scopes: id.scopes,
    ...(id.teamId !== undefined ? { teamId: id.teamId } : {}),
  };
}

/** The token's scopes that are endpoint names, in KEY_ENDPOINTS order. */
export function endpointScopes(scopes: readonly string[]): KeyEndpoint[] {
  return KEY_ENDPOINTS.filter((e) => scopes.includes(e));
}
