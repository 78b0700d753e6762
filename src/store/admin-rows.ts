/**
 * What both store backends agree on about admin rows (src/store/admin-records.ts): the columns
 * of admin users and tokens, the patchable fields, and how a row becomes a record. Each
 * backend's admin-methods.ts adds its own SQL and list encoding.
 */
import type { AdminSessionRecord, AdminTokenRecord, AdminUserPatch, AdminUserRecord } from './admin-records.ts';

type Row = Record<string, unknown>;

export const USER_COLUMNS = [
  'id',
  'tenant_id',
  'team_id',
  'email',
  'role',
  'password_hash',
  'totp_secret',
  'totp_last_step',
  'enrolment_hash',
  'enrolment_expires_at',
  'created_at',
  'disabled_at',
] as const;
export const TOKEN_COLUMNS = [
  'id',
  'user_id',
  'tenant_id',
  'label',
  'prefix',
  'hash',
  'actions',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
] as const;
// Patchable fields → columns; only these fixed fragments are ever joined into an UPDATE.
export const PATCH_COLUMNS: ReadonlyArray<readonly [keyof AdminUserPatch, string]> = [
  ['role', 'role'],
  ['teamId', 'team_id'],
  ['passwordHash', 'password_hash'],
  ['totpSecret', 'totp_secret'],
  ['totpLastStep', 'totp_last_step'],
  ['enrolmentHash', 'enrolment_hash'],
  ['enrolmentExpiresAt', 'enrolment_expires_at'],
  ['disabledAt', 'disabled_at'],
];

export function userFromRow(row: Row): AdminUserRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    teamId: row.team_id as string | null,
    email: row.email as string,
    role: row.role as string,
    passwordHash: row.password_hash as string | null,
    totpSecret: row.totp_secret as string | null,
    totpLastStep: Number(row.totp_last_step),
    enrolmentHash: row.enrolment_hash as string | null,
    enrolmentExpiresAt: row.enrolment_expires_at as string | null,
    createdAt: row.created_at as string,
    disabledAt: row.disabled_at as string | null,
  };
}

/** `decodeList` turns the backend's stored list (SQLite JSON text, PostgreSQL array) into an array. */
export function tokenFromRow(row: Row, decodeList: (stored: unknown) => string[]): AdminTokenRecord {
  return {
    id: row.id as string,
    userId: row.user_id as string,
    tenantId: row.tenant_id as string,
    label: row.label as string,
    prefix: row.prefix as string,
    hash: row.hash as string,
    actions: row.actions === null ? null : decodeList(row.actions),
    createdAt: row.created_at as string,
    expiresAt: row.expires_at as string | null,
    revokedAt: row.revoked_at as string | null,
    lastUsedAt: row.last_used_at as string | null,
  };
}

export function sessionFromRow(row: Row): AdminSessionRecord {
  return {
    idHash: row.id_hash as string,
    userId: row.user_id as string,
    tenantId: row.tenant_id as string,
    createdMs: Number(row.created_ms),
    lastSeenMs: Number(row.last_seen_ms),
  };
}

export function checkStep(step: number, what: string): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new TypeError(`${what} must be a non-negative integer`);
}
