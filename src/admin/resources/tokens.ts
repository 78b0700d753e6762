/**
 * Admin API tokens for automation (`Authorization: Bearer pca_…`), always the caller's own:
 *   POST   /admin/v1/tokens      {label, actions?, expires_in_s?} → the token, shown once
 *   GET    /admin/v1/tokens      the caller's tokens (never the token itself)
 *   DELETE /admin/v1/tokens/:id  revokes one of the caller's tokens
 * A token acts as its user with the user's *current* role, narrowed to `actions` when given; it
 * can never be given an action the creator (or the token used to create it) may not perform.
 */
import { randomUUID } from 'node:crypto';
import { gatewayError } from '../../errors/gateway-error.ts';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../../identity/admin/admin-secrets.ts';
import type { AdminTokenRecord } from '../../store/admin-records.ts';
import { expectArray, expectNumber, expectString, invalid, joinPath } from '../../surfaces/validation.ts';
import { isAdminAction, notFound, principalAllows } from '../rbac.ts';
import type { AdminRoute } from '../types.ts';
import { adminAuditEntry, assertAuditWritable, nowOf, principalOf, recordChange } from './deps.ts';
import { bodyObject, displayName, emptyBody, queryParams } from './input.ts';
import type { AdminIdentityDeps } from './session.ts';

const MAX_EXPIRES_IN_S = 366 * 86_400;
const MAX_TOKENS_PER_USER = 50;

export function adminTokenView(t: AdminTokenRecord) {
  return {
    id: t.id,
    label: t.label,
    prefix: t.prefix,
    actions: t.actions,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    revoked_at: t.revokedAt,
    last_used_at: t.lastUsedAt,
  };
}

export function createTokenRoutes(deps: AdminIdentityDeps): AdminRoute[] {
  const { identity } = deps;
  return [
    {
      method: 'POST',
      path: '/admin/v1/tokens',
      auth: 'principal',
      action: 'token.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['label', 'actions', 'expires_in_s']);
        if (body.label === undefined) throw invalid('label', 'is required');
        const label = displayName(body.label, 'label');
        let actions: string[] | null = null;
        if (body.actions !== undefined) {
          actions = [];
          const items = expectArray(body.actions, 'actions', { minItems: 1, maxItems: 64 });
          items.forEach((item, i) => {
            const p = joinPath('actions', i);
            const a = expectString(item, p, { minLength: 1, maxLength: 64 });
            if (!isAdminAction(a)) throw invalid(p, 'unknown action');
            if (!principalAllows(principal, a)) {
              throw gatewayError('rbac.forbidden', {
                params: { role: principal.role, action: `grant ${a} to a token` },
              });
            }
            if (!actions!.includes(a)) actions!.push(a);
          });
        }
        const now = nowOf(deps);
        const expiresInS =
          body.expires_in_s === undefined
            ? undefined
            : expectNumber(body.expires_in_s, 'expires_in_s', { min: 60, max: MAX_EXPIRES_IN_S, integer: true });
        const active = (await deps.store.listAdminTokens({ userId: principal.userId })).filter(
          (t) => t.revokedAt === null && (t.expiresAt === null || Date.parse(t.expiresAt) > now.getTime()),
        );
        if (active.length >= MAX_TOKENS_PER_USER) {
          throw gatewayError('resource.conflict', {
            params: {
              resource: 'token',
              detail: `at most ${MAX_TOKENS_PER_USER} active tokens per user; revoke one first`,
            },
          });
        }
        const token = newAdminToken();
        const record: AdminTokenRecord = {
          id: `atk_${randomUUID().replaceAll('-', '')}`,
          userId: principal.userId,
          tenantId: principal.tenantId,
          label,
          prefix: tokenDisplayPrefix(token),
          hash: keyedHash(identity.secret, 'admin-token', token),
          actions,
          createdAt: now.toISOString(),
          expiresAt: expiresInS === undefined ? null : new Date(now.getTime() + expiresInS * 1000).toISOString(),
          revokedAt: null,
          lastUsedAt: null,
        };
        assertAuditWritable(deps);
        await deps.store.insertAdminToken(record);
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'admin_token.create', record.id, {
            prefix: record.prefix,
            actions: actions === null ? null : actions.join(','),
            expires_at: record.expiresAt,
          }),
          () => deps.store.revokeAdminToken(record.id, new Date().toISOString()),
        );
        return { status: 201, body: { token, ...adminTokenView(record) } };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/tokens',
      auth: 'principal',
      action: 'self',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const tokens = await deps.store.listAdminTokens({ userId: principal.userId });
        return {
          status: 200,
          body: { data: tokens.filter((t) => t.tenantId === principal.tenantId).map(adminTokenView) },
        };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/v1/tokens/:tokenId',
      auth: 'principal',
      action: 'token.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const id = req.params.tokenId!;
        const token = await deps.store.getAdminToken(id);
        if (token === undefined || token.userId !== principal.userId || token.tenantId !== principal.tenantId)
          throw notFound('token', id);
        assertAuditWritable(deps);
        const revoked = await deps.store.revokeAdminToken(id, nowOf(deps).toISOString());
        if (!revoked)
          throw gatewayError('resource.conflict', { params: { resource: 'token', detail: 'it is already revoked' } });
        await recordChange(deps, adminAuditEntry(req, principal, 'admin_token.revoke', id, { prefix: token.prefix }));
        return { status: 204 };
      },
    },
  ];
}
