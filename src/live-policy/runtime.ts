/**
 * The gateway's runtime snapshot: everything built from the policy sections of a config
 * (upstream pools and breakers, JWT issuers, lockout, limit and budget rules and their
 * backends, prices, payload caps, threat rules and alert routing, guard policies, the stage
 * chain and the terminal). A snapshot is immutable; a new policy builds a new one beside it
 * (src/live-policy/swap.ts swaps them). Long-lived pieces (store, audit log, Redis subscriptions,
 * envelope, listeners) are opened once by create-gateway and handed in as the bootstrap.
 *
 * Parts whose config is unchanged are shared with the previous snapshot rather than rebuilt,
 * so state carries over: limit counters and budget spend (backend counters are keyed by rule
 * id), breakers of unchanged providers, JWKS caches, lockout and threat penalties. Each part
 * counts the snapshots holding it and is closed when the last one is disposed.
 */
import type { AlertDispatcher } from '../alerts/dispatcher.ts';
import { createPromptApiStage } from '../apis/stage.ts';
import { createPromptApiTerminal } from '../apis/terminal.ts';
import { createTerminal } from '../app/terminal.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditPostgresConfig } from '../audit/config-types.ts';
import type { GatewayConfig } from '../config/types.ts';
import { createPipeline, type Pipeline } from '../core/pipeline.ts';
import type { Terminal } from '../core/stage.ts';
import { createPriceTable } from '../cost/price-table.ts';
import type { SecurityEventBus } from '../events/security-events.ts';
import { createJudgeTransport } from '../guard/judge/transport.ts';
import { compilePolicies } from '../guard/policy.ts';
import type { LockoutConfig } from '../identity/config-types.ts';
import { createJwtVerifier, type JwtVerifier } from '../identity/jwt/verifier.ts';
import type { KeyVerifier } from '../identity/key-verifier.ts';
import { createLockout, type Lockout } from '../identity/lockout.ts';
import type { OAuthServerRuntime } from '../identity/oauth/open.ts';
import type { LockoutScope, SharedLockouts } from '../identity/shared-lockout.ts';
import type { TenantStatusGate } from '../identity/tenant-status.ts';
import type { BudgetBackend } from '../limits/budgets/budget-backend.ts';
import { openBudgetBackend } from '../limits/budgets/open-budget-backend.ts';
import type { LimitBackend } from '../limits/limit-backend.ts';
import { openLimitBackend } from '../limits/open.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetricsObservers } from '../observability/metrics/request-observer.ts';
import type { Tracer } from '../observability/trace/tracer.ts';
import type { PayloadLog } from '../payload-log/payload-log.ts';
import type { ActivePolicyRef } from '../policy/contract.ts';
import { adapterFor } from '../providers/registry.ts';
import { createAuditStage } from '../stages/audit/index.ts';
import { createAuthorizeStage } from '../stages/authorize/index.ts';
import { createBudgetStage } from '../stages/budget/index.ts';
import { createGuardStage } from '../stages/guard/index.ts';
import { createIdentifyStage } from '../stages/identify/index.ts';
import { createLimitStage } from '../stages/limit/index.ts';
import { createMeterStage } from '../stages/meter/index.ts';
import { createPayloadLogStage } from '../stages/payload-log/index.ts';
import { createRouteStage } from '../stages/route/index.ts';
import { createTenantStatusStage } from '../stages/tenant-status/index.ts';
import { createValidateStage } from '../stages/validate/index.ts';
import type { Store } from '../store/store.ts';
import { openThreatDetection, type ThreatDetection } from '../threats/open.ts';
import { createUpstream, type Upstream } from '../upstream/index.ts';
import { fingerprint } from './fingerprint.ts';

/** What a runtime is built against: opened once at start, shared by every snapshot. */
export interface RuntimeBootstrap {
  readonly log: Logger;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly events: SecurityEventBus;
  readonly observers: MetricsObservers | undefined;
  readonly keyVerifier: KeyVerifier;
  readonly tenantStatus: TenantStatusGate;
  readonly payloadLog: PayloadLog | undefined;
  readonly oauthServer: OAuthServerRuntime | undefined;
  readonly sharedLockouts: SharedLockouts | undefined;
  readonly tracer: Tracer | undefined;
  /** Unix seconds reported as every model's `created`. */
  readonly createdAt: number;
  /** Shared store: dead letters become audit records and penalties are shared (src/threats/open.ts). */
  readonly sharedPenalties: AuditPostgresConfig | undefined;
}

export interface GatewayRuntime {
  readonly config: GatewayConfig;
  /** The policy version this snapshot runs; undefined when built straight from the file without versions. */
  readonly policy: ActivePolicyRef | undefined;
  readonly pipeline: Pipeline;
  readonly terminal: Terminal;
  readonly upstream: Upstream;
  readonly limitBackend: LimitBackend | undefined;
  readonly budgetBackend: BudgetBackend | undefined;
  readonly alerts: AlertDispatcher | undefined;
  /** Which parts came over from the previous snapshot unchanged (logged on a swap). */
  readonly carriedOver: readonly string[];
  /** Releases this snapshot's parts; a part no other snapshot holds is closed. Idempotent. */
  dispose(): Promise<void>;
  /** The shareable parts, for the next snapshot's build. */
  readonly parts: RuntimeParts;
}

interface Part<T> {
  readonly value: T;
  readonly id: string;
  holders: number;
  readonly close: () => Promise<void>;
}

interface RuntimeParts {
  readonly upstream: Part<Upstream>;
  readonly jwt: Part<JwtVerifier | undefined>;
  readonly lockout: Part<Lockout | undefined>;
  readonly limits: Part<LimitBackend | undefined>;
  readonly budgets: Part<BudgetBackend | undefined>;
  readonly threats: Part<ThreatDetection>;
}

/**
 * Builds a snapshot from a complete config (bootstrap + policy, secrets resolved here). Throws,
 * having closed whatever it opened, when the config cannot be built on this instance.
 */
export async function buildGatewayRuntime(
  config: GatewayConfig,
  boot: RuntimeBootstrap,
  options: { readonly policy?: ActivePolicyRef; readonly previous?: GatewayRuntime } = {},
): Promise<GatewayRuntime> {
  const { log } = boot;
  const prev = options.previous?.parts;
  const held: Part<unknown>[] = [];
  const carried: string[] = [];
  // Take the previous snapshot's part when its identity is unchanged, else open a new one.
  async function part<T>(
    name: string,
    old: Part<T> | undefined,
    id: string,
    open: () => T | Promise<T>,
    close: (v: T) => Promise<void> | void,
  ): Promise<Part<T>> {
    if (old !== undefined && old.id === id) {
      old.holders++;
      held.push(old as Part<unknown>);
      carried.push(name);
      return old;
    }
    const value = await open();
    const p: Part<T> = { value, id, holders: 1, close: async () => close(value) };
    held.push(p as Part<unknown>);
    return p;
  }
  const release = async (): Promise<void> => {
    for (const p of held.reverse()) {
      if (--p.holders === 0)
        await p.close().catch((err: unknown) => log.warn({ err }, 'could not close a policy part'));
    }
  };

  try {
    const upstream = await part(
      'upstream',
      prev?.upstream,
      fingerprint(config.providers),
      () => {
        // Breakers of providers whose settings are unchanged keep their state.
        const before = prev?.upstream.value;
        const same = (id: string) =>
          options.previous?.config.providers.get(id) !== undefined &&
          fingerprint(options.previous.config.providers.get(id)) === fingerprint(config.providers.get(id));
        return createUpstream({
          providers: config.providers,
          adapterFor,
          log,
          ...(before === undefined ? {} : { breakers: before.breakers.carryOver(same) }),
        });
      },
      (u) => u.close(),
    );
    const oauth = boot.oauthServer;
    const jwt = await part(
      'jwt',
      prev?.jwt,
      fingerprint(config.auth.jwt.issuers),
      () =>
        // JWKS are fetched on first use, not here: an IdP that is down must not stop a start or an apply.
        config.auth.jwt.issuers.length === 0 && oauth === undefined
          ? undefined
          : createJwtVerifier(config.auth.jwt.issuers, {
              onFetchError: (issuer, err) =>
                log.warn(
                  { event: 'jwks.fetch_failed', issuer, error: (err as Error).message },
                  'could not fetch issuer keys',
                ),
              localIssuers: oauth === undefined ? [] : [oauth.localIssuer],
            }),
      (v) => v?.close(),
    );
    const lockout = await part(
      'lockout',
      prev?.lockout,
      fingerprint(config.auth.lockout),
      () => lockoutFromConfig(config.auth.lockout, 'proxy', boot.sharedLockouts),
      () => undefined,
    );
    // Counters are keyed by rule id inside the backend, so sharing the backend carries them over.
    const limits = await part(
      'limits',
      prev?.limits,
      config.limits.rules.length === 0
        ? 'none'
        : fingerprint(config.limits.backend, config.limits.redis, config.limits.onBackendError),
      () => (config.limits.rules.length === 0 ? undefined : openLimitBackend(config.limits, log)),
      (v) => v?.close(),
    );
    const budgets = await part(
      'budgets',
      prev?.budgets,
      config.budgets.rules.length === 0
        ? 'none'
        : fingerprint(config.budgets.backend, config.budgets.onBackendError, config.redis),
      () => (config.budgets.rules.length === 0 ? undefined : openBudgetBackend(config.budgets, config.redis, log)),
      (v) => v?.close(),
    );
    const threats = await part(
      'threats',
      prev?.threats,
      fingerprint(config.threatDetection, config.alerts),
      () =>
        openThreatDetection({
          threats: config.threatDetection,
          alerts: config.alerts,
          bus: boot.events,
          audit: boot.audit,
          log,
          recordDeadLetters: boot.sharedPenalties !== undefined,
          ...(boot.sharedPenalties !== undefined ? { sharedPenalties: boot.sharedPenalties } : {}),
        }),
      (v) => v.close(),
    );

    const up = upstream.value;
    const prices = createPriceTable(config.pricing);
    const priceFor = (t: { provider: string; model: string }) => {
      const provider = config.providers.get(t.provider);
      return provider === undefined ? undefined : prices.lookup(t.provider, provider.kind, t.model);
    };
    // Guardrails: every detector is built here, once per snapshot; judges reach their route through upstream.
    const guardPolicies = compilePolicies(config.guardrails, {
      providerKeys: [...config.providers.values()].flatMap((p) =>
        p.apiKey === undefined || p.apiKey === '' ? [] : [p.apiKey],
      ),
      judgeTransport: createJudgeTransport(config.models, up, log),
    });
    const { observers, events } = boot;
    const threatStage = threats.value.stage;
    const pipeline = createPipeline([
      createAuditStage({ audit: boot.audit }),
      createMeterStage({ store: boot.store, priceFor, onMetered: observers?.metered }),
      ...(boot.payloadLog === undefined ? [] : [createPayloadLogStage({ payloadLog: boot.payloadLog })]),
      createIdentifyStage({
        store: boot.store,
        jwt: jwt.value,
        apiKeysEnabled: config.auth.apiKeys.enabled,
        verifier: boot.keyVerifier,
        onAuthFailure: observers?.authFailure,
        events,
        lockout: lockout.value,
        clientCertificates: config.auth.clientCertificates,
      }),
      createTenantStatusStage({ gate: boot.tenantStatus, events, onAuthFailure: observers?.authFailure }),
      ...(threatStage === undefined ? [] : [threatStage]),
      createValidateStage({ maxJsonDepth: config.server.maxJsonDepth, payload: config.payload }),
      createPromptApiStage({ store: boot.store, maxJsonDepth: config.server.maxJsonDepth }),
      createAuthorizeStage(),
      ...(guardPolicies.length === 0 ? [] : [createGuardStage({ policies: guardPolicies, events })]),
      ...(limits.value === undefined
        ? []
        : [createLimitStage({ config: config.limits, backend: limits.value, models: config.models })]),
      ...(budgets.value === undefined
        ? []
        : [
            createBudgetStage({
              config: config.budgets,
              backend: budgets.value,
              models: config.models,
              priceFor,
              providerKind: (id) => config.providers.get(id)?.kind,
              events,
            }),
          ]),
      createRouteStage({ config, adapterFor }),
    ]);
    // Prompt APIs (src/apis/): the catalog is answered, and output schemas enforced, around the upstream call.
    const terminal = createPromptApiTerminal({
      store: boot.store,
      inner: createTerminal({
        config,
        upstream: up,
        createdAt: boot.createdAt,
        onAttempt: observers?.attempt,
        tracer: boot.tracer,
      }),
    });
    let disposed: Promise<void> | undefined;
    return {
      config,
      policy: options.policy,
      pipeline,
      terminal,
      upstream: up,
      limitBackend: limits.value,
      budgetBackend: budgets.value,
      alerts: threats.value.alerts,
      carriedOver: carried,
      parts: { upstream, jwt, lockout, limits, budgets, threats },
      dispose: () => (disposed ??= release()),
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** In-process, and shared through Redis when `shared` is given (else each instance counts its own failures). */
export function lockoutFromConfig(
  c: LockoutConfig,
  scope: LockoutScope,
  shared: SharedLockouts | undefined,
): Lockout | undefined {
  if (!c.enabled) return undefined;
  const local = createLockout({
    threshold: c.threshold,
    windowS: c.windowS,
    baseLockoutS: c.baseLockoutS,
    maxLockoutS: c.maxLockoutS,
    maxSubjects: c.maxSubjects,
  });
  return shared === undefined ? local : shared.share(scope, local, c);
}
