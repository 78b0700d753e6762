/**
 * Assembles a gateway from a validated config: store, identity secret, upstream pools, the
 * frozen stage chain and the listener. Everything that can be misconfigured fails here, at
 * startup, not on a request.
 */
import type { Server } from 'node:http';
import { type AdminApi, openAdminApi } from '../admin/open.ts';
import { createPromptApiStage } from '../apis/stage.ts';
import { createPromptApiTerminal } from '../apis/terminal.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { generatedKeyWarning } from '../audit/key-warning.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { recordSecurityEvents } from '../audit/security-event-records.ts';
import { createSecurityEventBus, type SecurityEventBus } from '../audit/security-events.ts';
import type { GatewayConfig, LockoutConfig } from '../config/types.ts';
import { createPipeline, type Pipeline } from '../core/pipeline.ts';
import { createPriceTable } from '../cost/price-table.ts';
import { closeEnvelope } from '../crypto/open.ts';
import { createJudgeTransport } from '../guard/judge/transport.ts';
import { compilePolicies } from '../guard/policy.ts';
import { createJwtVerifier, type JwtVerifier } from '../identity/jwt/verifier.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { createLockout, type Lockout } from '../identity/lockout.ts';
import { type OAuthServerRuntime, openOAuthServer } from '../identity/oauth/open.ts';
import { createSharedLockouts, type LockoutScope, type SharedLockouts } from '../identity/shared-lockout.ts';
import { createTenantStatusGate } from '../identity/tenant-status.ts';
import type { BudgetBackend } from '../limits/budgets/budget-backend.ts';
import { openBudgetBackend } from '../limits/budgets/open-budget-backend.ts';
import type { LimitBackend } from '../limits/limit-backend.ts';
import { openLimitBackend } from '../limits/open.ts';
import type { Logger } from '../observability/logger.ts';
import { createGatewayMetrics, type GatewayMetrics } from '../observability/metrics/gateway-metrics.ts';
import { createMetricsServer, type MetricsServer } from '../observability/metrics/metrics-server.ts';
import { createMetricsObservers } from '../observability/metrics/request-observer.ts';
import { createTracer, type Tracer } from '../observability/trace/tracer.ts';
import { openConfiguredPayloadLog } from '../payload-log/open.ts';
import type { PayloadLog } from '../payload-log/payload-log.ts';
import { publishPolicyActivation } from '../policy/announce.ts';
import type { Bootstrap } from '../policy/document.ts';
import { createPolicyService, type PolicyService, type PolicyServiceOptions } from '../policy/service.ts';
import { adapterFor } from '../providers/registry.ts';
import { createClientIpResolver } from '../server/client-ip.ts';
import { createRequestHandler, type Lifecycle } from '../server/handler.ts';
import { createListener, drain, listen } from '../server/listener.ts';
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
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { openThreatDetection, type ThreatDetection } from '../threats/open.ts';
import { assertProviderAddressPolicy, createUpstream, type Upstream } from '../upstream/index.ts';
import { backendsUp } from './backends-up.ts';
import { type KeyVerification, openKeyVerification } from './key-verification.ts';
import { createTerminal } from './terminal.ts';
import { GATEWAY_VERSION } from './version.ts';

export interface Gateway {
  readonly config: GatewayConfig;
  readonly store: Store;
  /** The tamper-evident audit log (src/audit/); closed with the gateway. */
  readonly audit: AuditLog;
  readonly pipeline: Pipeline;
  readonly server: Server;
  /** Prometheus metrics; undefined when `metrics.enabled` is false. */
  readonly metrics: GatewayMetrics | undefined;
  /** Security events (auth failures, lockouts, threat alerts): producers emit, detection and webhooks subscribe. */
  readonly securityEvents: SecurityEventBus;
  /** Live policy operations (src/policy/service.ts); undefined without a bootstrap. */
  readonly policy: PolicyService | undefined;
  /**
   * Call after revoking a key in the store from inside this process (admin API): evicts it from
   * this instance's key cache and broadcasts the revocation to every instance over Redis.
   */
  announceKeyRevocation(keyId: string): Promise<void>;
  /** Starts listening (and the metrics listener, when enabled); resolves with the base URL. */
  listen(): Promise<string>;
  /** Drains in-flight requests (up to the configured grace) and releases everything. */
  close(): Promise<void>;
}

export interface GatewayDeps {
  readonly log: Logger;
  /** Use this store instead of opening the configured one (tests); it is closed with the gateway. */
  readonly store?: Store;
  /** The config file without its policy sections (src/policy/document.ts); without it the policy routes answer 403. */
  readonly bootstrap?: Bootstrap;
  /** Told when a policy version becomes active through this process (admin API): the running gateway switches to it. */
  readonly onPolicyActivated?: PolicyServiceOptions['onActivated'];
}

export async function createGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { log } = deps;
  const securityEvents = createSecurityEventBus({ log });
  for (const provider of config.providers.values()) assertProviderAddressPolicy(provider);
  const keyHashSecret = resolveKeyHashSecret(config.security);
  const store = deps.store ?? (await openStore(config.store, log));
  let upstream: Upstream | undefined;
  let jwt: JwtVerifier | undefined;
  let oauth: OAuthServerRuntime | undefined;
  let audit: AuditLog | undefined;
  let limitBackend: LimitBackend | undefined;
  let budgetBackend: BudgetBackend | undefined;
  let keyVerification: KeyVerification | undefined;
  let tracer: Tracer | undefined;
  let threats: ThreatDetection | undefined;
  let payloadLog: PayloadLog | undefined;
  let admin: AdminApi | undefined;
  // With a shared Redis, failures count across instances (identity/shared-lockout.ts).
  let sharedLockouts: SharedLockouts | undefined;
  try {
    const anyLockout = config.auth.lockout.enabled || config.admin?.enabled === true;
    sharedLockouts =
      config.redis === undefined || !anyLockout ? undefined : createSharedLockouts({ redis: config.redis, log });
    const lockoutFor = (scope: LockoutScope, c: LockoutConfig): Lockout | undefined =>
      lockoutFromConfig(c, scope, sharedLockouts);
    audit = await openConfiguredAuditLog(config.audit, config.security.dataDir, log);
    const keyWarning = config.source === '<demo>' ? undefined : generatedKeyWarning(config.audit);
    if (keyWarning !== undefined)
      log.warn({ event: 'audit.generated_signing_key', path: config.audit.generatedKeyPath }, keyWarning);
    const auditLog = audit;
    recordSecurityEvents(securityEvents, auditLog, log);
    threats = openThreatDetection({
      threats: config.threatDetection,
      alerts: config.alerts,
      bus: securityEvents,
      audit: auditLog,
      log,
      recordDeadLetters: config.audit.postgres !== undefined,
      ...(config.audit.postgres !== undefined ? { sharedPenalties: config.audit.postgres } : {}),
    });
    const threatDetection = threats;
    upstream = createUpstream({ providers: config.providers, adapterFor, log });
    const up0 = upstream;
    const metrics = config.metrics.enabled
      ? createGatewayMetrics({
          config,
          breakerStates: () => up0.breakerStates(),
          inFlight: () => lifecycle.inFlight.size,
          // Read at scrape time: the backends below are opened after the metrics.
          backendsUp: () =>
            backendsUp({
              store,
              limits: limitBackend,
              budgets: budgetBackend,
              lockout: sharedLockouts,
              revocations: keyVerification?.listener,
            }),
          alertDeliveries: () => {
            const s = threatDetection.alerts?.stats();
            return s === undefined
              ? undefined
              : { delivered: s.delivered, retried: s.retried, dead_lettered: s.deadLettered, dropped: s.dropped };
          },
        })
      : undefined;
    const observers = metrics === undefined ? undefined : createMetricsObservers(metrics, log);
    // Lockouts and threat firings are counted from the bus, so their producers know nothing of metrics.
    if (observers !== undefined) securityEvents.subscribe(observers.securityEvent);
    // The built-in authorization server (oauth_server): its tokens go through the same verifier, keys local.
    oauth = await openOAuthServer(config, {
      store,
      serverSecret: keyHashSecret,
      log,
      events: securityEvents,
      lockout: lockoutFor('oauth', config.auth.lockout),
    });
    const oauthServer = oauth;
    // JWKS are fetched on first use, not here: an IdP that is down must not stop the gateway starting.
    jwt =
      config.auth.jwt.issuers.length === 0 && oauthServer === undefined
        ? undefined
        : createJwtVerifier(config.auth.jwt.issuers, {
            onFetchError: (issuer, err) =>
              log.warn(
                { event: 'jwks.fetch_failed', issuer, error: (err as Error).message },
                'could not fetch issuer keys',
              ),
            localIssuers: oauthServer === undefined ? [] : [oauthServer.localIssuer],
          });
    const jwtVerifier = jwt;
    // Redis is connected in the background: while it is unreachable, limits fail closed (or fall back) per request.
    limitBackend = config.limits.rules.length === 0 ? undefined : openLimitBackend(config.limits, log);
    const limits = limitBackend;
    // Prices (built-in list + `pricing:`) for every request record's cost, and the budgets that spend it.
    const prices = createPriceTable(config.pricing);
    const priceFor = (t: { provider: string; model: string }) => {
      const provider = config.providers.get(t.provider);
      return provider === undefined ? undefined : prices.lookup(t.provider, provider.kind, t.model);
    };
    budgetBackend =
      config.budgets.rules.length === 0 ? undefined : openBudgetBackend(config.budgets, config.redis, log);
    const budgets = budgetBackend;
    // Subscribes to key revocation broadcasts in the background when a shared Redis is configured.
    keyVerification = openKeyVerification(config, store, keyHashSecret, log);
    // Encryption at rest: a wrong master key stops the start here; the payload log when enabled.
    payloadLog = await openConfiguredPayloadLog(config, store, log);
    const payloads = payloadLog;
    const keys = keyVerification;
    // Tenant suspension: one short-lived status cache for the request path and the admin API.
    const tenantStatus = createTenantStatusGate({ store });
    // Guardrails: every detector is built here, once; judges reach their model route through upstream.
    const guardPolicies = compilePolicies(config.guardrails, {
      providerKeys: [...config.providers.values()].flatMap((p) =>
        p.apiKey === undefined || p.apiKey === '' ? [] : [p.apiKey],
      ),
      judgeTransport: createJudgeTransport(config.models, up0, log),
    });
    const pipeline = createPipeline([
      createAuditStage({ audit: auditLog }),
      createMeterStage({ store, priceFor, onMetered: observers?.metered }),
      ...(payloads === undefined ? [] : [createPayloadLogStage({ payloadLog: payloads })]),
      createIdentifyStage({
        store,
        jwt: jwtVerifier,
        apiKeysEnabled: config.auth.apiKeys.enabled,
        verifier: keys.verifier,
        onAuthFailure: observers?.authFailure,
        events: securityEvents,
        lockout: lockoutFor('proxy', config.auth.lockout),
        clientCertificates: config.auth.clientCertificates,
      }),
      createTenantStatusStage({ gate: tenantStatus, events: securityEvents, onAuthFailure: observers?.authFailure }),
      ...(threatDetection.stage === undefined ? [] : [threatDetection.stage]),
      createValidateStage({ maxJsonDepth: config.server.maxJsonDepth, payload: config.payload }),
      createPromptApiStage({ store, maxJsonDepth: config.server.maxJsonDepth }),
      createAuthorizeStage(),
      ...(guardPolicies.length === 0 ? [] : [createGuardStage({ policies: guardPolicies, events: securityEvents })]),
      ...(limits === undefined
        ? []
        : [createLimitStage({ config: config.limits, backend: limits, models: config.models })]),
      ...(budgets === undefined
        ? []
        : [
            createBudgetStage({
              config: config.budgets,
              backend: budgets,
              models: config.models,
              priceFor,
              providerKind: (id) => config.providers.get(id)?.kind,
              events: securityEvents,
            }),
          ]),
      createRouteStage({ config, adapterFor }),
    ]);
    tracer = config.tracing.enabled
      ? createTracer(config.tracing, {
          log,
          version: GATEWAY_VERSION,
          providerKind: (id) => config.providers.get(id)?.kind,
        })
      : undefined;
    // Prompt APIs (src/apis/): the catalog is answered, and output schemas enforced, around the upstream call.
    const terminal = createPromptApiTerminal({
      store,
      inner: createTerminal({
        config,
        upstream,
        createdAt: Math.floor(Date.now() / 1000),
        onAttempt: observers?.attempt,
        tracer,
      }),
    });
    const lifecycle: Lifecycle = { draining: false, inFlight: new Set() };
    const clientIp = createClientIpResolver(config.server.trustedProxies);
    // Live policy operations: versions in the store, announced over Redis, audited like every change.
    const policy =
      deps.bootstrap === undefined
        ? undefined
        : createPolicyService({
            store,
            bootstrap: deps.bootstrap,
            requireApproval: config.policy.requireApproval,
            audit: (entry) => auditLog.append(entry),
            publish: (n) => publishPolicyActivation(config.redis, n, log),
            ...(deps.onPolicyActivated === undefined ? {} : { onActivated: deps.onPolicyActivated }),
          });
    // The admin API (admin section): on the main listener under /admin/v1, or on its own listener.
    admin = await openAdminApi(config, {
      store,
      keyHashSecret,
      audit: auditLog,
      events: securityEvents,
      log,
      clientIp,
      tenantStatus,
      ...(sharedLockouts === undefined ? {} : { sharedLockouts }),
      onKeyRevoked: (keyId) => keys.announceRevocation(keyId),
      breakerStates: () => up0.breakerStates(),
      ...(budgetBackend === undefined ? {} : { budgetBackend }),
      ...(policy === undefined ? {} : { policy: { service: policy, operatorTenant: config.policy.operatorTenant } }),
    });
    const adminApi = admin;
    const handler = createRequestHandler({
      pipeline,
      terminal,
      log,
      lifecycle,
      observer: observers?.request,
      tracer,
      maxBodyBytes: config.server.maxBodyBytes,
      maxInFlight: config.server.maxInFlight,
      clientIp,
      extraEndpoints: oauthServer?.endpoints,
      apiPaths: (path) => store.findApiPath(path),
      ...(adminApi?.onMainListener ? { admin: adminApi.onMainListener } : {}),
      ready: async () => {
        await store.ping();
        return auditLog.healthy();
      },
    });
    const server = createListener(config.server, handler, log);
    const up = upstream;
    const metricsServer: MetricsServer | undefined =
      metrics === undefined ? undefined : createMetricsServer({ config: config.metrics, metrics, log });
    let closing: Promise<void> | undefined;
    return {
      config,
      store,
      audit: auditLog,
      pipeline,
      server,
      metrics,
      securityEvents,
      policy,
      announceKeyRevocation: (keyId) => keys.announceRevocation(keyId),
      listen: async () => {
        const url = await listen(server, config.server.host, config.server.port);
        try {
          await adminApi?.listen();
        } catch (err) {
          server.close();
          const code = (err as NodeJS.ErrnoException).code;
          throw new Error(
            `admin listener could not start on ${adminApi?.config.listen?.host}:${adminApi?.config.listen?.port} (admin.listen): ${code ?? String(err)}`,
            { cause: err },
          );
        }
        if (metricsServer !== undefined) {
          try {
            const metricsUrl = await metricsServer.listen();
            log.info(
              { url: `${metricsUrl}/metrics`, tokenRequired: config.metrics.bearerToken !== undefined },
              'metrics listening',
            );
          } catch (err) {
            server.close();
            const code = (err as NodeJS.ErrnoException).code;
            throw new Error(
              `metrics listener could not start on ${config.metrics.host}:${config.metrics.port} (metrics.host/metrics.port): ${code ?? String(err)}`,
              { cause: err },
            );
          }
        }
        return url;
      },
      close: () =>
        (closing ??= (async () => {
          const aborted = server.listening ? await drain(server, lifecycle, config.server.shutdownGraceMs) : 0;
          if (aborted > 0) log.warn({ aborted }, 'shutdown grace period passed; aborted in-flight requests');
          // After the drain, so scrapes still see the last requests finish.
          await metricsServer?.close();
          await adminApi?.close();
          await up.close();
          await tracer?.close(); // after the drain, so the last requests' spans are sent
          await jwtVerifier?.close();
          oauthServer?.close();
          await limits?.close();
          await budgets?.close();
          await keys.close();
          await sharedLockouts?.close();
          await threatDetection.close(); // dead-letters undelivered alerts; before the audit log closes
          await auditLog.close(); // signs a final checkpoint
          payloads?.stop();
          await closeEnvelope(store); // wipes cached data keys
          await store.close();
        })()),
    };
  } catch (err) {
    await upstream?.close().catch(() => {});
    await tracer?.close().catch(() => {});
    await jwt?.close().catch(() => {});
    oauth?.close();
    await limitBackend?.close().catch(() => {});
    await budgetBackend?.close().catch(() => {});
    await keyVerification?.close().catch(() => {});
    await sharedLockouts?.close().catch(() => {});
    await threats?.close().catch(() => {});
    await audit?.close().catch(() => {});
    payloadLog?.stop();
    await closeEnvelope(store).catch(() => {});
    if (!deps.store) await store.close().catch(() => {});
    throw err;
  }
}

/** In-process, and shared through Redis when `shared` is given (else each instance counts its own failures). */
function lockoutFromConfig(
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
