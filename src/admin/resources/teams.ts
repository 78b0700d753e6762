/**
 * Teams of the caller's tenant. Owners and admins manage every team; team managers see only
 * their own team, and any other team id answers 404, like one that does not exist.
 */
import { randomUUID } from 'node:crypto';
import { gatewayError } from '../../errors/gateway-error.ts';
import { StoreConflictError } from '../../store/store.ts';
import type { TeamPatch, TeamRecord } from '../../store/tenancy.ts';
import { assertTeamScope, isTeamBound, notFound } from '../rbac.ts';
import type { AdminPrincipal, AdminRoute } from '../types.ts';
import {
  type AdminResourceDeps,
  adminAuditEntry,
  assertAuditWritable,
  nowOf,
  principalOf,
  recordChange,
} from './deps.ts';
import { bodyObject, cidrList, displayName, emptyBody, queryParams } from './input.ts';

export function teamView(t: TeamRecord) {
  return { id: t.id, tenant_id: t.tenantId, name: t.name, ip_allowlist: [...t.ipAllowlist], created_at: t.createdAt };
}

function nameTaken(): Error {
  return gatewayError('resource.conflict', {
    params: { resource: 'team', detail: 'a team of this name already exists' },
  });
}

/** The team, if it exists in the principal's tenant and reach; otherwise 404. */
export async function loadTeamInScope(
  deps: AdminResourceDeps,
  principal: AdminPrincipal,
  teamId: string,
): Promise<TeamRecord> {
  // Scope before the lookup: a team-bound caller learns nothing about other teams' ids.
  assertTeamScope(principal, teamId, 'team', teamId);
  const team = await deps.store.getTeam(principal.tenantId, teamId);
  if (team === undefined) throw notFound('team', teamId);
  return team;
}

export function createTeamRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/teams',
      auth: 'principal',
      action: 'team.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const teams = await deps.store.listTeams(principal.tenantId);
        const visible = isTeamBound(principal.role) ? teams.filter((t) => t.id === principal.teamId) : teams;
        return { status: 200, body: { data: visible.map(teamView) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/teams',
      auth: 'principal',
      action: 'team.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['name', 'ip_allowlist']);
        if (body.name === undefined)
          throw gatewayError('request.invalid', { params: { path: 'name', detail: 'is required' }, param: 'name' });
        const team: TeamRecord = {
          id: `team_${randomUUID()}`,
          tenantId: principal.tenantId,
          name: displayName(body.name, 'name'),
          ipAllowlist: body.ip_allowlist === undefined ? [] : cidrList(body.ip_allowlist, 'ip_allowlist'),
          createdAt: nowOf(deps).toISOString(),
        };
        assertAuditWritable(deps);
        try {
          await deps.store.insertTeam(team);
        } catch (err) {
          if (err instanceof StoreConflictError) throw nameTaken();
          throw err;
        }
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'team.create', team.id, {
            name: team.name,
            ip_allowlist: team.ipAllowlist.join(',').slice(0, 500),
          }),
          () => deps.store.deleteTeam(principal.tenantId, team.id),
        );
        return { status: 201, body: teamView(team) };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/teams/:teamId',
      auth: 'principal',
      action: 'team.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        return { status: 200, body: teamView(await loadTeamInScope(deps, principal, req.params.teamId ?? '')) };
      },
    },
    {
      method: 'PATCH',
      path: '/admin/v1/teams/:teamId',
      auth: 'principal',
      action: 'team.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const before = await loadTeamInScope(deps, principal, req.params.teamId ?? '');
        const body = bodyObject(req.body, ['name', 'ip_allowlist']);
        const patch: { name?: string; ipAllowlist?: string[] } = {};
        if (body.name !== undefined) patch.name = displayName(body.name, 'name');
        if (body.ip_allowlist !== undefined) patch.ipAllowlist = cidrList(body.ip_allowlist, 'ip_allowlist');
        if (Object.keys(patch).length === 0) return { status: 200, body: teamView(before) };
        assertAuditWritable(deps);
        let after: TeamRecord | undefined;
        try {
          after = await deps.store.updateTeam(principal.tenantId, before.id, patch);
        } catch (err) {
          if (err instanceof StoreConflictError) throw nameTaken();
          throw err;
        }
        if (after === undefined) throw notFound('team', before.id);
        const restore: TeamPatch = { name: before.name, ipAllowlist: before.ipAllowlist };
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'team.update', before.id, {
            old_name: before.name,
            name: after.name,
            old_ip_allowlist: before.ipAllowlist.join(',').slice(0, 500),
            ip_allowlist: after.ipAllowlist.join(',').slice(0, 500),
          }),
          () => deps.store.updateTeam(principal.tenantId, before.id, restore),
        );
        return { status: 200, body: teamView(after) };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/v1/teams/:teamId',
      auth: 'principal',
      action: 'team.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const team = await loadTeamInScope(deps, principal, req.params.teamId ?? '');
        assertAuditWritable(deps);
        const outcome = await deps.store.deleteTeam(principal.tenantId, team.id);
        if (outcome === 'not_found') throw notFound('team', team.id);
        if (outcome === 'in_use') {
          throw gatewayError('resource.conflict', {
            params: {
              resource: 'team',
              detail: 'the team still has active keys or members; revoke or move them first',
            },
          });
        }
        await recordChange(deps, adminAuditEntry(req, principal, 'team.delete', team.id, { name: team.name }), () =>
          deps.store.insertTeam(team),
        );
        return { status: 204 };
      },
    },
  ];
}
