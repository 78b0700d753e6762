import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { alertEntry } from '../../threats/respond.ts';
import type { Firing } from '../../threats/types.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';
import { createSecurityEventRoutes } from './security-events.ts';

type Page = {
  data: Array<{
    seq: number;
    action: string;
    target: string | null;
    actor: { tenant: string | null };
    metadata: Record<string, unknown>;
  }>;
  next_after: number | null;
};

function firing(tenantId: string, subject: string): Firing {
  return {
    rule: 'brute_force',
    severity: 'critical',
    action: 'alert',
    until: undefined,
    throttleRequestsPerMinute: 0,
    at: Date.parse('2026-03-01T10:00:00Z'),
    subject,
    tenantId,
    keyPrefix: 'pcl_abcd',
    sourceIp: '198.51.100.7',
    detail: { failures: 5 },
  };
}

describe('admin security events route', () => {
  let fx: ResourceFixture;
  let routes: ReturnType<typeof createSecurityEventRoutes>;
  const read = () => route(routes, 'GET', '/admin/v1/security-events');
  const auditor = principal('security_auditor');
  const range = 'from=2020-01-01&to=2999-01-01';

  beforeEach(async () => {
    fx = await openResourceFixture();
    routes = createSecurityEventRoutes(fx.deps);
    const base = { decision: 'allowed' as const, reason: null, requestId: null };
    const a = fx.deps.audit;
    await a.append(alertEntry(firing('tA', 'key:kA'), null));
    await a.append(alertEntry(firing('tB', 'key:kB'), null));
    await a.append({
      ...base,
      actor: { kind: 'api_key', id: 'k1', tenant: 'tA' },
      action: 'model.call',
      target: 'not-security',
    });
    await a.append({
      actor: { kind: 'system', id: 'lockout', tenant: 'tA' },
      action: 'auth.lockout',
      target: 'pcl_abcd',
      decision: 'refused',
      reason: 'auth.locked_out',
      requestId: null,
    });
    await a.append({
      actor: { kind: 'admin', id: 'u1', tenant: 'tA' },
      action: 'admin.login',
      target: 'u1',
      decision: 'refused',
      reason: 'admin.invalid_credentials',
      requestId: null,
    });
    await a.append({
      ...base,
      actor: { kind: 'admin', id: 'u1', tenant: 'tA' },
      action: 'admin.login',
      target: 'u1-ok',
    });
    await a.append({
      ...base,
      actor: { kind: 'anonymous', id: null, tenant: null },
      action: 'auth.failure',
      target: 'anon',
    });
    // A tenant-B caller cannot plant a record in tenant A's view through its metadata.
    await a.append({
      ...base,
      actor: { kind: 'api_key', id: 'k2', tenant: 'tB' },
      action: 'security.alert',
      target: 'planted',
      metadata: { tenant: 'tA' },
    });
  });
  afterEach(async () => {
    await fx.close();
  });

  it("shows only the tenant's security records, page by page", async () => {
    const all = (await call(read(), auditor, { query: range })).body as Page;
    assert.deepEqual(
      all.data.map((r) => [r.action, r.target]),
      [
        ['security.alert', 'key:kA'],
        ['auth.lockout', 'pcl_abcd'],
        ['admin.login', 'u1'],
      ],
    );
    assert.deepEqual([...new Set(all.data.map((r) => r.actor.tenant))], ['tA']);
    assert.equal(all.data[0]!.metadata['rule'], 'brute_force');
    assert.equal(all.next_after, null);

    const first = (await call(read(), auditor, { query: `${range}&limit=2` })).body as Page;
    assert.equal(first.data.length, 2);
    assert.notEqual(first.next_after, null);
    const second = (await call(read(), auditor, { query: `${range}&limit=2&after=${first.next_after}` })).body as Page;
    assert.deepEqual(
      second.data.map((r) => r.target),
      ['u1'],
    );

    const b = (await call(read(), principal('owner', { tenantId: 'tB' }), { query: range })).body as Page;
    // Tenant B's own records (its actor), whatever their metadata claims.
    assert.deepEqual(
      b.data.map((r) => r.target),
      ['key:kB', 'planted'],
    );
    const empty = (await call(read(), auditor, { query: 'from=2020-01-01&to=2020-01-02' })).body as Page;
    assert.deepEqual(empty.data, []);
  });

  it('refuses bad input with the parameter named, and roles without security_event.read', async () => {
    const bad: Array<[string, string]> = [
      ['from=yesterday', 'query.from'],
      ['to=2025-13-45T99:00:00Z', 'query.to'],
      ['from=2025-02-01&to=2025-01-01', 'query.to'],
      ['limit=0', 'query.limit'],
      ['limit=1001', 'query.limit'],
      ['limit=-1', 'query.limit'],
      ['limit=1&limit=2', 'query.limit'],
      ['after=x', 'query.after'],
      ['tenant=tB', 'query.tenant'],
      ['type=security.alert', 'query.type'],
    ];
    for (const [query, param] of bad) {
      await assert.rejects(
        call(read(), auditor, { query }),
        (e: { code: string; param?: string }) => e.code === 'request.invalid' && e.param === param,
        query,
      );
    }
    await assert.rejects(
      call(read(), auditor, { query: range, body: { tenant: 'tB' } }),
      (e: { code: string }) => e.code === 'request.invalid',
    );
    assert.equal(await outcome(read(), principal('developer', { teamId: 't1' }), { query: range }), 'rbac.forbidden');
    assert.equal(await outcome(read(), principal('billing_viewer'), { query: range }), 'rbac.forbidden');
    assert.equal(await outcome(read(), principal('owner'), { query: range }), 'ok');
  });
});
