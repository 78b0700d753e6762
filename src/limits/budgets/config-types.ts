/** Spending budgets (`budgets`); read by src/limits/budgets/config.ts. */

/** Who a budget counts: one counter per key, user (JWT subject), team or tenant. */
export type BudgetScope = 'key' | 'user' | 'team' | 'tenant';

/** A budget period: a UTC calendar day/week (Monday)/month, or a custom start + length. */
export type BudgetPeriod =
  | { readonly kind: 'day' | 'week' | 'month' }
  | { readonly kind: 'custom'; readonly startMs: number; readonly lengthMs: number };

/** One `budgets.rules[]` entry. */
export interface BudgetRuleConfig {
  /** Counter identity and the name shown in errors and events. */
  readonly name: string;
  readonly scope: BudgetScope;
  /** Only this subject (a key id, user, team or tenant id); undefined: every subject, each its own budget. */
  readonly subject: string | undefined;
  /** Public model name pattern; undefined: every model. */
  readonly model: string | undefined;
  readonly period: BudgetPeriod;
  /** Integer micro-dollars per period. */
  readonly amountMicros: number;
  /** Percentages (ascending) at which a `budget.threshold` security event is raised once per period. */
  readonly alertAtPercent: readonly number[];
  /** A model without a price: refuse (default, fail closed) or let it through uncounted. */
  readonly unpriced: 'refuse' | 'allow';
}

export interface BudgetsConfig {
  /** `redis` shares spend across instances (needs the top-level `redis` section). */
  readonly backend: 'memory' | 'redis';
  readonly onBackendError: 'fail_closed' | 'local_fallback';
  /** Completion tokens reserved when a request sets no max_tokens. */
  readonly defaultMaxTokens: number;
  readonly rules: readonly BudgetRuleConfig[];
}
