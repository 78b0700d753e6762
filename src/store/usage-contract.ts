/** The UsageStore part of the Store contract (src/store/contract.ts runs it for every backend). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleRequestRecord as rec } from './contract-fixtures.ts';
import type { Store } from './store.ts';

export function runUsageStoreContract(getStore: () => Store): void {
  describe('request records: cost fields and usage reports', () => {
    it('round-trips the cost fields exactly: micro-dollars beyond 2^32, cache writes, null cost, estimated flag, team and user', async () => {
      const store = getStore();
      const priced = rec({
        teamId: 'team-a',
        userId: 'alice@example.com',
        cachedTokens: 7,
        cacheWriteTokens: 2 ** 33 + 1,
        costMicros: 2 ** 40 + 3,
        priceVersion: 'acme-2026-01',
        usageEstimated: true,
      });
      const unpriced = rec({
        time: '2024-05-01T09:00:00.000Z',
        cachedTokens: null,
        cacheWriteTokens: null,
        costMicros: null,
        priceVersion: null,
      });
      await store.insertRequestRecord(priced);
      await store.insertRequestRecord(unpriced);
      assert.deepEqual(await store.listRequestRecords({ limit: 10 }), [priced, unpriced]);
    });

    it('refuses a fractional cost instead of storing binary-float money', async () => {
      await assert.rejects(getStore().insertRequestRecord(rec({ costMicros: 0.5 })));
    });

    it('sums spend and tokens per group in SQL, within [since, until), restricted to a tenant', async () => {
      const store = getStore();
      const rows = [
        rec({
          time: '2024-05-01T10:00:00.000Z',
          tenantId: 't1',
          teamId: 'red',
          keyId: 'k1',
          model: 'gpt',
          promptTokens: 10,
          completionTokens: 5,
          totalTokens: 15,
          cachedTokens: 2,
          cacheWriteTokens: 4,
          costMicros: 100,
        }),
        rec({
          time: '2024-05-01T23:59:59.999Z',
          tenantId: 't1',
          teamId: 'red',
          keyId: 'k2',
          model: 'claude',
          promptTokens: 1,
          completionTokens: 1,
          totalTokens: 2,
          cachedTokens: 0,
          costMicros: 2 ** 40,
          usageEstimated: true,
        }),
        rec({
          time: '2024-05-02T00:00:00.000Z',
          tenantId: 't1',
          teamId: null,
          keyId: 'k1',
          model: 'gpt',
          promptTokens: 3,
          completionTokens: 4,
          totalTokens: 7,
          cachedTokens: 0,
          costMicros: null,
          priceVersion: null,
        }),
        rec({
          time: '2024-05-02T01:00:00.000Z',
          tenantId: 't2',
          teamId: 'blue',
          keyId: 'k9',
          model: 'gpt',
          costMicros: 5,
        }),
        rec({
          time: '2024-05-03T00:00:00.000Z',
          tenantId: 't1',
          teamId: 'red',
          keyId: 'k1',
          model: 'gpt',
          costMicros: 999,
        }),
        rec({
          time: '2024-05-01T12:00:00.000Z',
          tenantId: 't1',
          teamId: 'red',
          keyId: 'k1',
          model: null,
          status: 401,
          promptTokens: null,
          completionTokens: null,
          totalTokens: null,
          cachedTokens: null,
          costMicros: 0,
        }),
      ];
      for (const r of rows) await store.insertRequestRecord(r);
      const range = { since: '2024-05-01T00:00:00Z', until: '2024-05-03T00:00:00Z' };

      const byTeam = await store.summarizeUsage({ ...range, tenantId: 't1', groupBy: 'team' });
      assert.deepEqual(
        byTeam.map((r) => [r.group, r.requests, r.costMicros, r.totalTokens, r.unpricedRequests, r.estimatedRequests]),
        [
          ['red', 3, 100 + 2 ** 40, 17, 0, 1],
          [null, 1, 0, 7, 1, 0],
        ],
      );
      const red = await store.summarizeUsage({ ...range, tenantId: 't1', teamId: 'red', groupBy: 'key' });
      assert.deepEqual(
        red.map((r) => [r.group, r.requests]),
        [
          ['k1', 2],
          ['k2', 1],
        ],
      );
      const byDay = await store.summarizeUsage({ ...range, groupBy: 'day' });
      assert.deepEqual(
        byDay.map((r) => [r.group, r.requests, r.costMicros]),
        [
          ['2024-05-01', 3, 100 + 2 ** 40],
          ['2024-05-02', 2, 5],
        ],
      );
      const byModel = await store.summarizeUsage({ ...range, tenantId: 't1', groupBy: 'model' });
      assert.deepEqual(
        byModel.map((r) => [
          r.group,
          r.requests,
          r.promptTokens,
          r.completionTokens,
          r.cachedTokens,
          r.cacheWriteTokens,
        ]),
        [
          ['claude', 1, 1, 1, 0, 0],
          ['gpt', 2, 13, 9, 2, 4],
          ['(no model: chat)', 1, 0, 0, 0, 0],
        ],
      );
      const byKey = await store.summarizeUsage({ ...range, groupBy: 'key' });
      assert.deepEqual(
        byKey.map((r) => r.group),
        ['k1', 'k2', 'k9'],
      );
      const byTenant = await store.summarizeUsage({ ...range, groupBy: 'tenant' });
      assert.deepEqual(
        byTenant.map((r) => [r.group, r.requests]),
        [
          ['t1', 4],
          ['t2', 1],
        ],
      );
      assert.deepEqual(await store.summarizeUsage({ ...range, tenantId: "t1' OR '1'='1", groupBy: 'tenant' }), []);
    });

    it('rejects an unknown grouping or unparseable times', async () => {
      const store = getStore();
      await assert.rejects(
        store.summarizeUsage({
          since: '2024-05-01T00:00:00Z',
          until: '2024-05-02T00:00:00Z',
          groupBy: 'tenant_id; DROP TABLE x' as never,
        }),
        RangeError,
      );
      await assert.rejects(store.summarizeUsage({ since: 'yesterday', until: '2024-05-02T00:00:00Z', groupBy: 'day' }));
    });
  });
}
