/**
 * The audit log of the caller's tenant (src/audit/tenant-records.ts decides which records are
 * the tenant's): paged reading as JSON, and export of a time range as JSON Lines or CSV. An
 * export is itself audited before any record leaves, and refused when that record cannot be
 * written. The log is opened read-only; nothing here can change it.
 */
import type { DatabaseSync } from 'node:sqlite';
import { openAuditDatabaseForReading } from '../../audit/database.ts';
import {
  CHAIN_CSV_HEADER,
  CSV_HEADER,
  csvLine,
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportRange,
  jsonView,
} from '../../audit/export.ts';
import {
  readTenantAuditRecords,
  readTenantSecurityRecords,
  type TenantAuditQuery,
} from '../../audit/tenant-records.ts';
import type { AuditRecord } from '../../audit/types.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { invalid } from '../../surfaces/validation.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, adminAuditEntry, nowOf, principalOf, recordChange } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
/** An export larger than this is refused (narrow the range) rather than cut short. */
export const MAX_EXPORT_RECORDS = 100_000;
const DAY_MS = 86_400_000;
const ISO_INPUT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function time(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = ISO_INPUT.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime()))
    throw invalid(
      `query.${name}`,
      'expected an ISO-8601 date or time with a zone, e.g. 2025-01-31 or 2025-01-31T12:00:00Z',
    );
  return d;
}

export function range(q: Map<string, string>, now: Date, required: boolean): ExportRange {
  const from = time(q.get('from'), 'from');
  const to = time(q.get('to'), 'to');
  if (required && from === undefined) throw invalid('query.from', 'is required');
  if (required && to === undefined) throw invalid('query.to', 'is required');
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - DAY_MS);
  if (end.getTime() <= start.getTime()) throw invalid('query.to', 'must be later than from');
  return { from: start, to: end };
}

export function positiveInt(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value) || Number(value) > max || (name === 'limit' && Number(value) < 1)) {
    throw invalid(`query.${name}`, `expected an integer from ${name === 'limit' ? 1 : 0} to ${max}`);
  }
  return Number(value);
}

export function withAuditDb<T>(deps: AdminResourceDeps, fn: (db: DatabaseSync) => T): T {
  let db: DatabaseSync;
  try {
    db = openAuditDatabaseForReading(deps.auditPath);
  } catch (err) {
    throw gatewayError('audit.unavailable', { cause: err });
  }
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * The tenant's records (or only its security records), from whichever backend holds the log:
 * every instance's chain in PostgreSQL, or the SQLite file. `afterSeq` is the paging cursor
 * (`next_after`): a record's seq in the file, its global id across chains in PostgreSQL.
 */
export async function readTenant(
  deps: AdminResourceDeps,
  q: TenantAuditQuery,
  securityOnly: boolean,
): Promise<AuditRecord[]> {
  if (deps.auditReader !== undefined) {
    try {
      return await deps.auditReader.tenantRecords(q, securityOnly);
    } catch (err) {
      throw gatewayError('audit.unavailable', { cause: err });
    }
  }
  return withAuditDb(deps, (db) => (securityOnly ? readTenantSecurityRecords : readTenantAuditRecords)(db, q));
}

/** The paging cursor of the last record shown. */
export function cursorOf(r: AuditRecord): number {
  return r.cursor ?? r.seq;
}

function render(records: readonly AuditRecord[], format: ExportFormat): string {
  if (format === 'jsonl') return records.map((r) => `${JSON.stringify(jsonView(r))}\n`).join('');
  const header = records[0]?.chain === undefined ? CSV_HEADER : CHAIN_CSV_HEADER;
  return `${header.join(',')}\r\n${records.map(csvLine).join('')}`;
}

export function createAuditRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/audit',
      auth: 'principal',
      action: 'audit.read',
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
          false,
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
    {
      method: 'GET',
      path: '/admin/v1/audit/export',
      auth: 'principal',
      action: 'audit.export',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        const q = queryParams(req.query, ['from', 'to', 'format']);
        const r = range(q, nowOf(deps), true);
        const formatText = q.get('format') ?? 'jsonl';
        if (!(EXPORT_FORMATS as readonly string[]).includes(formatText))
          throw invalid('query.format', `expected one of ${EXPORT_FORMATS.join(', ')}`);
        const format = formatText as ExportFormat;
        const records = await readTenant(
          deps,
          { tenantId: principal.tenantId, range: r, limit: MAX_EXPORT_RECORDS + 1 },
          false,
        );
        if (records.length > MAX_EXPORT_RECORDS) {
          throw invalid('query.to', `the range holds more than ${MAX_EXPORT_RECORDS} records; export a shorter range`);
        }
        // Who took a copy of the log is itself in the log, before the copy leaves.
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'audit.export', null, {
            from: r.from.toISOString(),
            to: r.to.toISOString(),
            format,
            records: records.length,
          }),
        );
        const stamp = `${r.from.toISOString().slice(0, 10)}_${r.to.toISOString().slice(0, 10)}`;
        return {
          status: 200,
          headers: {
            'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
            'content-disposition': `attachment; filename="audit_${stamp}.${format}"`,
          },
          body: render(records, format),
        };
      },
    },
  ];
}
