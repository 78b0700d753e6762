/**
 * The TenancyStore part of the Store contract (tenants, teams, tenant-scoped key access).
 * Called by contract.ts inside its per-case setup, so every backend runs it. The cross-tenant
 * cases are the point: a tenant id that does not own the row must behave as if it did not exist.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleAdminUser } from './admin-contract.ts';
import { minutesAfterBase as at, sampleApiKeyRecord as key } from './contract-fixtures.ts';
import { type Store, StoreConflictError } from './store.ts';
import type { TeamRecord, TenantRecord } from './tenancy.ts';

let n = 0;

export function sampleTenant(over: Partial<TenantRecord> = {}): TenantRecord {
  n++;
  return { id: `ten_${n}`, name: `Tenant ${n}`, status: 'active', createdAt: at(n % 50), ...over };
}

export function sampleTeam(over: Partial<TeamRecord> = {}): TeamRecord {
  n++;
  return { id: `team_${n}`, tenantId: 't1', name: `Team ${n}`, ipAllowlist: [], createdAt: at(n % 50), ...over };
}

export function runTenancyStoreContract(current: () => Store): void {
  describe('tenancy', () => {
    it('tenants: insert, get, list, update; ids are unique, names need not be', async () => {
      const store = current();
      const a = sampleTenant({ createdAt: at(2) });
      const b = sampleTenant({ createdAt: at(1), name: 'Ünïcode 租户' });
      await store.insertTenant(a);
      await store.insertTenant(b);
      assert.deepEqual(await store.getTenant(a.id), a);
      assert.equal(await store.getTenant('missing'), undefined);
      assert.deepEqual(await store.listTenants(), [b, a]);
      await assert.rejects(store.insertTenant(sampleTenant({ id: a.id })), StoreConflictError);

      assert.deepEqual(await store.updateTenant(a.id, { status: 'suspended' }), { ...a, status: 'suspended' });
      assert.deepEqual(await store.updateTenant(a.id, { name: 'Renamed' }), {
        ...a,
        status: 'suspended',
        name: 'Renamed',
      });
      assert.deepEqual(await store.updateTenant(a.id, {}), { ...a, status: 'suspended', name: 'Renamed' });
      assert.equal((await store.getTenant(b.id))?.name, b.name, 'only the named tenant changes');
      assert.equal(await store.updateTenant('missing', { name: 'x' }), undefined);
      const twin = sampleTenant({ name: b.name, createdAt: at(3) });
      await store.insertTenant(twin);
      assert.deepEqual(await store.listTenants(), [b, { ...a, status: 'suspended', name: 'Renamed' }, twin]);
    });

    it('teams: scoped to their tenant for every read and write', async () => {
      const store = current();
      const t1 = sampleTeam({ tenantId: 't1', name: 'beta', ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'] });
      const t2 = sampleTeam({ tenantId: 't1', name: 'alpha' });
      const other = sampleTeam({ tenantId: 't2', name: 'beta' });
      for (const t of [t1, t2, other]) await store.insertTeam(t);
      assert.deepEqual(await store.getTeam('t1', t1.id), t1);
      assert.equal(await store.getTeam('t2', t1.id), undefined, 'another tenant cannot read it');
      assert.deepEqual(await store.listTeams('t1'), [t2, t1]);
      assert.deepEqual(await store.listTeams('t2'), [other]);
      assert.deepEqual(await store.listTeams('nobody'), []);

      await assert.rejects(store.insertTeam(sampleTeam({ tenantId: 't1', name: 'beta' })), StoreConflictError);
      await assert.rejects(store.insertTeam(sampleTeam({ id: t1.id, tenantId: 't9' })), StoreConflictError);

      assert.equal(await store.updateTeam('t2', t1.id, { name: 'hijacked' }), undefined);
      assert.deepEqual(await store.getTeam('t1', t1.id), t1, 'a cross-tenant update changes nothing');
      assert.deepEqual(await store.updateTeam('t1', t1.id, { ipAllowlist: [] }), { ...t1, ipAllowlist: [] });
      assert.deepEqual(await store.updateTeam('t1', t1.id, { name: 'gamma' }), {
        ...t1,
        ipAllowlist: [],
        name: 'gamma',
      });
      await assert.rejects(store.updateTeam('t1', t1.id, { name: 'alpha' }), StoreConflictError);
      assert.equal((await store.getTeam('t1', t1.id))?.name, 'gamma');

      assert.equal(await store.deleteTeam('t2', t1.id), 'not_found');
      assert.ok(await store.getTeam('t1', t1.id), 'a cross-tenant delete removes nothing');
      assert.equal(await store.deleteTeam('t1', t1.id), 'deleted');
      assert.equal(await store.getTeam('t1', t1.id), undefined);
      assert.equal(await store.deleteTeam('t1', t1.id), 'not_found');
    });

    it('teams with live keys or enabled members are kept; revoked keys and disabled users do not hold them', async () => {
      const store = current();
      const team = sampleTeam({ tenantId: 't1' });
      await store.insertTeam(team);
      const k = key({ tenantId: 't1', teamId: team.id });
      await store.insertApiKey(k);
      assert.equal(await store.deleteTeam('t1', team.id), 'in_use');
      assert.ok(await store.getTeam('t1', team.id));
      await store.revokeApiKey(k.id, at(3));
      await store.insertAdminUser(sampleAdminUser({ tenantId: 't1', teamId: team.id }));
      assert.equal(await store.deleteTeam('t1', team.id), 'in_use', 'an enabled member holds it too');
      const member = (await store.listAdminUsers({ tenantId: 't1', teamId: team.id }))[0]!;
      await store.updateAdminUser(member.id, { disabledAt: at(4) });
      assert.equal(await store.deleteTeam('t1', team.id), 'deleted');
    });

    it('api keys: team, owner and creator round-trip; tenant-scoped get, list and revoke', async () => {
      const store = current();
      const a = key({ tenantId: 't1', teamId: 'team_a', ownerUserId: 'u1', createdBy: 'u1', createdAt: at(1) });
      const b = key({ tenantId: 't1', teamId: 'team_b', ownerUserId: 'u2', createdBy: 'cli:root', createdAt: at(2) });
      const c = key({ tenantId: 't1', teamId: 'team_a', ownerUserId: 'u2', createdBy: 'u9', createdAt: at(3) });
      const legacy = key({ tenantId: 't1', createdAt: at(4) });
      const foreign = key({ tenantId: 't2', teamId: 'team_a', ownerUserId: 'u1', createdAt: at(0) });
      for (const k of [a, b, c, legacy, foreign]) await store.insertApiKey(k);

      assert.deepEqual(await store.getApiKey(a.id), a);
      assert.deepEqual(await store.getTenantApiKey('t1', a.id), a);
      assert.equal(await store.getTenantApiKey('t2', a.id), undefined);
      assert.deepEqual(await store.listTenantApiKeys('t1'), [a, b, c, legacy]);
      assert.deepEqual(await store.listTenantApiKeys('t1', { teamId: 'team_a' }), [a, c]);
      assert.deepEqual(await store.listTenantApiKeys('t1', { ownerUserId: 'u2' }), [b, c]);
      assert.deepEqual(await store.listTenantApiKeys('t1', { teamId: 'team_a', ownerUserId: 'u2' }), [c]);
      assert.deepEqual(await store.listTenantApiKeys('t2', { ownerUserId: 'u1' }), [foreign]);
      assert.deepEqual(await store.listTenantApiKeys("t1' OR '1'='1"), []);

      assert.equal(await store.revokeTenantApiKey('t2', a.id, at(5)), false);
      assert.equal((await store.getApiKey(a.id))?.revokedAt, null, 'a cross-tenant revoke changes nothing');
      assert.equal(await store.revokeTenantApiKey('t1', a.id, at(5)), true);
      assert.equal(await store.revokeTenantApiKey('t1', a.id, at(9)), false);
      assert.equal((await store.getApiKey(a.id))?.revokedAt, at(5));
      await assert.rejects(store.revokeTenantApiKey('t1', b.id, 'not a time'));
    });
  });
}
