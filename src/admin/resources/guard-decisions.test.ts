import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sampleRequestRecord as rec } from '../../store/contract-fixtures.ts';
import { createGuardDecisionRoutes, parseGuardDetectors } from './guard-decisions.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

type Body = {
  total: number;
  truncated: boolean;
  counts: Array<{ detector: string; action: string; count: number }>;
  timeline: { buckets: string[]; requests: number[] };
  data: Array<{ request_id: string; time: string; model: string; key_id: string; decisions: unknown[] }>;
};

describe('admin guard decisions route', () => {
  let fx: ResourceFixture;
  const read = () => route(createGuardDecisionRoutes(fx.deps), 'GET', '/admin/v1/guard/decisions');
  const range = 'from=2024-05-01T10:00:00Z&to=2024-05-01T14:00:00Z';
  const auditor = principal('security_auditor');

  beforeEach(async () => {
    fx = await openResourceFixture();
    const rows: Array<[string, string, string | null, string, string]> = [
      ['10:05', 'tA', 'pii:redact', 'm1', 'k1'],
      ['10:20', 'tA', 'injection:block,pii:redact', 'm2', 'k1'],
      ['11:30', 'tA', 'deny_list:competitors:flag', 'm1', 'k2'],
      ['12:00', 'tA', null, 'm1', 'k1'],
      ['13:10', 'tA', 'judge:error', 'm2', 'k2'],
      ['10:30', 'tB', 'pii:block', 'm1', 'kB'],
    ];
    for (const [t, tenantId, guardDetectors, model, keyId] of rows)
      await fx.store.insertRequestRecord(
        rec({ time: `2024-05-01T${t}:00.000Z`, tenantId, guardDetectors, model, keyId }),
      );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('parses detector ids that hold a colon', () => {
    assert.deepEqual(parseGuardDetectors('deny_list:competitors:flag,pii:redact'), [
      { detector: 'deny_list:competitors', action: 'flag' },
      { detector: 'pii', action: 'redact' },
    ]);
    assert.deepEqual(parseGuardDetectors(null), []);
    assert.deepEqual(parseGuardDetectors('broken,:x,y:'), []);
  });

  it("lists the tenant's requests a guardrail acted on, newest first, with counts and a timeline", async () => {
    const body = (await call(read(), auditor, { query: range })).body as Body;
    assert.equal(body.total, 4, "no unguarded request, nothing of the other tenant's");
    assert.deepEqual(
      body.data.map((d) => d.time),
      ['2024-05-01T13:10:00.000Z', '2024-05-01T11:30:00.000Z', '2024-05-01T10:20:00.000Z', '2024-05-01T10:05:00.000Z'],
    );
    assert.deepEqual(body.data[2]!.decisions, [
      { detector: 'injection', action: 'block' },
      { detector: 'pii', action: 'redact' },
    ]);
    assert.deepEqual(body.counts, [
      { detector: 'pii', action: 'redact', count: 2 },
      { detector: 'deny_list:competitors', action: 'flag', count: 1 },
      { detector: 'injection', action: 'block', count: 1 },
      { detector: 'judge', action: 'error', count: 1 },
    ]);
    assert.equal(body.timeline.requests.length, 48);
    assert.equal(
      body.timeline.requests.reduce((a, b) => a + b, 0),
      4,
    );
    assert.equal(body.timeline.requests[1], 1, '10:05 falls in the second 5-minute bucket');
    assert.equal(body.truncated, false);
  });

  it('filters by detector, action, model and key', async () => {
    const q = async (extra: string) =>
      ((await call(read(), auditor, { query: `${range}&${extra}` })).body as Body).total;
    assert.equal(await q('detector=pii'), 2);
    assert.equal(await q('action=block'), 1);
    assert.equal(await q('detector=pii&action=block'), 0);
    assert.equal(await q('detector=deny_list:competitors'), 1);
    assert.equal(await q('model=m2'), 2);
    assert.equal(await q('key_id=k2'), 2);
    assert.equal(await q('action=error'), 1);
    const limited = (await call(read(), auditor, { query: `${range}&limit=1` })).body as Body;
    assert.equal(limited.data.length, 1);
    assert.equal(limited.total, 4);
  });

  it('refuses roles without security_event.read, and bad filters', async () => {
    for (const role of ['developer', 'billing_viewer', 'team_manager'] as const)
      assert.equal(await outcome(read(), principal(role), { query: range }), 'rbac.forbidden', role);
    assert.equal(await outcome(read(), principal('owner'), { query: range }), 'ok');
    for (const bad of ['action=allow', 'detector=%3Cscript%3E', 'limit=0', 'limit=1001', 'from=yesterday', 'color=red'])
      assert.equal(await outcome(read(), auditor, { query: `${range}&${bad}` }), 'request.invalid', bad);
    assert.equal(
      await outcome(read(), auditor, { query: 'from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z' }),
      'request.invalid',
    );
  });
});
