/**
 * Classify a non-2xx Gemini answer. Google's error body is
 * `{"error":{"code","message","status","details":[…]}}` (some paths wrap it in an array);
 * `details` may hold google.rpc.RetryInfo (`retryDelay`, a protobuf Duration such as "30s"
 * or "45.8s") and google.rpc.ErrorInfo (`reason`).
 */
import { parseRetryAfter, type UpstreamErrorInfo, type UpstreamErrorKind } from '../contract.ts';

const MAX_LOGGED_MESSAGE = 1000;
const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const DURATION = /^(\d+(?:\.\d+)?)s$/;

interface GoogleError {
  status?: string;
  message?: string;
  details: Array<Record<string, unknown>>;
}

export function classifyError(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): UpstreamErrorInfo {
  const error = readGoogleError(body);
  const kind = kindOf(status, error);
  const retryable = kind === 'rate_limited' || kind === 'overloaded' || kind === 'server_error';
  const retryAfterS = retryable ? (parseRetryAfter(headers['retry-after']) ?? retryDelay(error)) : undefined;
  const providerMessage = error?.message ?? (typeof body === 'string' && body !== '' ? body : undefined);
  return {
    kind,
    status,
    retryable,
    retryAfterS,
    providerCode: error?.status,
    providerMessage: providerMessage === undefined ? undefined : providerMessage.slice(0, MAX_LOGGED_MESSAGE),
  };
}

function kindOf(status: number, error: GoogleError | undefined): UpstreamErrorKind {
  // Google answers a wrong or revoked API key with 400 INVALID_ARGUMENT; only ErrorInfo's
  // reason tells it apart from a bad request, and it is the operator's credential at fault.
  if (error?.details.some((d) => d['@type'] === ERROR_INFO && d['reason'] === 'API_KEY_INVALID')) return 'auth';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'overloaded';
  if (status >= 500 && status <= 599) return 'server_error';
  if (status >= 400 && status <= 499) return 'bad_request';
  return 'unknown';
}

function readGoogleError(body: unknown): GoogleError | undefined {
  const envelope = Array.isArray(body) ? body[0] : body;
  if (typeof envelope !== 'object' || envelope === null) return undefined;
  const error = (envelope as Record<string, unknown>)['error'];
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const details = Array.isArray(e['details'])
    ? e['details'].filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null)
    : [];
  return {
    status: typeof e['status'] === 'string' ? e['status'] : undefined,
    message: typeof e['message'] === 'string' ? e['message'] : undefined,
    details,
  };
}

function retryDelay(error: GoogleError | undefined): number | undefined {
  const info = error?.details.find((d) => d['@type'] === RETRY_INFO);
  const delay = info?.['retryDelay'];
  if (typeof delay !== 'string') return undefined;
  const m = DURATION.exec(delay.trim());
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
