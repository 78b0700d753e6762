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
  | 'insufficient_quota'
  | 'api_error'
  | 'server_error';

/** Anthropic's error types, as listed in its API reference ("Errors"). */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'billing_error'
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
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The request body is not valid JSON: {detail}.',
    doc: 'The body could not be parsed as JSON. Fix the JSON syntax.',
  },
  'request.invalid': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Invalid request at {path}: {detail}.',
    doc: 'A field has the wrong type or value, a required field is missing, or an unknown field was sent. The message names the JSON path.',
  },
  'request.too_deep': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The request body nests deeper than {limit} levels.',
    doc: 'JSON nesting exceeded `server.max_json_depth`.',
  },
  'request.too_large': {
    status: 413,
    openaiType: 'invalid_request_error',
    anthropicType: 'request_too_large',
    message: 'The request body exceeds the limit of {limit} bytes.',
    doc: 'The body is larger than `server.max_body_bytes`.',
  },
  'request.payload_limit': {
    status: 413,
    openaiType: 'invalid_request_error',
    anthropicType: 'request_too_large',
    message: "The request exceeds this gateway's limit on {what}: {actual} > {limit}.",
    doc: 'Too many messages, tools, images or embedding inputs, too much prompt text, or an inline image too large (the `payload` config section). The `param` names where.',
  },
  'request.output_limit': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: '{path} must be at most {limit} on this gateway.',
    doc: 'The requested output length is above `payload.max_output_tokens`.',
  },
  'request.unsupported_media_type': {
    status: 415,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Content-Type must be application/json.',
    doc: 'POST bodies must be sent as `application/json` (UTF-8).',
  },
  'request.not_found': {
    status: 404,
    openaiType: 'invalid_request_error',
    anthropicType: 'not_found_error',
    message: 'Unknown path {method} {path}.',
    doc: 'No endpoint exists at this path.',
  },
  'request.method_not_allowed': {
    status: 405,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Method {method} is not allowed on {path}; allowed: {allowed}.',
    doc: 'The path exists but not for this HTTP method. The `Allow` header lists the methods it takes.',
  },
  'request.unsupported_parameter': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The parameter {path} is not supported by the provider serving model {model}.',
    doc: "The route's target cannot honour this parameter. Remove it, or set `unsupported_params: drop` on the route.",
  },
  // --- model and route ----------------------------------------------------------------
  'model.not_found': {
    status: 404,
    openaiType: 'invalid_request_error',
    anthropicType: 'not_found_error',
    message: 'The model {model} does not exist or you do not have access to it.',
    doc: 'No route is configured for this public model name (or the caller may not see it).',
  },
  'model.operation_unsupported': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The model {model} does not support {operation}.',
    doc: 'For example an embeddings call to a chat-only model.',
  },
  // --- identity -------------------------------------------------------------------------
  'auth.missing_credentials': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'Missing API key. Send it as "Authorization: Bearer <key>" or "x-api-key: <key>".',
    doc: 'No credential was sent.',
  },
  'auth.invalid_key': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'Invalid API key.',
    doc: 'The key is malformed, unknown, revoked or expired. The same answer is given in every case so that the response leaks nothing; the reason is in the security log.',
  },
  'auth.invalid_token': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'Invalid access token.',
    doc: 'A JWT access token was refused: bad signature, unknown issuer or key, wrong audience, expired, disallowed algorithm or header, missing tenant, or the issuer\'s keys could not be fetched. One answer for every reason (with `WWW-Authenticate: Bearer error="invalid_token"` on OpenAI routes, RFC 6750); the reason, issuer and `kid` are in the security log.',
  },
  // --- OAuth 2.0 authorization server (src/identity/oauth/) ------------------------------
  // Rendered as RFC 6749 §5.2 bodies: `error` is the part after `oauth.`, the message is `error_description`.
  'oauth.invalid_request': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Invalid request: {detail}.',
    doc: 'An OAuth endpoint got a request it cannot read: not `application/x-www-form-urlencoded`, a parameter missing, repeated or malformed, or credentials sent in two ways at once. The description names the parameter.',
  },
  'oauth.invalid_client': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'Client authentication failed.',
    doc: 'Unknown or revoked client, wrong secret, an auth method the client is not registered for, or a client assertion that is expired, replayed, for another audience, badly signed or with a disallowed algorithm. One answer for every reason (with `WWW-Authenticate`); the reason is in the security log. Counts toward lockout.',
  },
  'oauth.invalid_grant': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The grant is invalid: {detail}.',
    doc: 'The client authenticated, but no token can be issued to it now: its tenant is suspended.',
  },
  'oauth.unsupported_grant_type': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Unsupported grant_type; this server supports client_credentials only.',
    doc: '`grant_type` is not `client_credentials`, the only grant the built-in authorization server offers (machine clients).',
  },
  'oauth.invalid_scope': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The requested scope is invalid or exceeds the scopes granted to this client.',
    doc: 'A requested scope is malformed or not among the scopes registered for the client. Ask for a subset (or omit `scope` to get all of them).',
  },
  'oauth.too_many_failures': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'Too many failed client authentications. Retry later.',
    doc: 'Brute-force protection on the OAuth endpoints: too many failed client authentications from this address or for this client id. `Retry-After` says when to try again.',
  },
  // --- rate limits ----------------------------------------------------------------------
  'limit.requests': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'Request rate limit reached for {policy}: {limit} requests per {window}.',
    doc: 'A `limits.rules` request rate (`requests_per_second`/`requests_per_minute`) was exceeded. `Retry-After` says when the next request fits; `RateLimit-Policy` and `RateLimit` name the limit and its state.',
  },
  'limit.tokens': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message:
      'Token rate limit reached for {policy}: {limit} tokens per minute; this request reserves about {estimate}.',
    doc: "A `tokens_per_minute` rule has no room for this request's estimate (prompt ≈ characters / 4 plus `max_tokens`). Retry after `Retry-After`, or ask for fewer `max_tokens`.",
  },
  'limit.concurrency': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'Too many concurrent requests for {policy}: at most {limit} at once.',
    doc: 'A `concurrent` rule is full. Wait for a running request (for example a long stream) to finish.',
  },
  'limit.backend_unavailable': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'api_error',
    message: 'The rate limiter is unavailable; the request was refused.',
    doc: 'The limit backend (Redis) cannot be reached and `limits.on_backend_error` is `fail_closed` (the default), so no request passes unchecked. Set `local_fallback` to count per instance during an outage.',
  },
  // --- budgets (src/stages/budget/, src/limits/budgets/) ---------------------------------
  'budget.exceeded': {
    status: 402,
    openaiType: 'insufficient_quota',
    anthropicType: 'billing_error',
    message: 'The {scope} budget "{budget}" is exhausted for this period ({limit} USD); it resets at {resetsAt}.',
    doc: "A `budgets.rules` hard limit has no room for this request's reserved cost (prompt estimate + `max_tokens` at the model's prices), or a stream outgrew its reservation past the budget (sent as a final stream error event; the spend up to there is recorded). Wait for the reset, ask for fewer `max_tokens`, or have an operator raise the budget.",
  },
  'budget.reservation_too_large': {
    status: 402,
    openaiType: 'insufficient_quota',
    anthropicType: 'billing_error',
    message:
      'This request\'s worst-case cost of {reserve} USD exceeds the {remaining} USD that remains of the {scope} budget "{budget}" ({limit} USD this period); {advice}',
    doc: "The budget is not exhausted, but this request's reservation (the prompt bound plus `max_tokens` × `n`, or `budgets.default_max_tokens` when none is set, at the dearest target's prices) is more than what remains after spend and the reservations of requests in flight. The message names the largest `max_tokens` that would fit now, if any: ask for fewer output tokens, shorten the prompt, or wait for requests in flight to settle.",
  },
  'budget.unpriced_model': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'The {scope} budget "{budget}" cannot be checked: the model has no price configured.',
    doc: 'A budget covers this request but the target model has neither a built-in nor a `pricing:` price, so its cost cannot be known; budgets fail closed. An operator adds a `pricing.models` entry, or sets `unpriced: allow` on the rule.',
  },
  'budget.backend_unavailable': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'api_error',
    message: 'The budget service is unavailable; the request was refused.',
    doc: 'The budget backend (Redis) cannot be reached and `budgets.on_backend_error` is `fail_closed` (the default), so no request passes unchecked. Set `local_fallback` to count spend per instance during an outage.',
  },
  // --- upstream -------------------------------------------------------------------------
  'upstream.timeout': {
    status: 504,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: 'The model provider did not answer in time.',
    doc: 'The route deadline (`timeout_ms`) passed before any target answered.',
  },
  'upstream.rate_limited': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'The model provider is rate limiting requests. Retry later.',
    doc: "Every target answered 429. `Retry-After` carries the provider's hint when it gave one.",
  },
  'upstream.overloaded': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'overloaded_error',
    message: 'The model provider is overloaded. Retry later.',
    doc: 'The targets answered 503/529 (overloaded) and no fallback succeeded.',
  },
  'upstream.unavailable': {
    status: 502,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: 'The model provider is unavailable.',
    doc: 'The targets failed with 5xx or connection errors, or their circuit breakers are open.',
  },
  'upstream.bad_response': {
    status: 502,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: 'The model provider sent a response the gateway could not understand.',
    doc: 'The provider answered with a malformed body or stream.',
  },
  'upstream.rejected_request': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The model provider rejected the request as invalid.',
    doc: 'The provider answered 400/404/422. Its own message is logged, not returned, because provider errors can carry account details.',
  },
  'upstream.content_filtered': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The model provider refused the request under its content policy.',
    doc: 'The provider blocked the prompt.',
  },
  'upstream.misconfigured': {
    status: 502,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: 'The gateway could not authenticate to the model provider.',
    doc: "The provider answered 401/403 to the gateway's own credential. An operator must fix the provider credential.",
  },
  'upstream.tls_verification_failed': {
    status: 502,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: "The model provider's TLS certificate could not be verified; the connection was refused.",
    doc: "The provider's certificate did not chain to a trusted CA (system roots or `tls.ca_file`), did not match its host name, or its public key matched none of `tls.pin_sha256`. Fails closed; the target is not retried for this request. The security log has the detail.",
  },
  'upstream.stream_interrupted': {
    status: 502,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: "The model provider's stream ended unexpectedly.",
    doc: 'Sent as a final stream error event when a stream breaks after it started; streams are never retried once started.',
  },
  // --- gateway --------------------------------------------------------------------------
  'gateway.overloaded': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'overloaded_error',
    message: 'The gateway is at capacity. Retry shortly.',
    doc: 'More model requests were in flight on this instance than `server.max_in_flight`; the request was shed before any work was done. `Retry-After` says when to retry.',
  },
  'gateway.shutting_down': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'overloaded_error',
    message: 'The gateway is shutting down. Retry on another instance.',
    doc: 'The instance received SIGTERM and is draining.',
  },
  'store.unavailable': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'api_error',
    message: 'The gateway cannot reach its store; the request was refused.',
    doc: 'A security decision needed the store and it failed; Portcullis fails closed.',
  },
  'audit.unavailable': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'api_error',
    message: 'The gateway cannot write its audit log; the request was refused.',
    doc: 'The audit record of the decision could not be committed (disk full, file locked or unwritable); Portcullis refuses what it cannot record. An operator must fix the audit log (`audit.path`).',
  },
  // --- guardrails (src/stages/guard/, src/guard/) -------------------------------------------
  'guard.prompt_injection': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The {where} was blocked by the {detector} guardrail (found: {types}).',
    doc: 'A `guardrails` policy with `action: block` found a prompt-injection or jailbreak attempt (instruction override, role-play jailbreak, system-prompt extraction, an injection hidden in a document or tool result). The message names the detector and finding types, never the text. On a stream the answer ends with this error event and the offending text is never sent.',
  },
  'guard.pii': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The {where} was blocked by the {detector} guardrail (found: {types}).',
    doc: 'A `guardrails` policy with `action: block` found personal data (email, phone, card, IBAN, national id, IP address) in the request or the answer. Remove it, or ask for `action: redact`.',
  },
  'guard.secret': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The {where} was blocked by the {detector} guardrail (found: {types}).',
    doc: 'A `guardrails` policy with `action: block` found a credential (provider or cloud key, private key block, JWT, a Portcullis key) in the request or the answer. Rotate the credential if it was real.',
  },
  'guard.deny_list': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The {where} was blocked by the {detector} guardrail (found: {types}).',
    doc: "A term or pattern from a policy's deny list (`detector: deny_list`) appeared in the request or the answer.",
  },
  'guard.unsafe_content': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The {where} was blocked by the {detector} guardrail (found: {types}).',
    doc: "The policy's judge model (Llama Guard or a moderation endpoint) rated the request or the answer unsafe in a category the policy counts.",
  },
  'guard.unavailable': {
    status: 503,
    openaiType: 'server_error',
    anthropicType: 'api_error',
    message: 'A guardrail ({detector}) could not check this request; it was refused.',
    doc: 'A detector failed or its judge did not answer within `timeout_ms`; guardrails fail closed. The failure is logged, counted and raised as a `guard.unavailable` security event. An operator can set `on_error: allow` on that detector to let traffic through unchecked instead.',
  },
  // --- threat detection (src/threats/) ----------------------------------------------------
  'limit.adaptive_throttle': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'Requests from this caller are temporarily throttled after unusual activity. Retry later.',
    doc: 'A threat-detection rule with `action: throttle` fired for this key, key prefix or address (`threat_detection.rules`). While the throttle lasts the caller gets at most `throttle_requests_per_minute`; `Retry-After` says when the next request fits. The alert is in the audit log (`security.alert`).',
  },
  'auth.key_suspended': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'This API key is temporarily suspended after suspicious activity.',
    doc: "A threat-detection rule with `action: suspend` fired for this key, key prefix or address. Every request is refused until the rule's `duration_s` has passed (`Retry-After`); an operator can see why in the audit log (`security.alert`).",
  },
  // --- admin resources and RBAC (src/admin/rbac.ts, src/admin/resources/) ---------------
  'rbac.forbidden': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'Your role ({role}) may not perform {action}.',
    doc: "The admin's role (or the admin API token's action list) does not include this action. The role table in docs/admin-api.md lists what each role may do.",
  },
  'resource.not_found': {
    status: 404,
    openaiType: 'invalid_request_error',
    anthropicType: 'not_found_error',
    message: 'The {resource} {id} does not exist.',
    doc: "No such tenant, team, key or user exists in the caller's scope. Objects of other tenants, other teams (team managers) or other users (developers) get this same answer, so their existence is not revealed.",
  },
  'resource.conflict': {
    status: 409,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Conflict on {resource}: {detail}.',
    doc: 'The change clashes with what is stored (a name already taken, a team that still has keys, a key already revoked). Nothing was changed.',
  },
  // --- live policy operations (src/live-policy/service.ts, docs/policy.md) ---------------------
  'policy.invalid': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The policy document is invalid ({count} problem(s)); first: {first}.',
    doc: 'The candidate document failed validation: a bootstrap section or field in it, an unknown key, a value out of range, a literal secret, a syntax error. The response lists every problem in `error.details` (path, line, column, message); the CLI prints them all. Nothing was stored or changed.',
  },
  'policy.not_found': {
    status: 404,
    openaiType: 'invalid_request_error',
    anthropicType: 'not_found_error',
    message: 'Policy version {version} does not exist.',
    doc: 'No such policy version (or no version is active yet, or there is no earlier version to roll back to). `policy history` lists them.',
  },
  'policy.version_conflict': {
    status: 409,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The active policy version is {active}: {detail}. Nothing was changed.',
    doc: 'Optimistic concurrency: `--if-version N` (`if_version`) named a version that is no longer active, another apply won the race, or a proposal was made on top of a version that has since been replaced. Read the active version (`policy show`), merge, and try again.',
  },
  'policy.wrong_state': {
    status: 409,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Policy version {version} is {state}: {detail}.',
    doc: "The operation does not fit the version's state: approving or rejecting one that is not proposed (or already approved), applying a rejected one, rolling back to one that was never active.",
  },
  'policy.approval_required': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: "Policy changes need another admin's approval (policy.require_approval): {detail}.",
    doc: 'The two-person rule is on (`policy.require_approval` in the config file). Propose the document (`policy propose`), have another admin approve it (`policy approve N`), then apply the version (`policy apply N`).',
  },
  'policy.self_approval': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'You proposed policy version {version}; another admin must approve it.',
    doc: 'The two-person rule: the author of a proposal (the same admin user, whether through a session or an admin API token; the same OS user for the CLI) cannot approve it.',
  },
  'policy.operator_only': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'Policy is gateway-wide: only admins of the operator tenant may read or change it.',
    doc: 'The policy routes are for the admins of the tenant named by `policy.operator_tenant` in the config file (when it is not set, for nobody through the admin API; the CLI on the host still works). Admins of other tenants cannot see or change gateway-wide policy.',
  },
  // --- admin authentication (src/admin/server.ts, src/identity/admin/) -----------------------
  'admin.unauthenticated': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'Sign in first: no valid admin session or admin API token was presented.',
    doc: 'The admin API call carried no session cookie or `Authorization: Bearer pca_…` token, or it was unknown, expired (idle or absolute session timeout), revoked, or its user is disabled. Log in again (`POST /admin/v1/session`).',
  },
  'admin.invalid_credentials': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'Invalid email, password or one-time code.',
    doc: 'Login refused. The same answer is given for an unknown email, a wrong password, a wrong/reused TOTP code or recovery code, and a disabled account, so accounts cannot be enumerated.',
  },
  'admin.mfa_required': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'A one-time code is required: send totp_code or recovery_code.',
    doc: 'Login without a second factor. MFA is mandatory for every admin; send the current 6-digit `totp_code` from the authenticator app or one unused `recovery_code`.',
  },
  'admin.locked_out': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'Too many failed sign-in attempts. Retry later.',
    doc: 'Brute-force protection: too many failed logins from this address or for this account. `Retry-After` says when to try again.',
  },
  'admin.csrf': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'Cross-site request refused: {detail}.',
    doc: "A state-changing admin call authenticated by the session cookie lacked the `X-CSRF-Token` header returned at login, sent a wrong one, or came with an `Origin` other than the admin API's own. Nothing was changed.",
  },
  'admin.weak_password': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The password is not acceptable: {detail}.',
    doc: 'Admin passwords must be 12 to 256 characters, not contain the email name, not be on the list of common and breached passwords, and reach zxcvbn strength 4 of 4; the message says which rule failed and why.',
  },
  'admin.enrolment_invalid': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'The enrolment token is invalid, used or expired.',
    doc: '`POST /admin/v1/enrolment` with a token that was never issued, was already used, or is older than its lifetime. Ask an admin to issue a new one (user creation or MFA reset).',
  },
  // --- virtual key hardening and proxy brute-force lockout (src/stages/identify/) ---------
  'auth.locked_out': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: 'Too many failed authentication attempts. Retry later.',
    doc: 'Brute-force protection (`auth.lockout`): too many failed API key authentications from this address, or for this key prefix. Every request is refused, even with a valid key, until `Retry-After` seconds have passed.',
  },
  'auth.ip_not_allowed': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'This API key may not be used from your address.',
    doc: 'The key (or its team) has an IP allowlist and the client address is not in it. Behind a reverse proxy, make sure `server.trusted_proxies` lists it, or every client looks like the proxy.',
  },
  'auth.endpoint_not_allowed': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'This credential may not call {endpoint}.',
    doc: "The key is scoped to other endpoints (`keys create --endpoints`), or is read-only (`--read-only`: the models listing only); or the access token's scopes name other endpoints (`chat`, `embeddings`, `models`, `messages`).",
  },
  'auth.key_in_query': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message:
      'Credentials are not accepted in the URL query string; send "Authorization: Bearer <key>" or "x-api-key: <key>".',
    doc: 'A query parameter such as `api_key` or `key` was sent. URLs end up in proxy logs, browser history and Referer headers, so such a key must be considered leaked: rotate it (`portcullis keys rotate`).',
  },
  // --- mutual-TLS client certificates as identities (src/identity/client-cert-directory.ts) ---
  'auth.client_cert_required': {
    status: 401,
    openaiType: 'authentication_error',
    anthropicType: 'authentication_error',
    message: 'This credential must be used over a mutual-TLS connection that presents its bound client certificate.',
    doc: 'The API key or token belongs to a tenant (or team) with an `auth.client_certificates` entry in `mode: bind`, and the connection presented no verified client certificate, or one that matches none of those entries. Connect with the certificate the operator issued for it. Logged as security event `auth.failure` (reason `cert_mismatch`).',
  },
  // --- tenant suspension (src/identity/tenant-status.ts, src/stages/tenant-status/) -------
  'auth.tenant_suspended': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'This tenant is suspended.',
    doc: "An operator suspended the caller's tenant (`portcullis tenants suspend`). Every API key, JWT or OAuth access token mapped to the tenant, and every admin login, session and admin API token of its users, is refused until `portcullis tenants resume`. Takes effect within about a second on every instance.",
  },
  // --- guardrail detectors -------------------------------------------------------------
  'guard.invalid_detector': {
    status: 400,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'Invalid guard detector options at {path}: {detail}.',
    doc: 'A guard detector was configured with options it cannot use (an unknown type, an unsafe or invalid deny-list pattern, a threshold out of range). Raised when the config or policy is loaded, never on a request; fix the named option.',
  },
  // --- prompt APIs (src/apis/) ------------------------------------------------------------
  'api.not_found': {
    status: 404,
    openaiType: 'invalid_request_error',
    anthropicType: 'not_found_error',
    message: 'The API {api} does not exist or you do not have access to it.',
    doc: "No prompt API of this name and major version exists in the caller's tenant, or it is visible only to its owner team, or the version is a draft and the caller is not in the owner team. APIs of other tenants get this same answer.",
  },
  'api.subscription_required': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'Your team has no approved subscription to the API {api}.',
    doc: "The caller's team is not the API's owner and holds no approved subscription (none, pending, rejected, suspended or revoked). Request one (`POST /admin/v1/apis/{id}/subscriptions` or `portcullis subscriptions request`) and have the owner team approve it. Keys without a team cannot subscribe.",
  },
  'api.retired': {
    status: 410,
    openaiType: 'invalid_request_error',
    anthropicType: 'not_found_error',
    message: 'The API {api} has been retired; use {successor}.',
    doc: 'This major version was retired by its owner. The message names the successor version to call instead.',
  },
  'api.rate_limited': {
    status: 429,
    openaiType: 'rate_limit_error',
    anthropicType: 'rate_limit_error',
    message: "Your team's plan for the API {api} allows {limit} requests per minute.",
    doc: "The subscription plan's requests per minute (all the consumer team's keys together) is used up. `Retry-After` says when the next minute starts.",
  },
  'api.quota_exhausted': {
    status: 429,
    openaiType: 'insufficient_quota',
    anthropicType: 'rate_limit_error',
    message: "Your team's monthly quota of {limit} calls to the API {api} is used up.",
    doc: "The subscription plan's monthly quota (calendar month, UTC) is used up. `Retry-After` says when the next month starts; the owner team can approve a new subscription with a larger plan.",
  },
  'api.output_invalid': {
    status: 502,
    openaiType: 'api_error',
    anthropicType: 'api_error',
    message: "The model's answer did not match the API's output schema at {path}: {detail}.",
    doc: "The API has an output schema; the model's answer was not JSON matching it, and neither was its answer to one retry that named the problems. Nothing invalid is returned. Retry, or ask the API's owner to adjust the template.",
  },
  'api.breaking_change': {
    status: 409,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message:
      'This input schema is not compatible with version {version}: {detail}. Create a new major version instead.',
    doc: 'A new minor version may only accept at least what the published versions of its major accept. Breaking changes (a new required variable, a narrowed type, a tightened bound, a removed variable under additionalProperties false) need a new major version.',
  },
  'api.invalid_transition': {
    status: 409,
    openaiType: 'invalid_request_error',
    anthropicType: 'invalid_request_error',
    message: 'The {resource} is {state}; it cannot be {action}.',
    doc: 'Lifecycle steps go one way: a version from draft to published to deprecated to retired; a subscription from pending to approved or rejected, and from approved to suspended (and back) or revoked. Published versions are immutable.',
  },
  'api.self_approval': {
    status: 403,
    openaiType: 'permission_error',
    anthropicType: 'permission_error',
    message: 'A subscription cannot be decided by its own consumer team or requester.',
    doc: 'Approving or rejecting needs someone outside the consumer team who did not request it: the owner team (its team manager) or a tenant-wide owner or admin.',
  },
  'internal.error': {
    status: 500,
    openaiType: 'server_error',
    anthropicType: 'api_error',
    message: 'Internal gateway error (request id {requestId}).',
    doc: 'A bug. The log line with this request id has the detail.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERROR_CODES[code];
}
