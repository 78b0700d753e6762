/**
 * Who reaches which prompt API in the admin API, shared by the API and subscription routes.
 * Tenant-wide roles reach every API of the tenant; team managers and developers see tenant-wide
 * APIs and their own team's, and change only their own team's: an API they cannot see answers
 * 404 (like one that does not exist), one they see but do not own 403. Changes go through
 * src/apis/service.ts with the caller's audit entry.
 */
import { createApiService } from '../../apis/service.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { PromptApiRecord } from '../../store/prompt-api-records.ts';
import { expectString, invalid, type Json } from '../../surfaces/validation.ts';
import { isTeamBound, notFound } from '../rbac.ts';
import type { AdminPrincipal, AdminRequest } from '../types.ts';
import {
  type AdminResourceDeps,
  adminAuditEntry,
  assertAuditWritable,
  nowOf,
  principalOf,
  recordChange,
} from './deps.ts';

const MAX_REASON = 500;

export function visible(principal: AdminPrincipal, api: PromptApiRecord): boolean {
  return !isTeamBound(principal.role) || api.visibility === 'tenant' || principal.teamId === api.ownerTeamId;
}

export function owns(principal: AdminPrincipal, api: PromptApiRecord): boolean {
  return !isTeamBound(principal.role) || (principal.teamId !== null && principal.teamId === api.ownerTeamId);
}

export function reasonText(v: Json, path: string): string {
  const s = expectString(v, path, { minLength: 1, maxLength: MAX_REASON }).trim();
  if (s === '' || /[\u0000-\u001f\u007f]/.test(s))
    throw invalid(path, 'must be 1-500 characters without control characters');
  return s;
}

export const actorOf = (p: AdminPrincipal) => ({ id: p.userId, teamId: p.teamId });

export function createApiAccess(deps: AdminResourceDeps) {
  const models = deps.gatewayConfig?.models;
  return {
    /** The change service, recording each change as this admin call's audit entry. */
    serviceFor: (req: AdminRequest, principal: AdminPrincipal) =>
      createApiService({
        store: deps.store,
        knownModel: (name) => models?.has(name) ?? false,
        events: deps.events ?? { emit() {} },
        now: () => nowOf(deps),
        record: async (action, target, metadata) => {
          assertAuditWritable(deps);
          await recordChange(deps, adminAuditEntry(req, principal, action, target, metadata));
        },
      }),

    /** The `:apiId` API if the caller sees it (404 otherwise); with 'own', only its owner (403). */
    async loadApi(
      req: AdminRequest,
      mode: 'read' | 'own',
    ): Promise<{ principal: AdminPrincipal; api: PromptApiRecord }> {
      const principal = principalOf(req);
      const id = req.params.apiId ?? '';
      const api = await deps.store.getPromptApi(principal.tenantId, id);
      if (api === undefined || !visible(principal, api)) throw notFound('api', id);
      if (mode === 'own' && !owns(principal, api))
        throw gatewayError('rbac.forbidden', {
          params: { role: principal.role, action: `change API ${api.name} (owned by another team)` },
        });
      return { principal, api };
    },
  };
}
