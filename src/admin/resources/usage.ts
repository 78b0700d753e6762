/**
 * Spend and tokens for the admin API: GET /admin/v1/usage?from=&to=&group_by=&format= (action
 * `usage.read`). Always restricted to the principal's tenant; a team manager sees only their
 * team. Aggregated by the store's SQL (the same as `portcullis report usage`); money is exact
 * decimal USD from integer micro-dollars.
 */
import { formatMicros } from '../../cost/money.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { USAGE_GROUPS, type UsageGroup, type UsageRow } from '../../store/usage-records.ts';
import { invalid } from '../../surfaces/validation.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

const DAY_MS = 86_400_000;
/** Longer ranges are refused (narrow it) so one call cannot scan years of records. */
export const MAX_RANGE_DAYS = 366;
const ISO_INPUT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const FORMATS = ['json', 'csv'] as const;

/** An ISO-8601 query time (`from`, `to`), or 400 naming the parameter. */
export function parseUsageTime(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = ISO_INPUT.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime()))
    throw invalid(
      `query.${name}`,
      'expected an ISO-8601 date or time with a zone, e.g. 2025-01-31 or 2025-01-31T12:00:00Z',
    );
  return d;
}

function rowView(groupBy: UsageGroup, r: UsageRow) {
  return {
    [groupBy]: r.group,
    requests: r.requests,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    cached_tokens: r.cachedTokens,
    cache_write_tokens: r.cacheWriteTokens,
    total_tokens: r.totalTokens,
    cost_usd: formatMicros(r.costMicros),
    unpriced_requests: r.unpricedRequests,
    estimated_requests: r.estimatedRequests,
  };
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function createUsageRoutes(deps: Pick<AdminResourceDeps, 'store' | 'now'>): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/usage',
      auth: 'principal',
      action: 'usage.read',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        const q = queryParams(req.query, ['from', 'to', 'group_by', 'format']);
        const now = deps.now?.() ?? new Date();
        const to = parseUsageTime(q.get('to'), 'to') ?? now;
        const from = parseUsageTime(q.get('from'), 'from') ?? new Date(to.getTime() - 30 * DAY_MS);
        if (to.getTime() <= from.getTime()) throw invalid('query.to', 'must be later than from');
        if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS)
          throw invalid('query.from', `the range is longer than ${MAX_RANGE_DAYS} days`);
        const groupBy = (q.get('group_by') ?? 'day') as UsageGroup;
        if (!(USAGE_GROUPS as readonly string[]).includes(groupBy))
          throw invalid('query.group_by', `expected one of ${USAGE_GROUPS.join(', ')}`);
        const format = q.get('format') ?? 'json';
        if (!(FORMATS as readonly string[]).includes(format))
          throw invalid('query.format', `expected one of ${FORMATS.join(', ')}`);
        // Team managers act inside their team only; without a team there is nothing they may see.
        let teamId: string | undefined;
        if (principal.role === 'team_manager') {
          if (principal.teamId === null)
            throw gatewayError('rbac.forbidden', { params: { role: principal.role, action: 'usage.read' } });
          teamId = principal.teamId;
        }
        const rows = await deps.store.summarizeUsage({
          since: from.toISOString(),
          until: to.toISOString(),
          groupBy,
          tenantId: principal.tenantId,
          ...(teamId === undefined ? {} : { teamId }),
        });
        const data = rows.map((r) => rowView(groupBy, r));
        if (format === 'csv') {
          const header = Object.keys(
            rowView(groupBy, {
              group: null,
              requests: 0,
              promptTokens: 0,
              completionTokens: 0,
              cachedTokens: 0,
              cacheWriteTokens: 0,
              totalTokens: 0,
              costMicros: 0,
              unpricedRequests: 0,
              estimatedRequests: 0,
            }),
          );
          const lines = [header.join(','), ...data.map((d) => Object.values(d).map(csvCell).join(','))];
          return {
            status: 200,
            headers: {
              'content-type': 'text/csv; charset=utf-8',
              'content-disposition': `attachment; filename="usage_${from.toISOString().slice(0, 10)}_${to.toISOString().slice(0, 10)}.csv"`,
            },
            body: `${lines.join('\r\n')}\r\n`,
          };
        }
        const totalMicros = rows.reduce((a, r) => a + BigInt(r.costMicros), 0n);
        return {
          status: 200,
          body: {
            from: from.toISOString(),
            to: to.toISOString(),
            group_by: groupBy,
            tenant_id: principal.tenantId,
            team_id: teamId ?? null,
            data,
            total: { requests: rows.reduce((a, r) => a + r.requests, 0), cost_usd: formatMicros(totalMicros) },
          },
        };
      },
    },
  ];
}
