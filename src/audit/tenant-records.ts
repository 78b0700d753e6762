/**
 * One tenant's view of the audit log, for the admin API. A record belongs to a tenant when its
 * actor acted for that tenant (API keys, admin users), or when an operator at the CLI (or the
 * system) acted on that tenant's objects (`metadata.tenant`). Records of other tenants, and
 * anonymous ones (failed authentication), are never returned.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { ExportRange } from './export.ts';
import { RECORD_COLUMNS, toRecord } from './rows.ts';
import type { AuditRecord } from './types.ts';

export interface TenantAuditQuery {
  readonly tenantId: string;
  readonly range: ExportRange;
  /** Only records after this sequence number (paging). */
  readonly afterSeq?: number;
  /** 1..1,000,000. Oldest first. */
  readonly limit: number;
}

/** The one rule of which records are a tenant's; both parameters are the tenant id. */
const TENANT_FILTER = `(actor_tenant = ? OR (actor_kind IN ('cli', 'system') AND json_extract(metadata, '$.tenant') = ?))`;

/**
 * The security records among them: threat alerts (`security.alert`), lockouts and other
 * `auth.*` records, and refused admin logins.
 */
const SECURITY_FILTER = `(action = 'security.alert' OR action LIKE 'auth.%' OR (action = 'admin.login' AND decision = 'refused'))`;

function readTenant(db: DatabaseSync, q: TenantAuditQuery, extra: string): AuditRecord[] {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1_000_000)
    throw new RangeError('limit must be an integer from 1 to 1000000');
  const rows = db
    .prepare(
      `SELECT ${RECORD_COLUMNS} FROM audit_records
     WHERE time >= ? AND time < ? AND seq > ?
       AND ${TENANT_FILTER}${extra}
     ORDER BY seq LIMIT ?`,
    )
    .all(q.range.from.toISOString(), q.range.to.toISOString(), q.afterSeq ?? 0, q.tenantId, q.tenantId, q.limit);
  return rows.map(toRecord);
}

export function readTenantAuditRecords(db: DatabaseSync, q: TenantAuditQuery): AuditRecord[] {
  return readTenant(db, q, '');
}

/** The tenant's security records only (the admin API's security events view). */
export function readTenantSecurityRecords(db: DatabaseSync, q: TenantAuditQuery): AuditRecord[] {
  return readTenant(db, q, ` AND ${SECURITY_FILTER}`);
}
