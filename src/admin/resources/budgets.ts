/**
 * Limits and budgets for the admin API: GET /admin/v1/budgets (action `usage.read`). Every budget
 * rule that can count one of the caller's subjects, with the current period's spend and holds
 * read from the budget counters themselves (the numbers the budget stage enforces, shared
 * through Redis when budgets are), and the configured rate-limit rules.
 *
 * Subjects are the caller's own: its tenant, the tenant's teams and active keys (a team manager:
 * their team and its keys). `user` budgets count JWT subjects, which the gateway cannot list:
 * they are shown without counters. Other tenants' counters are never read.
 */
import { formatMicros } from '../../cost/money.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { BudgetBackend } from '../../limits/budgets/budget-backend.ts';
import type { BudgetRuleConfig } from '../../limits/budgets/config-types.ts';
import type { LimitRuleConfig } from '../../limits/config-types.ts';
import { type AppliedBudget, budgetCounter } from '../../stages/budget/rules.ts';
import type { AdminPrincipal, AdminRoute } from '../types.ts';
import { type AdminResourceDeps, nowOf, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

/** Subjects read for one rule at most (a tenant with more keys sees the first ones, `truncated`). */
export const MAX_SUBJECTS_PER_RULE = 500;

export interface BudgetDeps extends Pick<AdminResourceDeps, 'store' | 'now'> {
  readonly budgetRules?: readonly BudgetRuleConfig[];
  readonly limitRules?: readonly LimitRuleConfig[];
  readonly budgetBackend?: Pick<BudgetBackend, 'peek'>;
}

async function subjectsOf(deps: BudgetDeps, p: AdminPrincipal, rule: BudgetRuleConfig): Promise<string[] | undefined> {
  if (p.role === 'team_manager' && p.teamId === null) return [];
  const team: string | undefined = p.role === 'team_manager' ? (p.teamId ?? undefined) : undefined;
  let all: string[];
  switch (rule.scope) {
    case 'user':
      return undefined;
    case 'tenant':
      all = team === undefined ? [p.tenantId] : [];
      break;
    case 'team':
      all = team !== undefined ? [team] : (await deps.store.listTeams(p.tenantId)).map((t) => t.id);
      break;
    case 'key':
      all = (await deps.store.listApiKeys({ tenantId: p.tenantId }))
        .filter((k) => k.revokedAt === null && (team === undefined || k.teamId === team))
        .map((k) => k.id);
      break;
  }
  return rule.subject === undefined ? all : all.filter((s) => s === rule.subject);
}

function limitView(r: LimitRuleConfig) {
  return {
    id: r.id,
    scope: r.scope,
    model: r.model ?? null,
    requests_per_second: r.requestsPerSecond ?? null,
    requests_per_minute: r.requestsPerMinute ?? null,
    burst: r.burst ?? null,
    tokens_per_minute: r.tokensPerMinute ?? null,
    concurrent: r.concurrent ?? null,
  };
}

export function createBudgetRoutes(deps: BudgetDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/budgets',
      auth: 'principal',
      action: 'usage.read',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        queryParams(req.query, []);
        const nowMs = nowOf(deps as AdminResourceDeps).getTime();
        const rows: Array<Record<string, unknown>> = [];
        const counters: Array<{ row: Record<string, unknown>; applied: AppliedBudget }> = [];
        for (const rule of deps.budgetRules ?? []) {
          const subjects = await subjectsOf(deps, principal, rule);
          const base = {
            rule: rule.name,
            scope: rule.scope,
            model: rule.model ?? null,
            limit_usd: formatMicros(rule.amountMicros),
            alert_at_percent: [...rule.alertAtPercent],
          };
          if (subjects === undefined) {
            rows.push({ ...base, subject: rule.subject ?? null, counted: false });
            continue;
          }
          for (const subject of subjects.slice(0, MAX_SUBJECTS_PER_RULE)) {
            const applied = budgetCounter(rule, subject, nowMs);
            const row: Record<string, unknown> = {
              ...base,
              subject,
              counted: true,
              period: {
                start: new Date(applied.period.startMs).toISOString(),
                end: new Date(applied.period.endMs).toISOString(),
              },
            };
            rows.push(row);
            counters.push({ row, applied });
          }
          if (subjects.length > MAX_SUBJECTS_PER_RULE)
            rows.push({ ...base, subject: null, counted: false, truncated: subjects.length - MAX_SUBJECTS_PER_RULE });
        }
        if (counters.length > 0) {
          if (deps.budgetBackend === undefined) throw gatewayError('budget.backend_unavailable');
          let states: Awaited<ReturnType<BudgetBackend['peek']>>;
          try {
            states = await deps.budgetBackend.peek(counters.map((c) => c.applied.item));
          } catch (err) {
            throw gatewayError('budget.backend_unavailable', { cause: err });
          }
          counters.forEach((c, i) => {
            const s = states[i]!;
            Object.assign(c.row, {
              spent_usd: formatMicros(s.spentMicros),
              held_usd: formatMicros(s.heldMicros),
              percent_used: s.limitMicros > 0 ? Math.round((s.spentMicros / s.limitMicros) * 1000) / 10 : 0,
            });
          });
        }
        return { status: 200, body: { budgets: rows, rate_limits: (deps.limitRules ?? []).map(limitView) } };
      },
    },
  ];
}
