/** OpenAI's error bodies: {"error":{"message","type","param","code"}}. Also used by openai-compatible. */
import type { ErrorReply } from '../core/http.ts';

export function openAiError(
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  headers?: Record<string, string>,
): ErrorReply {
  return headers === undefined
    ? { status, body: { error: { message, type, param, code } } }
    : { status, body: { error: { message, type, param, code } }, headers };
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ErrorReply {
  return openAiError(400, message, 'invalid_request_error', param, code);
}

export const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";

// The real message echoes a masked key; the emulator never echoes any part of a credential.
export const WRONG_KEY_MESSAGE =
  'Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.';

export const MALFORMED_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

export function openAiFaultError(
  status: number,
  model: string | undefined,
  retryAfterS: number | undefined,
): ErrorReply {
  const retry = retryAfterS === undefined ? undefined : { 'retry-after': String(retryAfterS) };
  switch (status) {
    case 400:
      return invalidRequest('Invalid request.');
    case 401:
      return openAiError(401, WRONG_KEY_MESSAGE, 'invalid_request_error', null, 'invalid_api_key');
    case 403:
      return openAiError(
        403,
        'Country, region, or territory not supported',
        'request_forbidden',
        null,
        'unsupported_country_region_territory',
      );
    case 404:
      return openAiError(
        404,
        `The model \`${model ?? ''}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        null,
        'model_not_found',
      );
    case 408:
      return openAiError(408, 'Request timed out.', 'timeout', null, null, retry);
    case 413:
      return openAiError(413, 'Request too large.', 'invalid_request_error', null, 'request_too_large');
    case 422:
      return openAiError(422, 'Unprocessable request.', 'invalid_request_error');
    case 429:
      return openAiError(
        429,
        `Rate limit reached for ${model ?? 'default'} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${retryAfterS ?? 1}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        'requests',
        null,
        'rate_limit_exceeded',
        { 'retry-after': String(retryAfterS ?? 1) },
      );
    case 500:
      return openAiError(
        500,
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
        null,
        null,
        retry,
      );
    case 502:
      return openAiError(502, 'Bad gateway.', 'server_error', null, null, retry);
    case 503:
      return openAiError(503, 'The server is overloaded or not ready yet.', 'server_error', null, null, retry);
    default:
      return openAiError(status, 'Gateway timeout.', 'server_error', null, null, retry);
  }
}
