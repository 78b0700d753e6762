/** Rate-limit rules and the shared Redis connection (`limits`, `redis`); read by src/limits/config.ts. */

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
