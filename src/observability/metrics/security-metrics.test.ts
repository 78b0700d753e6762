import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { newOutcome, type RequestContext } from '../../core/context.ts';
import type { MeteredUsage } from '../../cost/meter-usage.ts';
import { createSecurityEventBus } from '../../events/security-events.ts';
import { silentLogger } from '../logger.ts';
import { createGatewayMetrics } from './gateway-metrics.ts';
import type { AlertDeliveryResult } from './labels.ts';
import { createMetricsObservers, lockoutKindOf } from './request-observer.ts';

const config = parseConfig(
  `
providers:
  openai: { kind: openai, base_url: "https://api.openai.com/v1" }
models:
  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }
`,
  '<test>',
  {},
);

function make(alerts?: () => Record<AlertDeliveryResult, number> | undefined) {
  const metrics = createGatewayMetrics({
    config,
    breakerStates: () => [],
    inFlight: () => 0,
    defaultMetrics: false,
    alertDeliveries: alerts,
  });
  const bus = createSecurityEventBus();
  const observers = createMetricsObservers(metrics, silentLogger());
  bus.subscribe(observers.securityEvent);
  return { metrics, bus, observers };
}

async function lines(m: ReturnType<typeof make>['metrics'], name: string): Promise<string[]> {
  return (await m.scrape()).body.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

function servedBy(model: string | undefined, provider: string): RequestContext {
  const outcome = newOutcome();
  outcome.target = { provider, model: 'gpt-4o-mini' } as NonNullable<RequestContext['outcome']['target']>;
  return {
    startedAt: performance.now(),
    outcome,
    route: model === undefined ? undefined : { publicModel: model },
  } as unknown as RequestContext;
}

const metered = (costMicros: number | null): MeteredUsage => ({
  usage: undefined,
  estimated: false,
  cachedTokens: null,
  cacheWriteTokens: null,
  costMicros,
  priceVersion: null,
});

test('cost is summed in whole micro-dollars and exposed in dollars, by configured model and provider only', async () => {
  const { metrics, observers } = make();
  // 0.1 + 0.2 in floating point is 0.30000000000000004; whole micros keep it exact.
  observers.metered(servedBy('gpt', 'openai'), metered(100_000));
  observers.metered(servedBy('gpt', 'openai'), metered(200_000));
  observers.metered(servedBy('gpt', 'openai'), metered(1));
  observers.metered(servedBy('gpt', 'openai'), metered(null)); // unpriced: not counted
  observers.metered(servedBy('gpt', 'openai'), metered(-5)); // never subtracts
  observers.metered(servedBy('gpt', 'openai'), metered(Number.NaN));
  observers.metered(servedBy('client-typed-name', 'evil'), metered(7));
  assert.deepEqual(await lines(metrics, 'portcullis_cost_usd_total'), [
    'portcullis_cost_usd_total{model="gpt",provider="openai"} 0.300001',
    'portcullis_cost_usd_total{model="other",provider="other"} 0.000007',
  ]);
});

test('rate-limit and budget refusals are counted by code; other codes are not', async () => {
  const { metrics, observers } = make();
  const refused = (code: string) => {
    const ctx = servedBy(undefined, 'openai');
    ctx.outcome.status = 429;
    ctx.outcome.errorCode = code as never;
    observers.request.requestEnded(ctx, '/v1/chat/completions');
  };
  refused('limit.requests');
  refused('limit.requests');
  refused('limit.adaptive_throttle');
  refused('budget.exceeded');
  refused('upstream.rate_limited');
  refused('auth.invalid_key');
  observers.request.requestRefused('/v1/chat/completions', 503, 'limit.backend_unavailable', 1);
  assert.deepEqual(await lines(metrics, 'portcullis_rate_limit_refusals_total'), [
    'portcullis_rate_limit_refusals_total{code="limit.requests"} 2',
    'portcullis_rate_limit_refusals_total{code="limit.adaptive_throttle"} 1',
    'portcullis_rate_limit_refusals_total{code="limit.backend_unavailable"} 1',
  ]);
  assert.deepEqual(await lines(metrics, 'portcullis_budget_refusals_total'), [
    'portcullis_budget_refusals_total{code="budget.exceeded"} 1',
  ]);
  metrics.observeRefusal('limit.made_up_by_someone');
  assert.ok(
    (await lines(metrics, 'portcullis_rate_limit_refusals_total')).includes(
      'portcullis_rate_limit_refusals_total{code="other"} 1',
    ),
  );
});

test('lockouts from the bus are counted by subject kind, never by subject', async () => {
  const { metrics, bus } = make();
  const lockout = (detail: Record<string, string | number>) =>
    bus.emit({ type: 'auth.lockout', severity: 'warning', tenantId: 'tA', detail });
  lockout({ subject: 'ip:203.0.113.7', retryAfterS: 60 });
  lockout({ subject: 'key:pcl_3fK9', retryAfterS: 60 });
  lockout({ subject: 'key:pcl_zzzz', retryAfterS: 60 });
  lockout({ lockout_subject: 'source', retry_after_s: 60 });
  lockout({ method: 'oauth_client', reason: 'locked', endpoint: '/oauth/token' });
  lockout({ subject: 'weird:thing' });
  bus.emit({ type: 'auth.failure', severity: 'warning', tenantId: 'tA', detail: { subject: 'ip:1.2.3.4' } });
  const got = await lines(metrics, 'portcullis_lockouts_total');
  assert.deepEqual(got, [
    'portcullis_lockouts_total{kind="ip"} 1',
    'portcullis_lockouts_total{kind="key"} 2',
    'portcullis_lockouts_total{kind="admin"} 1',
    'portcullis_lockouts_total{kind="oauth_client"} 1',
    'portcullis_lockouts_total{kind="other"} 1',
  ]);
  assert.doesNotMatch(got.join('\n'), /203\.0\.113|pcl_/);
  assert.equal(lockoutKindOf(undefined), 'other');
});

test('threat firings from the bus are counted by rule and action, unknown ones bounded', async () => {
  const { metrics, bus } = make();
  const fire = (rule: string, action: string) =>
    bus.emit({ type: `threat.${rule}`, severity: 'critical', tenantId: 'tA', detail: { rule, action } });
  fire('brute_force', 'alert');
  fire('brute_force', 'alert');
  fire('usage_spike', 'throttle');
  fire('repeated_refusals', 'suspend');
  fire('attacker_named_rule', 'obliterate');
  assert.deepEqual(await lines(metrics, 'portcullis_threat_firings_total'), [
    'portcullis_threat_firings_total{rule="brute_force",action="alert"} 2',
    'portcullis_threat_firings_total{rule="usage_spike",action="throttle"} 1',
    'portcullis_threat_firings_total{rule="repeated_refusals",action="suspend"} 1',
    'portcullis_threat_firings_total{rule="other",action="other"} 1',
  ]);
});

test('alert deliveries are read from the dispatcher at scrape time; absent without webhooks', async () => {
  let totals: Record<AlertDeliveryResult, number> | undefined = {
    delivered: 3,
    retried: 2,
    dead_lettered: 1,
    dropped: 0,
  };
  const { metrics } = make(() => totals);
  assert.deepEqual(await lines(metrics, 'portcullis_alert_deliveries_total'), [
    'portcullis_alert_deliveries_total{result="delivered"} 3',
    'portcullis_alert_deliveries_total{result="retried"} 2',
    'portcullis_alert_deliveries_total{result="dead_lettered"} 1',
    'portcullis_alert_deliveries_total{result="dropped"} 0',
  ]);
  totals = { delivered: 4, retried: 2, dead_lettered: 1, dropped: 5 };
  assert.ok(
    (await lines(metrics, 'portcullis_alert_deliveries_total')).includes(
      'portcullis_alert_deliveries_total{result="dropped"} 5',
    ),
  );
  totals = undefined;
  assert.deepEqual(await lines(metrics, 'portcullis_alert_deliveries_total'), []);
});

test('guard decisions from the bus are counted by detector, action, direction and model route, all bounded', async () => {
  const { metrics, bus } = make();
  const decide = (type: string, detail: Record<string, string>) =>
    bus.emit({ type, severity: 'info', tenantId: 'tA', detail });
  decide('guard.violation', { kind: 'pii', action: 'redact', direction: 'input', model: 'gpt' });
  decide('guard.violation', { kind: 'pii', action: 'redact', direction: 'input', model: 'gpt' });
  decide('guard.violation', { kind: 'injection', action: 'block', direction: 'input', model: 'gpt' });
  decide('guard.unavailable', { kind: 'judge', action: 'blocked', direction: 'output', model: 'gpt' });
  decide('guard.unavailable', { kind: 'judge', action: 'allowed', direction: 'input', model: 'gpt' });
  decide('guard.violation', { kind: 'telepathy', action: 'smite', direction: 'sideways', model: 'client-typed' });
  assert.deepEqual(await lines(metrics, 'portcullis_guard_decisions_total'), [
    'portcullis_guard_decisions_total{detector="pii",action="redact",direction="input",model="gpt"} 2',
    'portcullis_guard_decisions_total{detector="injection",action="block",direction="input",model="gpt"} 1',
    'portcullis_guard_decisions_total{detector="judge",action="error_blocked",direction="output",model="gpt"} 1',
    'portcullis_guard_decisions_total{detector="judge",action="error_allowed",direction="input",model="gpt"} 1',
    'portcullis_guard_decisions_total{detector="other",action="other",direction="other",model="other"} 1',
  ]);
});
