import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BudgetRuleConfig } from '../../limits/budgets/config-types.ts';
import { createMemoryBudgetBackend } from '../../limits/budgets/memory-budget-backend.ts';
import type { LimitRuleConfig } from '../../limits/config-types.ts';
import { budgetCounter } from '../../stages/budget/rules.ts';
import { sampleApiKeyRecord } from '../../store/contract-fixtures.ts';
import { createBudgetRoutes } from './budgets.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const rule = (over: Partial<BudgetRuleConfig>): BudgetRuleConfig => ({
  name: 'monthly',
  scope: 'key',
  subject: undefined,
  model: undefined,
  period: { kind: 'month' },
  amountMicros: 10_000_000,
  alertAtPercent: [80],
  unpriced: 'refuse',
  ...over,
});
const limit: LimitRuleConfig = {
  id: 'key:*',
  scope: 'key',
  model: undefined,
  requestsPerSecond: undefined,
  requestsPerMinute: 60,
  burst: 10,
  tokensPerMinute: undefined,
  concurrent: 4,
};

type Row = {
  rule: string;
  subject: string | null;
  counted: boolean;
  spent_usd?: string;
  held_usd?: string;
  percent_used?: number;
  limit_usd: string;
  period?: { start: string };
};

describe('admin budgets route', () => {
  let fx: ResourceFixture;
  const backend = createMemoryBudgetBackend();
  const rules = [
    rule({}),
    rule({ name: 'tenant-day', scope: 'tenant', period: { kind: 'day' }, amountMicros: 50_000_000 }),
    rule({ name: 'per-user', scope: 'user' }),
  ];
  const budgets = () =>
    route(
      createBudgetRoutes({
        store: fx.store,
        now: () => new Date(NOW),
        budgetBackend: backend,
        budgetRules: rules,
        limitRules: [limit],
      }),
      'GET',
      '/admin/v1/budgets',
    );

  beforeEach(async () => {
    fx = await openResourceFixture();
    await fx.store.insertApiKey(sampleApiKeyRecord({ id: 'k-red', tenantId: 'tA', teamId: 'red' }));
    await fx.store.insertApiKey(sampleApiKeyRecord({ id: 'k-blue', tenantId: 'tA', teamId: 'blue' }));
    await fx.store.insertApiKey(sampleApiKeyRecord({ id: 'k-other', tenantId: 'tB', teamId: 'red' }));
    // Spend as the budget stage would: reserve, then settle the real cost.
    const items = [budgetCounter(rules[0]!, 'k-red', NOW).item, budgetCounter(rules[1]!, 'tA', NOW).item];
    await backend.reserve('req-1', items, 3_000_000, 60_000);
    await backend.settle('req-1', items, 3_000_000, 2_500_000);
    await backend.reserve('req-2', [budgetCounter(rules[0]!, 'k-other', NOW).item], 9_000_000, 60_000);
  });
  afterEach(async () => {
    await fx.close();
  });

  it("shows each of the tenant's counters with spend against the limit, and the rate-limit rules", async () => {
    const body = (await call(budgets(), principal('billing_viewer'))).body as {
      budgets: Row[];
      rate_limits: unknown[];
    };
    const byKey = new Map(body.budgets.map((r) => [`${r.rule}/${r.subject}`, r]));
    assert.equal(byKey.get('monthly/k-red')?.spent_usd, '2.500000');
    assert.equal(byKey.get('monthly/k-red')?.percent_used, 25);
    assert.equal(byKey.get('monthly/k-red')?.period?.start, '2026-03-01T00:00:00.000Z');
    assert.equal(byKey.get('monthly/k-blue')?.spent_usd, '0.000000');
    assert.equal(byKey.get('tenant-day/tA')?.spent_usd, '2.500000');
    assert.equal(byKey.get('tenant-day/tA')?.limit_usd, '50.000000');
    assert.equal(byKey.get('per-user/null')?.counted, false);
    assert.equal(byKey.has('monthly/k-other'), false, "another tenant's key is never read");
    assert.deepEqual(body.rate_limits, [
      {
        id: 'key:*',
        scope: 'key',
        model: null,
        requests_per_second: null,
        requests_per_minute: 60,
        burst: 10,
        tokens_per_minute: null,
        concurrent: 4,
      },
    ]);
  });

  it('confines a team manager to their team, and refuses roles without usage.read', async () => {
    const body = (await call(budgets(), principal('team_manager', { teamId: 'blue' }))).body as { budgets: Row[] };
    assert.deepEqual(
      body.budgets.filter((r) => r.counted).map((r) => `${r.rule}/${r.subject}`),
      ['monthly/k-blue'],
    );
    assert.equal(await outcome(budgets(), principal('developer')), 'rbac.forbidden');
  });

  it('answers 503 budget.backend_unavailable when the counters cannot be read (fail closed, no guess)', async () => {
    const broken = route(
      createBudgetRoutes({
        store: fx.store,
        budgetRules: rules,
        budgetBackend: { peek: () => Promise.reject(new Error('redis down')) },
      }),
      'GET',
      '/admin/v1/budgets',
    );
    assert.equal(await outcome(broken, principal('owner')), 'budget.backend_unavailable');
  });
});
