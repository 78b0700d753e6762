/**
 * The encryption-at-rest part of the Store contract: every backend's `dataKeys` passes the
 * crypto layer's DataKeyRepository contract, and its `payloadLog` the behaviour below.
 * Called from runStoreContract, so both backends run it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runDataKeyRepositoryContract } from '../crypto/data-key-repository-contract.ts';
import type { PayloadLogRecord } from './encryption-records.ts';
import { type Store, StoreConflictError } from './store.ts';

export interface EncryptionStoreUnderTest {
  readonly store: Store;
  readonly cleanup: () => Promise<void>;
}

export function samplePayload(over: Partial<PayloadLogRecord> = {}): PayloadLogRecord {
  return {
    requestId: `req_${randomBytes(8).toString('hex')}`,
    tenantId: 't1',
    createdAt: '2025-01-01T00:00:00.000Z',
    ciphertext: randomBytes(80),
    ...over,
  };
}

export function runEncryptionStoreContract(name: string, make: () => Promise<EncryptionStoreUnderTest>): void {
  runDataKeyRepositoryContract(`${name} store`, async () => {
    const h = await make();
    await h.store.init();
    return {
      repo: h.store.dataKeys,
      cleanup: async () => {
        await h.store.close();
        await h.cleanup();
      },
    };
  });

  describe(`payload log contract: ${name}`, () => {
    let h: EncryptionStoreUnderTest;
    beforeEach(async () => {
      h = await make();
      await h.store.init();
    });
    afterEach(async () => {
      await h.store.close();
      await h.cleanup();
    });

    it('stores a payload and returns it by request id, bytes intact; a second one for the id is a conflict', async () => {
      const p = samplePayload();
      await h.store.payloadLog.insert(p);
      assert.deepEqual(await h.store.payloadLog.get(p.requestId), p);
      assert.equal(await h.store.payloadLog.get('req_missing'), undefined);
      await assert.rejects(h.store.payloadLog.insert({ ...p, ciphertext: randomBytes(10) }), StoreConflictError);
      assert.deepEqual((await h.store.payloadLog.get(p.requestId))?.ciphertext, p.ciphertext);
    });

    it('deletes only rows older than the cutoff, at most `limit` at a time', async () => {
      const old = [1, 2, 3].map((d) => samplePayload({ createdAt: `2025-01-0${d}T00:00:00.000Z` }));
      const fresh = samplePayload({ createdAt: '2025-02-01T00:00:00.000Z' });
      for (const p of [...old, fresh]) await h.store.payloadLog.insert(p);
      assert.equal(await h.store.payloadLog.deleteOlderThan('2025-01-15T00:00:00.000Z', 2), 2);
      assert.equal(await h.store.payloadLog.deleteOlderThan('2025-01-15T00:00:00.000Z', 100), 1);
      assert.equal(await h.store.payloadLog.deleteOlderThan('2025-01-15T00:00:00.000Z', 100), 0);
      for (const p of old) assert.equal(await h.store.payloadLog.get(p.requestId), undefined);
      assert.deepEqual(await h.store.payloadLog.get(fresh.requestId), fresh);
    });

    it("lists one tenant's rows in request-id order, page by page", async () => {
      const mine = Array.from({ length: 5 }, () => samplePayload());
      for (const p of [...mine, samplePayload({ tenantId: 't2' })]) await h.store.payloadLog.insert(p);
      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await h.store.payloadLog.listByTenant(
          't1',
          afterId === undefined ? { limit: 2 } : { afterId, limit: 2 },
        );
        if (page.length === 0) break;
        assert.ok(page.every((p) => p.tenantId === 't1'));
        seen.push(...page.map((p) => p.requestId));
        afterId = page[page.length - 1]!.requestId;
      }
      assert.deepEqual(seen, mine.map((p) => p.requestId).sort());
      assert.equal(await h.store.payloadLog.countByTenant('t1'), 5);
      assert.equal(await h.store.payloadLog.countByTenant('t2'), 1);
      assert.equal(await h.store.payloadLog.countByTenant('nobody'), 0);
    });

    it('replaces a ciphertext only while it is still the expected one', async () => {
      const p = samplePayload();
      await h.store.payloadLog.insert(p);
      const next = randomBytes(90);
      assert.equal(await h.store.payloadLog.replaceCiphertext(p.requestId, randomBytes(80), next), false);
      assert.equal(await h.store.payloadLog.replaceCiphertext(p.requestId, p.ciphertext, next), true);
      assert.equal(await h.store.payloadLog.replaceCiphertext(p.requestId, p.ciphertext, randomBytes(5)), false);
      assert.deepEqual((await h.store.payloadLog.get(p.requestId))?.ciphertext, next);
    });
  });
}
