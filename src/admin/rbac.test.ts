import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GatewayError } from '../errors/gateway-error.ts';
import { ADMIN_ROLES, type AdminRole } from '../identity/admin/roles.ts';
import {
  ACTION_INCLUDES,
  ADMIN_ACTIONS,
  assertAllowed,
  assertOwnKey,
  assertRoleAssignable,
  assertSameTenant,
  assertTeamScope,
  assertUserScope,
  isAdminAction,
  keyScope,
  principalAllows,
  ROLE_ACTIONS,
  renderActionList,
  renderRoleTable,
  roleAllows,
} from './rbac.ts';
import type { AdminPrincipal } from './types.ts';

function principal(role: AdminRole, extra: Partial<AdminPrincipal> = {}): AdminPrincipal {
  return { userId: 'u1', tenantId: 't1', role, teamId: 'team1', via: 'session', ...extra };
}

function assertNotFound(fn: () => void): void {
  assert.throws(fn, (e: unknown) => e instanceof GatewayError && e.code === 'resource.not_found' && e.status === 404);
}

test("the role table in docs/admin-api.md is the code's table", () => {
  const page = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8');
  const m = /<!-- role-table:start -->\n([\s\S]*?)\n<!-- role-table:end -->/.exec(page);
  assert.ok(m, 'docs/admin-api.md has the role-table markers');
  assert.equal(m[1], renderRoleTable(), 'regenerate the table with renderRoleTable() from src/admin/rbac.ts');
});

test("the action list in docs/admin-api.md is the code's catalogue", () => {
  const page = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8');
  const m = /<!-- action-list:start -->\n([\s\S]*?)\n<!-- action-list:end -->/.exec(page);
  assert.ok(m, 'docs/admin-api.md has the action-list markers');
  assert.equal(m[1], renderActionList(), 'regenerate the list with renderActionList() from src/admin/rbac.ts');
});

test('a role that holds an action holds everything it includes (the role check never contradicts a token)', () => {
  for (const role of ADMIN_ROLES) {
    for (const [wide, narrow] of Object.entries(ACTION_INCLUDES)) {
      if (!roleAllows(role, wide)) continue;
      for (const a of narrow) assert.equal(roleAllows(role, a), true, `${role} holds ${wide} but not ${a}`);
    }
  }
  assert.equal(isAdminAction('constructor'), false);
  assert.equal(isAdminAction('__proto__'), false);
});

test('a token does exactly what it names: the wide key actions include their _own form, nothing else is implied', () => {
  const token = (role: AdminRole, actions: string[]) =>
    principal(role, { via: 'token', tokenId: 'tok', tokenActions: actions });
  const reader = token('security_auditor', ['key.read']);
  assert.equal(principalAllows(reader, 'key.read'), true);
  assert.equal(principalAllows(reader, 'key.read_own'), true, 'the route GET /keys needs key.read_own');
  assert.equal(principalAllows(reader, 'key.write_own'), false);
  assert.equal(principalAllows(reader, 'self'), false);
  assert.deepEqual(keyScope(reader, 'read'), { kind: 'tenant' }, 'and it sees the whole tenant');
  const own = token('admin', ['key.read_own']);
  assert.equal(principalAllows(own, 'key.read'), false, 'the narrow form never includes the wide one');
  assert.deepEqual(keyScope(own, 'read'), { kind: 'own', userId: 'u1' });
  const writer = token('team_manager', ['key.write']);
  assert.equal(principalAllows(writer, 'key.write_own'), true);
  assert.equal(principalAllows(writer, 'key.read_own'), false, 'writing does not include reading');
  assert.deepEqual(keyScope(writer, 'write'), { kind: 'team', teamId: 'team1' });
  assert.equal(
    principalAllows(token('developer', ['key.read']), 'key.read_own'),
    true,
    'a role without key.read: the _own form is still its own',
  );
  assert.equal(principalAllows(token('billing_viewer', ['key.read']), 'key.read_own'), false, 'never beyond the role');
  assert.equal(principalAllows(token('owner', ['constructor']), 'constructor'), false);
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
  assert.throws(
    () => assertAllowed(limited, 'key.read'),
    (e: unknown) => e instanceof GatewayError && e.status === 403,
  );
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
  const key = (o: { tenantId?: string; teamId?: string | null; ownerUserId?: string | null }) => ({
    id: 'k',
    tenantId: 't1',
    teamId: 'team1',
    ownerUserId: 'someone',
    ...o,
  });
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
