/**
 * Usage reports: spend and tokens aggregated from the request records by the database (both
 * backends), grouped by tenant, team, key, public model or UTC day. The grouping expression is
 * picked from a fixed table, never built from input; every value is a bound parameter.
 */

export const USAGE_GROUPS = ['tenant', 'team', 'key', 'model', 'day', 'api'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  /** Inclusive lower bound, ISO-8601. */
  readonly since: string;
  /** Exclusive upper bound, ISO-8601. */
  readonly until: string;
  /** Only this tenant's records (admin API callers are always restricted to theirs). */
  readonly tenantId?: string;
  /** Only this team's records (team managers see their team). */
  readonly teamId?: string;
  readonly groupBy: UsageGroup;
}

export interface UsageRow {
  /** The group's value (tenant id, team id, key id, model, or YYYY-MM-DD); null: records without one. */
  readonly group: string | null;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic cache writes; priced apart). */
  readonly cacheWriteTokens: number;
  readonly totalTokens: number;
  /** Integer micro-dollars over the priced records. */
  readonly costMicros: number;
  /** Records with tokens but no price (their cost is unknown, not zero). */
  readonly unpricedRequests: number;
  /** Records whose tokens the gateway counted itself (the provider reported none). */
  readonly estimatedRequests: number;
}

export interface UsageStore {
  /** One row per group, ordered by group (nulls last). Rejects unparseable times or an unknown group. */
  summarizeUsage(query: UsageQuery): Promise<UsageRow[]>;
}

/**
 * The model group: requests that named no model (model lists, refusals before the body was
 * read) are labelled by their operation, `(no model: models)`, rather than an empty name, and
 * sorted after the named models (UNNAMED_LAST). The same SQL text for both backends.
 */
export const NAMED_MODEL = "COALESCE(model, '(no model: ' || operation || ')')";
export const UNNAMED_LAST = "(grp IS NOT NULL AND grp LIKE '(no model: %')";

/** The aggregate columns, the same text for both backends. */
export const USAGE_AGGREGATES = `COUNT(*) AS requests,
  COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
  COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
  COALESCE(SUM(cached_tokens), 0) AS cached_tokens,
  COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,
  COALESCE(SUM(total_tokens), 0) AS total_tokens,
  COALESCE(SUM(cost_micros), 0) AS cost_micros,
  SUM(CASE WHEN cost_micros IS NULL AND total_tokens IS NOT NULL THEN 1 ELSE 0 END) AS unpriced,
  SUM(CASE WHEN usage_estimated THEN 1 ELSE 0 END) AS estimated`;

export function assertUsageQuery(q: UsageQuery): { sinceMs: number; untilMs: number } {
  if (!(USAGE_GROUPS as readonly string[]).includes(q.groupBy))
    throw new RangeError(`groupBy must be one of ${USAGE_GROUPS.join(', ')}`);
  const sinceMs = Date.parse(q.since);
  const untilMs = Date.parse(q.until);
  if (typeof q.since !== 'string' || !Number.isFinite(sinceMs)) throw new TypeError('since must be an ISO-8601 time');
  if (typeof q.until !== 'string' || !Number.isFinite(untilMs)) throw new TypeError('until must be an ISO-8601 time');
  return { sinceMs, untilMs };
}

/** Row → UsageRow; numbers may arrive as strings (PostgreSQL SUM/COUNT) or bigints. */
export function usageFromRow(row: Record<string, unknown>): UsageRow {
  const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
  return {
    group: row.grp === null || row.grp === undefined ? null : String(row.grp),
    requests: n(row.requests),
    promptTokens: n(row.prompt_tokens),
    completionTokens: n(row.completion_tokens),
    cachedTokens: n(row.cached_tokens),
    cacheWriteTokens: n(row.cache_write_tokens),
    totalTokens: n(row.total_tokens),
    costMicros: n(row.cost_micros),
    unpricedRequests: n(row.unpriced),
    estimatedRequests: n(row.estimated),
  };
}
