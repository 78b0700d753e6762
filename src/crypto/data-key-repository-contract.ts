/**
 * The behaviour every DataKeyRepository must have. A backend's test file calls
 * `runDataKeyRepositoryContract('sqlite', makeRepo)`; makeRepo gives an empty repository
 * and a cleanup.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DataKeyRepository, StoredDataKey } from './data-key-repository.ts';

export interface RepositoryUnderTest {
  readonly repo: DataKeyRepository;
  readonly cleanup: () => Promise<void>;
}

export function sampleDataKey(over: Partial<StoredDataKey> = {}): StoredDataKey {
  return {
    id: randomBytes(16).toString('hex'),
    tenantId: 't1',
    version: 1,
    kekId: 'aaaaaaaaaaaaaaaa',
    wrapped: randomBytes(61),
    createdAt: new Date('2025-01-01T00:00:00.000Z'),
    encryptions: 0,
    ...over,
  };
}

export function runDataKeyRepositoryContract(name: string, make: () => Promise<RepositoryUnderTest>): void {
  describe(`DataKeyRepository contract: ${name}`, () => {
    let h: RepositoryUnderTest;
    let repo: DataKeyRepository;
    beforeEach(async () => {
      h = await make();
      repo = h.repo;
    });
    afterEach(async () => h.cleanup());

    it('stores a key and returns it by id, with every field intact', async () => {
      const k = sampleDataKey({ encryptions: 7 });
      assert.equal(await repo.insert(k), true);
      assert.deepEqual(await repo.getById(k.id), k);
      assert.equal(await repo.getById(sampleDataKey().id), undefined);
    });

    it('the current key is the highest version; a second key of the same version is refused', async () => {
      const v1 = sampleDataKey();
      const v2 = sampleDataKey({ version: 2 });
      await repo.insert(v1);
      await repo.insert(v2);
      assert.equal((await repo.getCurrent('t1'))?.id, v2.id);
      assert.equal(await repo.insert(sampleDataKey({ version: 2 })), false);
      assert.equal((await repo.getCurrent('t1'))?.id, v2.id);
      assert.equal(await repo.getCurrent('t2'), undefined);
      assert.equal(await repo.insert(sampleDataKey({ tenantId: 't2', version: 2 })), true);
    });

    it('replaces a wrapping only while the expected KEK still wraps it', async () => {
      const k = sampleDataKey({ kekId: 'old' });
      await repo.insert(k);
      const w = randomBytes(61);
      assert.equal(await repo.replaceWrapping(k.id, 'other', 'new', w), false);
      assert.equal(await repo.replaceWrapping(k.id, 'old', 'new', w), true);
      assert.equal(await repo.replaceWrapping(k.id, 'old', 'new', randomBytes(61)), false);
      const got = await repo.getById(k.id);
      assert.equal(got?.kekId, 'new');
      assert.deepEqual(got?.wrapped, w);
      assert.equal(got?.version, k.version);
      assert.equal(await repo.replaceWrapping(sampleDataKey().id, 'old', 'new', w), false);
    });

    it('lists keys by KEK in id order, page by page, and names the KEKs in use', async () => {
      const under = await Promise.all(
        Array.from({ length: 7 }, async (_, i) => {
          const k = sampleDataKey({ tenantId: `t${i}`, kekId: 'k1' });
          await repo.insert(k);
          return k.id;
        }),
      );
      await repo.insert(sampleDataKey({ tenantId: 'x', kekId: 'k2' }));
      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await repo.listByKekId('k1', afterId === undefined ? { limit: 3 } : { afterId, limit: 3 });
        if (page.length === 0) break;
        assert.ok(page.length <= 3);
        seen.push(...page.map((k) => k.id));
        afterId = page[page.length - 1]!.id;
      }
      assert.deepEqual(seen, [...under].sort());
      assert.deepEqual((await repo.kekIdsInUse()).sort(), ['k1', 'k2']);
    });

    it('counts reserved encryptions atomically', async () => {
      const k = sampleDataKey();
      await repo.insert(k);
      const totals = await Promise.all(Array.from({ length: 20 }, () => repo.reserveEncryptions(k.id, 5)));
      assert.deepEqual(
        [...totals].sort((a, b) => a! - b!),
        Array.from({ length: 20 }, (_, i) => (i + 1) * 5),
      );
      assert.equal((await repo.getById(k.id))?.encryptions, 100);
      assert.equal(await repo.reserveEncryptions(sampleDataKey().id, 1), undefined);
    });

    it('deletes all keys of a tenant, leaving tombstones without key material, and nothing of other tenants', async () => {
      const a1 = sampleDataKey();
      const a2 = sampleDataKey({ version: 2 });
      const b = sampleDataKey({ tenantId: 't2' });
      for (const k of [a1, a2, b]) await repo.insert(k);
      const at = new Date('2025-02-03T04:05:06.000Z');
      assert.equal(await repo.deleteAllForTenant('t1', at), 2);
      assert.equal(await repo.getById(a1.id), undefined);
      assert.equal(await repo.getCurrent('t1'), undefined);
      assert.deepEqual(await repo.getTombstone(a2.id), { id: a2.id, tenantId: 't1', shreddedAt: at });
      assert.equal(await repo.getTombstone(b.id), undefined);
      assert.equal((await repo.getById(b.id))?.id, b.id);
      assert.equal(await repo.deleteAllForTenant('t1', at), 0);
      assert.equal(await repo.insert({ ...a1, version: 5 }), false, 'a shredded key id is never reused');
    });
  });
}
