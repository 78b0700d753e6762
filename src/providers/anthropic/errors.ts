/**
 * Anthropic error answers → UpstreamErrorInfo. Anthropic's body is
 * `{"type":"error","error":{"type":"…","message":"…"},"request_id":"…"}`; 413 answers come from
 * its CDN and may be HTML. The status decides first; the error type settles what it leaves open.
 */
import { parseRetryAfter, type UpstreamErrorInfo, type UpstreamErrorKind } from '../contract.ts';

const MAX_LOGGED_MESSAGE = 500;

function errorFields(body: unknown): { code: string | undefined; message: string | undefined } {
  if (typeof body === 'string') return { code: undefined, message: body.slice(0, MAX_LOGGED_MESSAGE) || undefined };
  if (typeof body !== 'object' || body === null) return { code: undefined, message: undefined };
  const error = (body as Record<string, unknown>)['error'];
  if (typeof error !== 'object' || error === null) return { code: undefined, message: undefined };
  const e = error as Record<string, unknown>;
  return {
    code: typeof e['type'] === 'string' ? e['type'] : undefined,
    message: typeof e['message'] === 'string' ? e['message'].slice(0, MAX_LOGGED_MESSAGE) : undefined,
  };
}

function kindOf(status: number, code: string | undefined): UpstreamErrorKind {
  if (status === 529 || status === 503 || code === 'overloaded_error') return 'overloaded';
  if (status === 429 || code === 'rate_limit_error') return 'rate_limited';
  if (status === 413 || code === 'request_too_large') return 'payload_too_large';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'server_error';
  // 402 billing_error: the gateway's account cannot pay; neither the client nor a retry can fix it.
  if (status === 402) return 'unknown';
  if (status >= 400) return 'bad_request';
  return 'unknown';
}

const RETRYABLE: ReadonlySet<UpstreamErrorKind> = new Set(['rate_limited', 'overloaded', 'server_error']);

export function classifyAnthropicError(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): UpstreamErrorInfo {
  const { code, message } = errorFields(body);
  const kind = kindOf(status, code);
  return {
    kind,
    status,
    retryable: RETRYABLE.has(kind),
    retryAfterS: RETRYABLE.has(kind) ? parseRetryAfter(headers['retry-after']) : undefined,
    providerCode: code,
    providerMessage: message,
  };
}
