/**
 * From configured budget rules to the counters one request touches. A rule applies when its
 * model filter matches the public model, its scope has a subject for this caller (a `team`
 * budget does not apply to a caller without a team) and, when the rule names a subject, it is
 * this caller's. Each applicable rule is one counter per subject per period.
 */
import type { Caller } from '../../core/context.ts';
import type { BudgetItem } from '../../limits/budgets/budget-backend.ts';
import type { BudgetRuleConfig, BudgetScope } from '../../limits/budgets/config-types.ts';
import { type PeriodWindow, periodAt } from '../../limits/budgets/periods.ts';
import { encodeSubject, selectRules } from '../../policy/rule-selector.ts';

/** Counters outlive their period by this much, so a late settle still finds them. */
const COUNTER_MARGIN_MS = 86_400_000;

export interface AppliedBudget {
  readonly rule: BudgetRuleConfig;
  readonly period: PeriodWindow;
  readonly item: BudgetItem;
}

/** The subject a scope counts, as shown to operators, or undefined when the caller has none. */
export function budgetSubject(scope: BudgetScope, caller: Caller): string | undefined {
  switch (scope) {
    case 'key':
      return caller.keyId;
    case 'user':
      return caller.subject;
    case 'team':
      return caller.teamId;
    case 'tenant':
      return caller.tenantId;
  }
}

export function applicableBudgets(
  rules: readonly BudgetRuleConfig[],
  caller: Caller,
  model: string,
  nowMs: number,
): AppliedBudget[] {
  const out: AppliedBudget[] = [];
  for (const { rule, subject } of selectRules(rules, model, (r) => budgetSubject(r.scope, caller))) {
    // Users are scoped by issuer: the same `sub` from two issuers is two people.
    const counted = rule.scope === 'user' ? `${caller.issuer ?? ''} ${subject}` : subject;
    out.push(budgetCounter(rule, counted, nowMs));
  }
  return out;
}

interface RulePeriod {
  readonly period: PeriodWindow;
  /** The counter keys' common start: the rule's name and the period's id. */
  readonly prefix: string;
}

/** Each rule's current period, worked out again only once `nowMs` leaves it (or goes back before it). */
const periods = new WeakMap<BudgetRuleConfig, RulePeriod>();

function currentPeriod(rule: BudgetRuleConfig, nowMs: number): RulePeriod {
  const known = periods.get(rule);
  if (known !== undefined && nowMs >= known.period.startMs && nowMs < known.period.endMs) return known;
  const period = periodAt(rule.period, nowMs);
  const fresh = { period, prefix: `${encodeURIComponent(rule.name)}/${period.id}/` };
  periods.set(rule, fresh);
  return fresh;
}

/** The counter of one rule for one subject in the period holding `nowMs` (the admin API peeks at these too). */
export function budgetCounter(rule: BudgetRuleConfig, counted: string, nowMs: number): AppliedBudget {
  const { period, prefix } = currentPeriod(rule, nowMs);
  return {
    rule,
    period,
    item: {
      key: `${prefix}${encodeSubject(counted)}`,
      limitMicros: rule.amountMicros,
      ttlMs: Math.max(1, period.endMs - nowMs + COUNTER_MARGIN_MS),
      thresholds: rule.alertAtPercent,
    },
  };
}
