/**
 * Read-only views of the running config: the upstream providers and the model routes. They are
 * changed through the config file (and a restart), never through the admin API. Nothing secret
 * is shown: no API keys, no header values (only header names), no userinfo, query or fragment of
 * a base URL. Providers and routes are gateway-wide, the same for every tenant.
 */
import type { ModelRouteConfig, ProviderConfig } from '../../providers/config-types.ts';
import type { AdminRoute } from '../types.ts';
import type { AdminResourceDeps } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

/** scheme://host[:port]/path only: credentials can hide in userinfo or a query (`?key=`). */
export function safeBaseUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid)';
  }
}

export function providerView(p: ProviderConfig) {
  return {
    id: p.id,
    kind: p.kind,
    base_url: safeBaseUrl(p.baseUrl),
    credential_configured: p.apiKey !== undefined,
    header_names: Object.keys(p.headers).sort(),
    allow_private_network: p.allowPrivateNetwork,
    max_connections: p.maxConnections,
    connect_timeout_ms: p.connectTimeoutMs,
    tls:
      p.tls === undefined
        ? null
        : { custom_ca: p.tls.caFile !== undefined, ca_only: p.tls.caOnly, pinned_keys: p.tls.pinSha256.length },
  };
}

export function routeView(m: ModelRouteConfig) {
  return {
    model: m.name,
    type: m.type,
    targets: m.targets.map((t) => ({ provider: t.provider, model: t.model, weight: t.weight, priority: t.priority })),
    timeout_ms: m.timeoutMs,
    attempt_timeout_ms: m.attemptTimeoutMs,
    retry: {
      max_attempts: m.retry.maxAttempts,
      base_delay_ms: m.retry.baseDelayMs,
      max_delay_ms: m.retry.maxDelayMs,
      max_retry_after_ms: m.retry.maxRetryAfterMs,
    },
    circuit_breaker: { failure_threshold: m.circuitBreaker.failureThreshold, open_ms: m.circuitBreaker.openMs },
    unsupported_params: m.unsupportedParams,
    owned_by: m.ownedBy,
  };
}

export function createGatewayConfigRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/providers',
      auth: 'principal',
      action: 'config.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const providers = [...(deps.gatewayConfig?.providers.values() ?? [])].sort((a, b) => a.id.localeCompare(b.id));
        return { status: 200, body: { data: providers.map(providerView), managed_by: 'config file' } };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/routes',
      auth: 'principal',
      action: 'config.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const routes = [...(deps.gatewayConfig?.models.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
        return { status: 200, body: { data: routes.map(routeView), managed_by: 'config file' } };
      },
    },
    {
      // Breakers live in each instance's memory: this is the answering instance's view.
      method: 'GET',
      path: '/admin/v1/breakers',
      auth: 'principal',
      action: 'config.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const states = (deps.breakerStates?.() ?? [])
          .slice()
          .sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
        return { status: 200, body: { data: states, scope: 'instance' } };
      },
    },
  ];
}
