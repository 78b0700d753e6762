import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDataKeyRepositoryContract, sampleDataKey } from './data-key-repository-contract.ts';
import { createMemoryDataKeyRepository } from './memory-data-key-repository.ts';

runDataKeyRepositoryContract('memory', async () => ({
  repo: createMemoryDataKeyRepository(),
  cleanup: async () => {},
}));

describe('memory repository snapshots', () => {
  it('a snapshot is a deep copy: later changes do not reach it, and it restores', async () => {
    const repo = createMemoryDataKeyRepository();
    const k = sampleDataKey();
    await repo.insert(k);
    const snap = repo.snapshot();
    await repo.deleteAllForTenant('t1', new Date());
    const restored = createMemoryDataKeyRepository(snap);
    assert.deepEqual(await restored.getById(k.id), k);
    assert.equal(await repo.getById(k.id), undefined);
  });
});
