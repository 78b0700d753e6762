/**
 * The gateway's Prometheus metrics, in a registry of its own (never prom-client's global
 * default, so two gateways in one process, as in tests, do not share or collide).
 *
 * The observe* methods sit on the request path, so they stay cheap: label values are bounded
 * lookups, and each label combination's child is created once and reused; the hottest
 * counters sum their increments here and hand them to prom-client at scrape time
 * (deferredCounter), and the two per-request histograms hand their observations over in
 * batches (deferredHistogram). Gauges that mirror
 * state (in-flight requests, circuit breakers) are read at scrape time, not kept up to date
 * per request.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RoutingConfig } from '../../providers/config-types.ts';
import { childCache, deferredCounter, deferredHistogram } from './deferred.ts';
import {
  ALERT_DELIVERY_RESULTS,
  type AlertDeliveryResult,
  createLabelBounds,
  type LabelBounds,
  OTHER,
} from './labels.ts';

export type BreakerStateName = 'closed' | 'half-open' | 'open';

export interface GatewayMetricsOptions {
  readonly config: RoutingConfig;
  /** Read at scrape time. */
  readonly breakerStates: () => ReadonlyArray<{ provider: string; model: string; state: BreakerStateName }>;
  /** Model requests in flight, read at scrape time. */
  readonly inFlight: () => number;
  /**
   * Each shared backend this instance uses (`postgres`, `redis_limits`, `redis_budgets`,
   * `redis_lockout`, `redis_revocations`) and whether it answers now; read at scrape time.
   */
  readonly backendsUp?: () => ReadonlyArray<{ backend: string; up: boolean }>;
  /**
   * Alert webhook delivery totals since start, read at scrape time (the dispatcher keeps them);
   * undefined when no webhook is configured.
   */
  readonly alertDeliveries?: () => Readonly<Record<AlertDeliveryResult, number>> | undefined;
  /**
   * The live policy version this instance runs and the newest one it failed to build (0: none),
   * read at scrape time; undefined when the gateway runs without policy versions.
   */
  readonly policyVersions?: () => { readonly active: number | undefined; readonly failed: number | undefined };
  /** process_* and nodejs_* metrics (CPU, memory, GC, event-loop lag); default true. */
  readonly defaultMetrics?: boolean;
}

export interface RequestObservation {
  readonly route: string;
  readonly model: string | undefined;
  readonly provider: string | undefined;
  readonly status: number;
  readonly aborted: boolean;
  readonly code: string | undefined;
  readonly durationS: number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly labels: LabelBounds;
  observeRequest(o: RequestObservation): void;
  observeTokens(model: string | undefined, provider: string | undefined, prompt: number, completion: number): void;
  observeStreamFirstByte(route: string, model: string | undefined, seconds: number): void;
  observeAttempt(provider: string, targetModel: string, result: string, seconds: number): void;
  observeAuthFailure(reason: string): void;
  /** The metered cost of one request in micro-dollars (null: unpriced, not counted). */
  observeCost(model: string | undefined, provider: string | undefined, costMicros: number | null): void;
  /** A request refused with this code; only `limit.*` and `budget.*` codes are counted here. */
  observeRefusal(code: string | undefined): void;
  observeLockout(kind: string): void;
  observeThreatFiring(rule: string, action: string): void;
  /** A guardrail decision: detector kind, what it did (block/redact/flag, or allowed/blocked after an error), direction, public model. */
  observeGuardDecision(detector: string, action: string, direction: string, model: string | undefined): void;
  /** A live policy version applied on this instance, or that failed to build here. */
  observePolicyApply(result: 'applied' | 'failed'): void;
  /** The exposition text and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** Seconds; LLM calls range from milliseconds (cached, embeddings) to minutes (long generations). */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const FIRST_BYTE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BREAKER_VALUE: Readonly<Record<BreakerStateName, number>> = { closed: 0, 'half-open': 1, open: 2 };

export { HISTOGRAM_BATCH } from './deferred.ts';

export function createGatewayMetrics(opts: GatewayMetricsOptions): GatewayMetrics {
  const registry = new Registry();
  const labels = createLabelBounds(opts.config);
  const registers = [registry];

  const requestChild = deferredCounter({
    name: 'portcullis_http_requests_total',
    help: 'Requests answered, by endpoint, public model, provider that served it, status class and error code.',
    labelNames: ['route', 'model', 'provider', 'status_class', 'code'] as const,
    registers,
  });
  const durationChild = deferredHistogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'Time from arrival to the end of the response (for streams: the last event).',
    labelNames: ['route', 'model', 'status_class'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const attemptChild = deferredCounter({
    name: 'portcullis_upstream_attempts_total',
    help: 'Upstream attempts, by provider, provider model id and result (success or failure kind).',
    labelNames: ['provider', 'model', 'result'] as const,
    registers,
  });
  const attemptDurationChild = deferredHistogram({
    name: 'portcullis_upstream_attempt_duration_seconds',
    help: 'Time of one upstream attempt until its answer (for streams: until the first event).',
    labelNames: ['provider', 'model'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const tokenChild = deferredCounter({
    name: 'portcullis_tokens_total',
    help: 'Tokens reported by providers, by public model, provider and direction (prompt or completion).',
    labelNames: ['model', 'provider', 'direction'] as const,
    registers,
  });
  const authFailures = new Counter({
    name: 'portcullis_auth_failures_total',
    help: 'Callers refused by identify, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const firstByte = new Histogram({
    name: 'portcullis_stream_time_to_first_byte_seconds',
    help: 'Streams: time from arrival to the first byte sent to the client.',
    labelNames: ['route', 'model'] as const,
    buckets: FIRST_BYTE_BUCKETS,
    registers,
  });

  // Kept as whole micro-dollars per series and converted at scrape time, so the exposed dollars
  // carry no floating-point drift however many requests are added up.
  const costMicros = new Map<string, { model: string; provider: string; micros: number }>();
  new Counter({
    name: 'portcullis_cost_usd_total',
    help: 'Metered cost in US dollars (micro-dollar precision), by public model and provider; unpriced requests are not counted.',
    labelNames: ['model', 'provider'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of costMicros.values()) this.inc({ model: c.model, provider: c.provider }, c.micros / 1_000_000);
    },
  });
  const rateLimitRefusals = new Counter({
    name: 'portcullis_rate_limit_refusals_total',
    help: 'Requests refused by rate limits (limit stage, adaptive throttling), by error code.',
    labelNames: ['code'] as const,
    registers,
  });
  const budgetRefusals = new Counter({
    name: 'portcullis_budget_refusals_total',
    help: 'Requests refused or cut by budgets, by error code.',
    labelNames: ['code'] as const,
    registers,
  });
  const lockouts = new Counter({
    name: 'portcullis_lockouts_total',
    help: 'Brute-force lockouts started, by what was locked (ip, key, admin, oauth_client).',
    labelNames: ['kind'] as const,
    registers,
  });
  const threatFirings = new Counter({
    name: 'portcullis_threat_firings_total',
    help: 'Threat detection firings, by rule and the action taken.',
    labelNames: ['rule', 'action'] as const,
    registers,
  });
  const guardDecisions = new Counter({
    name: 'portcullis_guard_decisions_total',
    help: 'Guardrail decisions, by detector, action (block, redact, flag; error_blocked/error_allowed when the detector failed), direction and model route.',
    labelNames: ['detector', 'action', 'direction', 'model'] as const,
    registers,
  });
  const guardChild = childCache((v) => guardDecisions.labels(...v));
  new Counter({
    name: 'portcullis_alert_deliveries_total',
    help: 'Alert webhook deliveries, by result: delivered, retried (one per retry scheduled), dead_lettered, dropped (queue full).',
    labelNames: ['result'] as const,
    registers,
    collect() {
      const totals = opts.alertDeliveries?.();
      this.reset();
      if (totals === undefined) return;
      for (const result of ALERT_DELIVERY_RESULTS) this.inc({ result }, totals[result]);
    },
  });

  const breakerPairs: Array<[string, string]> = [];
  const seenPairs = new Set<string>();
  for (const route of opts.config.models.values()) {
    for (const t of route.targets) {
      const key = `${t.provider}\u0000${t.model}`;
      if (!seenPairs.has(key)) {
        seenPairs.add(key);
        breakerPairs.push([t.provider, t.model]);
      }
    }
  }
  new Gauge({
    name: 'portcullis_circuit_breaker_state',
    help: 'Circuit breaker of each configured target: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider', 'model'] as const,
    registers,
    collect() {
      const worst = new Map<string, number>();
      for (const [p, m] of breakerPairs) worst.set(`${p}\u0000${m}`, 0);
      for (const b of opts.breakerStates()) {
        const key = `${labels.provider(b.provider)}\u0000${labels.targetModel(b.model)}`;
        worst.set(key, Math.max(worst.get(key) ?? 0, BREAKER_VALUE[b.state]));
      }
      this.reset();
      for (const [key, value] of worst) {
        const [provider = '', model = ''] = key.split('\u0000');
        this.set({ provider, model }, value);
      }
    },
  });
  new Gauge({
    name: 'portcullis_backend_up',
    help: 'Each shared backend (PostgreSQL, each use of Redis): 1 while it answers, 0 while it is unreachable or known stuck.',
    labelNames: ['backend'] as const,
    registers,
    collect() {
      this.reset();
      for (const b of opts.backendsUp?.() ?? []) this.set({ backend: b.backend }, b.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portcullis_policy_active_version',
    help: 'The live policy version this instance runs (0 before the first version is loaded).',
    registers,
    collect() {
      this.set(opts.policyVersions?.().active ?? 0);
    },
  });
  new Gauge({
    name: 'portcullis_policy_failed_version',
    help: 'The newest active policy version this instance could not build and so does not run (0: none).',
    registers,
    collect() {
      this.set(opts.policyVersions?.().failed ?? 0);
    },
  });
  const policyApplies = new Counter({
    name: 'portcullis_policy_applies_total',
    help: 'Live policy versions adopted by this instance, by result: applied (built and swapped) or failed (kept the previous version).',
    labelNames: ['result'] as const,
    registers,
  });
  new Gauge({
    name: 'portcullis_in_flight_requests',
    help: 'Model requests being served right now.',
    registers,
    collect() {
      this.set(opts.inFlight());
    },
  });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const authChild = childCache((v) => authFailures.labels(...v));
  const firstByteChild = childCache((v) => firstByte.labels(...v));
  const rateLimitChild = childCache((v) => rateLimitRefusals.labels(...v));
  const budgetChild = childCache((v) => budgetRefusals.labels(...v));
  const lockoutChild = childCache((v) => lockouts.labels(...v));
  const threatChild = childCache((v) => threatFirings.labels(...v));

  return {
    registry,
    labels,
    observeRequest(o) {
      const route = labels.route(o.route);
      const model = labels.model(o.model);
      const statusClass = labels.statusClass(o.status, o.aborted);
      requestChild(route, model, labels.provider(o.provider), statusClass, labels.code(o.code)).inc();
      durationChild(route, model, statusClass).observe(o.durationS);
    },
    observeTokens(model, provider, prompt, completion) {
      const m = labels.model(model);
      const p = labels.provider(provider);
      // Provider-reported numbers: a negative, NaN or 1e999 count would poison or throw.
      if (prompt > 0 && Number.isFinite(prompt)) tokenChild(m, p, 'prompt').inc(prompt);
      if (completion > 0 && Number.isFinite(completion)) tokenChild(m, p, 'completion').inc(completion);
    },
    observeStreamFirstByte(route, model, seconds) {
      firstByteChild(labels.route(route), labels.model(model)).observe(seconds);
    },
    observeAttempt(provider, targetModel, result, seconds) {
      const p = labels.provider(provider);
      const m = labels.targetModel(targetModel);
      attemptChild(p, m, labels.attemptResult(result)).inc();
      attemptDurationChild(p, m).observe(seconds);
    },
    observeAuthFailure(reason) {
      authChild(labels.authReason(reason)).inc();
    },
    observeCost(model, provider, micros) {
      // Whole micro-dollars only: a NaN, negative or fractional value would poison the sum.
      if (micros === null || !Number.isSafeInteger(micros) || micros <= 0) return;
      const m = labels.model(model);
      const p = labels.provider(provider);
      const key = `${m}\u0000${p}`;
      const series = costMicros.get(key);
      if (series === undefined) costMicros.set(key, { model: m, provider: p, micros });
      else series.micros += micros;
    },
    observeRefusal(code) {
      if (code === undefined) return;
      if (code.startsWith('limit.')) rateLimitChild(labels.limitCode(code)).inc();
      else if (code.startsWith('budget.')) budgetChild(labels.budgetCode(code)).inc();
    },
    observeLockout(kind) {
      lockoutChild(labels.lockoutKind(kind)).inc();
    },
    observeThreatFiring(rule, action) {
      threatChild(labels.threatRule(rule), labels.threatAction(action)).inc();
    },
    observeGuardDecision(detector, action, direction, model) {
      guardChild(
        labels.guardDetector(detector),
        labels.guardAction(action),
        direction === 'input' || direction === 'output' ? direction : OTHER,
        labels.model(model),
      ).inc();
    },
    observePolicyApply(result) {
      policyApplies.inc({ result });
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
