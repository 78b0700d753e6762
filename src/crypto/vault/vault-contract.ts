/**
 * What every TenantKeyVault backend must do (not a test file itself): file-vault.test.ts and
 * postgres-vault.test.ts run it. `make()` returns a vault over the SAME backing storage each
 * time (one folder, one database), so two calls stand for two processes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { type CryptoErrorReason, isCryptoError } from '../crypto-error.ts';
import { wrapAad } from '../data-keys.ts';
import { randomKek } from '../test-fixtures.ts';
import { isSealed, type TenantKeyVault } from './tenant-key-vault.ts';

export interface VaultFactory {
  make(): TenantKeyVault;
}

const aadFor = (tenantId: string, id = 'a'.repeat(32), version = 1): Buffer => wrapAad({ id, tenantId, version });
const rejectsWith = (p: Promise<unknown>, reason: CryptoErrorReason, re?: RegExp) =>
  assert.rejects(p, (e) => isCryptoError(e, reason) && (re === undefined || re.test(e.message)));

export function runVaultContract(name: string, factory: () => Promise<VaultFactory> | VaultFactory): void {
  describe(`tenant key vault contract: ${name}`, () => {
    let n = 0;
    const tenant = (): string => `tenant-${process.pid}-${++n}-${randomBytes(3).toString('hex')}`;

    it('round trip: seal then open gives back the inner blob; the sealed form is recognisable and never a KEK blob', async () => {
      const v = (await factory()).make();
      try {
        const t = tenant();
        const kek = randomKek();
        const inner = await kek.wrap(randomBytes(32), aadFor(t));
        assert.equal(isSealed(inner), false, 'a local KEK blob (0x01 …) is not taken for a sealed one');
        const sealed = await v.seal(t, inner, aadFor(t));
        assert.equal(isSealed(sealed), true);
        assert.ok(!sealed.includes(inner.subarray(13, 29)), 'the inner blob is not visible in the sealed one');
        assert.deepEqual(await v.open(t, sealed, aadFor(t)), inner);
        const again = await v.seal(t, inner, aadFor(t));
        assert.notDeepEqual(again, sealed, 'a fresh IV every time');
        assert.deepEqual(await v.open(t, again, aadFor(t)), inner);
      } finally {
        await v.close();
      }
    });

    it('refuses another tenant, another record (aad) and an unsealed blob', async () => {
      const v = (await factory()).make();
      try {
        const [a, b] = [tenant(), tenant()];
        await v.seal(b, Buffer.from('make b have a key'), aadFor(b));
        const sealed = await v.seal(a, randomBytes(60), aadFor(a));
        await rejectsWith(v.open(b, sealed, aadFor(b)), 'tampered', /sealed for another tenant/);
        await rejectsWith(v.open(a, sealed, aadFor(a, 'b'.repeat(32))), 'tampered', /failed authentication/);
        await rejectsWith(v.open(a, sealed, aadFor(a, 'a'.repeat(32), 2)), 'tampered', /failed authentication/);
        await rejectsWith(v.open(a, randomBytes(80), aadFor(a)), 'tampered');
      } finally {
        await v.close();
      }
    });

    it('every modified byte and every truncation fails closed', async () => {
      const v = (await factory()).make();
      try {
        const t = tenant();
        const sealed = await v.seal(t, randomBytes(61), aadFor(t));
        for (let i = 0; i < sealed.length; i++) {
          const bad = Buffer.from(sealed);
          bad[i]! ^= 0x01;
          await assert.rejects(
            v.open(t, bad, aadFor(t)),
            (e) => isCryptoError(e) && ['tampered', 'bad_format', 'shredded'].includes(e.reason),
            `byte ${i}`,
          );
          // flipped key-id bytes (13..28) read as "a key that no longer exists"; everything else as tampering
          if (i >= 13 && i < 29) await rejectsWith(v.open(t, bad, aadFor(t)), 'shredded');
          else if (i !== 4) await rejectsWith(v.open(t, bad, aadFor(t)), 'tampered');
          else await rejectsWith(v.open(t, bad, aadFor(t)), 'bad_format');
        }
        for (const len of [0, 3, 4, 20, 57, sealed.length - 1]) {
          await rejectsWith(v.open(t, sealed.subarray(0, len), aadFor(t)), 'tampered');
        }
      } finally {
        await v.close();
      }
    });

    it('destroy: opening reports shredded; destroy is idempotent and says whether a key existed', async () => {
      const v = (await factory()).make();
      try {
        const t = tenant();
        const sealed = await v.seal(t, randomBytes(60), aadFor(t));
        assert.equal(await v.destroy(t), true);
        await rejectsWith(v.open(t, sealed, aadFor(t)), 'shredded', /destroyed/);
        assert.equal(await v.destroy(t), false);
        assert.equal(await v.destroy(tenant()), false, 'a tenant that never had a key');
      } finally {
        await v.close();
      }
    });

    it('a key re-created for the same tenant after a destroy does not open the old blobs (shredded, not tampered)', async () => {
      const v = (await factory()).make();
      try {
        const t = tenant();
        const old = await v.seal(t, randomBytes(60), aadFor(t));
        await v.destroy(t);
        const inner = randomBytes(60);
        const fresh = await v.seal(t, inner, aadFor(t));
        await rejectsWith(v.open(t, old, aadFor(t)), 'shredded', /newer one/);
        assert.deepEqual(await v.open(t, fresh, aadFor(t)), inner);
      } finally {
        await v.close();
      }
    });

    it('a destroy is seen at once by another vault object on the same storage (no caching)', async () => {
      const f = await factory();
      const [v1, v2] = [f.make(), f.make()];
      try {
        const t = tenant();
        const sealed = await v1.seal(t, randomBytes(60), aadFor(t));
        assert.equal((await v2.open(t, sealed, aadFor(t))).length, 60);
        assert.equal(await v2.destroy(t), true);
        await rejectsWith(v1.open(t, sealed, aadFor(t)), 'shredded');
      } finally {
        await v1.close();
        await v2.close();
      }
    });

    it('two vault objects creating the same tenant key at once agree on one key', async () => {
      const f = await factory();
      const [v1, v2] = [f.make(), f.make()];
      try {
        for (let round = 0; round < 5; round++) {
          const t = tenant();
          const inners = Array.from({ length: 8 }, () => randomBytes(40));
          const sealed = await Promise.all(inners.map((inner, i) => (i % 2 === 0 ? v1 : v2).seal(t, inner, aadFor(t))));
          const keyIds = new Set(sealed.map((s) => s.subarray(13, 29).toString('hex')));
          assert.equal(keyIds.size, 1, 'every concurrent creator sealed under the same key');
          for (const [i, s] of sealed.entries()) {
            assert.deepEqual(await v1.open(t, s, aadFor(t)), inners[i]);
            assert.deepEqual(await v2.open(t, s, aadFor(t)), inners[i]);
          }
        }
      } finally {
        await v1.close();
        await v2.close();
      }
    });

    it('tenant ids are data, not syntax', async () => {
      const v = (await factory()).make();
      try {
        for (const t of [
          `../../${tenant()}`,
          `${tenant()}'; DROP TABLE portcullis_tenant_keys; --`,
          `${tenant()}/\nx`,
          `é${tenant()}\u202e`,
        ]) {
          const inner = randomBytes(33);
          const sealed = await v.seal(t, inner, aadFor(t));
          assert.deepEqual(await v.open(t, sealed, aadFor(t)), inner);
          assert.equal(await v.destroy(t), true);
        }
      } finally {
        await v.close();
      }
    });
  });
}
