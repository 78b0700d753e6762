import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { demoConfig } from '../../cli/demo.ts';
import type { MockUpstream } from '../../mock-upstream/index.ts';
import { sampleApiKeyRecord as key } from '../../store/contract-fixtures.ts';
import { createComplianceRoutes } from './compliance.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

describe('admin compliance report route', () => {
  let fx: ResourceFixture;
  const report = () => route(createComplianceRoutes(fx.deps), 'GET', '/admin/v1/compliance/report');
  const auditor = principal('security_auditor');
  const period = 'from=2020-01-01&to=2999-01-01';

  beforeEach(async () => {
    fx = await openResourceFixture();
    const emulator = { baseUrl: (p: string) => `http://127.0.0.1:1/${p}` } as unknown as MockUpstream;
    const base = demoConfig(emulator, { host: '127.0.0.1', port: 8080, dataDir: `${fx.deps.auditPath}.data` });
    (fx.deps as { fullConfig?: unknown }).fullConfig = { ...base, audit: { ...base.audit, path: fx.deps.auditPath } };
    await fx.store.insertApiKey(key({ tenantId: 'tA', label: 'tenant-a-key' }));
    await fx.store.insertApiKey(key({ tenantId: 'tA', label: 'tenant-a-other' }));
    await fx.store.insertApiKey(key({ tenantId: 'tB', label: 'tenant-b-secret-project' }));
    const rec = { decision: 'allowed' as const, reason: null, requestId: null, target: null };
    await fx.deps.audit.append({ ...rec, actor: { kind: 'api_key', id: 'k1', tenant: 'tA' }, action: 'model.call' });
    await fx.deps.audit.append({ ...rec, actor: { kind: 'api_key', id: 'k2', tenant: 'tB' }, action: 'model.call' });
    await fx.deps.audit.append({ ...rec, actor: { kind: 'api_key', id: 'k3', tenant: 'tB' }, action: 'tb.only' });
    fx.entries.length = 0;
  });
  afterEach(async () => {
    await fx.close();
  });

  it("writes the tenant's report as Markdown, audited before it leaves", async () => {
    const res = await call(report(), auditor, { query: period });
    assert.equal(res.status, 200);
    assert.equal(res.headers?.['content-type'], 'text/markdown; charset=utf-8');
    assert.match(
      String(res.headers?.['content-disposition']),
      /^attachment; filename="compliance_2020-01-01_2999-01-01\.md"$/,
    );
    const text = String(res.body);
    assert.match(text, /^# Portcullis compliance evidence report/);
    assert.match(text, /- Scope: tenant tA /);
    assert.doesNotMatch(text, /tenant-b-secret-project/);
    assert.equal(fx.entries.length, 1);
    assert.equal(fx.entries[0]!.action, 'report.compliance');
    assert.equal(fx.entries[0]!.actor.tenant, 'tA');
    assert.equal(fx.entries[0]!.metadata?.format, 'markdown');
  });

  it("counts only the tenant's keys and audit records (JSON)", async () => {
    const res = await call(report(), principal('owner'), { query: `${period}&format=json` });
    assert.equal(res.headers?.['content-type'], 'application/json; charset=utf-8');
    const r = JSON.parse(String(res.body)) as {
      facts: {
        tenantId: string;
        identity: { keys: { total: number } };
        audit: { actionsInPeriod: Array<{ action: string; count: number }> };
      };
      controls: unknown[];
    };
    assert.equal(r.facts.tenantId, 'tA');
    assert.equal(r.facts.identity.keys.total, 2);
    assert.deepEqual(
      r.facts.audit.actionsInPeriod.map((a) => [a.action, a.count]),
      [['model.call', 1]],
      "the other tenant's records are not counted",
    );
    assert.ok(r.controls.length > 0);
  });

  it('is refused to roles without compliance.read, for bad input, and when the audit log is down', async () => {
    for (const role of ['developer', 'billing_viewer', 'team_manager'] as const)
      assert.equal(await outcome(report(), principal(role), { query: period }), 'rbac.forbidden', role);
    assert.equal(await outcome(report(), auditor, { query: 'to=2999-01-01' }), 'request.invalid');
    assert.equal(await outcome(report(), auditor, { query: `${period}&format=pdf` }), 'request.invalid');
    assert.equal(await outcome(report(), auditor, { query: `${period}&tenant=tB` }), 'request.invalid');
    assert.equal(fx.entries.length, 0);
    fx.failAudit(false);
    assert.equal(await outcome(report(), auditor, { query: period }), 'audit.unavailable', 'no record, no report');
  });
});
