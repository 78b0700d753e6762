/**
 * Admin users of the caller's tenant (team managers: their own team only):
 *   GET  /admin/v1/users                      list
 *   POST /admin/v1/users                      {email, role, team_id?} → a one-time enrolment token
 *   PATCH /admin/v1/users/:userId             {role?, team_id?}
 *   POST /admin/v1/users/:userId/disable      ends every session and token of the user
 *   POST /admin/v1/users/:userId/reset-mfa    clears TOTP and recovery codes → a new enrolment token
 * Nobody gets a default password: a new user sets their own through `POST /admin/v1/enrolment`.
 * Only an owner may act on an owner, and nobody may change, disable or reset themselves here.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import { emailProblem, normaliseEmail } from '../../identity/admin/admin-accounts.ts';
import { ADMIN_ROLES, type AdminRole } from '../../identity/admin/roles.ts';
import type { AdminUserPatch, AdminUserRecord } from '../../store/admin-records.ts';
import { StoreConflictError } from '../../store/store.ts';
import { expectEnum, expectString, invalid } from '../../surfaces/validation.ts';
import { assertRoleAssignable, assertUserScope, isTeamBound, notFound } from '../rbac.ts';
import type { AdminPrincipal, AdminRoute } from '../types.ts';
import { adminAuditEntry, assertAuditWritable, principalOf, recordChange } from './deps.ts';
import { bodyObject, emptyBody, optionalId, queryParams } from './input.ts';
import { type AdminIdentityDeps, adminUserView } from './session.ts';

export function createUserRoutes(deps: AdminIdentityDeps): AdminRoute[] {
  const { identity } = deps;

  async function loadInScope(principal: AdminPrincipal, userId: string): Promise<AdminUserRecord> {
    const user = await deps.store.getAdminUser(userId);
    if (user === undefined) throw notFound('user', userId);
    assertUserScope(principal, user);
    return user;
  }

  /** Changes to another account: never one's own, and an owner only by an owner. */
  function assertMayManage(principal: AdminPrincipal, user: AdminUserRecord, what: string): void {
    if (user.id === principal.userId)
      throw gatewayError('rbac.forbidden', { params: { role: principal.role, action: `${what} your own account` } });
    if (user.role === 'owner' && principal.role !== 'owner')
      throw gatewayError('rbac.forbidden', { params: { role: principal.role, action: `${what} an owner` } });
  }

  async function teamInTenant(principal: AdminPrincipal, teamId: string | null, path: string): Promise<string | null> {
    if (teamId === null) {
      if (isTeamBound(principal.role)) throw invalid(path, 'must be your own team');
      return null;
    }
    if (isTeamBound(principal.role) && teamId !== principal.teamId) throw invalid(path, 'must be your own team');
    if ((await deps.store.getTeam(principal.tenantId, teamId)) === undefined)
      throw invalid(path, 'no such team in your tenant');
    return teamId;
  }

  return [
    {
      method: 'GET',
      path: '/admin/v1/users',
      auth: 'principal',
      action: 'user.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        if (isTeamBound(principal.role) && principal.teamId === null) return { status: 200, body: { data: [] } };
        const users = await deps.store.listAdminUsers(
          isTeamBound(principal.role)
            ? { tenantId: principal.tenantId, teamId: principal.teamId! }
            : { tenantId: principal.tenantId },
        );
        return { status: 200, body: { data: users.map(adminUserView) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/users',
      auth: 'principal',
      action: 'user.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['email', 'role', 'team_id']);
        if (body.email === undefined) throw invalid('email', 'is required');
        if (body.role === undefined) throw invalid('role', 'is required');
        const email = normaliseEmail(expectString(body.email, 'email', { minLength: 3, maxLength: 254 }));
        const bad = emailProblem(email);
        if (bad !== undefined) throw invalid('email', bad);
        const role = expectEnum(body.role, 'role', ADMIN_ROLES) as AdminRole;
        assertRoleAssignable(principal, role);
        const teamId = await teamInTenant(
          principal,
          body.team_id === undefined ? null : optionalId(body.team_id, 'team_id'),
          'team_id',
        );
        assertAuditWritable(deps);
        let created: Awaited<ReturnType<typeof identity.accounts.create>>;
        try {
          created = await identity.accounts.create({ tenantId: principal.tenantId, teamId, email, role });
        } catch (err) {
          if (err instanceof StoreConflictError)
            throw gatewayError('resource.conflict', {
              params: { resource: 'user', detail: 'an admin with this email already exists' },
            });
          throw err;
        }
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'admin_user.create', created.user.id, { email, role, team: teamId }),
          () => identity.accounts.disable(created.user.id),
        );
        return {
          status: 201,
          body: {
            user: adminUserView(created.user),
            enrolment_token: created.enrolmentToken,
            enrolment_expires_at: created.enrolmentExpiresAt,
          },
        };
      },
    },
    {
      method: 'PATCH',
      path: '/admin/v1/users/:userId',
      auth: 'principal',
      action: 'user.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['role', 'team_id']);
        const user = await loadInScope(principal, req.params.userId!);
        assertMayManage(principal, user, 'change');
        const patch: { role?: string; teamId?: string | null } = {};
        if (body.role !== undefined) {
          const role = expectEnum(body.role, 'role', ADMIN_ROLES) as AdminRole;
          assertRoleAssignable(principal, role);
          patch.role = role;
        }
        if (body.team_id !== undefined)
          patch.teamId = await teamInTenant(principal, optionalId(body.team_id, 'team_id'), 'team_id');
        if (Object.keys(patch).length === 0) throw invalid('', 'nothing to change: send role and/or team_id');
        assertAuditWritable(deps);
        const before: AdminUserPatch = { role: user.role, teamId: user.teamId };
        await deps.store.updateAdminUser(user.id, patch);
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'admin_user.update', user.id, {
            role_before: user.role,
            role: patch.role ?? user.role,
            team_before: user.teamId,
            team: patch.teamId === undefined ? user.teamId : patch.teamId,
          }),
          () => deps.store.updateAdminUser(user.id, before),
        );
        const after = await deps.store.getAdminUser(user.id);
        return { status: 200, body: { user: adminUserView(after ?? user) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/users/:userId/disable',
      auth: 'principal',
      action: 'user.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const user = await loadInScope(principal, req.params.userId!);
        assertMayManage(principal, user, 'disable');
        if (user.disabledAt !== null)
          throw gatewayError('resource.conflict', { params: { resource: 'user', detail: 'it is already disabled' } });
        assertAuditWritable(deps);
        await identity.accounts.disable(user.id);
        // Not undone when the record fails: leaving an account enabled is the unsafe direction.
        await recordChange(deps, adminAuditEntry(req, principal, 'admin_user.disable', user.id));
        return { status: 200, body: { user: adminUserView((await deps.store.getAdminUser(user.id)) ?? user) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/users/:userId/reset-mfa',
      auth: 'principal',
      action: 'user.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const user = await loadInScope(principal, req.params.userId!);
        assertMayManage(principal, user, 'reset MFA of');
        if (user.disabledAt !== null)
          throw gatewayError('resource.conflict', { params: { resource: 'user', detail: 'it is disabled' } });
        assertAuditWritable(deps);
        const enrolment = await identity.accounts.resetMfaByEnrolment(user.id);
        await recordChange(deps, adminAuditEntry(req, principal, 'admin_user.reset_mfa', user.id));
        return {
          status: 200,
          body: { enrolment_token: enrolment.enrolmentToken, enrolment_expires_at: enrolment.enrolmentExpiresAt },
        };
      },
    },
  ];
}
