/**
 * Column lists and row mapping of the prompt-API tables, shared by both backends (every column
 * is text or an integer; PostgreSQL BIGINTs arrive as strings and are converted here).
 */
import type {
  ApiPathRecord,
  ApiSubscriptionRecord,
  PromptApiRecord,
  PromptApiVersionRecord,
} from './prompt-api-records.ts';

type Row = Record<string, unknown>;

export const API_COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'owner_team_id',
  'visibility',
  'description',
  'created_at',
  'created_by',
] as const;

export const VERSION_COLUMNS = [
  'api_id',
  'tenant_id',
  'major',
  'minor',
  'state',
  'definition',
  'created_at',
  'published_at',
  'deprecated_at',
  'sunset_at',
  'retired_at',
  'successor',
] as const;

export const SUBSCRIPTION_COLUMNS = [
  'id',
  'tenant_id',
  'api_id',
  'consumer_team_id',
  'state',
  'reason',
  'plan_rpm',
  'plan_monthly_quota',
  'requested_by',
  'decided_by',
  'decision_reason',
  'created_at',
  'updated_at',
] as const;

export const PATH_COLUMNS = ['path', 'tenant_id', 'api_id', 'major', 'created_at', 'expires_at'] as const;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function apiParams(a: PromptApiRecord): unknown[] {
  return [a.id, a.tenantId, a.name, a.ownerTeamId, a.visibility, a.description, a.createdAt, a.createdBy];
}

export function apiFromRow(row: Row): PromptApiRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    name: row.name as string,
    ownerTeamId: row.owner_team_id as string,
    visibility: row.visibility as PromptApiRecord['visibility'],
    description: row.description as string,
    createdAt: row.created_at as string,
    createdBy: str(row.created_by),
  };
}

export function versionParams(v: PromptApiVersionRecord): unknown[] {
  return [
    v.apiId,
    v.tenantId,
    v.major,
    v.minor,
    v.state,
    v.definition,
    v.createdAt,
    v.publishedAt,
    v.deprecatedAt,
    v.sunsetAt,
    v.retiredAt,
    v.successor,
  ];
}

export function versionFromRow(row: Row): PromptApiVersionRecord {
  return {
    apiId: row.api_id as string,
    tenantId: row.tenant_id as string,
    major: Number(row.major),
    minor: Number(row.minor),
    state: row.state as PromptApiVersionRecord['state'],
    definition: row.definition as string,
    createdAt: row.created_at as string,
    publishedAt: str(row.published_at),
    deprecatedAt: str(row.deprecated_at),
    sunsetAt: str(row.sunset_at),
    retiredAt: str(row.retired_at),
    successor: str(row.successor),
  };
}

export function subscriptionParams(s: ApiSubscriptionRecord): unknown[] {
  return [
    s.id,
    s.tenantId,
    s.apiId,
    s.consumerTeamId,
    s.state,
    s.reason,
    s.planRpm,
    s.planMonthlyQuota,
    s.requestedBy,
    s.decidedBy,
    s.decisionReason,
    s.createdAt,
    s.updatedAt,
  ];
}

export function subscriptionFromRow(row: Row): ApiSubscriptionRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    apiId: row.api_id as string,
    consumerTeamId: row.consumer_team_id as string,
    state: row.state as ApiSubscriptionRecord['state'],
    reason: row.reason as string,
    planRpm: Number(row.plan_rpm),
    planMonthlyQuota: Number(row.plan_monthly_quota),
    requestedBy: row.requested_by as string,
    decidedBy: str(row.decided_by),
    decisionReason: str(row.decision_reason),
    createdAt: row.created_at as string,
    updatedAt: row.updated_at as string,
  };
}

export function pathFromRow(row: Row): ApiPathRecord {
  return {
    path: row.path as string,
    tenantId: row.tenant_id as string,
    apiId: row.api_id as string,
    major: Number(row.major),
    createdAt: row.created_at as string,
    expiresAt: str(row.expires_at),
  };
}

/** Plan numbers must be whole and non-negative: a float or a negative here is a caller bug. */
export function assertPlan(s: Pick<ApiSubscriptionRecord, 'planRpm' | 'planMonthlyQuota'>): void {
  if (!Number.isSafeInteger(s.planRpm) || s.planRpm < 1) throw new TypeError('planRpm must be a positive integer');
  if (!Number.isSafeInteger(s.planMonthlyQuota) || s.planMonthlyQuota < 1)
    throw new TypeError('planMonthlyQuota must be a positive integer');
}
