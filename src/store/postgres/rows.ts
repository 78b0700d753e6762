/** Mapping between store records and PostgreSQL rows (snake_case columns, BIGINT read back as text, TEXT[] model lists). */
import type { ApiKeyRecord, KeyEndpoint, RequestRecord } from '../store.ts';

type Row = Record<string, unknown>;

export const REQUEST_COLUMNS = [
  'id', 'time', 'time_ms', 'tenant_id', 'key_id', 'surface', 'operation', 'model', 'provider', 'target_model',
  'status', 'error_code', 'stream', 'latency_ms', 'attempts', 'prompt_tokens', 'completion_tokens', 'total_tokens',
  'team_id', 'user_id', 'cached_tokens', 'cost_micros', 'price_version', 'usage_estimated',
] as const;

export const API_KEY_COLUMNS = [
  'id', 'tenant_id', 'label', 'prefix', 'hash', 'allowed_models', 'created_at', 'expires_at', 'revoked_at', 'last_used_at',
  'team_id', 'owner_user_id', 'created_by',
  'ip_allowlist', 'allowed_endpoints', 'read_only', 'rotated_from', 'client_cert_sha256',
] as const;

/** Milliseconds since the epoch of an ISO-8601 time; throws on anything unparseable. */
export function timeMs(iso: string, what: string): number {
  const ms = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${what} must be an ISO-8601 time`);
  return ms;
}

export function requestParams(r: RequestRecord): unknown[] {
  return [
    r.id, r.time, timeMs(r.time, 'RequestRecord.time'), r.tenantId, r.keyId, r.surface, r.operation, r.model, r.provider,
    r.targetModel, r.status, r.errorCode, r.stream, r.latencyMs, r.attempts, r.promptTokens, r.completionTokens,
    r.totalTokens, r.teamId, r.userId, r.cachedTokens, costParam(r.costMicros), r.priceVersion, r.usageEstimated === true,
  ];
}

/** Money must be whole micro-dollars: a float here would be a bug upstream, not a value to round. */
function costParam(v: number | null): number | null {
  if (v !== null && !Number.isSafeInteger(v)) throw new TypeError('RequestRecord.costMicros must be an integer number of micro-dollars');
  return v;
}

/** BIGINT arrives as a string (it may exceed 2^53 in general); token counts stay far below. */
function bigint(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function requestFromRow(row: Row): RequestRecord {
  return {
    id: row.id as string,
    time: row.time as string,
    tenantId: row.tenant_id as string,
    keyId: row.key_id as string | null,
    surface: row.surface as RequestRecord['surface'],
    operation: row.operation as RequestRecord['operation'],
    model: row.model as string | null,
    provider: row.provider as string | null,
    targetModel: row.target_model as string | null,
    status: row.status as number,
    errorCode: row.error_code as string | null,
    stream: row.stream === true,
    latencyMs: row.latency_ms as number,
    attempts: row.attempts as number,
    promptTokens: bigint(row.prompt_tokens),
    completionTokens: bigint(row.completion_tokens),
    totalTokens: bigint(row.total_tokens),
    teamId: row.team_id as string | null,
    userId: row.user_id as string | null,
    cachedTokens: bigint(row.cached_tokens),
    costMicros: bigint(row.cost_micros),
    priceVersion: row.price_version as string | null,
    usageEstimated: row.usage_estimated === true,
  };
}

export function apiKeyParams(k: ApiKeyRecord): unknown[] {
  if (!Array.isArray(k.allowedModels) || !k.allowedModels.every((m) => typeof m === 'string')) {
    throw new TypeError('ApiKeyRecord.allowedModels must be a list of strings');
  }
  return [
    k.id, k.tenantId, k.label, k.prefix, k.hash, [...k.allowedModels], k.createdAt, k.expiresAt, k.revokedAt, k.lastUsedAt,
    k.teamId ?? null, k.ownerUserId ?? null, k.createdBy ?? null,
    [...(k.ipAllowlist ?? [])], k.allowedEndpoints == null ? null : [...k.allowedEndpoints], k.readOnly === true,
    k.rotatedFrom ?? null, k.clientCertSha256 ?? null,
  ];
}

export function apiKeyFromRow(row: Row): ApiKeyRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    label: row.label as string,
    prefix: row.prefix as string,
    hash: row.hash as string,
    allowedModels: row.allowed_models as string[],
    createdAt: row.created_at as string,
    expiresAt: row.expires_at as string | null,
    revokedAt: row.revoked_at as string | null,
    lastUsedAt: row.last_used_at as string | null,
    teamId: (row.team_id ?? null) as string | null,
    ownerUserId: (row.owner_user_id ?? null) as string | null,
    createdBy: (row.created_by ?? null) as string | null,
    ipAllowlist: row.ip_allowlist as string[],
    allowedEndpoints: row.allowed_endpoints as KeyEndpoint[] | null,
    readOnly: row.read_only === true,
    rotatedFrom: row.rotated_from as string | null,
    ...(row.client_cert_sha256 == null ? {} : { clientCertSha256: row.client_cert_sha256 as string }),
  };
}

/** `($1, $2, …), ($n+1, …)`: placeholders only; the values travel as parameters. */
export function placeholderRows(rows: number, columns: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 1; c <= columns; c++) cells.push(`$${r * columns + c}`);
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}
