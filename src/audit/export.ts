/**
 * Export of audit records by time range, as JSON Lines (one record per line, exact values) or
 * CSV (RFC 4180 quoting; a cell that a spreadsheet would run as a formula gets a leading `'`).
 */
import type { DatabaseSync } from 'node:sqlite';
import { RECORD_COLUMNS, toRecord } from './rows.ts';
import type { AuditRecord } from './types.ts';

export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

export interface ExportRange {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

const ISO_INPUT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses `--from`/`--to`; returns an error message naming the flag when the range is unusable. */
export function parseExportRange(from: string | undefined, to: string | undefined): ExportRange | string {
  const f = parseTime(from, '--from');
  if (typeof f === 'string') return f;
  const t = parseTime(to, '--to');
  if (typeof t === 'string') return t;
  if (t.getTime() <= f.getTime()) return `--to (${t.toISOString()}) must be later than --from (${f.toISOString()})`;
  return { from: f, to: t };
}

function parseTime(value: string | undefined, flag: string): Date | string {
  if (value === undefined)
    return `${flag} is required (an ISO-8601 date or time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z)`;
  if (!ISO_INPUT.test(value))
    return `${flag} "${value.slice(0, 64)}" is not an ISO-8601 date or time with a zone (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)`;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return `${flag} "${value}" is not a valid date`;
  return d;
}

export const CSV_HEADER = [
  'seq',
  'time',
  'actor_kind',
  'actor_id',
  'actor_tenant',
  'action',
  'target',
  'decision',
  'reason',
  'request_id',
  'metadata',
  'prev_hash',
  'hash',
];

/** Writes the records in the range, oldest first; returns how many were written. */
export function exportAuditRecords(
  db: DatabaseSync,
  range: ExportRange,
  format: ExportFormat,
  write: (chunk: string) => void,
): number {
  const rows = db
    .prepare(`SELECT ${RECORD_COLUMNS} FROM audit_records WHERE time >= ? AND time < ? ORDER BY seq`)
    .iterate(range.from.toISOString(), range.to.toISOString());
  if (format === 'csv') write(`${CSV_HEADER.join(',')}\r\n`);
  let n = 0;
  for (const row of rows) {
    const r = toRecord(row);
    write(format === 'csv' ? csvLine(r) : `${JSON.stringify(jsonView(r))}\n`);
    n++;
  }
  return n;
}

export function jsonView(r: AuditRecord) {
  return {
    ...(r.chain === undefined ? {} : { chain: r.chain }),
    seq: r.seq,
    time: r.time,
    actor: { kind: r.actorKind, id: r.actorId, tenant: r.actorTenant },
    action: r.action,
    target: r.target,
    decision: r.decision,
    reason: r.reason,
    request_id: r.requestId,
    metadata: JSON.parse(r.metadata) as unknown,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

/** PostgreSQL exports lead with the chain each record belongs to. */
export const CHAIN_CSV_HEADER = ['chain', ...CSV_HEADER];

export function csvLine(r: AuditRecord): string {
  const cells = [
    ...(r.chain === undefined ? [] : [r.chain]),
    r.seq,
    r.time,
    r.actorKind,
    r.actorId,
    r.actorTenant,
    r.action,
    r.target,
    r.decision,
    r.reason,
    r.requestId,
    r.metadata,
    r.prevHash,
    r.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function csvCell(v: string | number | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== String(v) ? `"${s.replace(/"/g, '""')}"` : s;
}
