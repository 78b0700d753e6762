/**
 * What each admin route takes and answers, for the OpenAPI document (openapi.ts). Keyed by
 * `METHOD path` exactly as the route declares it; openapi.test.ts fails when a route has no
 * entry, an entry has no route, or a route accepts other query parameters or body fields than
 * listed here.
 */

import { ADMIN_ROLES } from '../identity/admin/roles.ts';
import { USAGE_GROUPS } from '../store/usage-records.ts';
import { ADMIN_ACTIONS } from './rbac.ts';
import { COMPLIANCE_FORMATS } from './resources/compliance.ts';
import { GUARD_DECISION_ACTIONS, GUARD_MAX_PAGE, GUARD_MAX_RECORDS } from './resources/guard-decisions.ts';
import { MAX_BUCKETS, MAX_GROUPS, MAX_RECORDS, SERIES_BUCKETS_S, SERIES_GROUPS } from './resources/usage-series.ts';

/** A JSON Schema fragment with a description. */
export type FieldDoc = Readonly<Record<string, unknown>> & { readonly description?: string };

export interface OperationDoc {
  readonly id: string;
  readonly summary: string;
  readonly description?: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, FieldDoc>>;
  readonly body?: {
    readonly fields: Readonly<Record<string, FieldDoc>>;
    readonly required?: readonly string[];
    readonly optional?: boolean;
  };
  readonly ok: { readonly status: 200 | 201 | 204; readonly description: string; readonly download?: boolean };
  /** Statuses besides 400/401/403/404/503 this operation answers with. */
  readonly errors?: readonly number[];
}

const str = (description: string, extra: Record<string, unknown> = {}): FieldDoc => ({
  type: 'string',
  description,
  ...extra,
});
const int = (description: string, minimum: number, maximum: number): FieldDoc => ({
  type: 'integer',
  minimum,
  maximum,
  description,
});
const strings = (description: string, extra: Record<string, unknown> = {}): FieldDoc => ({
  type: 'array',
  items: { type: 'string' },
  description,
  ...extra,
});
const nullableId = (description: string): FieldDoc => ({ type: ['string', 'null'], description });
const TIME = 'ISO-8601 time with a zone, or a date (YYYY-MM-DD)';
const RANGE = {
  from: str(`start of the range, inclusive (${TIME}); default: 24 hours before to`),
  to: str(`end of the range, exclusive (${TIME}); default: now`),
};
const PAGE = {
  ...RANGE,
  limit: { type: 'string', pattern: '^[0-9]+$', description: 'records per page, 1–1000 (default 100)' },
  after: { type: 'string', pattern: '^[0-9]+$', description: 'the next_after of the previous page' },
};
const ROLE: FieldDoc = {
  type: 'string',
  enum: [...ADMIN_ROLES],
  description: 'the admin role (docs/admin-api.md#roles)',
};
const IP_ALLOWLIST = strings('IPv4/IPv6 addresses or CIDR ranges (at most 100); [] allows any address', {
  maxItems: 100,
});

const POLICY_DOCUMENT =
  'the policy sections (providers, models, auth, limits, budgets, pricing, payload, threat_detection, alerts, guardrails) as YAML or JSON text (problems are located in it), or as an object';

export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  // --- sign-in, sessions, tokens (src/admin/resources/session.ts, tokens.ts)
  'POST /admin/v1/session': {
    id: 'signIn',
    summary: 'Sign in with password and a TOTP or recovery code',
    description:
      'Sets the session cookie and answers the CSRF token changing calls must send. An unknown email, a wrong password or code and a disabled account all get the same 401 admin.invalid_credentials; no code at all is 401 admin.mfa_required. Failures count toward the lockout (429 admin.locked_out with Retry-After).',
    body: {
      fields: {
        email: str("the admin's email"),
        password: str('the password'),
        totp_code: str('the current 6-digit code', { pattern: '^[0-9]{6}$' }),
        recovery_code: str('one unused recovery code (instead of totp_code)'),
      },
      required: ['email', 'password'],
    },
    ok: { status: 201, description: 'signed in: user, csrf_token, idle_timeout_s, expires_at, and the session cookie' },
    errors: [429],
  },
  'DELETE /admin/v1/session': {
    id: 'signOut',
    summary: 'Sign out (the cookie stops working everywhere)',
    ok: { status: 204, description: 'signed out; the cookie is cleared' },
  },
  'GET /admin/v1/me': {
    id: 'getMe',
    summary: 'The caller, how it authenticated, the actions it may perform and recovery codes left',
    ok: { status: 200, description: 'the caller' },
  },
  'PUT /admin/v1/me/password': {
    id: 'changePassword',
    summary: "Change one's own password (session only); every session of the user ends",
    body: {
      fields: {
        current_password: str('the current password'),
        new_password: str('12–256 characters, not a commonly used one'),
      },
      required: ['current_password', 'new_password'],
    },
    ok: { status: 204, description: 'changed; sign in again' },
    errors: [429],
  },
  'POST /admin/v1/enrolment': {
    id: 'redeemEnrolment',
    summary:
      'Redeem an enrolment token: set the password (or prove it after an MFA reset) and receive the TOTP secret and recovery codes once',
    body: {
      fields: {
        token: str('the one-time enrolment token'),
        password: str('the new password (12–256 characters), or the current one after an MFA reset'),
      },
      required: ['token', 'password'],
    },
    ok: { status: 200, description: 'the TOTP secret, otpauth_uri and 10 recovery codes, shown once' },
    errors: [429],
  },
  'POST /admin/v1/tokens': {
    id: 'createAdminToken',
    summary: 'Create an admin API token (pca_…) for automation, shown once; at most 50 active per user',
    body: {
      fields: {
        label: str('what the token is for'),
        actions: {
          type: 'array',
          items: { type: 'string', enum: [...ADMIN_ACTIONS] },
          description: 'narrows the token to a subset of what the caller may do (default: all of it)',
        },
        expires_in_s: {
          type: 'integer',
          minimum: 1,
          maximum: 366 * 86_400,
          description: 'lifetime in seconds (at most 366 days; default: no expiry)',
        },
      },
      required: ['label'],
    },
    ok: { status: 201, description: 'the token (shown once) and its record' },
    errors: [409],
  },
  'GET /admin/v1/tokens': {
    id: 'listAdminTokens',
    summary: "The caller's admin API tokens (never the token itself)",
    ok: { status: 200, description: '{ data: [token records] }' },
  },
  'DELETE /admin/v1/tokens/:tokenId': {
    id: 'revokeAdminToken',
    summary: "Revoke one of the caller's admin API tokens",
    ok: { status: 204, description: 'revoked' },
  },

  // --- admin users (users.ts)
  'GET /admin/v1/users': {
    id: 'listUsers',
    summary: 'Admin users of the tenant (team managers: their team)',
    ok: { status: 200, description: '{ data: [users] }' },
  },
  'POST /admin/v1/users': {
    id: 'createUser',
    summary:
      'Create an admin user; the answer holds a one-time enrolment token to hand to them (there is no default password)',
    body: {
      fields: {
        email: str("the user's email (unique)"),
        role: ROLE,
        team_id: nullableId("the user's team (required for team_manager and developer)"),
      },
      required: ['email', 'role'],
    },
    ok: { status: 201, description: 'the user and its enrolment_token' },
    errors: [409],
  },
  'PATCH /admin/v1/users/:userId': {
    id: 'updateUser',
    summary: "Change a user's role or team; takes effect on the user's next call",
    body: { fields: { role: ROLE, team_id: nullableId('the new team, or null') } },
    ok: { status: 200, description: '{ user }' },
  },
  'POST /admin/v1/users/:userId/disable': {
    id: 'disableUser',
    summary: 'Disable a user; ends every session and token of the user',
    ok: { status: 200, description: '{ user }' },
  },
  'POST /admin/v1/users/:userId/reset-mfa': {
    id: 'resetUserMfa',
    summary: 'Clear TOTP and recovery codes, end sessions and tokens, return a new enrolment token',
    ok: { status: 200, description: 'enrolment_token and enrolment_expires_at' },
  },

  // --- tenant and teams (tenants.ts, teams.ts)
  'GET /admin/v1/tenants/:tenantId': {
    id: 'getTenant',
    summary: "The caller's own tenant (any other id: 404)",
    ok: { status: 200, description: 'the tenant' },
  },
  'PATCH /admin/v1/tenants/:tenantId': {
    id: 'renameTenant',
    summary: "Rename the caller's tenant (status cannot be changed here: suspension is an operator action on the CLI)",
    body: { fields: { name: str('1–100 characters') } },
    ok: { status: 200, description: 'the tenant' },
  },
  'GET /admin/v1/teams': {
    id: 'listTeams',
    summary: "The tenant's teams (a team manager: its own)",
    ok: { status: 200, description: '{ data: [teams] }' },
  },
  'POST /admin/v1/teams': {
    id: 'createTeam',
    summary: 'Create a team; names are unique in the tenant',
    body: { fields: { name: str('1–100 characters'), ip_allowlist: IP_ALLOWLIST }, required: ['name'] },
    ok: { status: 201, description: 'the team' },
    errors: [409],
  },
  'GET /admin/v1/teams/:teamId': { id: 'getTeam', summary: 'One team', ok: { status: 200, description: 'the team' } },
  'PATCH /admin/v1/teams/:teamId': {
    id: 'updateTeam',
    summary: 'Rename a team or replace its IP allow-list',
    body: { fields: { name: str('1–100 characters'), ip_allowlist: IP_ALLOWLIST } },
    ok: { status: 200, description: 'the team' },
    errors: [409],
  },
  'DELETE /admin/v1/teams/:teamId': {
    id: 'deleteTeam',
    summary: 'Delete a team with no active keys and no enabled members (else 409)',
    ok: { status: 204, description: 'deleted' },
    errors: [409],
  },

  // --- virtual API keys (keys.ts)
  'GET /admin/v1/keys': {
    id: 'listKeys',
    summary: "Keys in the caller's key scope (tenant, own team or own keys); filters narrow, never widen",
    query: { team_id: str('only keys of this team'), owner_user_id: str('only keys of this owner') },
    ok: { status: 200, description: '{ data: [keys] } (never a key or its hash)' },
  },
  'POST /admin/v1/keys': {
    id: 'createKey',
    summary: 'Create a virtual API key; the answer holds the key once (Cache-Control: no-store)',
    body: {
      fields: {
        label: str('what the key is for'),
        models: strings('model names or patterns (* wildcard) the key may use; default all'),
        expires_at: str('when the key stops working (ISO-8601 time with a zone)'),
        team_id: nullableId("the key's team (team managers and developers: their own)"),
        owner_user_id: nullableId('the admin user who owns the key (developers: themselves)'),
        ip_allowlist: IP_ALLOWLIST,
        allowed_endpoints: {
          type: 'array',
          items: { type: 'string', enum: ['chat', 'embeddings', 'models', 'messages'] },
          description: 'only these endpoints',
        },
        read_only: { type: 'boolean', description: 'the models listing only' },
        client_cert_sha256: str('bind the key to one mTLS client certificate (its SHA-256 fingerprint)'),
      },
      required: ['label'],
    },
    ok: { status: 201, description: 'the key record and `key`, shown once' },
  },
  'GET /admin/v1/keys/:keyId': {
    id: 'getKey',
    summary: 'One key (never the key or its hash)',
    ok: { status: 200, description: 'the key record' },
  },
  'POST /admin/v1/keys/:keyId/revoke': {
    id: 'revokeKey',
    summary: 'Revoke a key at once (every instance drops it from its cache); 409 if already revoked',
    ok: { status: 200, description: 'the revoked key record' },
    errors: [409],
  },
  'POST /admin/v1/keys/:keyId/rotate': {
    id: 'rotateKey',
    summary: 'New key with the same settings, shown once; the old one works for grace_seconds more',
    body: {
      fields: { grace_seconds: int('how long the old key keeps working (default 0)', 0, 2_592_000) },
      optional: true,
    },
    ok: { status: 201, description: 'the new key record with `key` (shown once) and the old record' },
    errors: [409],
  },

  // --- OAuth clients of the built-in authorization server (oauth-clients.ts)
  'GET /admin/v1/oauth/clients': {
    id: 'listOAuthClients',
    summary: "The tenant's OAuth clients (a team manager: its team's); never a secret",
    ok: { status: 200, description: '{ data: [clients] }' },
  },
  'POST /admin/v1/oauth/clients': {
    id: 'createOAuthClient',
    summary: 'Register a machine client; the answer holds client_secret once (Cache-Control: no-store)',
    body: {
      fields: {
        name: str('1–100 characters'),
        team_id: nullableId("the client's team (team managers: their own)"),
        auth_method: {
          type: 'string',
          enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
          description: 'how the client authenticates (default client_secret_basic)',
        },
        scopes: strings(
          'scopes the client may ask for (endpoint scopes chat, embeddings, models, messages narrow the endpoints); default none',
        ),
        models: strings('model names or patterns its tokens may use; default ["*"]'),
        jwks: { type: 'object', description: "private_key_jwt only: the client's public keys as a JWKS object" },
      },
      required: ['name'],
    },
    ok: { status: 201, description: 'the client, with client_secret (secret methods) shown once' },
  },
  'GET /admin/v1/oauth/clients/:clientId': {
    id: 'getOAuthClient',
    summary: 'One OAuth client',
    ok: { status: 200, description: 'the client' },
  },
  'POST /admin/v1/oauth/clients/:clientId/revoke': {
    id: 'revokeOAuthClient',
    summary: 'Revoke a client at once: no new tokens, outstanding tokens refused; 409 if already revoked',
    ok: { status: 200, description: 'the revoked client' },
    errors: [409],
  },

  // --- audit, security events, usage, configuration (audit.ts, security-events.ts, usage.ts, gateway-config.ts)
  'GET /admin/v1/audit': {
    id: 'listAuditRecords',
    summary:
      "The tenant's audit records, oldest first (default: the last 24 h, 100 per page, at most 1000; next_after pages on)",
    query: PAGE,
    ok: { status: 200, description: '{ data: [records], next_after }' },
  },
  'GET /admin/v1/audit/export': {
    id: 'exportAuditRecords',
    summary:
      "The tenant's records with from ≤ time < to as a download; the export is itself audited first; more than 100000 records: 400, export a shorter range",
    query: {
      from: RANGE.from,
      to: RANGE.to,
      format: { type: 'string', enum: ['jsonl', 'csv'], description: 'default jsonl' },
    },
    ok: { status: 200, description: 'JSON lines or CSV', download: true },
  },
  'GET /admin/v1/security-events': {
    id: 'listSecurityEvents',
    summary:
      "The tenant's security records from the audit log, oldest first: threat detection alerts, lockouts and other auth.* records, refused admin sign-ins",
    query: PAGE,
    ok: { status: 200, description: '{ data: [records], next_after }' },
  },
  'GET /admin/v1/guard/decisions': {
    id: 'listGuardDecisions',
    summary:
      "Guardrail decisions in the tenant's traffic, newest first: each request a guardrail acted on, with the detectors and what they did (block, redact, flag, error), never the matched text",
    description: `Read from the request records (at most ${GUARD_MAX_RECORDS} of the range; truncated is true when it held more). counts and timeline cover every matching request of the range; data is the newest limit of them.`,
    query: {
      ...RANGE,
      detector: str('only this detector id (as in the guard policy, e.g. pii, injection, deny_list:competitors)'),
      action: { type: 'string', enum: [...GUARD_DECISION_ACTIONS], description: 'only decisions with this action' },
      model: str('only requests for this public model name'),
      key_id: str('only requests made with this API key id'),
      limit: {
        type: 'string',
        pattern: '^[0-9]+$',
        description: `requests listed, 1–${GUARD_MAX_PAGE} (default 100)`,
      },
    },
    ok: {
      status: 200,
      description:
        '{ from, to, total, truncated, counts: [{ detector, action, count }], timeline: { buckets, requests }, data: [{ request_id, time, key_id, team_id, model, status, error_code, decisions: [{ detector, action }] }] }',
    },
  },
  'GET /admin/v1/compliance/report': {
    id: 'getComplianceReport',
    summary:
      "The compliance evidence report (SOC 2, ISO 27001, GDPR controls) for the caller's tenant, as `portcullis report compliance` writes it, as a download; taking it is audited (report.compliance) first",
    description:
      "Keys, admin users and the period's audit records are the tenant's; the configuration and the audit chain's integrity are gateway-wide.",
    query: {
      from: str(`start of the period, inclusive (${TIME}); required`),
      to: str(`end of the period, exclusive (${TIME}); required`),
      format: { type: 'string', enum: [...COMPLIANCE_FORMATS], description: 'default markdown' },
    },
    ok: { status: 200, description: 'Markdown or JSON', download: true },
  },
  'GET /admin/v1/audit/verify': {
    id: 'verifyAudit',
    summary:
      'Whether the audit log is intact: the whole hash chain and every signed checkpoint, checked against the configured signing key (as `portcullis audit verify`)',
    description:
      "The log holds every tenant's records, so the answer gives no counts or record numbers; the CLI names the record. One check runs at a time and its result is reused for 60 seconds.",
    ok: { status: 200, description: '{ ok, status: valid | tampered, checked_at, finding: { kind } | null }' },
  },
  'GET /admin/v1/budgets': {
    id: 'listBudgets',
    summary:
      "Budgets with the current period's spend against them, for the caller's tenant, teams and active keys (a team manager: their team), and the configured rate-limit rules",
    description:
      'Spend and holds are read from the budget counters the gateway enforces. user budgets count JWT subjects, which cannot be listed: they appear with counted false. At most 500 subjects per rule.',
    ok: {
      status: 200,
      description:
        '{ budgets: [{ rule, scope, subject, model, limit_usd, spent_usd, held_usd, percent_used, period: { start, end }, alert_at_percent, counted }], rate_limits: [{ id, scope, model, requests_per_second, requests_per_minute, burst, tokens_per_minute, concurrent }] }',
    },
  },
  'GET /admin/v1/usage/series': {
    id: 'getUsageSeries',
    summary:
      "Requests, errors, p50/p99 latency, tokens and cost per time bucket, in total and for the busiest groups (the console's plots; always the caller's tenant, a team manager: their team)",
    description: `Reads at most ${MAX_RECORDS} request records of the range (newest first); truncated is true when it held more. The ${MAX_GROUPS} busiest groups get their own series, the rest are summed as (other).`,
    query: {
      from: str(`start, inclusive (${TIME}); default: 24 hours before to`),
      to: str(`end, exclusive (${TIME}); default: now`),
      bucket_s: {
        type: 'string',
        enum: SERIES_BUCKETS_S.map(String),
        description: `bucket width in seconds; default: the narrowest giving at most ${MAX_BUCKETS} buckets`,
      },
      group_by: { type: 'string', enum: [...SERIES_GROUPS], description: 'default none' },
    },
    ok: {
      status: 200,
      description:
        'buckets (start times), total, series {requests, errors, total_tokens, cost_micros, p50_ms, p99_ms} (one value per bucket), groups [{key, …the same series}]',
    },
  },
  'GET /admin/v1/usage': {
    id: 'getUsage',
    summary: "Spend and tokens from the request records (always the caller's tenant; a team manager: their team)",
    query: {
      from: str(`start, inclusive (${TIME})`),
      to: str(`end, exclusive (${TIME})`),
      group_by: { type: 'string', enum: [...USAGE_GROUPS], description: 'default day' },
      format: { type: 'string', enum: ['json', 'csv'], description: 'default json' },
    },
    ok: {
      status: 200,
      description:
        'rows of requests, prompt, completion, cached, cache-write and total tokens, cost in exact decimal USD, unpriced and estimated counts',
    },
  },
  'GET /admin/v1/providers': {
    id: 'listProviders',
    summary:
      'The configured upstream providers (read-only: set in the config file); never a credential or header value',
    ok: { status: 200, description: '{ data: [providers], managed_by }' },
  },
  'GET /admin/v1/breakers': {
    id: 'listBreakers',
    summary:
      'Circuit-breaker states of the answering instance (closed, open, half-open) per provider and upstream model; only targets called since the instance started are listed',
    ok: { status: 200, description: '{ data: [{ provider, model, state }], scope: "instance" }' },
  },
  'GET /admin/v1/policy/status': {
    id: 'policyStatus',
    summary:
      'Live policy: the active version in the store and each live instance (heartbeat within 3 periods) with the version it runs and the newest one it could not build, and why',
    ok: {
      status: 200,
      description:
        '{ active_version, all_in_sync, instances: [{ instance_id, host, pid, started_at, seen_at, active_version, failed_version, failure, in_sync }] }',
    },
  },
  'GET /admin/v1/routes': {
    id: 'listRoutes',
    summary: 'The model routes: public model, targets, timeouts, retries, circuit breaker (read-only)',
    ok: { status: 200, description: '{ data: [routes], managed_by }' },
  },
  // Live policy (docs/policy.md): admins of policy.operator_tenant only (403 policy.operator_only otherwise).
  'GET /admin/v1/policy': {
    id: 'showActivePolicy',
    summary: 'The active policy version with its document (`${…}` references, never secret values)',
    ok: { status: 200, description: '{ number, parent, state, sha256, author, created_at, comment, …, document }' },
  },
  'GET /admin/v1/policy/versions': {
    id: 'listPolicyVersions',
    summary: 'Policy versions, newest first (history), without their documents',
    query: {
      limit: { type: 'string', pattern: '^[0-9]+$', description: 'versions per page, 1–1000 (default 50)' },
      before: {
        type: 'string',
        pattern: '^[0-9]+$',
        description: 'only versions numbered below this (the next_before of the previous page)',
      },
    },
    ok: { status: 200, description: '{ data: [versions], next_before }' },
  },
  'GET /admin/v1/policy/versions/:number': {
    id: 'showPolicyVersion',
    summary: 'Policy version N with its document',
    params: { number: 'the version number' },
    ok: { status: 200, description: 'the version, with document' },
  },
  'GET /admin/v1/policy/diff': {
    id: 'diffPolicyVersions',
    summary: 'Semantic diff between two versions, by path (added, removed, changed)',
    query: {
      from: str('a version number or `active`', { pattern: '^([0-9]+|active)$' }),
      to: str('a version number or `active`', { pattern: '^([0-9]+|active)$' }),
    },
    ok: { status: 200, description: '{ changes: [{ path, kind, before?, after? }] }' },
  },
  'POST /admin/v1/policy/validate': {
    id: 'validatePolicy',
    summary:
      'Validates a candidate document with the config readers; 400 policy.invalid lists every problem (path, line, column) in error.details. Stores nothing',
    body: {
      fields: { document: { type: ['string', 'object'], description: POLICY_DOCUMENT } },
      required: ['document'],
    },
    ok: { status: 200, description: '{ valid: true, sha256, active, changes }' },
  },
  'POST /admin/v1/policy/versions': {
    id: 'proposePolicy',
    summary: 'Proposes a version for review (stored as proposed; the diff against the active version is returned)',
    body: {
      fields: {
        document: { type: ['string', 'object'], description: POLICY_DOCUMENT },
        comment: str('why (at most 2000 characters)'),
      },
      required: ['document'],
    },
    ok: { status: 201, description: '{ changed, version, previous, changes, diff_sha256 }' },
  },
  'POST /admin/v1/policy/versions/:number/approve': {
    id: 'approvePolicyVersion',
    summary: 'Approves a proposed version (two-person rule: never one the caller proposed, 403 policy.self_approval)',
    params: { number: 'the version number' },
    ok: { status: 200, description: 'the version' },
    errors: [409],
  },
  'POST /admin/v1/policy/versions/:number/reject': {
    id: 'rejectPolicyVersion',
    summary: 'Rejects a proposed version, with a reason',
    params: { number: 'the version number' },
    body: { fields: { reason: str('why (at most 2000 characters)') }, required: ['reason'] },
    ok: { status: 200, description: 'the version' },
    errors: [409],
  },
  'POST /admin/v1/policy/apply': {
    id: 'applyPolicy',
    summary:
      'Makes a document (a new version) or a stored version active on every instance; an unchanged document is a no-op (changed: false). With policy.require_approval only an approved version can be applied',
    body: {
      fields: {
        document: { type: ['string', 'object'], description: POLICY_DOCUMENT },
        version: { type: 'integer', minimum: 1, description: 'a stored version (instead of document)' },
        if_version: {
          type: 'integer',
          minimum: 1,
          description: 'apply only if this is still the active version (else 409 policy.version_conflict)',
        },
        comment: str('why (at most 2000 characters)'),
      },
    },
    ok: { status: 200, description: '{ changed, version, previous, changes, diff_sha256, local_error? }' },
    errors: [409],
  },
  'POST /admin/v1/policy/dry-run': {
    id: 'dryRunPolicy',
    summary:
      "Replays the window's recorded requests under the active policy and the candidate (fresh counters, no request text) and reports per rule what the candidate would refuse, throttle, let through, reroute or price differently, and the most affected keys and teams (docs/policy-dry-run.md). Changes nothing",
    body: {
      fields: {
        document: { type: ['string', 'object'], description: POLICY_DOCUMENT },
        since: str(
          'window start: a duration back from until (30m, 24h, 7d) or an ISO-8601 time; default 24h, at most 31 days',
        ),
        until: str('window end, ISO-8601; default now'),
        max_records: int('most records replayed (the most recent of the window); default 50000', 1, 200_000),
        tenant: str("only this tenant's requests"),
      },
      required: ['document'],
    },
    ok: {
      status: 200,
      description:
        '{ active_policy, candidate_sha256, window, sample, active, candidate, changed, fidelity, rules, keys, teams }',
    },
  },
  'POST /admin/v1/policy/explain': {
    id: 'explainPolicyDecision',
    summary:
      'The decision trace of one request body under the active policy (or a candidate document): each stage, the rule that refused, the limits, budgets and targets that apply. Counters start empty',
    body: {
      fields: {
        request: { type: 'object', description: 'the request body, as the client would send it' },
        key_id: str('the id of the API key the request is sent with'),
        document: {
          type: ['string', 'object'],
          description: `a candidate instead of the active policy: ${POLICY_DOCUMENT}`,
        },
        surface: str('openai (default) or anthropic', { enum: ['openai', 'anthropic'] }),
        endpoint: str('chat (default) or embeddings', { enum: ['chat', 'embeddings'] }),
      },
      required: ['request', 'key_id'],
    },
    ok: {
      status: 200,
      description: '{ policy, key, model, verdict, code, stage, rule, message, target, steps, applies }',
    },
  },
  'POST /admin/v1/policy/rollback': {
    id: 'rollbackPolicy',
    summary: 'Makes a new version equal to version `to` (default: the one active before the current) and applies it',
    body: {
      fields: {
        to: { type: 'integer', minimum: 1, description: 'a version that was active before' },
        comment: str('why (at most 2000 characters)'),
      },
      optional: true,
    },
    ok: { status: 200, description: '{ changed, version, previous, changes, diff_sha256, local_error? }' },
    errors: [409],
  },
  // --- prompt APIs and subscriptions (prompt-apis.ts; docs/prompt-apis.md)
  'GET /admin/v1/apis': {
    id: 'listApis',
    summary: "The tenant's prompt APIs the caller may see",
    ok: { status: 200, description: '{ data: [apis] }' },
  },
  'POST /admin/v1/apis': {
    id: 'createApi',
    summary: 'Create a prompt API (its versions are added as drafts)',
    body: {
      fields: {
        name: str('1–63 lower-case letters, digits or -; the {name} of /apis/{name}/v{major}', {
          pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
        }),
        owner_team_id: str("the owning team (default: the caller's team; team-bound roles: only their own)"),
        visibility: { type: 'string', enum: ['team', 'tenant'], description: 'default tenant' },
        description: str('at most 2000 characters'),
      },
      required: ['name'],
    },
    ok: { status: 201, description: 'the API' },
    errors: [409],
  },
  'GET /admin/v1/apis/:apiId': {
    id: 'getApi',
    summary: 'One API with its versions (drafts for the owner team) and opaque paths (owner team)',
    ok: { status: 200, description: 'the API' },
  },
  'PATCH /admin/v1/apis/:apiId': {
    id: 'updateApi',
    summary: "Change an API's description or visibility",
    body: {
      fields: {
        description: str('at most 2000 characters'),
        visibility: {
          type: 'string',
          enum: ['team', 'tenant'],
          description: 'team: only the owner team sees and calls it',
        },
      },
    },
    ok: { status: 200, description: 'the API' },
  },
  'GET /admin/v1/apis/:apiId/openapi.json': {
    id: 'getApiOpenApi',
    summary: "The API's generated OpenAPI 3.1 document",
    ok: { status: 200, description: 'an OpenAPI 3.1 document' },
  },
  'POST /admin/v1/apis/:apiId/versions': {
    id: 'createApiVersion',
    summary: 'Add a draft version: the next minor of a major, or a new major',
    description:
      'A new minor must accept every input the published versions of its major accept (else 409 api.breaking_change).',
    body: {
      fields: {
        major: int('the major version (default: the newest; the next one to start a new major)', 1, 999_999),
        definition: {
          type: 'object',
          description:
            'model, messages (the template), parameters, input_schema, output_schema, examples (docs/prompt-apis.md)',
        },
      },
      required: ['definition'],
    },
    ok: { status: 201, description: 'the version' },
    errors: [409],
  },
  'PUT /admin/v1/apis/:apiId/versions/:version': {
    id: 'updateApiDraft',
    summary: "Replace a draft's definition (published versions are immutable: 409)",
    body: { fields: { definition: { type: 'object', description: 'the whole definition' } }, required: ['definition'] },
    ok: { status: 200, description: 'the version' },
    errors: [409],
  },
  'POST /admin/v1/apis/:apiId/versions/:version/publish': {
    id: 'publishApiVersion',
    summary: 'Publish a draft (from now on immutable)',
    ok: { status: 200, description: 'the version' },
    errors: [409],
  },
  'POST /admin/v1/apis/:apiId/versions/:version/deprecate': {
    id: 'deprecateApiVersion',
    summary: 'Deprecate a published version: calls get Deprecation, Sunset and Link headers',
    body: {
      fields: {
        sunset_at: str('planned retirement (ISO-8601, future), sent as Sunset'),
        successor: str('v{major} that replaces it, sent as Link rel=successor-version', { pattern: '^v[1-9][0-9]*$' }),
      },
      optional: true,
    },
    ok: { status: 200, description: 'the version' },
    errors: [409],
  },
  'POST /admin/v1/apis/:apiId/versions/:version/retire': {
    id: 'retireApiVersion',
    summary: 'Retire a deprecated version: calls get 410 naming the successor',
    body: { fields: { successor: str('v{major} that replaces it', { pattern: '^v[1-9][0-9]*$' }) }, optional: true },
    ok: { status: 200, description: 'the version' },
    errors: [409],
  },
  'POST /admin/v1/apis/:apiId/paths': {
    id: 'rotateApiPath',
    summary: 'A new opaque path /x/{random} for a major; older paths answer until the grace ends, then 404',
    body: {
      fields: {
        major: int('the major version served at the path', 1, 999_999),
        grace_seconds: int('how long the previous paths keep answering (default 86400)', 0, 2_592_000),
      },
      required: ['major'],
    },
    ok: { status: 201, description: 'the new path' },
  },
  'GET /admin/v1/apis/:apiId/subscriptions': {
    id: 'listApiSubscriptions',
    summary: "An API's subscriptions (the owner team: all; others: their own team's)",
    ok: { status: 200, description: '{ data: [subscriptions] }' },
  },
  'POST /admin/v1/apis/:apiId/subscriptions': {
    id: 'requestApiSubscription',
    summary: 'Request access for a consumer team, with a reason and a plan; the owner team decides',
    body: {
      fields: {
        team_id: str("the consumer team (default: the caller's; team-bound roles: only their own)"),
        reason: str('why the team needs it, 1–500 characters'),
        requests_per_minute: int('the plan: requests per minute for all the team’s keys', 1, 1_000_000),
        monthly_quota: int('the plan: calls per calendar month (UTC)', 1, 1_000_000_000),
      },
      required: ['reason', 'requests_per_minute', 'monthly_quota'],
    },
    ok: { status: 201, description: 'the subscription (pending)' },
    errors: [409],
  },
  'GET /admin/v1/subscriptions': {
    id: 'listSubscriptions',
    summary: 'Subscriptions the caller may see (team-bound roles: to their APIs and of their team)',
    ok: { status: 200, description: '{ data: [subscriptions] }' },
  },
  'GET /admin/v1/subscriptions/:subscriptionId': {
    id: 'getSubscription',
    summary: 'One subscription',
    ok: { status: 200, description: 'the subscription' },
  },
  'POST /admin/v1/subscriptions/:subscriptionId/approve': {
    id: 'approveSubscription',
    summary: 'Approve a pending request (never by the consumer team or the requester)',
    body: { fields: { reason: str('1–500 characters, recorded and shown to the consumer') }, optional: true },
    ok: { status: 200, description: 'the subscription' },
    errors: [409],
  },
  'POST /admin/v1/subscriptions/:subscriptionId/reject': {
    id: 'rejectSubscription',
    summary: 'Reject a pending request (a reason is required)',
    body: { fields: { reason: str('1–500 characters, recorded and shown to the consumer') }, optional: true },
    ok: { status: 200, description: 'the subscription' },
    errors: [409],
  },
  'POST /admin/v1/subscriptions/:subscriptionId/suspend': {
    id: 'suspendSubscription',
    summary: 'Suspend an approved subscription at once',
    body: { fields: { reason: str('1–500 characters, recorded and shown to the consumer') }, optional: true },
    ok: { status: 200, description: 'the subscription' },
    errors: [409],
  },
  'POST /admin/v1/subscriptions/:subscriptionId/resume': {
    id: 'resumeSubscription',
    summary: 'Resume a suspended subscription',
    body: { fields: { reason: str('1–500 characters, recorded and shown to the consumer') }, optional: true },
    ok: { status: 200, description: 'the subscription' },
    errors: [409],
  },
  'POST /admin/v1/subscriptions/:subscriptionId/revoke': {
    id: 'revokeSubscription',
    summary: 'Revoke a subscription for good',
    body: { fields: { reason: str('1–500 characters, recorded and shown to the consumer') }, optional: true },
    ok: { status: 200, description: 'the subscription' },
    errors: [409],
  },
};
