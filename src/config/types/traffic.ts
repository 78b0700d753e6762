/** Traffic control: rate limits, the shared Redis, prices and budgets; part of the resolved config assembled in ../types.ts. */

/** Who a rate-limit rule counts: one counter per key, user, team, tenant, public model, or one for all. */
export type LimitScope = 'key' | 'user' | 'team' | 'tenant' | 'model' | 'route' | 'global';

/** One `limits.rules[]` entry; every limit it sets must pass (the tightest applicable wins). */
export interface LimitRuleConfig {
  /** Counter identity: scope plus model filter (stable when the numbers are edited). */
  readonly id: string;
  readonly scope: LimitScope;
  /** Public model name pattern (`*` wildcard) the rule applies to; undefined: every model. */
  readonly model: string | undefined;
  readonly requestsPerSecond: number | undefined;
  readonly requestsPerMinute: number | undefined;
  /** Requests that may arrive at once; default a tenth of the request rate (at least 1). */
  readonly burst: number | undefined;
  readonly tokensPerMinute: number | undefined;
  readonly concurrent: number | undefined;
}

export interface RedisLimitsConfig {
  /** Resolved URL (may hold a password: never log it). */
  readonly url: string;
  readonly keyPrefix: string;
  /** Connect and per-command timeout. */
  readonly timeoutMs: number;
}

export interface LimitsConfig {
  readonly backend: 'memory' | 'redis';
  readonly redis: RedisLimitsConfig | undefined;
  /** Backend unreachable: refuse with 503 (default), or count locally until it is back. */
  readonly onBackendError: 'fail_closed' | 'local_fallback';
  /** Completion tokens assumed when a request sets no max_tokens (token reservations). */
  readonly defaultMaxTokens: number;
  /** Concurrency lease lifetime; renewed while the request runs. */
  readonly leaseTtlMs: number;
  readonly rules: readonly LimitRuleConfig[];
}

/** One `pricing.models[]` entry: the price of one upstream model on one configured provider. */
export interface PriceEntryConfig {
  /** A provider id from `providers`. */
  readonly provider: string;
  /** The provider's own model id (as in a route target). */
  readonly model: string;
  /** Integer micro-dollars per 1M tokens (config gives USD). */
  readonly inputMicrosPer1M: number;
  readonly outputMicrosPer1M: number;
  /** Prompt tokens read from the provider's cache; default: the input price. */
  readonly cachedInputMicrosPer1M: number;
  /** Prompt tokens written to the provider's cache (5-minute lifetime); default: 1.25x input on Anthropic, else the input price. */
  readonly cacheWriteMicrosPer1M: number;
  /** Prompt tokens written with a 1-hour lifetime; default: 2x input on Anthropic, else the input price. */
  readonly cacheWrite1hMicrosPer1M: number;
}

export interface PricingConfig {
  /** Version string recorded with every cost computed from these entries. */
  readonly version: string;
  /** ISO date from which these prices apply (documentation and reports). */
  readonly effectiveDate: string;
  readonly models: readonly PriceEntryConfig[];
}

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
