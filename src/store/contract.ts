/**
 * The behaviour every Store backend must have. A backend's test file calls
 * `runStoreContract('sqlite', makeStore)`; a later PostgreSQL backend reuses it unchanged.
 * `makeStore` gives an empty store (initialised or not), a `reopen` that opens a second store
 * over the same data, and a `cleanup` that removes the data.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runAdminStoreContract } from './admin-contract.ts';
import { minutesAfterBase as at, sampleApiKeyRecord as key, sampleRequestRecord as rec } from './contract-fixtures.ts';
import { runDecisionInputsContract } from './decision-inputs-contract.ts';
import { runEncryptionStoreContract } from './encryption-contract.ts';
import { runOAuthStoreContract } from './oauth-contract.ts';
import { runPolicyStoreContract } from './policy-contract.ts';
import { runPromptApiStoreContract } from './prompt-api-contract.ts';
import { type Store, StoreConflictError } from './store.ts';
import { runTenancyStoreContract } from './tenancy-contract.ts';
import { runUsageStoreContract } from './usage-contract.ts';

export interface StoreUnderTest {
  readonly store: Store;
  /** A new Store over the same data (called after `store.close()`). */
  readonly reopen: () => Promise<Store>;
  readonly cleanup: () => Promise<void>;
}

export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreUnderTest;
    let store: Store;
    const extra: Store[] = [];

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      await store.init();
    });
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await h.store.close();
      await h.cleanup();
    });

    async function reopen(): Promise<Store> {
      await store.close();
      const s = await h.reopen();
      extra.push(s);
      await s.init();
      return s;
    }

    runAdminStoreContract(() => store);
    runTenancyStoreContract(() => store);
    runOAuthStoreContract(() => store);
    runUsageStoreContract(() => store);
    runPolicyStoreContract(() => store);
    runDecisionInputsContract(() => store);
    runPromptApiStoreContract(() => store);

    describe('lifecycle', () => {
      it('applies migrations once; init is idempotent and the version is stable', async () => {
        const v = await store.schemaVersion();
        assert.ok(Number.isInteger(v) && v >= 1, `schema version ${v}`);
        await store.init();
        await store.init();
        assert.equal(await store.schemaVersion(), v);
        await store.ping();
      });

      it('keeps its data across close and reopen', async () => {
        const r = rec({ time: at(1) });
        const k = key();
        await store.insertRequestRecord(r);
        await store.insertApiKey(k);
        const v = await store.schemaVersion();
        const again = await reopen();
        assert.equal(await again.schemaVersion(), v);
        assert.deepEqual(await again.listRequestRecords({ limit: 10 }), [r]);
        assert.deepEqual(await again.getApiKey(k.id), k);
      });

      it('refuses to serve after close (readiness fails) and close twice is harmless', async () => {
        await store.close();
        await assert.rejects(store.ping());
        await assert.rejects(store.listRequestRecords({ limit: 1 }));
        await store.close();
      });
    });

    describe('request records', () => {
      it('round-trips every field exactly, nulls, booleans and fractions included', async () => {
        const full = rec({
          stream: true,
          latencyMs: 1234.5678,
          status: 502,
          errorCode: 'upstream.timeout',
          attempts: 3,
          promptTokens: 0,
          completionTokens: 2 ** 40,
          totalTokens: 2 ** 40,
          surface: 'anthropic',
          operation: 'embeddings',
          guardDetectors: 'deny_list:competitors:flag,injection:block,pii:redact',
          policyVersion: 7,
        });
        const sparse = rec({
          time: at(-1),
          keyId: null,
          model: null,
          provider: null,
          targetModel: null,
          promptTokens: null,
          completionTokens: null,
          totalTokens: null,
          operation: 'models',
          status: 401,
          errorCode: 'auth.missing',
        });
        await store.insertRequestRecord(full);
        await store.insertRequestRecord(sparse);
        assert.deepEqual(await store.listRequestRecords({ limit: 10 }), [full, sparse]);
      });

      it('refuses a policy version that is not a positive integer', async () => {
        for (const bad of [0, -1, 1.5, Number.NaN])
          await assert.rejects(store.insertRequestRecord(rec({ policyVersion: bad })), TypeError);
        assert.equal((await store.listRequestRecords({ limit: 50 })).length, 0);
      });

      it('stores which guard detectors fired, and refuses anything that is not a detector:action list', async () => {
        await assert.rejects(
          store.insertRequestRecord(rec({ guardDetectors: 'pii:redact,bob@example.com' })),
          TypeError,
        );
        await assert.rejects(store.insertRequestRecord(rec({ guardDetectors: 'pii:shout' })), TypeError);
        const r = rec({ guardDetectors: 'judge:error' });
        await store.insertRequestRecord(r);
        assert.equal(
          (await store.listRequestRecords({ limit: 5 })).find((x) => x.id === r.id)?.guardDetectors,
          'judge:error',
        );
      });

      it('lists newest first and honours the limit', async () => {
        const recs = [5, 1, 3, 2, 4].map((m) => rec({ time: at(m) }));
        await Promise.all(recs.map((r) => store.insertRequestRecord(r)));
        const listed = await store.listRequestRecords({ limit: 3 });
        assert.deepEqual(
          listed.map((r) => r.time),
          [at(5), at(4), at(3)],
        );
      });

      it('orders by instant, not by how the time was written', async () => {
        const early = rec({ time: '2024-05-01T10:00:59Z' });
        const late = rec({ time: '2024-05-01T10:01:00.000Z' });
        await store.insertRequestRecord(late);
        await store.insertRequestRecord(early);
        assert.deepEqual(
          (await store.listRequestRecords({ limit: 5, since: '2024-05-01T10:00:30Z' })).map((r) => r.id),
          [late.id, early.id],
        );
      });

      it('filters by since (inclusive), until (exclusive), tenant and key', async () => {
        const a1 = rec({ time: at(1), tenantId: 'a', keyId: 'k1' });
        const a2 = rec({ time: at(2), tenantId: 'a', keyId: 'k2' });
        const b3 = rec({ time: at(3), tenantId: 'b', keyId: 'k3' });
        const a4 = rec({ time: at(4), tenantId: 'a', keyId: 'k1' });
        for (const r of [a1, a2, b3, a4]) await store.insertRequestRecord(r);
        const ids = async (q: Parameters<Store['listRequestRecords']>[0]): Promise<string[]> =>
          (await store.listRequestRecords(q)).map((r) => r.id);
        assert.deepEqual(await ids({ limit: 10, since: at(2) }), [a4.id, b3.id, a2.id]);
        assert.deepEqual(await ids({ limit: 10, until: at(3) }), [a2.id, a1.id]);
        assert.deepEqual(await ids({ limit: 10, since: at(2), until: at(4) }), [b3.id, a2.id]);
        assert.deepEqual(await ids({ limit: 10, tenantId: 'a' }), [a4.id, a2.id, a1.id]);
        assert.deepEqual(await ids({ limit: 10, keyId: 'k1' }), [a4.id, a1.id]);
        assert.deepEqual(await ids({ limit: 10, tenantId: 'a', keyId: 'k2', since: at(1) }), [a2.id]);
        assert.deepEqual(await ids({ limit: 10, tenantId: 'nobody' }), []);
        assert.deepEqual(await ids({ limit: 1, tenantId: 'a' }), [a4.id]);
      });

      it('treats filter values as data, not SQL', async () => {
        const r = rec({ tenantId: "t' OR '1'='1" });
        await store.insertRequestRecord(r);
        await store.insertRequestRecord(rec({ tenantId: 'other' }));
        assert.deepEqual(await store.listRequestRecords({ limit: 10, tenantId: "t' OR '1'='1" }), [r]);
        assert.deepEqual(await store.listRequestRecords({ limit: 10, tenantId: "x' OR '1'='1" }), []);
      });

      it('rejects a limit outside 1..10000 and unparseable times', async () => {
        await assert.rejects(store.listRequestRecords({ limit: 0 }));
        await assert.rejects(store.listRequestRecords({ limit: 10_001 }));
        await assert.rejects(store.listRequestRecords({ limit: 1.5 }));
        await assert.rejects(store.listRequestRecords({ limit: 10, since: 'yesterday' }));
        await assert.rejects(store.insertRequestRecord(rec({ time: 'not a time' })));
      });

      it('keeps every record of a burst of concurrent inserts', async () => {
        const burst = Array.from({ length: 1000 }, (_, i) => rec({ time: at(i), tenantId: 'burst' }));
        await Promise.all(burst.map((r) => store.insertRequestRecord(r)));
        const listed = await store.listRequestRecords({ limit: 10_000, tenantId: 'burst' });
        assert.equal(listed.length, 1000);
        assert.deepEqual(listed[0], burst[999]);
      });
    });

    describe('api keys', () => {
      it('inserts, gets, finds by hash and lists by tenant in creation order', async () => {
        const k1 = key({ tenantId: 't1', createdAt: at(2), allowedModels: [] });
        const k2 = key({ tenantId: 't1', createdAt: at(1), expiresAt: at(60), allowedModels: ['a', 'b'] });
        const k3 = key({ tenantId: 't2', createdAt: at(3) });
        for (const k of [k1, k2, k3]) await store.insertApiKey(k);
        assert.deepEqual(await store.getApiKey(k2.id), k2);
        assert.deepEqual(await store.findApiKeyByHash(k1.hash), k1);
        assert.equal(await store.getApiKey('missing'), undefined);
        assert.equal(await store.findApiKeyByHash('0'.repeat(64)), undefined);
        assert.deepEqual(await store.listApiKeys({ tenantId: 't1' }), [k2, k1]);
        assert.deepEqual(await store.listApiKeys({}), [k2, k1, k3]);
        assert.deepEqual(await store.listApiKeys({ tenantId: 'none' }), []);
      });

      it('refuses a duplicate hash or id with StoreConflictError and keeps the original', async () => {
        const original = key();
        await store.insertApiKey(original);
        await assert.rejects(store.insertApiKey(key({ hash: original.hash })), StoreConflictError);
        await assert.rejects(store.insertApiKey(key({ id: original.id })), StoreConflictError);
        assert.deepEqual(await store.listApiKeys({}), [original]);
      });

      it('revokes once and keeps the first revocation time', async () => {
        const k = key();
        await store.insertApiKey(k);
        assert.equal(await store.revokeApiKey(k.id, at(5)), true);
        assert.equal(await store.revokeApiKey(k.id, at(9)), false);
        assert.equal((await store.getApiKey(k.id))?.revokedAt, at(5));
        assert.equal((await store.findApiKeyByHash(k.hash))?.revokedAt, at(5));
        assert.equal(await store.revokeApiKey('missing', at(5)), false);
      });

      it('records last use, never moving it backwards', async () => {
        const k = key();
        await store.insertApiKey(k);
        await store.touchApiKey(k.id, at(10));
        assert.equal((await store.getApiKey(k.id))?.lastUsedAt, at(10));
        await store.touchApiKey(k.id, at(20));
        await store.touchApiKey(k.id, at(15));
        assert.equal((await store.getApiKey(k.id))?.lastUsedAt, at(20));
        await store.touchApiKey('missing', at(1));
      });

      it('round-trips unicode labels and model names exactly', async () => {
        const k = key({
          label: 'Équipe données 🚀 — 数据 عربى \u200d',
          allowedModels: ['mödel/ü', 'モデル', 'a"b\'c'],
        });
        await store.insertApiKey(k);
        assert.deepEqual(await store.getApiKey(k.id), k);
      });

      it('round-trips key policy: IP allowlist, endpoint scope, read-only flag, rotation link', async () => {
        const k = key({
          ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'],
          allowedEndpoints: ['chat', 'models'],
          readOnly: true,
          rotatedFrom: 'key_old',
        });
        await store.insertApiKey(k);
        assert.deepEqual(await store.getApiKey(k.id), k);
        assert.deepEqual(await store.findApiKeyByHash(k.hash), k);
        const open = key({ allowedEndpoints: [] });
        await store.insertApiKey(open);
        assert.deepEqual((await store.getApiKey(open.id))?.allowedEndpoints, []);
      });

      it('round-trips a key bound to a client certificate, and leaves the binding out of unbound keys', async () => {
        const fp = Array.from({ length: 32 }, (_, i) => (i + 160).toString(16).toUpperCase()).join(':');
        const bound = key({ clientCertSha256: fp });
        await store.insertApiKey(bound);
        assert.deepEqual(await store.getApiKey(bound.id), bound);
        assert.deepEqual(await store.findApiKeyByHash(bound.hash), bound);
        const unbound = key();
        await store.insertApiKey(unbound);
        assert.equal('clientCertSha256' in (await store.getApiKey(unbound.id))!, false);
        const next = key({ rotatedFrom: bound.id, clientCertSha256: fp });
        assert.equal(await store.rotateApiKey({ oldId: bound.id, oldExpiresAt: at(60), replacement: next }), true);
        assert.equal((await store.getApiKey(next.id))?.clientCertSha256, fp);
      });

      it('fills in the policy defaults for a record that leaves them out', async () => {
        const { ipAllowlist: _a, allowedEndpoints: _b, readOnly: _c, rotatedFrom: _d, ...bare } = key();
        await store.insertApiKey(bare);
        const got = await store.getApiKey(bare.id);
        assert.deepEqual(
          [got?.ipAllowlist, got?.allowedEndpoints, got?.readOnly, got?.rotatedFrom],
          [[], null, false, null],
        );
      });

      it('rotates atomically: the replacement is inserted and the old key expires at the grace end', async () => {
        const old = key({ expiresAt: at(600) });
        await store.insertApiKey(old);
        const next = key({ rotatedFrom: old.id, ipAllowlist: ['192.0.2.0/24'] });
        assert.equal(await store.rotateApiKey({ oldId: old.id, oldExpiresAt: at(60), replacement: next }), true);
        assert.equal((await store.getApiKey(old.id))?.expiresAt, at(60));
        assert.deepEqual(await store.getApiKey(next.id), next);
      });

      it('rotation never extends the old key past its own expiry', async () => {
        const old = key({ expiresAt: at(30) });
        await store.insertApiKey(old);
        assert.equal(await store.rotateApiKey({ oldId: old.id, oldExpiresAt: at(60), replacement: key() }), true);
        assert.equal((await store.getApiKey(old.id))?.expiresAt, at(30));
      });

      it('refuses to rotate a missing or revoked key and writes nothing', async () => {
        const revoked = key();
        await store.insertApiKey(revoked);
        await store.revokeApiKey(revoked.id, at(1));
        const next = key();
        assert.equal(await store.rotateApiKey({ oldId: revoked.id, oldExpiresAt: at(60), replacement: next }), false);
        assert.equal(await store.rotateApiKey({ oldId: 'missing', oldExpiresAt: at(60), replacement: next }), false);
        assert.equal(await store.getApiKey(next.id), undefined);
        assert.equal((await store.getApiKey(revoked.id))?.expiresAt, null);
      });

      it('rolls a rotation back when the replacement conflicts, leaving the old key untouched', async () => {
        const old = key();
        await store.insertApiKey(old);
        await assert.rejects(
          store.rotateApiKey({ oldId: old.id, oldExpiresAt: at(60), replacement: key({ hash: old.hash }) }),
          StoreConflictError,
        );
        assert.deepEqual(await store.getApiKey(old.id), old);
      });
    });
  });
  // Encryption at rest (data keys, payload log): same backend, same fresh store per case.
  runEncryptionStoreContract(name, async () => {
    const h = await makeStore();
    return { store: h.store, cleanup: h.cleanup };
  });
}
