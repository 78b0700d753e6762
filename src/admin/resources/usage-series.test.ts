import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sampleRequestRecord as rec } from '../../store/contract-fixtures.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';
import { createUsageSeriesRoutes, percentile } from './usage-series.ts';

type Series = {
  requests: number[];
  errors: number[];
  total_tokens: number[];
  cost_micros: number[];
  p50_ms: Array<number | null>;
  p99_ms: Array<number | null>;
};
type Body = {
  bucket_s: number;
  buckets: string[];
  records: number;
  truncated: boolean;
  team_id: string | null;
  total: { requests: number; errors: number; p50_ms: number | null; p99_ms: number | null; cost_micros: number };
  series: Series;
  groups: Array<{ key: string } & Series>;
};

describe('admin usage series route', () => {
  let fx: ResourceFixture;
  const series = () => route(createUsageSeriesRoutes(fx.deps), 'GET', '/admin/v1/usage/series');
  const range = 'from=2024-05-01T10:00:00Z&to=2024-05-01T13:00:00Z';

  beforeEach(async () => {
    fx = await openResourceFixture();
    const latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000];
    for (const [i, ms] of latencies.entries()) {
      await fx.store.insertRequestRecord(
        rec({
          time: `2024-05-01T10:${String(i * 5).padStart(2, '0')}:00Z`,
          tenantId: 'tA',
          teamId: i < 7 ? 'red' : 'blue',
          model: i % 2 === 0 ? 'm-even' : 'm-odd',
          latencyMs: ms,
          status: i === 9 ? 502 : 200,
          totalTokens: 10,
          costMicros: 100,
        }),
      );
    }
    await fx.store.insertRequestRecord(
      rec({ time: '2024-05-01T12:30:00Z', tenantId: 'tA', teamId: 'red', latencyMs: 5, totalTokens: 1, costMicros: 1 }),
    );
    await fx.store.insertRequestRecord(
      rec({ time: '2024-05-01T10:10:00Z', tenantId: 'tB', teamId: 'red', latencyMs: 99_999 }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it("buckets the caller's tenant by hour with errors, latency percentiles, tokens and cost", async () => {
    const body = (await call(series(), principal('billing_viewer'), { query: `${range}&bucket_s=3600` })).body as Body;
    assert.equal(body.bucket_s, 3600);
    assert.deepEqual(body.buckets, [
      '2024-05-01T10:00:00.000Z',
      '2024-05-01T11:00:00.000Z',
      '2024-05-01T12:00:00.000Z',
    ]);
    assert.deepEqual(body.series.requests, [10, 0, 1]);
    assert.deepEqual(body.series.errors, [1, 0, 0]);
    assert.deepEqual(body.series.p50_ms, [50, null, 5]);
    assert.deepEqual(body.series.p99_ms, [1000, null, 5]);
    assert.deepEqual(body.series.total_tokens, [100, 0, 1]);
    assert.deepEqual(body.series.cost_micros, [1000, 0, 1]);
    assert.equal(body.total.requests, 11);
    assert.equal(body.total.errors, 1);
    assert.equal(body.total.p99_ms, 1000, "the other tenant's 99999 ms request is not counted");
    assert.equal(body.truncated, false);
  });

  it('picks a bucket width when none is asked, and splits by group', async () => {
    const body = (await call(series(), principal('owner'), { query: `${range}&group_by=team` })).body as Body;
    assert.equal(body.bucket_s, 60, '180 one-minute buckets fit in the limit');
    assert.equal(body.buckets.length, 180);
    assert.deepEqual(
      body.groups.map((g) => [g.key, g.requests.reduce((a, b) => a + b, 0)]),
      [
        ['red', 8],
        ['blue', 3],
      ],
    );
  });

  it('confines a team manager to their team and refuses one without a team', async () => {
    const body = (
      await call(series(), principal('team_manager', { teamId: 'blue' }), { query: `${range}&bucket_s=3600` })
    ).body as Body;
    assert.equal(body.team_id, 'blue');
    assert.deepEqual(body.series.requests, [3, 0, 0]);
    assert.equal(await outcome(series(), principal('team_manager'), { query: range }), 'rbac.forbidden');
    assert.equal(await outcome(series(), principal('developer'), { query: range }), 'rbac.forbidden');
  });

  it('refuses malformed input with the parameter named', async () => {
    for (const [query, path] of [
      ['from=soon', 'query.from'],
      [`${range}&bucket_s=61`, 'query.bucket_s'],
      [`${range}&group_by=tenant`, 'query.group_by'],
      ['from=2024-01-01&to=2024-05-01&bucket_s=60', 'query.bucket_s'],
      ['from=2024-05-02&to=2024-05-01', 'query.to'],
      [`${range}&tenant=tB`, 'query.tenant'],
    ] as const) {
      await assert.rejects(
        call(series(), principal('owner'), { query }),
        (err: Error & { code?: string; message: string }) =>
          err.code === 'request.invalid' && err.message.includes(path),
        query,
      );
    }
  });

  it('takes nearest-rank percentiles', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
      99,
    );
  });
});
