/** Mapping between store records and PostgreSQL rows (snake_case columns, BIGINT read back as text, TEXT[] model lists). */

import {
  API_KEY_COLUMNS,
  costParam,
  decisionInputsFromColumn,
  decisionInputsParam,
  guardParam,
  policyVersionParam,
  REQUEST_COLUMNS,
  timeMs,
} from '../row-columns.ts';
import type { ApiKeyRecord, KeyEndpoint, RequestRecord } from '../store.ts';

export { API_KEY_COLUMNS, REQUEST_COLUMNS, timeMs };

type Row = Record<string, unknown>;

export function requestParams(r: RequestRecord): unknown[] {
  return [
    r.id,
    r.time,
    timeMs(r.time, 'RequestRecord.time'),
    r.tenantId,
    r.keyId,
    r.surface,
    r.operation,
    r.model,
    r.provider,
    r.targetModel,
    r.status,
    r.errorCode,
    r.stream,
    r.latencyMs,
    r.attempts,
    r.promptTokens,
    r.completionTokens,
    r.totalTokens,
    r.teamId,
    r.userId,
    r.cachedTokens,
    costParam(r.costMicros),
    r.priceVersion,
    r.usageEstimated === true,
    r.cacheWriteTokens ?? null,
    guardParam(r.guardDetectors),
    decisionInputsParam(r.decisionInputs),
    r.api ?? null,
    policyVersionParam(r.policyVersion),
  ];
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
    cacheWriteTokens: bigint(row.cache_write_tokens),
    guardDetectors: (row.guard_detectors ?? null) as string | null,
    decisionInputs: decisionInputsFromColumn(row.decision_inputs),
    ...(row.api == null ? {} : { api: row.api as string }),
    policyVersion: bigint(row.policy_version),
  };
}

export function apiKeyParams(k: ApiKeyRecord): unknown[] {
  if (!Array.isArray(k.allowedModels) || !k.allowedModels.every((m) => typeof m === 'string')) {
    throw new TypeError('ApiKeyRecord.allowedModels must be a list of strings');
  }
  return [
    k.id,
    k.tenantId,
    k.label,
    k.prefix,
    k.hash,
    [...k.allowedModels],
    k.createdAt,
    k.expiresAt,
    k.revokedAt,
    k.lastUsedAt,
    k.teamId ?? null,
    k.ownerUserId ?? null,
    k.createdBy ?? null,
    [...(k.ipAllowlist ?? [])],
    k.allowedEndpoints == null ? null : [...k.allowedEndpoints],
    k.readOnly === true,
    k.rotatedFrom ?? null,
    k.clientCertSha256 ?? null,
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
