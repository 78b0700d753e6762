/**
 * The security events of the caller's tenant: threat detection alerts (`security.alert`),
 * lockouts and other `auth.*` records, refused admin logins. The audit log is the source (the
 * bus itself keeps nothing), so what is shown is what was recorded, tamper-evident, and the
 * same tenant rule applies as for the audit routes (src/audit/tenant-records.ts).
 */
import { jsonView } from '../../audit/export.ts';
import type { AdminRoute } from '../types.ts';
import { cursorOf, DEFAULT_PAGE, MAX_PAGE, positiveInt, range, readTenant } from './audit.ts';
import { type AdminResourceDeps, nowOf, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

export function createSecurityEventRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/security-events',
      auth: 'principal',
      action: 'security_event.read',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        const q = queryParams(req.query, ['from', 'to', 'after', 'limit']);
        const r = range(q, nowOf(deps), false);
        const limit = positiveInt(q.get('limit'), 'limit', MAX_PAGE) ?? DEFAULT_PAGE;
        const afterSeq = positiveInt(q.get('after'), 'after', Number.MAX_SAFE_INTEGER) ?? 0;
        const records = await readTenant(
          deps,
          { tenantId: principal.tenantId, range: r, afterSeq, limit: limit + 1 },
          true,
        );
        const page = records.slice(0, limit);
        return {
          status: 200,
          body: {
            from: r.from.toISOString(),
            to: r.to.toISOString(),
            data: page.map(jsonView),
            next_after: records.length > limit ? cursorOf(page[page.length - 1]!) : null,
          },
        };
      },
    },
  ];
}
