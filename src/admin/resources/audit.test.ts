import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createAuditRoutes } from './audit.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

type Page = {
  data: Array<{ seq: number; actor: { tenant: string | null }; action: string; target: string }>;
  next_after: number | null;
};

describe('admin audit routes', () => {
  let fx: ResourceFixture;
  let routes: ReturnType<typeof createAuditRoutes>;
  const read = () => route(routes, 'GET', '/admin/v1/audit');
  const exp = () => route(routes, 'GET', '/admin/v1/audit/export');
  const auditor = principal('security_auditor');
  const range = 'from=2020-01-01&to=2999-01-01';

  beforeEach(async () => {
    fx = await openResourceFixture();
    routes = createAuditRoutes(fx.deps);
    const base = { decision: 'allowed' as const, reason: null, requestId: null };
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'api_key', id: 'k1', tenant: 'tA' },
      action: 'model.call',
      target: 'a1',
    });
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'api_key', id: 'k2', tenant: 'tB' },
      action: 'model.call',
      target: 'b1',
    });
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'cli', id: 'root', tenant: null },
      action: 'key.create',
      target: 'a2',
      metadata: { tenant: 'tA' },
    });
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'cli', id: 'root', tenant: null },
      action: 'key.create',
      target: 'b2',
      metadata: { tenant: 'tB' },
    });
    // A tenant-B API caller cannot smuggle a record into tenant A's view through its metadata.
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'api_key', id: 'k2', tenant: 'tB' },
      action: 'model.call',
      target: 'b3',
      metadata: { tenant: 'tA' },
    });
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'anonymous', id: null, tenant: null },
      action: 'auth.failure',
      target: null,
    });
    await fx.deps.audit.append({
      ...base,
      actor: { kind: 'admin', id: 'u1', tenant: 'tA' },
      action: 'team.create',
      target: 'a3',
    });
  });
  afterEach(async () => {
    await fx.close();
  });

  it("shows only the caller's tenant, page by page", async () => {
    const first = (await call(read(), auditor, { query: `${range}&limit=2` })).body as Page;
    assert.deepEqual(
      first.data.map((r) => r.target),
      ['a1', 'a2'],
    );
    assert.notEqual(first.next_after, null);
    const second = (await call(read(), auditor, { query: `${range}&limit=2&after=${first.next_after}` })).body as Page;
    assert.deepEqual(
      second.data.map((r) => r.target),
      ['a3'],
    );
    assert.equal(second.next_after, null);
    const b = (await call(read(), principal('owner', { tenantId: 'tB' }), { query: range })).body as Page;
    assert.deepEqual(
      b.data.map((r) => r.target),
      ['b1', 'b2', 'b3'],
    );
  });

  it('exports JSON Lines and CSV, and records the export before the data leaves', async () => {
    const jsonl = await call(exp(), auditor, { query: range });
    assert.match(String(jsonl.headers?.['content-type']), /ndjson/);
    const lines = String(jsonl.body)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { target: string; hash: string });
    assert.deepEqual(
      lines.map((l) => l.target),
      ['a1', 'a2', 'a3'],
    );
    assert.match(lines[0]!.hash, /^[0-9a-f]{64}$/);
    const exportEntry = fx.entries.at(-1)!;
    assert.equal(exportEntry.action, 'audit.export');
    assert.equal(exportEntry.actor.tenant, 'tA');
    assert.equal(exportEntry.metadata?.records, 3);

    const csv = await call(exp(), auditor, { query: `${range}&format=csv` });
    assert.match(String(csv.headers?.['content-type']), /text\/csv/);
    const rows = String(csv.body).trim().split('\r\n');
    assert.equal(rows[0]?.startsWith('seq,time,actor_kind'), true);
    // The first export is now part of tenant A's log too.
    assert.equal(rows.length, 1 + 4);
  });

  it('refuses bad ranges and formats with the parameter named', async () => {
    const bad: Array<[ReturnType<typeof read>, string, string]> = [
      [exp(), 'to=2999-01-01', 'query.from'],
      [exp(), `${range}&format=xml`, 'query.format'],
      [exp(), 'from=2025-02-01&to=2025-01-01', 'query.to'],
      [read(), 'from=yesterday', 'query.from'],
      [read(), 'limit=0', 'query.limit'],
      [read(), 'limit=5000', 'query.limit'],
      [read(), 'tenant=tB', 'query.tenant'],
    ];
    for (const [r, query, param] of bad) {
      await assert.rejects(
        call(r, auditor, { query }),
        (e: { code: string; param?: string }) => e.code === 'request.invalid' && e.param === param,
        query,
      );
    }
    assert.equal(
      await outcome(read(), principal('team_manager', { teamId: 't1' }), { query: range }),
      'rbac.forbidden',
    );
    assert.equal(await outcome(exp(), principal('billing_viewer'), { query: range }), 'rbac.forbidden');
  });

  it('gives no export when the export cannot be recorded', async () => {
    fx.failAudit(false);
    assert.equal(await outcome(exp(), auditor, { query: range }), 'audit.unavailable');
  });
});
