/**
 * Traffic over time for the console's plots: GET /admin/v1/usage/series?from=&to=&bucket_s=&group_by=
 * (action `usage.read`). Requests, errors (status ≥ 400), p50/p99 latency, tokens and cost per
 * time bucket, in total and for the busiest groups (team, model, key or provider). Always the
 * caller's tenant; a team manager sees only their team.
 *
 * Percentiles need every latency, so the records are read (newest first, in pages) rather than
 * summed in SQL; at most MAX_RECORDS are read and `truncated` says when the range held more
 * (the oldest buckets are then incomplete: narrow the range).
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import type { RequestRecord } from '../../store/store.ts';
import { invalid } from '../../surfaces/validation.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';
import { readRequestRange } from './request-pages.ts';
import { MAX_RANGE_DAYS, parseUsageTime } from './usage.ts';

const DAY_MS = 86_400_000;
/** Bucket widths offered, in seconds; the default is the narrowest giving at most MAX_BUCKETS. */
export const SERIES_BUCKETS_S = [60, 300, 900, 3600, 21_600, 86_400] as const;
export const SERIES_GROUPS = ['none', 'team', 'model', 'key', 'provider'] as const;
export const MAX_BUCKETS = 500;
/** Records read for one answer at most (a page of the store is 10000). */
export const MAX_RECORDS = 100_000;
/** Groups with a series of their own; the rest are summed as `(other)`. */
export const MAX_GROUPS = 8;

type SeriesGroup = (typeof SERIES_GROUPS)[number];

interface Acc {
  requests: number[];
  errors: number[];
  tokens: number[];
  costMicros: number[];
  latencies: number[][];
}

function newAcc(n: number): Acc {
  return {
    requests: new Array<number>(n).fill(0),
    errors: new Array<number>(n).fill(0),
    tokens: new Array<number>(n).fill(0),
    costMicros: new Array<number>(n).fill(0),
    latencies: Array.from({ length: n }, () => []),
  };
}

/** Nearest-rank percentile of an ascending list; null for an empty one. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function add(acc: Acc, i: number, r: RequestRecord): void {
  acc.requests[i]! += 1;
  if (r.status >= 400) acc.errors[i]! += 1;
  acc.tokens[i]! += r.totalTokens ?? 0;
  acc.costMicros[i]! += r.costMicros ?? 0;
  acc.latencies[i]!.push(r.latencyMs);
}

function view(acc: Acc) {
  const sorted = acc.latencies.map((l) => l.sort((a, b) => a - b));
  return {
    requests: acc.requests,
    errors: acc.errors,
    total_tokens: acc.tokens,
    cost_micros: acc.costMicros,
    p50_ms: sorted.map((l) => percentile(l, 50)),
    p99_ms: sorted.map((l) => percentile(l, 99)),
  };
}

function groupKey(r: RequestRecord, by: SeriesGroup): string {
  const v =
    by === 'team'
      ? r.teamId
      : by === 'model'
        ? r.model
        : by === 'key'
          ? r.keyId
          : by === 'provider'
            ? r.provider
            : null;
  return v ?? '(none)';
}

export function createUsageSeriesRoutes(deps: Pick<AdminResourceDeps, 'store' | 'now'>): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/usage/series',
      auth: 'principal',
      action: 'usage.read',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        const q = queryParams(req.query, ['from', 'to', 'bucket_s', 'group_by']);
        const now = deps.now?.() ?? new Date();
        const to = parseUsageTime(q.get('to'), 'to') ?? now;
        const from = parseUsageTime(q.get('from'), 'from') ?? new Date(to.getTime() - DAY_MS);
        const rangeMs = to.getTime() - from.getTime();
        if (rangeMs <= 0) throw invalid('query.to', 'must be later than from');
        if (rangeMs > MAX_RANGE_DAYS * DAY_MS)
          throw invalid('query.from', `the range is longer than ${MAX_RANGE_DAYS} days`);
        const groupBy = (q.get('group_by') ?? 'none') as SeriesGroup;
        if (!(SERIES_GROUPS as readonly string[]).includes(groupBy))
          throw invalid('query.group_by', `expected one of ${SERIES_GROUPS.join(', ')}`);
        let bucketS: number;
        const asked = q.get('bucket_s');
        if (asked !== undefined) {
          bucketS = Number(asked);
          if (!(SERIES_BUCKETS_S as readonly number[]).includes(bucketS))
            throw invalid('query.bucket_s', `expected one of ${SERIES_BUCKETS_S.join(', ')}`);
        } else {
          bucketS = SERIES_BUCKETS_S.find((b) => rangeMs / (b * 1000) <= MAX_BUCKETS) ?? 86_400;
        }
        const n = Math.ceil(rangeMs / (bucketS * 1000));
        if (n > MAX_BUCKETS)
          throw invalid('query.bucket_s', `${n} buckets; at most ${MAX_BUCKETS} (a wider bucket or a shorter range)`);
        let teamId: string | undefined;
        if (principal.role === 'team_manager') {
          if (principal.teamId === null)
            throw gatewayError('rbac.forbidden', { params: { role: principal.role, action: 'usage.read' } });
          teamId = principal.teamId;
        }

        const { records, truncated } = await readRequestRange(deps.store, {
          tenantId: principal.tenantId,
          from,
          to,
          max: MAX_RECORDS,
          ...(teamId === undefined ? {} : { keep: (r: RequestRecord) => r.teamId === teamId }),
        });

        const total = newAcc(n);
        const groups = new Map<string, Acc>();
        const counts = new Map<string, number>();
        if (groupBy !== 'none')
          for (const r of records) counts.set(groupKey(r, groupBy), (counts.get(groupKey(r, groupBy)) ?? 0) + 1);
        const top = new Set(
          [...counts.entries()]
            .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
            .slice(0, MAX_GROUPS)
            .map(([k]) => k),
        );
        for (const r of records) {
          const i = Math.min(n - 1, Math.floor((Date.parse(r.time) - from.getTime()) / (bucketS * 1000)));
          if (i < 0) continue;
          add(total, i, r);
          if (groupBy === 'none') continue;
          const k = top.has(groupKey(r, groupBy)) ? groupKey(r, groupBy) : '(other)';
          const acc = groups.get(k) ?? newAcc(n);
          groups.set(k, acc);
          add(acc, i, r);
        }
        const all = records.map((r) => r.latencyMs).sort((a, b) => a - b);
        return {
          status: 200,
          body: {
            from: from.toISOString(),
            to: to.toISOString(),
            bucket_s: bucketS,
            group_by: groupBy,
            tenant_id: principal.tenantId,
            team_id: teamId ?? null,
            records: records.length,
            truncated,
            buckets: Array.from({ length: n }, (_, i) => new Date(from.getTime() + i * bucketS * 1000).toISOString()),
            total: {
              requests: records.length,
              errors: records.filter((r) => r.status >= 400).length,
              total_tokens: records.reduce((a, r) => a + (r.totalTokens ?? 0), 0),
              cost_micros: records.reduce((a, r) => a + (r.costMicros ?? 0), 0),
              p50_ms: percentile(all, 50),
              p99_ms: percentile(all, 99),
            },
            series: view(total),
            groups: [...groups.entries()]
              .sort((a, b) => (counts.get(b[0]) ?? 0) - (counts.get(a[0]) ?? 0))
              .map(([key, acc]) => ({ key, ...view(acc) })),
          },
        };
      },
    },
  ];
}
