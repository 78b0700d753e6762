/**
 * The built-in OAuth 2.0 authorization server's HTTP side, served on the main listener next to
 * the model API (not through the model stage chain: these requests carry client credentials,
 * not access tokens). One access-log line per request, with the client id and the refusal
 * reason; never a secret, assertion or token.
 *
 *   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
 *   GET  /oauth/jwks                               public signing keys (current + in overlap)
 *   POST /oauth/token                              client_credentials grant
 *   POST /oauth/introspect                         RFC 7662
 *   POST /oauth/revoke                             RFC 7009
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import type { Logger } from '../../observability/logger.ts';
import { CLIENT_ASSERTION_ALGORITHMS, type ClientAuthRequest } from './client-auth.ts';
import type { OAuthServerConfig } from './config-types.ts';
import type { OAuthEndpointDeps } from './endpoint-deps.ts';
import { readForm, sendOAuthError, sendOAuthJson } from './http.ts';
import { handleTokenRequest } from './token-endpoint.ts';
import { handleIntrospection, handleRevocation } from './token-management.ts';

export type { OAuthEndpointDeps } from './endpoint-deps.ts';

export interface OAuthServerOptions extends OAuthEndpointDeps {
  readonly log: Logger;
  readonly events?: SecurityEventSink;
}

export interface ExtraRequestInfo {
  readonly requestId: string;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly rawUrl: string;
  /** The client address (the peer, or X-Forwarded-For through trusted proxies): lockout counts per address. */
  readonly clientIp: string;
}

/** Serves the request when the path is one of ours; resolves false (nothing written) otherwise. */
export type ExtraEndpoints = (req: IncomingMessage, res: ServerResponse, info: ExtraRequestInfo) => Promise<boolean>;

export const OAUTH_PATHS = {
  metadata: '/.well-known/oauth-authorization-server',
  jwks: '/oauth/jwks',
  token: '/oauth/token',
  introspect: '/oauth/introspect',
  revoke: '/oauth/revoke',
} as const;

const METHOD_OF: Readonly<Record<string, 'GET' | 'POST'>> = {
  [OAUTH_PATHS.metadata]: 'GET',
  [OAUTH_PATHS.jwks]: 'GET',
  [OAUTH_PATHS.token]: 'POST',
  [OAUTH_PATHS.introspect]: 'POST',
  [OAUTH_PATHS.revoke]: 'POST',
};
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

export function authorizationServerMetadata(cfg: OAuthServerConfig): Record<string, unknown> {
  const base = cfg.issuer;
  return {
    issuer: base,
    token_endpoint: `${base}${OAUTH_PATHS.token}`,
    jwks_uri: `${base}${OAUTH_PATHS.jwks}`,
    introspection_endpoint: `${base}${OAUTH_PATHS.introspect}`,
    revocation_endpoint: `${base}${OAUTH_PATHS.revoke}`,
    grant_types_supported: ['client_credentials'],
    // No authorization endpoint, so no response types (RFC 8414 §2 lists the member as required).
    response_types_supported: [],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
  };
}

export function createOAuthEndpoints(opts: OAuthServerOptions): ExtraEndpoints {
  const { log, config } = opts;
  return async (req, res, info) => {
    const expected = METHOD_OF[info.path];
    if (expected === undefined) return false;
    const started = performance.now();
    let clientId: string | undefined;
    let status = 200;
    let errorCode: string | undefined;
    let reason: unknown;
    try {
      if (info.method !== expected) {
        throw gatewayError('request.method_not_allowed', {
          params: { method: info.method, path: info.path, allowed: expected },
          headers: { allow: expected },
        });
      }
      if (info.path === OAUTH_PATHS.metadata) {
        sendOAuthJson(res, 200, authorizationServerMetadata(config), info.requestId, {
          'cache-control': 'public, max-age=3600',
        });
      } else if (info.path === OAUTH_PATHS.jwks) {
        const jwks = await opts.ring.jwks();
        // Short, so a rotation reaches verifiers quickly; the overlap covers anything cached.
        sendOAuthJson(res, 200, jwks, info.requestId, {
          'cache-control': `public, max-age=${Math.min(300, config.keyRefreshIntervalS)}`,
        });
      } else {
        const form = await readForm(req, info.rawUrl);
        const authReq: ClientAuthRequest = {
          headers: req.headers,
          form,
          endpointUrl: `${config.issuer}${info.path}`,
          remoteAddress: info.clientIp,
        };
        if (info.path === OAUTH_PATHS.token) {
          const r = await handleTokenRequest(opts, authReq);
          clientId = r.client.clientId;
          sendOAuthJson(res, 200, r.body, info.requestId);
        } else if (info.path === OAUTH_PATHS.introspect) {
          const r = await handleIntrospection(opts, authReq);
          clientId = r.clientId;
          sendOAuthJson(res, 200, r.body, info.requestId);
        } else {
          const r = await handleRevocation(opts, authReq);
          clientId = r.clientId;
          // RFC 7009 §2.2: 200 whether or not anything was revoked.
          sendOAuthJson(res, 200, {}, info.requestId);
        }
      }
    } catch (err) {
      const internal = isGatewayError(err) ? err.internal : {};
      reason = internal['reason'];
      if (clientId === undefined && typeof internal['clientId'] === 'string') clientId = internal['clientId'];
      if (!res.headersSent) ({ status, code: errorCode } = sendOAuthError(res, err, info.requestId));
      else res.destroy();
      if (status >= 500)
        log.error(
          { err: isGatewayError(err) ? (err.cause ?? err) : err, requestId: info.requestId, path: info.path },
          'oauth request failed',
        );
      if (errorCode === 'oauth.invalid_client' || errorCode === 'oauth.too_many_failures') {
        opts.events?.emit({
          type: errorCode === 'oauth.invalid_client' ? 'auth.failure' : 'auth.lockout',
          severity: 'warning',
          tenantId: null,
          subject: clientId ?? null,
          sourceIp: info.clientIp,
          requestId: info.requestId,
          detail: {
            method: 'oauth_client',
            reason: typeof reason === 'string' ? reason : 'unknown',
            endpoint: info.path,
          },
        });
      }
    }
    log.info(
      {
        requestId: info.requestId,
        method: info.method,
        path: info.path,
        status,
        latencyMs: Math.round((performance.now() - started) * 100) / 100,
        oauthClientId: clientId,
        errorCode,
        reason: typeof reason === 'string' ? reason : undefined,
      },
      'oauth request',
    );
    return true;
  };
}
