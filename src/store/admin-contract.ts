/**
 * The AdminStore part of the Store contract (admin users, sessions, tokens, recovery codes).
 * Called by contract.ts inside its per-case setup, so every backend runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdminTokenRecord, AdminUserRecord } from './admin-records.ts';
import { minutesAfterBase as at } from './contract-fixtures.ts';
import { type Store, StoreConflictError } from './store.ts';

let n = 0;

export function sampleAdminUser(over: Partial<AdminUserRecord> = {}): AdminUserRecord {
  n++;
  return {
    id: `adm_${n.toString(16).padStart(8, '0')}`,
    tenantId: 't1',
    teamId: null,
    email: `user${n}@example.com`,
    role: 'admin',
    passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA',
    totpSecret: 'AQID',
    totpLastStep: 0,
    enrolmentHash: null,
    enrolmentExpiresAt: null,
    createdAt: at(n % 50),
    disabledAt: null,
    ...over,
  };
}

export function sampleAdminToken(over: Partial<AdminTokenRecord> = {}): AdminTokenRecord {
  n++;
  const h = n.toString(16).padStart(8, '0');
  return {
    id: `atk_${h}`,
    userId: 'adm_x',
    tenantId: 't1',
    label: `token ${h}`,
    prefix: `pca_${h}`,
    hash: h.repeat(8),
    actions: null,
    createdAt: at(1),
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...over,
  };
}

export function runAdminStoreContract(current: () => Store): void {
  describe('admin users', () => {
    it('inserts, gets, finds by email and by enrolment hash, lists by tenant and team in creation order', async () => {
      const store = current();
      const a = sampleAdminUser({ tenantId: 'ta', createdAt: at(2), teamId: 'red' });
      const b = sampleAdminUser({
        tenantId: 'ta',
        createdAt: at(1),
        passwordHash: null,
        totpSecret: null,
        enrolmentHash: 'e'.repeat(64),
        enrolmentExpiresAt: at(90),
      });
      const c = sampleAdminUser({ tenantId: 'tb', createdAt: at(3), totpLastStep: 2 ** 40 });
      for (const u of [a, b, c]) await store.insertAdminUser(u);
      assert.deepEqual(await store.getAdminUser(a.id), a);
      assert.deepEqual(await store.findAdminUserByEmail(c.email), c);
      assert.deepEqual(await store.findAdminUserByEnrolmentHash('e'.repeat(64)), b);
      assert.equal(await store.findAdminUserByEmail('nobody@example.com'), undefined);
      assert.deepEqual(await store.listAdminUsers({ tenantId: 'ta' }), [b, a]);
      assert.deepEqual(await store.listAdminUsers({ tenantId: 'ta', teamId: 'red' }), [a]);
      assert.deepEqual(
        (await store.listAdminUsers({})).map((u) => u.id),
        [b.id, a.id, c.id],
      );
    });

    it('refuses a duplicate email or id and keeps the original', async () => {
      const store = current();
      const a = sampleAdminUser();
      await store.insertAdminUser(a);
      await assert.rejects(store.insertAdminUser(sampleAdminUser({ email: a.email })), StoreConflictError);
      await assert.rejects(store.insertAdminUser(sampleAdminUser({ id: a.id })), StoreConflictError);
      assert.deepEqual(await store.getAdminUser(a.id), a);
    });

    it('patches only the given fields; an unknown id is false', async () => {
      const store = current();
      const a = sampleAdminUser({ enrolmentHash: 'f'.repeat(64), enrolmentExpiresAt: at(5) });
      await store.insertAdminUser(a);
      assert.equal(
        await store.updateAdminUser(a.id, {
          role: 'developer',
          teamId: 'blue',
          enrolmentHash: null,
          enrolmentExpiresAt: null,
        }),
        true,
      );
      assert.deepEqual(await store.getAdminUser(a.id), {
        ...a,
        role: 'developer',
        teamId: 'blue',
        enrolmentHash: null,
        enrolmentExpiresAt: null,
      });
      assert.equal(await store.updateAdminUser(a.id, { disabledAt: at(7), totpSecret: null, totpLastStep: 0 }), true);
      assert.equal((await store.getAdminUser(a.id))?.disabledAt, at(7));
      assert.equal(await store.updateAdminUser('missing', { role: 'owner' }), false);
      assert.equal(await store.updateAdminUser(a.id, {}), true);
    });

    it('accepts each TOTP step once and never an earlier one, even when claimed concurrently', async () => {
      const store = current();
      const a = sampleAdminUser();
      await store.insertAdminUser(a);
      assert.equal(await store.claimTotpStep(a.id, 100), true);
      assert.equal(await store.claimTotpStep(a.id, 100), false);
      assert.equal(await store.claimTotpStep(a.id, 99), false);
      const race = await Promise.all(Array.from({ length: 8 }, () => store.claimTotpStep(a.id, 101)));
      assert.equal(race.filter(Boolean).length, 1);
      assert.equal((await store.getAdminUser(a.id))?.totpLastStep, 101);
      assert.equal(await store.claimTotpStep('missing', 5), false);
    });
  });

  describe('admin recovery codes', () => {
    it('uses each code once, replaces them all at once, and counts the unused ones', async () => {
      const store = current();
      await store.replaceRecoveryCodes('u1', ['h1', 'h2', 'h3']);
      await store.replaceRecoveryCodes('u2', ['h1']);
      assert.equal(await store.countUnusedRecoveryCodes('u1'), 3);
      const race = await Promise.all([1, 2, 3].map(() => store.consumeRecoveryCode('u1', 'h2', at(1))));
      assert.equal(race.filter(Boolean).length, 1);
      assert.equal(await store.consumeRecoveryCode('u1', 'h2', at(2)), false);
      assert.equal(await store.consumeRecoveryCode('u1', 'nope', at(2)), false);
      assert.equal(await store.countUnusedRecoveryCodes('u1'), 2);
      assert.equal(await store.countUnusedRecoveryCodes('u2'), 1, "another user's codes are separate");
      await store.replaceRecoveryCodes('u1', ['n1', 'n2']);
      assert.equal(await store.consumeRecoveryCode('u1', 'h1', at(3)), false, 'old codes are gone');
      assert.equal(await store.countUnusedRecoveryCodes('u1'), 2);
      await store.replaceRecoveryCodes('u1', []);
      assert.equal(await store.countUnusedRecoveryCodes('u1'), 0);
    });
  });

  describe('admin sessions', () => {
    it('stores, touches forward only, deletes one or all of a user', async () => {
      const store = current();
      const s = {
        idHash: 'a'.repeat(64),
        userId: 'u1',
        tenantId: 't1',
        createdMs: 1_700_000_000_000,
        lastSeenMs: 1_700_000_000_000,
      };
      await store.insertAdminSession(s);
      await store.insertAdminSession({ ...s, idHash: 'b'.repeat(64) });
      await store.insertAdminSession({ ...s, idHash: 'c'.repeat(64), userId: 'u2' });
      await assert.rejects(store.insertAdminSession(s), StoreConflictError);
      assert.deepEqual(await store.getAdminSession(s.idHash), s);
      await store.touchAdminSession(s.idHash, s.lastSeenMs + 5000);
      await store.touchAdminSession(s.idHash, s.lastSeenMs + 1000);
      assert.equal((await store.getAdminSession(s.idHash))?.lastSeenMs, s.lastSeenMs + 5000);
      assert.equal(await store.deleteAdminSession(s.idHash), true);
      assert.equal(await store.deleteAdminSession(s.idHash), false);
      assert.equal(await store.getAdminSession(s.idHash), undefined);
      assert.equal(await store.deleteAdminSessionsOfUser('u1'), 1);
      assert.ok(await store.getAdminSession('c'.repeat(64)));
    });
  });

  describe('admin tokens', () => {
    it('inserts, finds, lists, revokes once (singly or per user) and records last use', async () => {
      const store = current();
      const t1 = sampleAdminToken({ userId: 'u1', createdAt: at(2), actions: ['keys.read', 'usage.read'] });
      const t2 = sampleAdminToken({ userId: 'u1', createdAt: at(1), expiresAt: at(100) });
      const t3 = sampleAdminToken({ userId: 'u2', tenantId: 't2', createdAt: at(3), actions: [] });
      for (const t of [t1, t2, t3]) await store.insertAdminToken(t);
      await assert.rejects(store.insertAdminToken(sampleAdminToken({ hash: t1.hash })), StoreConflictError);
      assert.deepEqual(await store.findAdminTokenByHash(t1.hash), t1);
      assert.deepEqual(await store.getAdminToken(t3.id), t3);
      assert.deepEqual(await store.listAdminTokens({ userId: 'u1' }), [t2, t1]);
      assert.deepEqual(await store.listAdminTokens({ tenantId: 't2' }), [t3]);
      assert.equal(await store.revokeAdminToken(t1.id, at(5)), true);
      assert.equal(await store.revokeAdminToken(t1.id, at(6)), false);
      assert.equal((await store.getAdminToken(t1.id))?.revokedAt, at(5));
      assert.equal(await store.revokeAdminTokensOfUser('u1', at(7)), 1);
      assert.equal((await store.getAdminToken(t2.id))?.revokedAt, at(7));
      await store.touchAdminToken(t3.id, at(9));
      await store.touchAdminToken(t3.id, at(8));
      assert.equal((await store.getAdminToken(t3.id))?.lastUsedAt, at(9));
    });
  });
}
