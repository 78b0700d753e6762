import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCryptoError } from './crypto-error.ts';
import { createDataKeys } from './data-keys.ts';
import { createEnvelope, type Envelope } from './envelope.ts';
import type { Binding } from './envelope-format.ts';
import { type EncryptedItem, type MasterKeyProgress, reencrypt, rotateDataKey, rotateMasterKey } from './rotation.ts';
import { cell, failingAfter, harness, randomKek } from './test-fixtures.ts';

interface Row {
  binding: Binding;
  ciphertext: Buffer;
  plaintext: string;
}

async function seed(envelope: Envelope, tenants: number, rowsPerTenant: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (let t = 0; t < tenants; t++) {
    for (let r = 0; r < rowsPerTenant; r++) {
      const binding = cell(`row-${r}`, `tenant-${t}`);
      const plaintext = `secret ${t}/${r}`;
      rows.push({ binding, plaintext, ciphertext: await envelope.encrypt(binding, plaintext) });
    }
  }
  return rows;
}

async function assertAllDecrypt(envelope: Envelope, rows: readonly Row[]): Promise<void> {
  for (const row of rows) assert.equal((await envelope.decrypt(row.binding, row.ciphertext)).toString(), row.plaintext);
}

describe('master key rotation', () => {
  it('re-wraps every data key; afterwards the new KEK alone decrypts everything and the old one can be destroyed', async () => {
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek });
    const rows = await seed(h.envelope, 25, 2);
    const newKek = randomKek('new');
    const progress: MasterKeyProgress[] = [];
    const result = await rotateMasterKey(h.repo, oldKek, newKek, {
      batchSize: 10,
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(result, { rewrapped: 25, skipped: 0, total: 25, remaining: 0 });
    assert.deepEqual(
      progress.map((p) => p.rewrapped),
      [10, 20, 25],
    );
    assert.ok(h.repo.snapshot().keys.every((k) => k.kekId === newKek.id));

    oldKek.destroy();
    const onlyNew = createDataKeys({ repository: h.repo, kek: newKek });
    assert.deepEqual(await onlyNew.verifyKeks(), { inUse: [newKek.id], retired: [] });
    await assertAllDecrypt(createEnvelope({ dataKeys: onlyNew }), rows);
  });

  it('interrupted half-way, a rerun completes it with nothing lost; both KEKs read in between', async () => {
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek });
    const rows = await seed(h.envelope, 30, 1);
    const newKek = randomKek('new');

    await assert.rejects(
      rotateMasterKey(h.repo, oldKek, failingAfter(newKek, 12), { batchSize: 5 }),
      /injected failure/,
    );
    const kekIds = h.repo.snapshot().keys.map((k) => k.kekId);
    assert.equal(kekIds.filter((id) => id === newKek.id).length, 12);
    assert.equal(kekIds.filter((id) => id === oldKek.id).length, 18);

    // a gateway configured for the rotation (new current, old accepted) reads everything mid-way
    const during = createEnvelope({
      dataKeys: createDataKeys({ repository: h.repo, kek: newKek, previousKeks: [oldKek] }),
    });
    await assertAllDecrypt(during, rows);
    // one configured with only the new KEK is told exactly what is missing
    const onlyNew = createDataKeys({ repository: h.repo, kek: newKek });
    await assert.rejects(
      onlyNew.verifyKeks(),
      (e) =>
        isCryptoError(e, 'wrong_kek') &&
        e.message.includes(`wrapped by KEK ${oldKek.id}, the configured KEK is ${newKek.id}`),
    );

    const rerun = await rotateMasterKey(h.repo, oldKek, newKek, { batchSize: 5 });
    assert.deepEqual(rerun, { rewrapped: 18, skipped: 0, total: 18, remaining: 0 });
    const again = await rotateMasterKey(h.repo, oldKek, newKek, { batchSize: 5 });
    assert.deepEqual(again, { rewrapped: 0, skipped: 0, total: 0, remaining: 0 }, 'a third run has nothing to do');

    oldKek.destroy();
    await assertAllDecrypt(createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: newKek }) }), rows);
  });

  it('runs online: encryptions and decryptions during the rotation all succeed and stay readable', async () => {
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek });
    const rows = await seed(h.envelope, 40, 1);
    const newKek = randomKek('new');
    const live = createEnvelope({
      dataKeys: createDataKeys({ repository: h.repo, kek: newKek, previousKeks: [oldKek], cache: { ttlMs: 0 } }),
    });
    const written: Row[] = [];
    const traffic = (async () => {
      for (let i = 0; i < 60; i++) {
        const binding = cell(`live-${i}`, `tenant-${i % 50}`); // some existing tenants, some new ones
        written.push({ binding, plaintext: `live ${i}`, ciphertext: await live.encrypt(binding, `live ${i}`) });
        await live.decrypt(rows[i % rows.length]!.binding, rows[i % rows.length]!.ciphertext);
      }
    })();
    const writtenAtProgress: number[] = [];
    const rotation = rotateMasterKey(h.repo, oldKek, newKek, {
      batchSize: 3,
      onProgress: () => writtenAtProgress.push(written.length),
    });
    const [result] = await Promise.all([rotation, traffic]);
    assert.equal(result.remaining, 0);
    assert.ok(
      writtenAtProgress.some((n) => n > 0 && n < 60),
      `traffic interleaved with the rotation: ${writtenAtProgress.join(',')}`,
    );
    oldKek.destroy();
    await assertAllDecrypt(createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: newKek }) }), [
      ...rows,
      ...written,
    ]);
  });

  it('catches keys that an instance still on the old KEK creates during the run (extra passes)', async () => {
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek });
    await seed(h.envelope, 6, 1);
    const newKek = randomKek('new');
    const straggler = createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: oldKek }) });
    let listCalls = 0;
    const repo = {
      ...h.repo,
      async listByKekId(kekId: string, page: { afterId?: string; limit: number }) {
        if (++listCalls === 3) for (let i = 0; i < 8; i++) await straggler.encrypt(cell('r', `late-${i}`), 'late');
        return h.repo.listByKekId(kekId, page);
      },
    };
    const result = await rotateMasterKey(repo, oldKek, newKek, { batchSize: 2 });
    assert.equal(result.remaining, 0);
    assert.equal(result.rewrapped, 14);
    assert.ok(h.repo.snapshot().keys.every((k) => k.kekId === newKek.id));
  });

  it('stops with the failing key named when a data key cannot be unwrapped', async () => {
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek });
    await seed(h.envelope, 3, 1);
    const victim = (await h.repo.getCurrent('tenant-1'))!;
    const garbled = Buffer.from(victim.wrapped);
    garbled[20]! ^= 1;
    await h.repo.replaceWrapping(victim.id, oldKek.id, oldKek.id, garbled);
    await assert.rejects(
      rotateMasterKey(h.repo, oldKek, randomKek('new')),
      (e) => isCryptoError(e, 'tampered') && e.message.includes(`data key ${victim.id} of tenant tenant-1`),
    );
  });

  it('refuses rotating to the same KEK and bad batch sizes', async () => {
    const h = harness();
    await assert.rejects(rotateMasterKey(h.repo, h.kek, h.kek), (e) => isCryptoError(e, 'bad_key'));
    await assert.rejects(rotateMasterKey(h.repo, h.kek, randomKek(), { batchSize: 0 }), (e) =>
      isCryptoError(e, 'bad_key'),
    );
  });
});

describe('data key rotation and re-encryption', () => {
  it('re-encrypts rows to the current key in batches with progress; a rerun has nothing left to do', async () => {
    const h = harness();
    const rows = await seed(h.envelope, 3, 4);
    const newIds = new Map<string, string>();
    for (let t = 0; t < 3; t++) newIds.set(`tenant-${t}`, await rotateDataKey(h.dataKeys, `tenant-${t}`));
    const table = new Map(rows.map((r) => [`${r.binding.tenant}/${r.binding.row}`, r]));
    const saves: number[] = [];
    const progress: number[] = [];
    const save = async (batch: readonly EncryptedItem[]) => {
      saves.push(batch.length);
      for (const item of batch)
        table.get(`${item.binding.tenant}/${item.binding.row}`)!.ciphertext = Buffer.from(item.ciphertext);
    };
    const result = await reencrypt(
      h.envelope,
      rows.map((r) => ({ binding: r.binding, ciphertext: r.ciphertext })),
      { batchSize: 5, save, onProgress: (p) => progress.push(p.examined) },
    );
    assert.deepEqual(result, { examined: 12, reencrypted: 12, alreadyCurrent: 0 });
    assert.deepEqual(saves, [5, 5, 2]);
    assert.deepEqual(progress, [5, 10, 12]);
    for (const row of table.values())
      assert.equal(h.envelope.dataKeyIdOf(row.ciphertext), newIds.get(row.binding.tenant));
    await assertAllDecrypt(h.envelope, [...table.values()]);

    const rerun = await reencrypt(h.envelope, [...table.values()], { save });
    assert.deepEqual(rerun, { examined: 12, reencrypted: 0, alreadyCurrent: 12 });
  });

  it('accepts an async row source (a cursor over a table)', async () => {
    const h = harness();
    const rows = await seed(h.envelope, 1, 3);
    await h.dataKeys.rotate('tenant-0');
    async function* cursor() {
      for (const r of rows) yield { binding: r.binding, ciphertext: r.ciphertext };
    }
    const out: EncryptedItem[] = [];
    const result = await reencrypt(h.envelope, cursor(), { save: async (b) => void out.push(...b) });
    assert.equal(result.reencrypted, 3);
    assert.equal(out.length, 3);
  });

  it('a tampered row stops the batch with a typed error and nothing of it is saved', async () => {
    const h = harness();
    const rows = await seed(h.envelope, 1, 3);
    await h.dataKeys.rotate('tenant-0');
    rows[1]!.ciphertext[rows[1]!.ciphertext.length - 1]! ^= 1;
    const saved: EncryptedItem[] = [];
    await assert.rejects(
      reencrypt(h.envelope, rows, { batchSize: 10, save: async (b) => void saved.push(...b) }),
      (e) => isCryptoError(e, 'tampered'),
    );
    assert.equal(saved.length, 0);
  });
});
