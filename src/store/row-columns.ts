/**
 * What both store backends agree on about rows: the column order of request records and API
 * keys, and the checks values pass before they are bound. Each backend's rows.ts adds its own
 * value encoding (SQLite 0/1 and JSON lists; PostgreSQL booleans, arrays and BIGINT text).
 */

import { assertDecisionInputs, type DecisionInputs } from '../policy/decision-inputs.ts';

export const REQUEST_COLUMNS = [
  'id',
  'time',
  'time_ms',
  'tenant_id',
  'key_id',
  'surface',
  'operation',
  'model',
  'provider',
  'target_model',
  'status',
  'error_code',
  'stream',
  'latency_ms',
  'attempts',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'team_id',
  'user_id',
  'cached_tokens',
  'cost_micros',
  'price_version',
  'usage_estimated',
  'cache_write_tokens',
  'guard_detectors',
  'decision_inputs',
  'api',
  'policy_version',
] as const;

export const API_KEY_COLUMNS = [
  'id',
  'tenant_id',
  'label',
  'prefix',
  'hash',
  'allowed_models',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
  'team_id',
  'owner_user_id',
  'created_by',
  'ip_allowlist',
  'allowed_endpoints',
  'read_only',
  'rotated_from',
  'client_cert_sha256',
] as const;

/** Milliseconds since the epoch of an ISO-8601 time; throws on anything unparseable. */
export function timeMs(iso: string, what: string): number {
  const ms = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${what} must be an ISO-8601 time`);
  return ms;
}

const GUARD_LIST =
  /^[a-z_]+(:[a-z0-9_-]+)?:(block|redact|flag|error)(,[a-z_]+(:[a-z0-9_-]+)?:(block|redact|flag|error))*$/;

/** Guard detectors that fired, `pii:redact,deny_list:competitors:block`: names and actions only, never text. */
export function guardParam(v: string | null | undefined): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (v.length > 1024 || !GUARD_LIST.test(v))
    throw new TypeError('RequestRecord.guardDetectors must be a comma-separated detector:action list');
  return v;
}

/** Decision inputs as stored: checked JSON text (src/policy/decision-inputs.ts), or null. */
export function decisionInputsParam(v: DecisionInputs | null | undefined): string | null {
  if (v === undefined || v === null) return null;
  return JSON.stringify(assertDecisionInputs(v));
}

/** Stored text back to decision inputs; a row that does not check out is read as none (not replayable). */
export function decisionInputsFromColumn(v: unknown): DecisionInputs | null {
  if (typeof v !== 'string') return null;
  try {
    return assertDecisionInputs(JSON.parse(v));
  } catch {
    return null;
  }
}

/** The live policy version a request ran under: a positive integer, or null (none loaded, or an older record). */
export function policyVersionParam(v: number | null | undefined): number | null {
  if (v === undefined || v === null) return null;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new TypeError('RequestRecord.policyVersion must be a positive integer policy version number');
  return v;
}

/** Money must be whole micro-dollars: a float here would be a bug upstream, not a value to round. */
export function costParam(v: number | null): number | null {
  if (v !== null && !Number.isSafeInteger(v))
    throw new TypeError('RequestRecord.costMicros must be an integer number of micro-dollars');
  return v;
}
