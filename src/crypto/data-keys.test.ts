import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCryptoError } from './crypto-error.ts';
import { createDataKeys, GCM_RANDOM_IV_LIMIT } from './data-keys.ts';
import { createEnvelope } from './envelope.ts';
import { createMemoryDataKeyRepository } from './memory-data-key-repository.ts';
import { cell, harness, randomKek, recordingKek } from './test-fixtures.ts';

describe('data keys', () => {
  it('stores data keys only wrapped: no stored byte sequence contains a data key', async () => {
    const seen: Buffer[] = [];
    const h = harness({ kek: recordingKek(randomKek(), seen) });
    for (const t of ['a', 'b', 'c']) await h.envelope.encrypt(cell('r', t), 'v');
    await h.dataKeys.rotate('a');
    assert.equal(seen.length, 4);
    const stored = h.repo.snapshot().keys;
    assert.equal(stored.length, 4);
    for (const k of stored) {
      assert.equal(k.kekId, h.kek.id);
      for (const dek of seen) assert.equal(k.wrapped.indexOf(dek), -1);
    }
  });

  it('rotates the tenant to a new data key once maxEncryptionsPerKey is reached; old data still decrypts', async () => {
    const h = harness({ maxEncryptionsPerKey: 5, reservationBlock: 2 });
    const cts: Buffer[] = [];
    for (let i = 0; i < 12; i++) cts.push(await h.envelope.encrypt(cell(`r${i}`), `v${i}`));
    const ids = cts.map((c) => h.envelope.dataKeyIdOf(c));
    assert.equal(new Set(ids.slice(0, 5)).size, 1);
    assert.notEqual(ids[5], ids[4]);
    assert.equal(new Set(ids.slice(5, 10)).size, 1);
    assert.notEqual(ids[10], ids[9]);
    assert.equal((await h.repo.getCurrent('t1'))?.version, 3);
    for (let i = 0; i < 12; i++) assert.equal((await h.envelope.decrypt(cell(`r${i}`), cts[i]!)).toString(), `v${i}`);
  });

  it('never exceeds the per-key limit across instances and restarts (the count lives in the repository)', async () => {
    const repo = createMemoryDataKeyRepository();
    const kek = randomKek();
    const perKey = new Map<string, number>();
    for (let instance = 0; instance < 4; instance++) {
      // each "instance" is a fresh process over the same repository
      const env = createEnvelope({
        dataKeys: createDataKeys({ repository: repo, kek, maxEncryptionsPerKey: 10, reservationBlock: 3 }),
      });
      for (let i = 0; i < 7; i++) {
        const id = env.dataKeyIdOf(await env.encrypt(cell(`r${instance}-${i}`), 'v'));
        perKey.set(id, (perKey.get(id) ?? 0) + 1);
      }
    }
    for (const [id, n] of perKey) assert.ok(n <= 10, `key ${id} used ${n} times`);
    for (const k of repo.snapshot().keys) assert.ok(k.encryptions >= (perKey.get(k.id) ?? 0));
  });

  it('concurrent first encryptions of a tenant agree on one data key', async () => {
    const repo = createMemoryDataKeyRepository();
    const kek = randomKek();
    const a = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek }) });
    const b = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek }) });
    const cts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).encrypt(cell(`r${i}`), `v${i}`)),
    );
    assert.equal(new Set(cts.map((c) => a.dataKeyIdOf(c))).size, 1);
    assert.equal(repo.snapshot().keys.length, 1);
    for (let i = 0; i < 40; i++)
      assert.equal((await (i % 3 ? a : b).decrypt(cell(`r${i}`), cts[i]!)).toString(), `v${i}`);
  });

  it('rotate() makes a new current key; encryptions move to it at once in this process', async () => {
    const h = harness();
    const before = await h.envelope.encrypt(cell('r1'), 'old');
    const rotated = await h.dataKeys.rotate('t1');
    assert.equal(rotated.version, 2);
    const after = await h.envelope.encrypt(cell('r2'), 'new');
    assert.equal(h.envelope.dataKeyIdOf(after), rotated.id);
    assert.equal(await h.envelope.isCurrent('t1', before), false);
    assert.equal(await h.envelope.isCurrent('t1', after), true);
    assert.equal((await h.envelope.decrypt(cell('r1'), before)).toString(), 'old');
  });

  it('verifyKeks reports a finished rotation: the previous KEK wraps nothing any more', async () => {
    const h = harness();
    await h.envelope.encrypt(cell('r1'), 'v');
    const old = randomKek();
    const check = await createDataKeys({ repository: h.repo, kek: h.kek, previousKeks: [old] }).verifyKeks();
    assert.deepEqual(check, { inUse: [h.kek.id], retired: [old.id] });
  });

  it('refuses bad options when built, not on first use', () => {
    const base = { repository: createMemoryDataKeyRepository(), kek: randomKek() };
    for (const bad of [
      { maxEncryptionsPerKey: 0 },
      { maxEncryptionsPerKey: GCM_RANDOM_IV_LIMIT + 1 },
      { maxEncryptionsPerKey: 1.5 },
      { reservationBlock: 0 },
      { maxEncryptionsPerKey: 10, reservationBlock: 11 },
      { cache: { maxEntries: 0 } },
    ]) {
      assert.throws(
        () => createDataKeys({ ...base, ...bad }),
        (e) => isCryptoError(e, 'bad_key'),
        JSON.stringify(bad),
      );
    }
  });

  it('close() wipes the cache; keys are unwrapped again on next use', async () => {
    let unwraps = 0;
    const kek = randomKek();
    const counting = {
      id: kek.id,
      wrap: kek.wrap,
      unwrap: (w: Buffer, a: Buffer) => {
        unwraps++;
        return kek.unwrap(w, a);
      },
    };
    const h = harness({ kek: counting });
    const ct = await h.envelope.encrypt(cell('r1'), 'v');
    await h.envelope.decrypt(cell('r1'), ct);
    assert.equal(unwraps, 1);
    h.dataKeys.close();
    await h.envelope.decrypt(cell('r1'), ct);
    assert.equal(unwraps, 2);
  });
});
