/**
 * The error catalogue: every error a client can receive from Portcullis has one stable
 * machine code here, an HTTP status, the error `type` used in each API surface's error shape
 * and a public message that is safe to show (it never carries internal or upstream detail).
 *
 * docs/errors.md is generated from this table (`node src/errors/render-docs.ts`) and a test
 * fails when the two disagree.
 */

export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'server_error';

/** Anthropic's error types, as listed in its API reference ("Errors"). */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface ErrorSpec {
  readonly status: number;
  readonly openaiType: OpenAiErrorType;
  readonly anthropicType: AnthropicErrorType;
  /** Safe public message. `{name}` placeholders are filled from the error's public params. */
  readonly message: string;
  /** One line for docs/errors.md: when this happens and what the caller should do. */
  readonly doc: string;
}

export const ERROR_CODES = {
  // --- request shape -------------------------------------------------------------------
  'request.invalid_json': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'The request body is not valid JSON: {detail}.',
    doc: 'The body could not be parsed as JSON. Fix the JSON syntax.',
  },
  'request.invalid': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'Invalid request at {path}: {detail}.',
    doc: 'A field has the wrong type or value, a required field is missing, or an unknown field was sent. The message names the JSON path.',
  },
  'request.too_deep': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'The request body nests deeper than {limit} levels.',
    doc: 'JSON nesting exceeded `server.max_json_depth`.',
  },
  'request.too_large': {
    status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large',
    message: 'The request body exceeds the limit of {limit} bytes.',
    doc: 'The body is larger than `server.max_body_bytes`.',
  },
  'request.payload_limit': {
    status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large',
    message: 'The request exceeds this gateway\'s limit on {what}: {actual} > {limit}.',
    doc: 'Too many messages, tools, images or embedding inputs, too much prompt text, or an inline image too large (the `payload` config section). The `param` names where.',
  },
  'request.output_limit': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: '{path} must be at most {limit} on this gateway.',
    doc: 'The requested output length is above `payload.max_output_tokens`.',
  },
  'request.unsupported_media_type': {
    status: 415, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'Content-Type must be application/json.',
    doc: 'POST bodies must be sent as `application/json` (UTF-8).',
  },
  'request.not_found': {
    status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error',
    message: 'Unknown path {method} {path}.',
    doc: 'No endpoint exists at this path.',
  },
  'request.method_not_allowed': {
    status: 405, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'Method {method} is not allowed on {path}; allowed: {allowed}.',
    doc: 'The path exists but not for this HTTP method. The `Allow` header lists the methods it takes.',
  },
  'request.unsupported_parameter': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'The parameter {path} is not supported by the provider serving model {model}.',
    doc: 'The route\'s target cannot honour this parameter. Remove it, or set `unsupported_params: drop` on the route.',
  },
  // --- model and route ----------------------------------------------------------------
  'model.not_found': {
    status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error',
    message: 'The model {model} does not exist or you do not have access to it.',
    doc: 'No route is configured for this public model name (or the caller may not see it).',
  },
  'model.operation_unsupported': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'The model {model} does not support {operation}.',
    doc: 'For example an embeddings call to a chat-only model.',
  },
  // --- identity -------------------------------------------------------------------------
  'auth.missing_credentials': {
    status: 401, openaiType: 'authentication_error', anthropicType: 'authentication_error',
    message: 'Missing API key. Send it as "Authorization: Bearer <key>" or "x-api-key: <key>".',
    doc: 'No credential was sent.',
  },
  'auth.invalid_key': {
    status: 401, openaiType: 'authentication_error', anthropicType: 'authentication_error',
    message: 'Invalid API key.',
    doc: 'The key is malformed, unknown, revoked or expired. The same answer is given in every case so that the response leaks nothing; the reason is in the security log.',
  },
  'auth.invalid_token': {
    status: 401, openaiType: 'authentication_error', anthropicType: 'authentication_error',
    message: 'Invalid access token.',
    doc: 'A JWT access token was refused: bad signature, unknown issuer or key, wrong audience, expired, disallowed algorithm or header, missing tenant, or the issuer\'s keys could not be fetched. One answer for every reason (with `WWW-Authenticate: Bearer error="invalid_token"` on OpenAI routes, RFC 6750); the reason, issuer and `kid` are in the security log.',
  },
  // --- rate limits ----------------------------------------------------------------------
  'limit.requests': {
    status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error',
    message: 'Request rate limit reached for {policy}: {limit} requests per {window}.',
    doc: 'A `limits.rules` request rate (`requests_per_second`/`requests_per_minute`) was exceeded. `Retry-After` says when the next request fits; `RateLimit-Policy` and `RateLimit` name the limit and its state.',
  },
  'limit.tokens': {
    status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error',
    message: 'Token rate limit reached for {policy}: {limit} tokens per minute; this request reserves about {estimate}.',
    doc: 'A `tokens_per_minute` rule has no room for this request\'s estimate (prompt ≈ characters / 4 plus `max_tokens`). Retry after `Retry-After`, or ask for fewer `max_tokens`.',
  },
  'limit.concurrency': {
    status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error',
    message: 'Too many concurrent requests for {policy}: at most {limit} at once.',
    doc: 'A `concurrent` rule is full. Wait for a running request (for example a long stream) to finish.',
  },
  'limit.backend_unavailable': {
    status: 503, openaiType: 'server_error', anthropicType: 'api_error',
    message: 'The rate limiter is unavailable; the request was refused.',
    doc: 'The limit backend (Redis) cannot be reached and `limits.on_backend_error` is `fail_closed` (the default), so no request passes unchecked. Set `local_fallback` to count per instance during an outage.',
  },
  // --- upstream -------------------------------------------------------------------------
  'upstream.timeout': {
    status: 504, openaiType: 'api_error', anthropicType: 'api_error',
    message: 'The model provider did not answer in time.',
    doc: 'The route deadline (`timeout_ms`) passed before any target answered.',
  },
  'upstream.rate_limited': {
    status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error',
    message: 'The model provider is rate limiting requests. Retry later.',
    doc: 'Every target answered 429. `Retry-After` carries the provider\'s hint when it gave one.',
  },
  'upstream.overloaded': {
    status: 503, openaiType: 'server_error', anthropicType: 'overloaded_error',
    message: 'The model provider is overloaded. Retry later.',
    doc: 'The targets answered 503/529 (overloaded) and no fallback succeeded.',
  },
  'upstream.unavailable': {
    status: 502, openaiType: 'api_error', anthropicType: 'api_error',
    message: 'The model provider is unavailable.',
    doc: 'The targets failed with 5xx or connection errors, or their circuit breakers are open.',
  },
  'upstream.bad_response': {
    status: 502, openaiType: 'api_error', anthropicType: 'api_error',
    message: 'The model provider sent a response the gateway could not understand.',
    doc: 'The provider answered with a malformed body or stream.',
  },
  'upstream.rejected_request': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'The model provider rejected the request as invalid.',
    doc: 'The provider answered 400/404/422. Its own message is logged, not returned, because provider errors can carry account details.',
  },
  'upstream.content_filtered': {
    status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error',
    message: 'The model provider refused the request under its content policy.',
    doc: 'The provider blocked the prompt.',
  },
  'upstream.misconfigured': {
    status: 502, openaiType: 'api_error', anthropicType: 'api_error',
    message: 'The gateway could not authenticate to the model provider.',
    doc: 'The provider answered 401/403 to the gateway\'s own credential. An operator must fix the provider credential.',
  },
  'upstream.tls_verification_failed': {
    status: 502, openaiType: 'api_error', anthropicType: 'api_error',
    message: 'The model provider\'s TLS certificate could not be verified; the connection was refused.',
    doc: 'The provider\'s certificate did not chain to a trusted CA (system roots or `tls.ca_file`), did not match its host name, or its public key matched none of `tls.pin_sha256`. Fails closed; the target is not retried for this request. The security log has the detail.',
  },
  'upstream.stream_interrupted': {
    status: 502, openaiType: 'api_error', anthropicType: 'api_error',
    message: 'The model provider\'s stream ended unexpectedly.',
    doc: 'Sent as a final stream error event when a stream breaks after it started; streams are never retried once started.',
  },
  // --- gateway --------------------------------------------------------------------------
  'gateway.overloaded': {
    status: 503, openaiType: 'server_error', anthropicType: 'overloaded_error',
    message: 'The gateway is at capacity. Retry shortly.',
    doc: 'More model requests were in flight on this instance than `server.max_in_flight`; the request was shed before any work was done. `Retry-After` says when to retry.',
  },
  'gateway.shutting_down': {
    status: 503, openaiType: 'server_error', anthropicType: 'overloaded_error',
    message: 'The gateway is shutting down. Retry on another instance.',
    doc: 'The instance received SIGTERM and is draining.',
  },
  'store.unavailable': {
    status: 503, openaiType: 'server_error', anthropicType: 'api_error',
    message: 'The gateway cannot reach its store; the request was refused.',
    doc: 'A security decision needed the store and it failed; Portcullis fails closed.',
  },
  'audit.unavailable': {
    status: 503, openaiType: 'server_error', anthropicType: 'api_error',
    message: 'The gateway cannot write its audit log; the request was refused.',
    doc: 'The audit record of the decision could not be committed (disk full, file locked or unwritable); Portcullis refuses what it cannot record. An operator must fix the audit log (`audit.path`).',
  },
  'internal.error': {
    status: 500, openaiType: 'server_error', anthropicType: 'api_error',
    message: 'Internal gateway error (request id {requestId}).',
    doc: 'A bug. The log line with this request id has the detail.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERROR_CODES[code];
}
