import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GatewayError } from '../errors/gateway-error.ts';
import {
  ADMIN_ACTIONS, ROLE_ACTIONS, assertAllowed, assertOwnKey, assertRoleAssignable, assertSameTenant, assertTeamScope,
  assertUserScope, keyScope, principalAllows, renderRoleTable, roleAllows,
} from './rbac.ts';
import { ADMIN_ROLES, type AdminPrincipal, type AdminRole } from './types.ts';

function principal(role: AdminRole, extra: Partial<AdminPrincipal> = {}): AdminPrincipal {
  return { userId: 'u1', tenantId: 't1', role, teamId: 'team1', via: 'session', ...extra };
}

function assertNotFound(fn: () => void): void {
  assert.throws(fn, (e: unknown) => e instanceof GatewayError && e.code === 'resource.not_found' && e.status === 404);
}

test('the role table in docs/admin-api.md is the code\'s table', () => {
  const page = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8');
  const m = /<!-- role-table:start -->\n([\s\S]*?)\n<!-- role-table:end -->/.exec(page);
  assert.ok(m, 'docs/admin-api.md has the role-table markers');
  assert.equal(m[1], renderRoleTable(), 'regenerate the table with renderRoleTable() from src/admin/rbac.ts');
});

test('every role grants only catalogued actions and owner holds them all', () => {
  for (const role of ADMIN_ROLES) {
    for (const a of ROLE_ACTIONS[role]) assert.ok((ADMIN_ACTIONS as readonly string[]).includes(a), `${role}: ${a}`);
  }
  for (const a of ADMIN_ACTIONS) assert.equal(roleAllows('owner', a), true, a);
});

test('read-only and narrow roles hold no write beyond their own account and keys', () => {
  for (const a of ROLE_ACTIONS.security_auditor) assert.ok(!/\.write/.test(a) || a === 'token.write', a);
  assert.deepEqual([...ROLE_ACTIONS.billing_viewer].sort(), ['self', 'token.write', 'usage.read']);
  assert.equal(roleAllows('developer', 'key.read'), false);
  assert.equal(roleAllows('developer', 'audit.read'), false);
  assert.equal(roleAllows('team_manager', 'team.write'), false);
  assert.equal(roleAllows('admin', 'tenant.write'), false);
});

test('unknown roles and actions are refused (fail closed)', () => {
  assert.equal(roleAllows('root', 'tenant.read'), false);
  assert.equal(roleAllows('owner', 'tenant.delete'), false);
  assert.equal(roleAllows('owner', ''), false);
  assert.equal(roleAllows('__proto__', 'constructor'), false);
  assert.equal(roleAllows('owner', 'constructor'), false);
});

test('a token limited to some actions never exceeds them nor its role', () => {
  const limited = principal('admin', { via: 'token', tokenId: 'tok', tokenActions: ['audit.read', 'tenant.write'] });
  assert.equal(principalAllows(limited, 'audit.read'), true);
  assert.equal(principalAllows(limited, 'key.read'), false);
  assert.equal(principalAllows(limited, 'tenant.write'), false, 'role does not hold it');
  assert.throws(() => assertAllowed(limited, 'key.read'), (e: unknown) => e instanceof GatewayError && e.status === 403);
  assert.equal(principalAllows(principal('developer', { tokenActions: [] }), 'self'), false);
});

test('scope checks answer 404 for other tenants, teams and owners', () => {
  assertSameTenant(principal('owner'), 't1', 'team', 'x');
  assertNotFound(() => assertSameTenant(principal('owner'), 't2', 'team', 'x'));

  assertTeamScope(principal('admin'), 'team2', 'team', 'team2');
  assertTeamScope(principal('team_manager'), 'team1', 'team', 'team1');
  assertNotFound(() => assertTeamScope(principal('team_manager'), 'team2', 'team', 'team2'));
  assertNotFound(() => assertTeamScope(principal('team_manager', { teamId: null }), null, 'team', 'x'));

  assertUserScope(principal('team_manager'), { id: 'u9', tenantId: 't1', teamId: 'team1' });
  assertNotFound(() => assertUserScope(principal('team_manager'), { id: 'u9', tenantId: 't1', teamId: 'team2' }));
  assertNotFound(() => assertUserScope(principal('owner'), { id: 'u9', tenantId: 't2', teamId: 'team1' }));
});

test('key scope: tenant, own team, own keys, nothing', () => {
  const key = (o: { tenantId?: string; teamId?: string | null; ownerUserId?: string | null }) =>
    ({ id: 'k', tenantId: 't1', teamId: 'team1', ownerUserId: 'someone', ...o });
  assert.deepEqual(keyScope(principal('admin'), 'write'), { kind: 'tenant' });
  assert.deepEqual(keyScope(principal('security_auditor'), 'read'), { kind: 'tenant' });
  assert.deepEqual(keyScope(principal('security_auditor'), 'write'), { kind: 'none' });
  assert.deepEqual(keyScope(principal('team_manager'), 'write'), { kind: 'team', teamId: 'team1' });
  // A team manager without a team falls back to its own keys.
  assert.deepEqual(keyScope(principal('team_manager', { teamId: null }), 'read'), { kind: 'own', userId: 'u1' });
  assert.deepEqual(keyScope(principal('developer'), 'read'), { kind: 'own', userId: 'u1' });
  assert.deepEqual(keyScope(principal('billing_viewer'), 'read'), { kind: 'none' });

  assertOwnKey(principal('admin'), key({ teamId: 'team9' }), 'write');
  assertNotFound(() => assertOwnKey(principal('admin'), key({ tenantId: 't2' }), 'read'));
  assertOwnKey(principal('team_manager'), key({}), 'write');
  assertNotFound(() => assertOwnKey(principal('team_manager'), key({ teamId: 'team2' }), 'read'));
  assertOwnKey(principal('developer'), key({ ownerUserId: 'u1', teamId: 'other' }), 'write');
  assertNotFound(() => assertOwnKey(principal('developer'), key({}), 'read'));
  assertNotFound(() => assertOwnKey(principal('developer'), key({ ownerUserId: null }), 'read'));
  assertNotFound(() => assertOwnKey(principal('security_auditor'), key({}), 'write'));
});

test('who may grant which role', () => {
  assertRoleAssignable(principal('owner'), 'owner');
  assertRoleAssignable(principal('admin'), 'admin');
  assert.throws(() => assertRoleAssignable(principal('admin'), 'owner'), GatewayError);
  assert.throws(() => assertRoleAssignable(principal('team_manager'), 'developer'), GatewayError);
});
