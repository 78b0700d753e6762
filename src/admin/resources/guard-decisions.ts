/**
 * Guardrail decisions of the caller's tenant: GET /admin/v1/guard/decisions (action
 * `security_event.read`). Read from the request records, which keep the `detector:action` list
 * of every request a guardrail acted on (src/stages/guard/report.ts) — never the matched text or
 * the finding types, so this view holds no prompt content. Newest first, with filters, the
 * per-detector counts of the whole range and a per-bucket timeline for the console.
 */
import { GUARD_ACTIONS } from '../../guard/config.ts';
import type { RequestRecord } from '../../store/store.ts';
import { invalid } from '../../surfaces/validation.ts';
import type { AdminRoute } from '../types.ts';
import { positiveInt } from './audit.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';
import { readRequestRange } from './request-pages.ts';
import { MAX_RANGE_DAYS, parseUsageTime } from './usage.ts';

const DAY_MS = 86_400_000;
/** What a decision can be: a policy's action, or `error` for a detector that failed. */
export const GUARD_DECISION_ACTIONS = [...GUARD_ACTIONS, 'error'] as const;
export const GUARD_DECISION_QUERY = ['from', 'to', 'detector', 'action', 'model', 'key_id', 'limit'] as const;
/** Request records read for one answer at most. */
export const GUARD_MAX_RECORDS = 100_000;
export const GUARD_MAX_PAGE = 1000;
export const GUARD_TIMELINE_BUCKETS = 48;
const IDENT = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;

export interface GuardDecision {
  readonly detector: string;
  readonly action: string;
}

/** `pii:redact,injection:block` → [{ detector: 'pii', action: 'redact' }, …]; malformed parts are skipped. */
export function parseGuardDetectors(text: string | null | undefined): GuardDecision[] {
  if (!text) return [];
  const out: GuardDecision[] = [];
  for (const part of text.split(',')) {
    const at = part.lastIndexOf(':');
    if (at <= 0 || at === part.length - 1) continue;
    out.push({ detector: part.slice(0, at), action: part.slice(at + 1) });
  }
  return out;
}

function identParam(q: Map<string, string>, name: string): string | undefined {
  const v = q.get(name);
  if (v === undefined) return undefined;
  if (!IDENT.test(v))
    throw invalid(`query.${name}`, 'expected an identifier (letters, digits, . _ : / @ -; at most 128)');
  return v;
}

export function createGuardDecisionRoutes(deps: Pick<AdminResourceDeps, 'store' | 'now'>): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/guard/decisions',
      auth: 'principal',
      action: 'security_event.read',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        const q = queryParams(req.query, GUARD_DECISION_QUERY);
        const to = parseUsageTime(q.get('to'), 'to') ?? deps.now?.() ?? new Date();
        const from = parseUsageTime(q.get('from'), 'from') ?? new Date(to.getTime() - DAY_MS);
        const rangeMs = to.getTime() - from.getTime();
        if (rangeMs <= 0) throw invalid('query.to', 'must be later than from');
        if (rangeMs > MAX_RANGE_DAYS * DAY_MS)
          throw invalid('query.from', `the range is longer than ${MAX_RANGE_DAYS} days`);
        const detector = identParam(q, 'detector');
        const action = q.get('action');
        if (action !== undefined && !(GUARD_DECISION_ACTIONS as readonly string[]).includes(action))
          throw invalid('query.action', `expected one of ${GUARD_DECISION_ACTIONS.join(', ')}`);
        const model = identParam(q, 'model');
        const keyId = identParam(q, 'key_id');
        const limit = positiveInt(q.get('limit'), 'limit', GUARD_MAX_PAGE) ?? 100;

        const matches = (d: GuardDecision) =>
          (detector === undefined || d.detector === detector) && (action === undefined || d.action === action);
        const { records, truncated } = await readRequestRange(deps.store, {
          tenantId: principal.tenantId,
          from,
          to,
          max: GUARD_MAX_RECORDS,
          keep: (r: RequestRecord) =>
            (model === undefined || r.model === model) &&
            (keyId === undefined || r.keyId === keyId) &&
            // Team-bound roles see their team's traffic only (none hold this action today; kept fail-closed).
            (principal.role !== 'team_manager' || (principal.teamId !== null && r.teamId === principal.teamId)) &&
            parseGuardDetectors(r.guardDetectors).some(matches),
        });
        const counts = new Map<string, number>();
        const bucketMs = rangeMs / GUARD_TIMELINE_BUCKETS;
        const timeline = new Array<number>(GUARD_TIMELINE_BUCKETS).fill(0);
        for (const r of records) {
          for (const d of parseGuardDetectors(r.guardDetectors).filter(matches)) {
            const k = `${d.detector}\u0000${d.action}`;
            counts.set(k, (counts.get(k) ?? 0) + 1);
          }
          const i = Math.floor((Date.parse(r.time) - from.getTime()) / bucketMs);
          if (i >= 0 && i < GUARD_TIMELINE_BUCKETS) timeline[i]! += 1;
        }
        return {
          status: 200,
          body: {
            from: from.toISOString(),
            to: to.toISOString(),
            total: records.length,
            truncated,
            counts: [...counts.entries()]
              .map(([k, n]) => {
                const [det, act] = k.split('\u0000') as [string, string];
                return { detector: det, action: act, count: n };
              })
              .sort((a, b) => b.count - a.count || (a.detector < b.detector ? -1 : 1)),
            timeline: {
              buckets: timeline.map((_, i) => new Date(from.getTime() + i * bucketMs).toISOString()),
              requests: timeline,
            },
            data: records.slice(0, limit).map((r) => ({
              request_id: r.id,
              time: r.time,
              key_id: r.keyId,
              team_id: r.teamId,
              model: r.model,
              status: r.status,
              error_code: r.errorCode,
              decisions: parseGuardDetectors(r.guardDetectors),
            })),
          },
        };
      },
    },
  ];
}
