/** Gemini's (Google RPC) error bodies: {"error":{"code","message","status","details"?}}. */
import type { ErrorReply } from '../core/http.ts';

export const GEMINI_JSON = 'application/json; charset=UTF-8';

export function geminiError(
  code: number,
  status: string,
  message: string,
  details?: unknown[],
  headers?: Record<string, string>,
): ErrorReply {
  const error: Record<string, unknown> = { code, message, status };
  if (details !== undefined) error['details'] = details;
  return { status: code, body: { error }, headers: { 'content-type': GEMINI_JSON, ...headers } };
}

export function invalidArgument(message: string): ErrorReply {
  return geminiError(400, 'INVALID_ARGUMENT', message);
}

export const MISSING_KEY = geminiError(
  403,
  'PERMISSION_DENIED',
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
);

// Gemini answers a wrong key with 400 INVALID_ARGUMENT (not 401), reason API_KEY_INVALID.
export const INVALID_KEY = geminiError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
  {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: 'API_KEY_INVALID',
    domain: 'googleapis.com',
    metadata: { service: 'generativelanguage.googleapis.com' },
  },
  {
    '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
    locale: 'en-US',
    message: 'API key not valid. Please pass a valid API key.',
  },
]);

export function geminiFaultError(
  status: number,
  model: string | undefined,
  retryAfterS: number | undefined,
): ErrorReply {
  const retry = retryAfterS === undefined ? undefined : { 'retry-after': String(retryAfterS) };
  switch (status) {
    case 400:
      return invalidArgument('Request contains an invalid argument.');
    case 401:
      return geminiError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    case 403:
      return geminiError(403, 'PERMISSION_DENIED', 'The caller does not have permission');
    case 404:
      return geminiError(
        404,
        'NOT_FOUND',
        `models/${model ?? ''} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
      );
    case 429: {
      const seconds = retryAfterS ?? 1;
      return geminiError(
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details.',
        [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` }],
        { 'retry-after': String(seconds) },
      );
    }
    case 500:
      return geminiError(
        500,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
        undefined,
        retry,
      );
    case 503:
      return geminiError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.', undefined, retry);
    case 408:
    case 504:
      return geminiError(status, 'DEADLINE_EXCEEDED', 'The request timed out. Please try again.', undefined, retry);
    default:
      return status >= 500
        ? geminiError(status, 'UNAVAILABLE', 'The service is currently unavailable.', undefined, retry)
        : invalidArgument('Request contains an invalid argument.');
  }
}
