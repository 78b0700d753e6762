import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sampleRequestRecord as rec } from '../../store/contract-fixtures.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';
import { createUsageRoutes } from './usage.ts';

type Body = {
  data: Array<Record<string, unknown>>;
  total: { requests: number; cost_usd: string };
  tenant_id: string;
  team_id: string | null;
};

describe('admin usage route', () => {
  let fx: ResourceFixture;
  const usage = () => route(createUsageRoutes(fx.deps), 'GET', '/admin/v1/usage');
  const range = 'from=2024-05-01&to=2024-05-03';

  beforeEach(async () => {
    fx = await openResourceFixture();
    for (const r of [
      rec({ time: '2024-05-01T10:00:00Z', tenantId: 'tA', teamId: 'red', keyId: 'k1', costMicros: 1_500_000 }),
      rec({ time: '2024-05-01T11:00:00Z', tenantId: 'tA', teamId: 'blue', keyId: 'k2', costMicros: 250 }),
      rec({
        time: '2024-05-02T11:00:00Z',
        tenantId: 'tA',
        teamId: 'red',
        keyId: 'k1',
        model: '=cmd|calc',
        costMicros: 1,
      }),
      rec({ time: '2024-05-01T12:00:00Z', tenantId: 'tB', teamId: 'red', keyId: 'k9', costMicros: 9_000_000 }),
    ])
      await fx.store.insertRequestRecord(r);
  });
  afterEach(async () => {
    await fx.close();
  });

  it("sums the caller's tenant only, grouped as asked, money as exact decimals", async () => {
    const res = await call(usage(), principal('billing_viewer'), { query: `${range}&group_by=key` });
    const body = res.body as Body;
    assert.equal(body.tenant_id, 'tA');
    assert.deepEqual(
      body.data.map((d) => [d['key'], d['requests'], d['cost_usd']]),
      [
        ['k1', 2, '1.500001'],
        ['k2', 1, '0.000250'],
      ],
    );
    assert.deepEqual(body.total, { requests: 3, cost_usd: '1.500251' });
    const other = (await call(usage(), principal('owner', { tenantId: 'tB' }), { query: range })).body as Body;
    assert.deepEqual(
      other.data.map((d) => [d['day'], d['cost_usd']]),
      [['2024-05-01', '9.000000']],
    );
  });

  it('confines a team manager to their team, and refuses one without a team', async () => {
    const body = (
      await call(usage(), principal('team_manager', { teamId: 'blue' }), { query: `${range}&group_by=team` })
    ).body as Body;
    assert.deepEqual(
      body.data.map((d) => [d['team'], d['requests']]),
      [['blue', 1]],
    );
    assert.equal(await outcome(usage(), principal('team_manager'), { query: range }), 'rbac.forbidden');
    assert.equal(await outcome(usage(), principal('developer'), { query: range }), 'rbac.forbidden');
  });

  it('exports CSV that a spreadsheet cannot run as a formula', async () => {
    const res = await call(usage(), principal('admin'), { query: `${range}&group_by=model&format=csv` });
    assert.match(String(res.headers?.['content-type']), /text\/csv/);
    const lines = String(res.body).trim().split('\r\n');
    assert.equal(
      lines[0],
      'model,requests,prompt_tokens,completion_tokens,cached_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_requests,estimated_requests',
    );
    assert.ok(
      lines.some((l) => l.startsWith("'=cmd|calc,")),
      lines.join('\n'),
    );
  });

  it('refuses malformed input with the parameter named', async () => {
    const who = principal('owner');
    for (const [query, path] of [
      ['from=yesterday&to=2024-05-03', 'query.from'],
      ['from=2024-05-03&to=2024-05-01', 'query.to'],
      [`${range}&group_by=tenant_id`, 'query.group_by'],
      [`${range}&format=xml`, 'query.format'],
      [`${range}&tenant=tB`, 'query.tenant'],
      ['from=2020-01-01&to=2024-01-01', 'query.from'],
    ] as const) {
      await assert.rejects(
        call(usage(), who, { query }),
        (err: Error & { code?: string; message: string }) =>
          err.code === 'request.invalid' && err.message.includes(path),
        query,
      );
    }
  });
});
