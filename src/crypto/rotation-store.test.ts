/**
 * Master-key rotation against the real SQLite store: interrupted half-way (the new KEK's KMS
 * fails), nothing is lost and a rerun finishes; a shred leaves no wrapped-key bytes in the
 * live database file or its WAL.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../store/open.ts';
import { createDataKeys } from './data-keys.ts';
import { createEnvelope } from './envelope.ts';
import { rotateMasterKey } from './rotation.ts';
import { shredTenant } from './shred.ts';
import { failingAfter, randomKek } from './test-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'pcl-rot-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('rotation and shredding on the SQLite store', () => {
  it('an interrupted master-key rotation loses nothing and a rerun completes it', async () => {
    const path = join(root, 'rot', 'portcullis.db');
    const store = await openStore({ driver: 'sqlite', path });
    try {
      const oldKek = randomKek('old');
      const newKek = randomKek('new');
      const env = createEnvelope({ dataKeys: createDataKeys({ repository: store.dataKeys, kek: oldKek }) });
      const cts = new Map<string, Buffer>();
      for (let i = 0; i < 6; i++)
        cts.set(`t${i}`, await env.encrypt({ table: 'x', row: 'r', tenant: `t${i}` }, `value ${i}`));

      await assert.rejects(
        rotateMasterKey(store.dataKeys, oldKek, failingAfter(newKek, 2), { batchSize: 2 }),
        /KMS unreachable/,
      );
      assert.equal(
        (await store.dataKeys.listByKekId(newKek.id, { limit: 100 })).length,
        2,
        'two keys moved before the failure',
      );
      // Mid-rotation, a gateway configured with both KEKs reads everything.
      const both = createEnvelope({
        dataKeys: createDataKeys({ repository: store.dataKeys, kek: newKek, previousKeks: [oldKek] }),
      });
      for (const [t, ct] of cts)
        assert.equal((await both.decrypt({ table: 'x', row: 'r', tenant: t }, ct)).toString(), `value ${t.slice(1)}`);

      const r = await rotateMasterKey(store.dataKeys, oldKek, newKek, { batchSize: 2 });
      assert.deepEqual([r.rewrapped, r.remaining], [4, 0]);
      oldKek.destroy();
      const onlyNew = createEnvelope({ dataKeys: createDataKeys({ repository: store.dataKeys, kek: newKek }) });
      assert.deepEqual(await onlyNew.dataKeys.verifyKeks(), { inUse: [newKek.id], retired: [] });
      for (const [t, ct] of cts)
        assert.equal(
          (await onlyNew.decrypt({ table: 'x', row: 'r', tenant: t }, ct)).toString(),
          `value ${t.slice(1)}`,
        );
    } finally {
      await store.close();
    }
  });

  it('a shred leaves no copy of the wrapped keys in the database file or its WAL', async () => {
    const path = join(root, 'shred', 'portcullis.db');
    const store = await openStore({ driver: 'sqlite', path });
    try {
      const dataKeys = createDataKeys({ repository: store.dataKeys, kek: randomKek() });
      const env = createEnvelope({ dataKeys });
      const ct = await env.encrypt({ table: 'x', row: 'r', tenant: 'gone' }, 'v');
      await dataKeys.rotate('gone');
      await env.encrypt({ table: 'x', row: 'r', tenant: 'kept' }, 'v');
      const wrapped = [
        (await store.dataKeys.getById(env.dataKeyIdOf(ct)))!.wrapped,
        (await store.dataKeys.getCurrent('gone'))!.wrapped,
      ];
      const bytes = () => Buffer.concat([path, `${path}-wal`].filter(existsSync).map((p) => readFileSync(p)));
      assert.ok(
        wrapped.every((w) => bytes().includes(w)),
        'the check can see the keys before the shred',
      );
      assert.equal((await shredTenant(dataKeys, 'gone')).keysDestroyed, 2);
      assert.ok(wrapped.every((w) => !bytes().includes(w)));
      await assert.rejects(env.decrypt({ table: 'x', row: 'r', tenant: 'gone' }, ct), /crypto-shredded/);
    } finally {
      await store.close();
    }
  });
});
