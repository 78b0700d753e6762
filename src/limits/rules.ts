/**
 * From configured rules to the counters one request touches. A rule applies when its model
 * filter matches the public model asked for and its scope has a subject for this caller (a
 * `team` rule does not apply to a caller without a team). Every applicable limit must pass, so
 * the tightest one decides.
 */
import type { Caller } from '../core/context.ts';
import { encodeSubject, selectRules } from '../policy/rule-selector.ts';
import type { LimitRuleConfig, LimitScope } from './config-types.ts';

export type Metric = 'rps' | 'rpm' | 'tpm' | 'concurrent';

interface LimitBase {
  readonly rule: LimitRuleConfig;
  readonly metric: Metric;
  /** Policy name for the RateLimit/RateLimit-Policy fields (printable ASCII). */
  readonly policy: string;
  /** Backend counter key (encoded; unique per rule, metric and subject). */
  readonly key: string;
}

export interface RateLimit extends LimitBase {
  readonly kind: 'requests' | 'tokens';
  /** The configured number per window. */
  readonly limit: number;
  readonly windowS: 1 | 60;
  readonly intervalMs: number;
  readonly capacity: number;
}

export interface ConcurrencyLimit extends LimitBase {
  readonly kind: 'concurrency';
  readonly max: number;
}

export type AppliedLimit = RateLimit | ConcurrencyLimit;

/** The subject a scope counts, or undefined when the caller has none (the rule does not apply). */
const SUBJECTS: Readonly<Record<LimitScope, (caller: Caller, model: string) => string | undefined>> = {
  key: (c) => c.keyId,
  user: (c) => (c.subject === undefined ? undefined : `${c.issuer ?? ''} ${c.subject}`),
  team: (c) => c.teamId,
  tenant: (c) => c.tenantId,
  // One counter shared by every model the rule's pattern matches.
  model: () => '*',
  // One counter per public model.
  route: (_c, model) => model,
  global: () => '*',
};

/** Default burst for a request rate: a tenth of it, so one window never passes 1.1× its limit. */
export function defaultBurst(limit: number): number {
  return Math.max(1, Math.ceil(limit / 10));
}

export function applicableLimits(rules: readonly LimitRuleConfig[], caller: Caller, model: string): AppliedLimit[] {
  const out: AppliedLimit[] = [];
  for (const { rule, subject } of selectRules(rules, model, (r) => SUBJECTS[r.scope](caller, model))) {
    const counted = encodeSubject(subject);
    for (const t of templatesOf(rule)) out.push({ ...t, key: t.key + counted });
  }
  return out;
}

/** A rule's limits with everything but the subject worked out: `key` holds the counter key's prefix. */
const templates = new WeakMap<LimitRuleConfig, readonly AppliedLimit[]>();

function templatesOf(rule: LimitRuleConfig): readonly AppliedLimit[] {
  let known = templates.get(rule);
  if (known === undefined) {
    known = ruleTemplates(rule);
    templates.set(rule, known);
  }
  return known;
}

function ruleTemplates(rule: LimitRuleConfig): AppliedLimit[] {
  const out: AppliedLimit[] = [];
  const base = (metric: Metric) => ({
    rule,
    metric,
    policy: policyName(rule, metric),
    key: `${encodeURIComponent(rule.id)}/${metric}:`,
  });
  if (rule.requestsPerSecond !== undefined)
    out.push(
      rate(base('rps'), 'requests', rule.requestsPerSecond, 1, rule.burst ?? defaultBurst(rule.requestsPerSecond)),
    );
  if (rule.requestsPerMinute !== undefined)
    out.push(
      rate(base('rpm'), 'requests', rule.requestsPerMinute, 60, rule.burst ?? defaultBurst(rule.requestsPerMinute)),
    );
  // A single request may need a large share of a token budget, so tokens burst to the full minute.
  if (rule.tokensPerMinute !== undefined)
    out.push(rate(base('tpm'), 'tokens', rule.tokensPerMinute, 60, rule.tokensPerMinute));
  if (rule.concurrent !== undefined) out.push({ ...base('concurrent'), kind: 'concurrency', max: rule.concurrent });
  return out;
}

function rate(
  base: LimitBase,
  kind: 'requests' | 'tokens',
  limit: number,
  windowS: 1 | 60,
  capacity: number,
): RateLimit {
  return { ...base, kind, limit, windowS, intervalMs: (windowS * 1000) / limit, capacity };
}

function policyName(rule: LimitRuleConfig, metric: Metric): string {
  const name = rule.model === undefined ? `${rule.scope}-${metric}` : `${rule.scope}-${rule.model}-${metric}`;
  return name.replace(/[^\x20-\x7e]/g, '?');
}
