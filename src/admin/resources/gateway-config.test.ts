import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelRouteConfig, ProviderConfig } from '../../providers/config-types.ts';
import type { AdminResourceDeps } from './deps.ts';
import { createGatewayConfigRoutes, safeBaseUrl } from './gateway-config.ts';
import { call, outcome, principal, route } from './resource-fixture.ts';

const SECRET_KEY = 'sk-live-planted-0123456789abcdefSECRET';
const SECRET_HEADER = 'hdr-value-planted-SECRET';

const provider: ProviderConfig = {
  id: 'openai',
  kind: 'openai',
  baseUrl: 'https://user:pw-SECRET@api.example.com/v1?key=q-SECRET#frag',
  apiKey: SECRET_KEY,
  headers: { 'x-org-token': SECRET_HEADER },
  allowPrivateNetwork: false,
  maxConnections: 64,
  connectTimeoutMs: 5000,
};
const model: ModelRouteConfig = {
  name: 'gpt-4o',
  type: 'chat',
  targets: [{ provider: 'openai', model: 'gpt-4o-2024', weight: 1, priority: 0 }],
  timeoutMs: 60_000,
  attemptTimeoutMs: 30_000,
  retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 },
  circuitBreaker: { failureThreshold: 5, openMs: 30_000 },
  unsupportedParams: 'reject',
  ownedBy: 'portcullis',
};

describe('admin provider and route listings', () => {
  const deps = {
    gatewayConfig: { providers: new Map([['openai', provider]]), models: new Map([['gpt-4o', model]]) },
  } as unknown as AdminResourceDeps;
  const routes = createGatewayConfigRoutes(deps);

  it('lists providers with kind, base URL, limits and header names, never a credential or header value', async () => {
    const r = await call(route(routes, 'GET', '/admin/v1/providers'), principal('security_auditor'));
    const text = JSON.stringify(r.body);
    assert.doesNotMatch(text, /SECRET|pw-|q-SECRET/);
    const [p] = (r.body as { data: Array<Record<string, unknown>> }).data;
    assert.deepEqual(p, {
      id: 'openai',
      kind: 'openai',
      base_url: 'https://api.example.com/v1',
      credential_configured: true,
      header_names: ['x-org-token'],
      allow_private_network: false,
      max_connections: 64,
      connect_timeout_ms: 5000,
      tls: null,
    });
  });

  it('lists routes with targets, timeouts and retries', async () => {
    const r = await call(route(routes, 'GET', '/admin/v1/routes'), principal('admin'));
    const [m] = (r.body as { data: Array<Record<string, unknown>> }).data;
    assert.equal(m?.model, 'gpt-4o');
    assert.deepEqual(m?.targets, [{ provider: 'openai', model: 'gpt-4o-2024', weight: 1, priority: 0 }]);
    assert.deepEqual(m?.retry, { max_attempts: 2, base_delay_ms: 100, max_delay_ms: 1000, max_retry_after_ms: 5000 });
    assert.equal(m?.timeout_ms, 60_000);
  });

  it('is read-only and strict: unknown query parameters are refused; developers may not read it', async () => {
    assert.equal(
      await outcome(route(routes, 'GET', '/admin/v1/routes'), principal('owner'), { query: 'secret=1' }),
      'request.invalid',
    );
    assert.equal(await outcome(route(routes, 'GET', '/admin/v1/providers'), principal('developer')), 'rbac.forbidden');
    assert.deepEqual(
      routes.map((r) => r.method),
      ['GET', 'GET', 'GET'],
    );
    assert.equal(safeBaseUrl('not a url'), '(invalid)');
  });
});

describe('admin circuit-breaker listing', () => {
  it("lists this instance's breakers sorted, to config readers only", async () => {
    const states = [
      { provider: 'openai', model: 'gpt-4o', state: 'open' },
      { provider: 'anthropic', model: 'claude', state: 'closed' },
      { provider: 'openai', model: 'gpt-4o-mini', state: 'half-open' },
    ];
    const breakers = route(
      createGatewayConfigRoutes({ breakerStates: () => states } as unknown as AdminResourceDeps),
      'GET',
      '/admin/v1/breakers',
    );
    const r = await call(breakers, principal('team_manager'));
    assert.deepEqual(r.body, {
      scope: 'instance',
      data: [
        { provider: 'anthropic', model: 'claude', state: 'closed' },
        { provider: 'openai', model: 'gpt-4o', state: 'open' },
        { provider: 'openai', model: 'gpt-4o-mini', state: 'half-open' },
      ],
    });
    const none = route(createGatewayConfigRoutes({} as AdminResourceDeps), 'GET', '/admin/v1/breakers');
    assert.deepEqual((await call(none, principal('owner'))).body, { scope: 'instance', data: [] });
    assert.equal(await outcome(breakers, principal('developer')), 'rbac.forbidden');
    assert.equal(await outcome(breakers, principal('billing_viewer')), 'rbac.forbidden');
  });
});
