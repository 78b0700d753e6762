/**
 * OpenAI error answers → UpstreamErrorInfo, following OpenAI's "Error codes" guide. The provider's
 * message and code are kept for the log only; nothing here reaches a client.
 */
import { parseRetryAfter, type UpstreamErrorInfo, type UpstreamErrorKind } from '../contract.ts';
import { isWireObject } from './wire-check.ts';

const CONTENT_POLICY_CODES: ReadonlySet<string> = new Set(['content_filter', 'content_policy_violation']);
/** A 429 that no retry can fix: the account is out of credit. */
const QUOTA_CODES: ReadonlySet<string> = new Set(['insufficient_quota', 'billing_hard_limit_reached']);
const MAX_LOGGED_MESSAGE = 500;

interface ProviderErrorFields {
  readonly message?: string | undefined;
  readonly code?: string | undefined;
  readonly type?: string | undefined;
}

/** `{error:{message,type,param,code}}`; code may be a string, a number or null. */
export function readOpenAiErrorBody(body: unknown): ProviderErrorFields {
  if (typeof body === 'string') return { message: body };
  if (!isWireObject(body)) return {};
  const err = isWireObject(body.error) ? body.error : body;
  return { message: text(err.message), code: text(err.code), type: text(err.type) };
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function truncateForLog(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  return message.length > MAX_LOGGED_MESSAGE ? `${message.slice(0, MAX_LOGGED_MESSAGE)}…` : message;
}

/** The kind a status means on its own, before the body refines it. */
export function kindForStatus(status: number): UpstreamErrorKind {
  if (status === 400 || status === 404 || status === 422) return 'bad_request';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'overloaded';
  if (status >= 500 && status <= 599) return 'server_error';
  return 'unknown';
}

export function isRetryableKind(kind: UpstreamErrorKind, status: number): boolean {
  if (kind === 'rate_limited' || kind === 'overloaded' || kind === 'server_error') return true;
  // Request timeout and conflict are transient by definition.
  return kind === 'unknown' && (status === 408 || status === 409);
}

export function classifyOpenAiError(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
  now: number = Date.now(),
): UpstreamErrorInfo {
  const fields = readOpenAiErrorBody(body);
  let kind = kindForStatus(status);
  if (fields.code !== undefined && CONTENT_POLICY_CODES.has(fields.code)) kind = 'content_filter';
  const quotaExhausted =
    status === 429 &&
    ((fields.code !== undefined && QUOTA_CODES.has(fields.code)) || fields.type === 'insufficient_quota');
  return {
    kind,
    status,
    retryable: isRetryableKind(kind, status) && !quotaExhausted,
    retryAfterS: retryAfterFromHeaders(headers, now),
    providerCode: fields.code ?? fields.type,
    providerMessage: truncateForLog(fields.message),
  };
}

/**
 * The provider's wait hint in seconds: standard `Retry-After`, then OpenAI's `retry-after-ms`,
 * then the `x-ratelimit-reset-*` duration of the exhausted limit (or the longer of the two).
 */
export function retryAfterFromHeaders(
  headers: Readonly<Record<string, string>>,
  now: number = Date.now(),
): number | undefined {
  const standard = parseRetryAfter(headers['retry-after'], now);
  if (standard !== undefined) return standard;
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms.trim()) / 1000;
  const requests = parseGoDuration(headers['x-ratelimit-reset-requests']);
  const tokens = parseGoDuration(headers['x-ratelimit-reset-tokens']);
  if (headers['x-ratelimit-remaining-requests']?.trim() === '0' && requests !== undefined) return requests;
  if (headers['x-ratelimit-remaining-tokens']?.trim() === '0' && tokens !== undefined) return tokens;
  if (requests === undefined) return tokens;
  if (tokens === undefined) return requests;
  return Math.max(requests, tokens);
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  h: 3600,
  m: 60,
  s: 1,
  ms: 1e-3,
  us: 1e-6,
  µs: 1e-6,
  ns: 1e-9,
};

/** Go-style durations as OpenAI sends them: "1s", "6m0s", "20ms", "1h2m3.5s". */
export function parseGoDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = value.trim();
  if (s === '' || !/^(\d+(\.\d+)?(h|ms|m|s|us|µs|ns))+$/.test(s)) return undefined;
  let total = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ''] ?? 0);
  }
  return Number.isFinite(total) ? Math.round(total * 1000) / 1000 : undefined;
}
