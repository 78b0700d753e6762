/**
 * Label values are bounded so no client can grow the number of series: model and provider
 * labels only take names from the config, error codes only catalogue codes, routes only the
 * fixed endpoint templates. Anything else becomes "other"; a missing value is "none". Key ids,
 * tenants and anything a client typed never become labels.
 */
import { ERROR_CODES } from '../../errors/codes.ts';
import type { RoutingConfig } from '../../providers/config-types.ts';
import type { ThreatAction } from '../../threats/config-types.ts';
import type { RuleName } from '../../threats/types.ts';

export const OTHER = 'other';
export const NONE = 'none';

/** The public endpoint templates (src/server/route-table.ts) plus the bucket for unknown paths. */
export const ROUTE_LABELS = [
  '/v1/chat/completions',
  '/v1/messages',
  '/v1/embeddings',
  '/v1/models',
  '/v1/models/{id}',
  'unmatched',
] as const;
export type RouteLabel = (typeof ROUTE_LABELS)[number];

/** What an upstream attempt ended as (AttemptReport['result']). */
export const ATTEMPT_RESULTS = [
  'success',
  'aborted',
  'rate_limited',
  'overloaded',
  'server_error',
  'bad_request',
  'auth',
  'payload_too_large',
  'content_filter',
  'unknown',
  'timeout',
  'connection',
  'address_refused',
  'bad_response',
] as const;

/**
 * Why identify refused a caller: API key verdicts, header problems, and the JWT verifier's fixed
 * reasons (src/identity/jwt/). Reasons built from claim names or library codes become "other".
 */
export const AUTH_FAILURE_REASONS = [
  'missing_credentials',
  'bad_header',
  'malformed',
  'unknown',
  'revoked',
  'expired',
  'api_keys_disabled',
  'credential_too_long',
  'verifier_error',
  'malformed_header',
  'malformed_payload',
  'missing_signature',
  'token_too_large',
  'alg_not_allowed',
  'crit_unsupported',
  'iat_in_future',
  'invalid_kid',
  'jwks_unavailable',
  'key_error',
  'missing_iss',
  'unknown_issuer',
  'unknown_kid',
  'bad_signature',
  'not_yet_valid',
  'wrong_audience',
  'wrong_issuer',
  'unsupported',
  'invalid_models_claim',
  'invalid_scope_claim',
  'invalid_team_claim',
  // API key hardening (src/stages/identify/key-caller.ts)
  'locked_out',
  'ip_not_allowed',
  'endpoint_not_allowed',
  'key_in_query',
  'team_missing',
  // Tenant suspension (src/stages/tenant-status/)
  'tenant_suspended',
] as const;

/** What a lockout locked (src/identity/lockout.ts subjects, the admin login, the OAuth client endpoint). */
export const LOCKOUT_KINDS = ['ip', 'key', 'admin', 'oauth_client'] as const;

/** Detection rules (src/threats/types.ts RuleName) and what a firing does (config ThreatAction). */
export const THREAT_RULES = [
  'brute_force',
  'credential_stuffing',
  'new_network',
  'usage_spike',
  'repeated_refusals',
  'revoked_key',
  'guard_violations',
] as const;
export const THREAT_ACTIONS = ['alert', 'throttle', 'suspend'] as const;
// A rule or action added without its label here would silently be counted as "other": refuse to compile.
const RULES_COVERED: [Exclude<RuleName, (typeof THREAT_RULES)[number]>] extends [never] ? true : false = true;
const ACTIONS_COVERED: [Exclude<ThreatAction, (typeof THREAT_ACTIONS)[number]>] extends [never] ? true : false = true;
void RULES_COVERED;
void ACTIONS_COVERED;

/** Guardrail detector kinds (src/guard/config.ts) and what a decision did. */
export const GUARD_DETECTOR_LABELS = ['pii', 'secrets', 'injection', 'deny_list', 'judge'] as const;
export const GUARD_ACTION_LABELS = ['block', 'redact', 'flag', 'error_blocked', 'error_allowed'] as const;

/** How one alert webhook delivery attempt or delivery ended (src/alerts/dispatcher.ts). */
export const ALERT_DELIVERY_RESULTS = ['delivered', 'retried', 'dead_lettered', 'dropped'] as const;
export type AlertDeliveryResult = (typeof ALERT_DELIVERY_RESULTS)[number];

export interface LabelBounds {
  /** Public model names (config `models.<name>`). */
  model(name: string | undefined): string;
  /** Provider ids (config `providers.<id>`). */
  provider(id: string | undefined): string;
  /** Provider-side model ids that appear as a target in the config. */
  targetModel(name: string | undefined): string;
  code(code: string | undefined): string;
  route(route: string): string;
  attemptResult(result: string): string;
  authReason(reason: string): string;
  statusClass(status: number, aborted: boolean): string;
  /** Catalogue codes of rate-limit refusals (`limit.*`); anything else is "other". */
  limitCode(code: string | undefined): string;
  /** Catalogue codes of budget refusals (`budget.*`). */
  budgetCode(code: string | undefined): string;
  lockoutKind(kind: string | undefined): string;
  threatRule(rule: string | undefined): string;
  threatAction(action: string | undefined): string;
  guardDetector(kind: string | undefined): string;
  guardAction(action: string | undefined): string;
  /**
   * Admits the model, provider and provider-model names a newly applied policy declares, so a
   * model added live is counted under its own name, not "other". Names are only ever added: a
   * series already exported keeps its name, and the label sets stay bounded by the names that
   * some applied policy declared.
   */
  admit(config: RoutingConfig): void;
}

function bounded(allowed: ReadonlySet<string>): (v: string | undefined) => string {
  return (v) => (v === undefined ? NONE : allowed.has(v) ? v : OTHER);
}

const STATUS_CLASSES = ['unknown', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function createLabelBounds(config: RoutingConfig): LabelBounds {
  const models = new Set<string>();
  const providers = new Set<string>();
  const targetModels = new Set<string>();
  const admit = (c: RoutingConfig): void => {
    for (const [name, route] of c.models) {
      models.add(name);
      for (const t of route.targets) targetModels.add(t.model);
    }
    for (const name of c.providers.keys()) providers.add(name);
  };
  admit(config);
  const model = bounded(models);
  const provider = bounded(providers);
  const targetModel = bounded(targetModels);
  const code = bounded(new Set(Object.keys(ERROR_CODES)));
  const route = bounded(new Set<string>(ROUTE_LABELS));
  const attemptResult = bounded(new Set<string>(ATTEMPT_RESULTS));
  const authReason = bounded(new Set<string>(AUTH_FAILURE_REASONS));
  const codes = Object.keys(ERROR_CODES);
  const limitCode = bounded(new Set(codes.filter((c) => c.startsWith('limit.'))));
  const budgetCode = bounded(new Set(codes.filter((c) => c.startsWith('budget.'))));
  const lockoutKind = bounded(new Set<string>(LOCKOUT_KINDS));
  const threatRule = bounded(new Set<string>(THREAT_RULES));
  const threatAction = bounded(new Set<string>(THREAT_ACTIONS));
  const guardDetector = bounded(new Set<string>(GUARD_DETECTOR_LABELS));
  const guardAction = bounded(new Set<string>(GUARD_ACTION_LABELS));
  return {
    model,
    provider,
    targetModel,
    code,
    attemptResult,
    authReason,
    limitCode,
    budgetCode,
    lockoutKind,
    threatRule,
    threatAction,
    guardDetector,
    guardAction,
    admit,
    route: (r) => route(r),
    statusClass(status, aborted) {
      if (aborted) return 'aborted';
      return STATUS_CLASSES[Math.floor(status / 100)] ?? 'unknown';
    },
  };
}
