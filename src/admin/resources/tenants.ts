/**
 * The caller's own tenant: read it, rename it. Tenants are created and suspended by operators
 * (`portcullis tenants`), never through the admin API, and no route lists tenants: an id other
 * than the caller's tenant answers 404 as if it did not exist.
 */
import type { TenantRecord } from '../../store/tenancy.ts';
import { assertSameTenant, notFound } from '../rbac.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, adminAuditEntry, assertAuditWritable, principalOf, recordChange } from './deps.ts';
import { bodyObject, displayName, emptyBody, queryParams } from './input.ts';

export function tenantView(t: TenantRecord) {
  return { id: t.id, name: t.name, status: t.status, created_at: t.createdAt };
}

export function createTenantRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/tenants/:tenantId',
      auth: 'principal',
      action: 'tenant.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const id = req.params.tenantId ?? '';
        assertSameTenant(principal, id, 'tenant', id);
        const tenant = await deps.store.getTenant(principal.tenantId);
        if (tenant === undefined) throw notFound('tenant', id);
        return { status: 200, body: tenantView(tenant) };
      },
    },
    {
      method: 'PATCH',
      path: '/admin/v1/tenants/:tenantId',
      auth: 'principal',
      action: 'tenant.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const id = req.params.tenantId ?? '';
        assertSameTenant(principal, id, 'tenant', id);
        const body = bodyObject(req.body, ['name']);
        const name = body.name === undefined ? undefined : displayName(body.name, 'name');
        const before = await deps.store.getTenant(principal.tenantId);
        if (before === undefined) throw notFound('tenant', id);
        if (name === undefined || name === before.name) return { status: 200, body: tenantView(before) };
        assertAuditWritable(deps);
        const after = await deps.store.updateTenant(principal.tenantId, { name });
        if (after === undefined) throw notFound('tenant', id);
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'tenant.update', after.id, { old_name: before.name, name: after.name }),
          () => deps.store.updateTenant(principal.tenantId, { name: before.name }),
        );
        return { status: 200, body: tenantView(after) };
      },
    },
  ];
}
