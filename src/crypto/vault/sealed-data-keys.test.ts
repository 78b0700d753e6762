/**
 * Data keys sealed by the tenant key vault, attacked the way a backup would be: a copy of the
 * key repository taken before a shred must be useless afterwards with the SAME master key,
 * while the other tenants in that copy stay readable.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isCryptoError } from '../crypto-error.ts';
import { createDataKeys, sealLegacyKeys, wrapAad } from '../data-keys.ts';
import { createEnvelope } from '../envelope.ts';
import { createMemoryDataKeyRepository } from '../memory-data-key-repository.ts';
import { rotateMasterKey } from '../rotation.ts';
import { shredTenant } from '../shred.ts';
import { cell, harness, randomKek } from '../test-fixtures.ts';
import { createFileVault, tenantKeyFileName } from './file-vault.ts';
import { isSealed, type TenantKeyVault } from './tenant-key-vault.ts';

const root = mkdtempSync(join(tmpdir(), 'pcl-sealed-dek-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const vaultDir = (): string => join(root, `v${++n}`);

describe('data keys sealed by the tenant key vault', () => {
  it('stores every data key sealed: the master key alone cannot unwrap what is in the repository', async () => {
    const h = harness({ vault: createFileVault(vaultDir()), maxEncryptionsPerKey: 2, reservationBlock: 1 });
    for (let i = 0; i < 5; i++) await h.envelope.encrypt(cell(`r${i}`, 'acme'), `v${i}`);
    const keys = h.repo.snapshot().keys;
    assert.ok(keys.length >= 3);
    for (const k of keys) {
      assert.ok(isSealed(k.wrapped), 'sealed');
      await assert.rejects(h.kek.unwrap(k.wrapped, wrapAad(k)), (e) => isCryptoError(e, 'tampered'));
    }
  });

  it('a backup of the key repository taken before the shred is unreadable right after it, with the same master key; other tenants in it stay readable', async () => {
    const dir = vaultDir();
    const h = harness({ vault: createFileVault(dir) });
    const gone = await h.envelope.encrypt(cell('r1', 'gone'), 'must be unrecoverable');
    const kept = await h.envelope.encrypt(cell('r1', 'stays'), 'still needed');
    const keyBackup = h.repo.snapshot();
    const vaultBackup = join(root, `vault-backup-${n}`);
    cpSync(dir, vaultBackup, { recursive: true });

    const r = await shredTenant(h.dataKeys, 'gone');
    assert.deepEqual(r, { tenantId: 'gone', keysDestroyed: 1, vault: 'file', vaultKeyDestroyed: true });
    assert.equal(existsSync(join(dir, tenantKeyFileName('gone'))), false, "the tenant's vault file is gone");

    // the old backup of the store, the same master key, the live vault: refused as shredded
    const fromBackup = createEnvelope({
      dataKeys: createDataKeys({
        repository: createMemoryDataKeyRepository(keyBackup),
        kek: h.kek,
        vault: createFileVault(dir),
      }),
    });
    await assert.rejects(
      fromBackup.decrypt(cell('r1', 'gone'), gone),
      (e) => isCryptoError(e, 'shredded') && /shred key was destroyed/.test(e.message),
    );
    assert.equal((await fromBackup.decrypt(cell('r1', 'stays'), kept)).toString(), 'still needed');
    // and with no vault at all the sealed key is refused, not misread
    const noVault = createEnvelope({
      dataKeys: createDataKeys({ repository: createMemoryDataKeyRepository(keyBackup), kek: h.kek }),
    });
    await assert.rejects(
      noVault.decrypt(cell('r1', 'gone'), gone),
      (e) => isCryptoError(e, 'bad_key') && /sealed by a tenant key vault, but none is configured/.test(e.message),
    );

    // The documented trade-off: a copy of the vault from before the shred revives the tenant.
    const revived = createEnvelope({
      dataKeys: createDataKeys({
        repository: createMemoryDataKeyRepository(keyBackup),
        kek: h.kek,
        vault: createFileVault(vaultBackup),
      }),
    });
    assert.equal((await revived.decrypt(cell('r1', 'gone'), gone)).toString(), 'must be unrecoverable');
  });

  it('the tenant can be used again after a shred: a fresh shred key, old data still gone', async () => {
    const h = harness({ vault: createFileVault(vaultDir()) });
    const old = await h.envelope.encrypt(cell('r1', 'again'), 'old');
    const keyBackup = h.repo.snapshot();
    await shredTenant(h.dataKeys, 'again');
    const fresh = await h.envelope.encrypt(cell('r2', 'again'), 'new');
    assert.equal((await h.envelope.decrypt(cell('r2', 'again'), fresh)).toString(), 'new');
    const fromBackup = createEnvelope({
      dataKeys: createDataKeys({
        repository: createMemoryDataKeyRepository(keyBackup),
        kek: h.kek,
        vault: h.dataKeys.vault!,
      }),
    });
    await assert.rejects(
      fromBackup.decrypt(cell('r1', 'again'), old),
      (e) => isCryptoError(e, 'shredded') && /newer one/.test(e.message),
    );
  });

  it('a rerun after a crash between deleting the keys and destroying the vault key still destroys it', async () => {
    const dir = vaultDir();
    const h = harness({ vault: createFileVault(dir) });
    const ct = await h.envelope.encrypt(cell('r1', 'crash'), 'x');
    const keyBackup = h.repo.snapshot();
    await h.repo.deleteAllForTenant('crash', new Date()); // the shred's first step, then the crash
    const rerun = await shredTenant(h.dataKeys, 'crash');
    assert.deepEqual([rerun.keysDestroyed, rerun.vaultKeyDestroyed], [0, true]);
    assert.equal(existsSync(join(dir, tenantKeyFileName('crash'))), false);
    const fromBackup = createEnvelope({
      dataKeys: createDataKeys({
        repository: createMemoryDataKeyRepository(keyBackup),
        kek: h.kek,
        vault: createFileVault(dir),
      }),
    });
    await assert.rejects(fromBackup.decrypt(cell('r1', 'crash'), ct), (e) => isCryptoError(e, 'shredded'));
    assert.equal(
      (await shredTenant(h.dataKeys, 'crash')).vaultKeyDestroyed,
      false,
      'a third run has nothing left to do',
    );
  });

  it('legacy unsealed keys (stored before the vault was enabled) are read, and re-stored sealed on the way', async () => {
    const repo = createMemoryDataKeyRepository();
    const kek = randomKek();
    const before = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek }) });
    const ct = await before.encrypt(cell('r1', 'legacy'), 'old data');
    const [legacy] = repo.snapshot().keys;
    assert.equal(isSealed(legacy!.wrapped), false);

    const vault = createFileVault(vaultDir());
    const withVault = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek, vault }) });
    assert.equal((await withVault.decrypt(cell('r1', 'legacy'), ct)).toString(), 'old data');
    const [migrated] = repo.snapshot().keys;
    assert.ok(isSealed(migrated!.wrapped), 'lazily sealed');
    assert.equal(migrated!.kekId, legacy!.kekId, 'same KEK');
    assert.deepEqual(
      await vault.open('legacy', migrated!.wrapped, wrapAad(migrated!)),
      legacy!.wrapped,
      'the seal holds the same KEK-wrapped key',
    );
    // a restarted process reads the sealed key
    const restarted = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek, vault }) });
    assert.equal((await restarted.decrypt(cell('r1', 'legacy'), ct)).toString(), 'old data');
  });

  it('sealLegacyKeys seals every unsealed key (under any KEK) at once, and is idempotent', async () => {
    const repo = createMemoryDataKeyRepository();
    const oldKek = randomKek('old');
    const newKek = randomKek('new');
    const cts = new Map<string, Buffer>();
    const a = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek: oldKek }) });
    for (const t of ['t1', 't2', 't3']) cts.set(t, await a.encrypt(cell('r', t), t));
    const b = createEnvelope({ dataKeys: createDataKeys({ repository: repo, kek: newKek, previousKeks: [oldKek] }) });
    for (const t of ['t4', 't5']) cts.set(t, await b.encrypt(cell('r', t), t));
    const vault = createFileVault(vaultDir());
    assert.equal(await sealLegacyKeys(repo, vault, 2), 5);
    assert.ok(repo.snapshot().keys.every((k) => isSealed(k.wrapped)));
    assert.equal(await sealLegacyKeys(repo, vault, 2), 0);
    const c = createEnvelope({
      dataKeys: createDataKeys({ repository: repo, kek: newKek, previousKeks: [oldKek], vault }),
    });
    for (const [t, ct] of cts) assert.equal((await c.decrypt(cell('r', t), ct)).toString(), t);
    // now a shred is final for a backup taken after the migration
    const backup = repo.snapshot();
    await shredTenant(c.dataKeys, 't1');
    const fromBackup = createEnvelope({
      dataKeys: createDataKeys({
        repository: createMemoryDataKeyRepository(backup),
        kek: newKek,
        previousKeks: [oldKek],
        vault,
      }),
    });
    await assert.rejects(fromBackup.decrypt(cell('r', 't1'), cts.get('t1')!), (e) => isCryptoError(e, 'shredded'));
  });

  it('master-key rotation re-wraps inside the seal and leaves the vault untouched', async () => {
    const dir = vaultDir();
    const vault = createFileVault(dir);
    const oldKek = randomKek('old');
    const h = harness({ kek: oldKek, vault });
    const ct = await h.envelope.encrypt(cell('r1', 'acme'), 'rotated');
    const vaultFile = join(dir, tenantKeyFileName('acme'));
    const vaultBytes = readFileSync(vaultFile);
    const newKek = randomKek('new');
    await assert.rejects(
      rotateMasterKey(h.repo, oldKek, newKek),
      (e) => isCryptoError(e, 'bad_key') && /sealed by a tenant key vault and none is configured/.test(e.message),
      'without the vault the sealed key cannot be re-wrapped',
    );
    const r = await rotateMasterKey(h.repo, oldKek, newKek, { vault });
    assert.deepEqual([r.rewrapped, r.remaining], [1, 0]);
    oldKek.destroy();
    const [k] = h.repo.snapshot().keys;
    assert.ok(isSealed(k!.wrapped));
    assert.equal(k!.kekId, newKek.id);
    assert.deepEqual(readFileSync(vaultFile), vaultBytes, 'the shred key is the same');
    const live = createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: newKek, vault }) });
    assert.equal((await live.decrypt(cell('r1', 'acme'), ct)).toString(), 'rotated');
  });

  it('a shred landing between sealing a new data key and storing it: the dead key is removed, the tenant gets a working one', async () => {
    const inner = createFileVault(vaultDir());
    let strike = true;
    // Another process shreds the tenant right after this one sealed its new key (before the insert).
    const racing: TenantKeyVault = {
      ...inner,
      kind: inner.kind,
      async seal(tenantId, blob, aad) {
        const sealed = await inner.seal(tenantId, blob, aad);
        if (strike) {
          strike = false;
          await inner.destroy(tenantId);
        }
        return sealed;
      },
    };
    const h = harness({ vault: racing });
    const ct = await h.envelope.encrypt(cell('r1', 'raced'), 'after the race');
    assert.equal((await h.envelope.decrypt(cell('r1', 'raced'), ct)).toString(), 'after the race');
    const keys = h.repo.snapshot().keys;
    assert.equal(keys.length, 1, 'the key sealed under the destroyed shred key was deleted (tombstoned)');
    await inner.open('raced', keys[0]!.wrapped, wrapAad(keys[0]!));
    assert.equal(h.repo.snapshot().tombstones.length, 1);
  });
});
