/**
 * The PromptApiStore part of the Store contract. Called by contract.ts inside its per-case setup,
 * so SQLite and PostgreSQL both run it. Cross-tenant reads and writes must behave as if the row
 * did not exist; published versions are immutable; the plan counters are all-or-nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minutesAfterBase as at, sampleRequestRecord } from './contract-fixtures.ts';
import type { ApiSubscriptionRecord, PromptApiRecord, PromptApiVersionRecord } from './prompt-api-records.ts';
import { type Store, StoreConflictError } from './store.ts';

let n = 0;

export function samplePromptApi(over: Partial<PromptApiRecord> = {}): PromptApiRecord {
  n++;
  return {
    id: `api_${n}`,
    tenantId: 't1',
    name: `api-${n}`,
    ownerTeamId: 'team_owner',
    visibility: 'tenant',
    description: 'Sentiment of a text',
    createdAt: at(n % 50),
    createdBy: 'usr_1',
    ...over,
  };
}

export function sampleVersion(
  api: PromptApiRecord,
  over: Partial<PromptApiVersionRecord> = {},
): PromptApiVersionRecord {
  return {
    apiId: api.id,
    tenantId: api.tenantId,
    major: 1,
    minor: 0,
    state: 'draft',
    definition: '{"model":"gpt"}',
    createdAt: at(1),
    publishedAt: null,
    deprecatedAt: null,
    sunsetAt: null,
    retiredAt: null,
    successor: null,
    ...over,
  };
}

export function sampleSubscription(over: Partial<ApiSubscriptionRecord> = {}): ApiSubscriptionRecord {
  n++;
  return {
    id: `sub_${n}`,
    tenantId: 't1',
    apiId: 'api_x',
    consumerTeamId: 'team_consumer',
    state: 'pending',
    reason: 'we classify support tickets',
    planRpm: 60,
    planMonthlyQuota: 10_000,
    requestedBy: 'usr_2',
    decidedBy: null,
    decisionReason: null,
    createdAt: at(n % 50),
    updatedAt: at(n % 50),
    ...over,
  };
}

export function runPromptApiStoreContract(current: () => Store): void {
  describe('prompt APIs', () => {
    it('APIs: unique names per tenant, scoped reads and updates', async () => {
      const store = current();
      const a = samplePromptApi({ name: 'sentiment' });
      const b = samplePromptApi({ name: 'translate' });
      const other = samplePromptApi({ tenantId: 't2', name: 'sentiment' });
      for (const x of [b, a, other]) await store.insertPromptApi(x);
      await assert.rejects(store.insertPromptApi(samplePromptApi({ name: 'sentiment' })), StoreConflictError);
      assert.deepEqual(await store.getPromptApi('t1', a.id), a);
      assert.equal(await store.getPromptApi('t2', a.id), undefined, 'another tenant cannot read it');
      assert.deepEqual(await store.findPromptApiByName('t1', 'sentiment'), a);
      assert.deepEqual(await store.findPromptApiByName('t2', 'sentiment'), other);
      assert.deepEqual(await store.listPromptApis('t1'), [a, b]);
      assert.deepEqual(await store.updatePromptApi('t1', a.id, { visibility: 'team' }), { ...a, visibility: 'team' });
      assert.equal(await store.updatePromptApi('t2', a.id, { description: 'x' }), undefined);
      assert.equal((await store.getPromptApi('t1', a.id))?.description, a.description);
    });

    it('versions: ordered, drafts editable, published immutable, transitions compare-and-set', async () => {
      const store = current();
      const api = samplePromptApi();
      await store.insertPromptApi(api);
      const v10 = sampleVersion(api);
      const v2 = sampleVersion(api, { major: 2, createdAt: at(3) });
      const v11 = sampleVersion(api, { minor: 1, createdAt: at(2) });
      for (const v of [v2, v10, v11]) await store.insertPromptApiVersion(v);
      await assert.rejects(store.insertPromptApiVersion(sampleVersion(api)), StoreConflictError);
      assert.deepEqual(await store.listPromptApiVersions('t1', api.id), [v10, v11, v2]);
      assert.deepEqual(await store.listPromptApiVersions('t2', api.id), []);

      assert.equal(await store.updateDraftVersion('t1', api.id, 1, 0, '{"model":"claude"}'), true);
      assert.equal(await store.updateDraftVersion('t2', api.id, 1, 0, '{"x":1}'), false, 'other tenant');
      const published = await store.transitionPromptApiVersion('t1', api.id, 1, 0, {
        from: 'draft',
        to: 'published',
        at: at(5),
      });
      assert.deepEqual(published, { ...v10, definition: '{"model":"claude"}', state: 'published', publishedAt: at(5) });
      assert.equal(await store.updateDraftVersion('t1', api.id, 1, 0, '{"x":1}'), false, 'published is immutable');
      assert.equal(
        await store.transitionPromptApiVersion('t1', api.id, 1, 0, { from: 'draft', to: 'published', at: at(6) }),
        undefined,
        'not in the expected state',
      );
      assert.equal(
        await store.transitionPromptApiVersion('t2', api.id, 1, 0, { from: 'published', to: 'retired', at: at(6) }),
        undefined,
      );
      const deprecated = await store.transitionPromptApiVersion('t1', api.id, 1, 0, {
        from: 'published',
        to: 'deprecated',
        at: at(7),
        sunsetAt: at(100),
        successor: 'v2',
      });
      assert.equal(deprecated?.state, 'deprecated');
      assert.equal(deprecated?.deprecatedAt, at(7));
      assert.equal(deprecated?.sunsetAt, at(100));
      assert.equal(deprecated?.successor, 'v2');
      const retired = await store.transitionPromptApiVersion('t1', api.id, 1, 0, {
        from: 'deprecated',
        to: 'retired',
        at: at(8),
      });
      assert.equal(retired?.retiredAt, at(8));
      assert.equal(retired?.successor, 'v2', 'kept from the deprecation');
      assert.equal(retired?.publishedAt, at(5));
    });

    it('subscriptions: scoped, filtered, transitions only from the given states', async () => {
      const store = current();
      const s1 = sampleSubscription({ apiId: 'api_a', createdAt: at(1), updatedAt: at(1) });
      const s2 = sampleSubscription({ apiId: 'api_b', consumerTeamId: 'team_z', createdAt: at(2), updatedAt: at(2) });
      const foreign = sampleSubscription({ tenantId: 't2', apiId: 'api_a' });
      for (const s of [s1, s2, foreign]) await store.insertApiSubscription(s);
      await assert.rejects(store.insertApiSubscription({ ...s1 }), StoreConflictError);
      await assert.rejects(store.insertApiSubscription(sampleSubscription({ planRpm: 0 })), TypeError);
      assert.deepEqual(await store.getApiSubscription('t1', s1.id), s1);
      assert.equal(await store.getApiSubscription('t2', s1.id), undefined);
      assert.deepEqual(await store.listApiSubscriptions('t1'), [s1, s2]);
      assert.deepEqual(await store.listApiSubscriptions('t1', { apiId: 'api_a' }), [s1]);
      assert.deepEqual(await store.listApiSubscriptions('t1', { consumerTeamId: 'team_z' }), [s2]);
      const approved = await store.transitionApiSubscription('t1', s1.id, {
        from: ['pending'],
        to: 'approved',
        at: at(9),
        decidedBy: 'usr_owner',
        decisionReason: 'ok',
      });
      assert.deepEqual(approved, {
        ...s1,
        state: 'approved',
        updatedAt: at(9),
        decidedBy: 'usr_owner',
        decisionReason: 'ok',
      });
      const again = {
        from: ['pending'] as const,
        to: 'rejected' as const,
        at: at(10),
        decidedBy: 'u',
        decisionReason: null,
      };
      assert.equal(await store.transitionApiSubscription('t1', s1.id, again), undefined, 'no longer pending');
      assert.equal(await store.transitionApiSubscription('t2', s2.id, again), undefined, 'other tenant');
      assert.equal((await store.getApiSubscription('t1', s2.id))?.state, 'pending');
    });

    it('plan counters: all or nothing, per subscription, expired buckets start again', async () => {
      const store = current();
      const takes = [
        { bucket: 'min:1', limit: 2, expiresMs: 1_000 },
        { bucket: 'm:2026-12', limit: 3, expiresMs: 10_000 },
      ];
      assert.deepEqual(await store.takeSubscriptionCalls('s1', takes, 0), { allowed: true });
      assert.deepEqual(await store.takeSubscriptionCalls('s1', takes, 0), { allowed: true });
      assert.deepEqual(await store.takeSubscriptionCalls('s1', takes, 0), { allowed: false, bucket: 'min:1' });
      assert.deepEqual(await store.takeSubscriptionCalls('s2', takes, 0), { allowed: true }, 'another subscription');
      // The minute bucket expired: it starts again; the refused call above counted nowhere.
      assert.deepEqual(await store.takeSubscriptionCalls('s1', takes, 1_000), { allowed: true });
      assert.deepEqual(await store.takeSubscriptionCalls('s1', takes, 1_000), { allowed: false, bucket: 'm:2026-12' });
      assert.deepEqual(
        await store.takeSubscriptionCalls('s1', [{ bucket: 'min:1', limit: 2, expiresMs: 2_000 }], 1_000),
        { allowed: true },
        'the refused month take left the minute bucket where it was',
      );
    });

    it('plan counters: concurrent takes never pass the limit', async () => {
      const store = current();
      const takes = [{ bucket: 'm:2026-12', limit: 5, expiresMs: 10_000 }];
      const verdicts = await Promise.all(
        Array.from({ length: 20 }, () => store.takeSubscriptionCalls('s-race', takes, 0)),
      );
      assert.equal(verdicts.filter((v) => v.allowed).length, 5);
    });

    it('paths: rotation keeps the old path for its grace, lookups by path', async () => {
      const store = current();
      const p1 = { path: 'a'.repeat(24), tenantId: 't1', apiId: 'api_1', major: 1, createdAt: at(1), expiresAt: null };
      await store.rotateApiPath(p1, at(1));
      assert.deepEqual(await store.findApiPath(p1.path), p1);
      const p2 = { ...p1, path: 'b'.repeat(24), createdAt: at(2) };
      await store.rotateApiPath(p2, at(30));
      assert.deepEqual(await store.findApiPath(p1.path), { ...p1, expiresAt: at(30) });
      assert.deepEqual(await store.findApiPath(p2.path), p2);
      const p3 = { ...p1, path: 'c'.repeat(24), createdAt: at(3) };
      await store.rotateApiPath(p3, at(40));
      assert.equal((await store.findApiPath(p1.path))?.expiresAt, at(30), 'an earlier end is kept');
      assert.equal((await store.findApiPath(p2.path))?.expiresAt, at(40));
      assert.deepEqual(
        (await store.listApiPaths('t1', 'api_1')).map((p) => p.path),
        [p3.path, p2.path, p1.path],
      );
      assert.deepEqual(await store.listApiPaths('t2', 'api_1'), []);
      await assert.rejects(store.rotateApiPath(p3, at(50)), StoreConflictError);
      assert.equal((await store.findApiPath(p2.path))?.expiresAt, at(40), 'a failed rotation changes nothing');
      assert.equal(await store.findApiPath('missing'), undefined);
    });

    it('request records name the API; usage groups by it', async () => {
      const store = current();
      const t = 'tenant-api-usage';
      await store.insertRequestRecord(sampleRequestRecord({ tenantId: t, api: 'sentiment', costMicros: 10 }));
      await store.insertRequestRecord(sampleRequestRecord({ tenantId: t, api: 'sentiment', costMicros: 5 }));
      await store.insertRequestRecord(sampleRequestRecord({ tenantId: t, api: 'translate', costMicros: 7 }));
      await store.insertRequestRecord(sampleRequestRecord({ tenantId: t, costMicros: 1 }));
      const listed = await store.listRequestRecords({ tenantId: t, limit: 10 });
      assert.deepEqual(listed.map((r) => r.api ?? null).sort(), [null, 'sentiment', 'sentiment', 'translate'].sort());
      assert.ok(!('api' in listed.find((r) => r.api === undefined)!), 'left out when there is none');
      const rows = await store.summarizeUsage({ since: at(-60), until: at(60), tenantId: t, groupBy: 'api' });
      assert.deepEqual(
        rows.map((r) => [r.group, r.requests, r.costMicros]),
        [
          ['sentiment', 2, 15],
          ['translate', 1, 7],
          [null, 1, 1],
        ],
      );
    });
  });
}
