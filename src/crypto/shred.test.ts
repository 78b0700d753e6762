import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCryptoError } from './crypto-error.ts';
import { createDataKeys } from './data-keys.ts';
import { createEnvelope } from './envelope.ts';
import { createMemoryDataKeyRepository } from './memory-data-key-repository.ts';
import { rotateMasterKey } from './rotation.ts';
import { shredTenant } from './shred.ts';
import { cell, harness, randomKek } from './test-fixtures.ts';

describe('crypto-shredding', () => {
  it('destroys every data key of the tenant: all its ciphertexts, of every key version, become unreadable', async () => {
    const h = harness({ maxEncryptionsPerKey: 3, reservationBlock: 1 });
    const doomed = await Promise.all(
      Array.from({ length: 8 }, (_, i) => h.envelope.encrypt(cell(`r${i}`, 'gone'), `v${i}`)),
    );
    const kept = await h.envelope.encrypt(cell('r1', 'stays'), 'kept');
    assert.ok(new Set(doomed.map((c) => h.envelope.dataKeyIdOf(c))).size >= 3, 'several key versions');

    const result = await shredTenant(h.dataKeys, 'gone');
    assert.ok(result.keysDestroyed >= 3);
    for (let i = 0; i < doomed.length; i++) {
      await assert.rejects(
        h.envelope.decrypt(cell(`r${i}`, 'gone'), doomed[i]!),
        (e) => isCryptoError(e, 'shredded') && /crypto-shredded/.test(e.message),
      );
    }
    assert.equal((await h.envelope.decrypt(cell('r1', 'stays'), kept)).toString(), 'kept');
    assert.ok(h.repo.snapshot().keys.every((k) => k.tenantId !== 'gone'));
  });

  it('a copy of the ciphertext taken before the shred (a data backup) cannot be read afterwards', async () => {
    const h = harness();
    const ct = await h.envelope.encrypt(cell('r1', 'gone'), 'payload log body');
    const backupOfData = Buffer.from(ct);
    await shredTenant(h.dataKeys, 'gone');
    await assert.rejects(h.envelope.decrypt(cell('r1', 'gone'), backupOfData), (e) => isCryptoError(e, 'shredded'));
    // a fresh process over the live repository (empty cache) agrees
    const restarted = createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: h.kek }) });
    await assert.rejects(restarted.decrypt(cell('r1', 'gone'), backupOfData), (e) => isCryptoError(e, 'shredded'));
  });

  it('shredding again, or encrypting for the tenant afterwards, does not resurrect old data', async () => {
    const h = harness();
    const ct = await h.envelope.encrypt(cell('r1', 'gone'), 'old');
    await shredTenant(h.dataKeys, 'gone');
    assert.equal((await shredTenant(h.dataKeys, 'gone')).keysDestroyed, 0);
    const fresh = await h.envelope.encrypt(cell('r2', 'gone'), 'new');
    assert.notEqual(h.envelope.dataKeyIdOf(fresh), h.envelope.dataKeyIdOf(ct));
    await assert.rejects(h.envelope.decrypt(cell('r1', 'gone'), ct), (e) => isCryptoError(e, 'shredded'));
  });

  it('without a tenant key vault (honest limit), a backup of the key repository restores readability while the KEK that wrapped it exists (see vault/sealed-data-keys.test.ts for the vault)', async () => {
    const h = harness();
    const ct = await h.envelope.encrypt(cell('r1', 'gone'), 'recoverable');
    const keyBackup = h.repo.snapshot();
    await shredTenant(h.dataKeys, 'gone');
    const restored = createEnvelope({
      dataKeys: createDataKeys({ repository: createMemoryDataKeyRepository(keyBackup), kek: h.kek }),
    });
    assert.equal((await restored.decrypt(cell('r1', 'gone'), ct)).toString(), 'recoverable');
  });

  it('rotating the KEK after the shred and destroying the old one makes an older key-repository backup useless', async () => {
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek });
    const goneCt = await h.envelope.encrypt(cell('r1', 'gone'), 'must be unrecoverable');
    const keptCt = await h.envelope.encrypt(cell('r1', 'stays'), 'still needed');
    const keyBackup = h.repo.snapshot(); // taken before the shred, with the tenant's wrapped key
    const dataBackup = Buffer.from(goneCt);

    await shredTenant(h.dataKeys, 'gone');
    const newKek = randomKek('new');
    assert.equal((await rotateMasterKey(h.repo, oldKek, newKek)).remaining, 0);
    oldKek.destroy();

    // the live system keeps working with the new KEK alone
    const live = createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: newKek }) });
    assert.equal((await live.decrypt(cell('r1', 'stays'), keptCt)).toString(), 'still needed');
    // the old backup is wrapped by a KEK that no longer exists: refused by id, before any unwrap
    const fromBackup = createDataKeys({ repository: createMemoryDataKeyRepository(keyBackup), kek: newKek });
    await assert.rejects(fromBackup.verifyKeks(), (e) => isCryptoError(e, 'wrong_kek'));
    await assert.rejects(createEnvelope({ dataKeys: fromBackup }).decrypt(cell('r1', 'gone'), dataBackup), (e) =>
      isCryptoError(e, 'wrong_kek'),
    );
    // and even handing it the destroyed KEK object does not help
    const withDestroyed = createEnvelope({
      dataKeys: createDataKeys({ repository: createMemoryDataKeyRepository(keyBackup), kek: oldKek }),
    });
    await assert.rejects(
      withDestroyed.decrypt(cell('r1', 'gone'), dataBackup),
      (e) => isCryptoError(e, 'bad_key') && /destroyed/.test(e.message),
    );
  });

  it('forgets the cached key at once in this process', async () => {
    const h = harness({ cache: { ttlMs: 60_000 } });
    const ct = await h.envelope.encrypt(cell('r1', 'gone'), 'v');
    await h.envelope.decrypt(cell('r1', 'gone'), ct); // cached now
    await shredTenant(h.dataKeys, 'gone');
    await assert.rejects(h.envelope.decrypt(cell('r1', 'gone'), ct), (e) => isCryptoError(e, 'shredded'));
  });
});

describe('crypto-shredding across instances', () => {
  it('an instance still holding a reservation on a key shredded elsewhere moves to a new key once its cache entry is gone', async () => {
    const repo = createMemoryDataKeyRepository();
    const kek = randomKek();
    // ttlMs 0: as if the cache entry had expired (or the instance received the invalidation and called forgetTenant)
    const a = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek, cache: { ttlMs: 0 } }) });
    const b = createDataKeys({ repository: repo, kek });
    const before = await a.encrypt(cell('r1', 'recycled'), 'old');
    await shredTenant(b, 'recycled');
    const after = await a.encrypt(cell('r2', 'recycled'), 'new');
    assert.notEqual(a.dataKeyIdOf(after), a.dataKeyIdOf(before));
    assert.equal((await a.decrypt(cell('r2', 'recycled'), after)).toString(), 'new');
    await assert.rejects(a.decrypt(cell('r1', 'recycled'), before), (e) => isCryptoError(e, 'shredded'));
  });

  it('forgetTenant (the invalidation another instance receives) drops its cached keys at once', async () => {
    const repo = createMemoryDataKeyRepository();
    const kek = randomKek();
    const aKeys = createDataKeys({ repository: repo, kek, cache: { ttlMs: 60_000 } });
    const a = createEnvelope({ dataKeys: aKeys });
    const ct = await a.encrypt(cell('r1', 'gone'), 'v');
    await shredTenant(createDataKeys({ repository: repo, kek }), 'gone');
    assert.equal((await a.decrypt(cell('r1', 'gone'), ct)).toString(), 'v', 'documented window: still cached here');
    aKeys.forgetTenant('gone');
    await assert.rejects(a.decrypt(cell('r1', 'gone'), ct), (e) => isCryptoError(e, 'shredded'));
  });
});
