/** Mapping between store records and SQLite rows (snake_case columns, 0/1 booleans, JSON lists). */
import type { SQLInputValue, SQLOutputValue } from 'node:sqlite';
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

type Row = Record<string, SQLOutputValue>;

export function requestParams(r: RequestRecord): SQLInputValue[] {
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
    r.stream ? 1 : 0,
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
    r.usageEstimated ? 1 : 0,
    r.cacheWriteTokens ?? null,
    guardParam(r.guardDetectors),
    decisionInputsParam(r.decisionInputs),
    r.api ?? null,
    policyVersionParam(r.policyVersion),
  ];
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
    stream: row.stream === 1,
    latencyMs: row.latency_ms as number,
    attempts: row.attempts as number,
    promptTokens: row.prompt_tokens as number | null,
    completionTokens: row.completion_tokens as number | null,
    totalTokens: row.total_tokens as number | null,
    teamId: row.team_id as string | null,
    userId: row.user_id as string | null,
    cachedTokens: row.cached_tokens as number | null,
    costMicros: row.cost_micros as number | null,
    priceVersion: row.price_version as string | null,
    usageEstimated: row.usage_estimated === 1,
    cacheWriteTokens: (row.cache_write_tokens ?? null) as number | null,
    guardDetectors: (row.guard_detectors ?? null) as string | null,
    decisionInputs: decisionInputsFromColumn(row.decision_inputs),
    ...(row.api == null ? {} : { api: row.api as string }),
    policyVersion: (row.policy_version ?? null) as number | null,
  };
}

export function apiKeyParams(k: ApiKeyRecord): SQLInputValue[] {
  if (!Array.isArray(k.allowedModels) || !k.allowedModels.every((m) => typeof m === 'string')) {
    throw new TypeError('ApiKeyRecord.allowedModels must be a list of strings');
  }
  return [
    k.id,
    k.tenantId,
    k.label,
    k.prefix,
    k.hash,
    JSON.stringify(k.allowedModels),
    k.createdAt,
    k.expiresAt,
    k.revokedAt,
    k.lastUsedAt,
    k.teamId ?? null,
    k.ownerUserId ?? null,
    k.createdBy ?? null,
    JSON.stringify(k.ipAllowlist ?? []),
    k.allowedEndpoints == null ? null : JSON.stringify(k.allowedEndpoints),
    k.readOnly === true ? 1 : 0,
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
    allowedModels: JSON.parse(row.allowed_models as string) as string[],
    createdAt: row.created_at as string,
    expiresAt: row.expires_at as string | null,
    revokedAt: row.revoked_at as string | null,
    lastUsedAt: row.last_used_at as string | null,
    teamId: (row.team_id ?? null) as string | null,
    ownerUserId: (row.owner_user_id ?? null) as string | null,
    createdBy: (row.created_by ?? null) as string | null,
    ipAllowlist: JSON.parse(row.ip_allowlist as string) as string[],
    allowedEndpoints:
      row.allowed_endpoints === null ? null : (JSON.parse(row.allowed_endpoints as string) as KeyEndpoint[]),
    readOnly: row.read_only === 1,
    rotatedFrom: row.rotated_from as string | null,
    ...(row.client_cert_sha256 == null ? {} : { clientCertSha256: row.client_cert_sha256 as string }),
  };
}
