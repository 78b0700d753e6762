/**
 * Mistral's error bodies. Documented errors use {"object":"error","message","type","param","code"};
 * request validation answers 422 {"detail":[{type,loc,msg,input}]}; a bad key answers
 * 401 {"detail":"Unauthorized"}.
 */
import type { ErrorReply } from '../core/http.ts';

export function mistralError(
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers?: Record<string, string>,
): ErrorReply {
  const body = { object: 'error', message, type, param: null, code };
  return headers === undefined ? { status, body } : { status, body, headers };
}

export interface ValidationIssue {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly input: unknown;
}

export function validationError(issues: readonly ValidationIssue[]): ErrorReply {
  return { status: 422, body: { detail: issues } };
}

export const UNAUTHORIZED: ErrorReply = { status: 401, body: { detail: 'Unauthorized' } };

export function mistralFaultError(
  status: number,
  model: string | undefined,
  retryAfterS: number | undefined,
): ErrorReply {
  const retry = retryAfterS === undefined ? undefined : { 'retry-after': String(retryAfterS) };
  switch (status) {
    case 400:
      return mistralError(400, 'Invalid request', 'invalid_request_error');
    case 401:
      return UNAUTHORIZED;
    case 403:
      return mistralError(403, 'Forbidden', 'invalid_request_error');
    case 404:
      return mistralError(404, `Invalid model: ${model ?? ''}`, 'invalid_model', '1500');
    case 422:
      return validationError([{ type: 'value_error', loc: ['body'], msg: 'Value error', input: null }]);
    case 429:
      return mistralError(429, 'Requests rate limit exceeded', 'rate_limit_error', null, {
        'retry-after': String(retryAfterS ?? 1),
      });
    default:
      return status >= 500
        ? mistralError(
            status,
            status === 503 ? 'Service unavailable' : 'Internal server error',
            'server_error',
            null,
            retry,
          )
        : mistralError(status, 'Invalid request', 'invalid_request_error');
  }
}
