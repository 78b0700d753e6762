/** Anthropic's error bodies: {"type":"error","error":{"type","message"},"request_id"}. */
import type { ErrorReply } from '../core/http.ts';

let errorSeq = 0;

export function anthropicError(
  status: number,
  type: string,
  message: string,
  headers?: Record<string, string>,
): ErrorReply {
  errorSeq++;
  const requestId = `req_mock${errorSeq.toString(36).padStart(20, '0')}`;
  return {
    status,
    body: { type: 'error', error: { type, message }, request_id: requestId },
    headers: { 'request-id': requestId, ...headers },
  };
}

export function invalidRequest(message: string): ErrorReply {
  return anthropicError(400, 'invalid_request_error', message);
}

export function anthropicFaultError(
  status: number,
  _model: string | undefined,
  retryAfterS: number | undefined,
): ErrorReply {
  const retry = retryAfterS === undefined ? undefined : { 'retry-after': String(retryAfterS) };
  switch (status) {
    case 400:
      return invalidRequest('Invalid request.');
    case 401:
      return anthropicError(401, 'authentication_error', 'invalid x-api-key');
    case 403:
      return anthropicError(
        403,
        'permission_error',
        'Your API key does not have permission to use the specified resource.',
      );
    case 404:
      return anthropicError(404, 'not_found_error', 'The requested resource could not be found.');
    case 413:
      return anthropicError(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.');
    case 429:
      return anthropicError(
        429,
        'rate_limit_error',
        'Number of requests has exceeded your per-minute rate limit. Please reduce the request rate or try again later.',
        { 'retry-after': String(retryAfterS ?? 1) },
      );
    case 500:
      return anthropicError(500, 'api_error', 'Internal server error', retry);
    case 504:
      return anthropicError(504, 'timeout_error', 'Request timed out', retry);
    case 529:
      return anthropicError(529, 'overloaded_error', 'Overloaded', retry);
    default:
      return status >= 500
        ? anthropicError(status, 'api_error', 'Internal server error', retry)
        : anthropicError(status, 'invalid_request_error', 'Invalid request.');
  }
}
