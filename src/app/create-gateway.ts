/**
 * Assembles a gateway from a validated config: store, identity secret, upstream pools, the
 * frozen stage chain and the listener. Everything that can be misconfigured fails here, at
 * startup, not on a request.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { AuditLog } from '../audit/audit-log.ts';
import { generatedKeyWarning } from '../audit/key-warning.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { recordSecurityEvents } from '../audit/security-event-records.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { Pipeline } from '../core/pipeline.ts';
import { envelopeSource } from '../crypto/open.ts';
import { createSecurityEventBus, type SecurityEventBus } from '../events/security-events.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { openOAuthServer } from '../identity/oauth/open.ts';
import { createSharedLockouts } from '../identity/shared-lockout.ts';
import { createTenantStatusGate } from '../identity/tenant-status.ts';
import { publishPolicyActivation } from '../live-policy/announce.ts';
import { closeComposer } from '../live-policy/compose-off-thread.ts';
import type { Bootstrap } from '../live-policy/document.ts';
import { type FileReload, reloadPolicyFile, resolveStartupPolicy } from '../live-policy/live.ts';
import { buildGatewayRuntime, lockoutFromConfig, type RuntimeBootstrap } from '../live-policy/runtime.ts';
import { createPolicyService, type PolicyService } from '../live-policy/service.ts';
import { createPolicyApplier, createRuntimeSwitch, type RuntimeSwitch } from '../live-policy/swap.ts';
import { type PolicySync, startPolicySync, thisInstance } from '../live-policy/sync.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics/gateway-metrics.ts';
import { createMetricsServer, type MetricsServer } from '../observability/metrics/metrics-server.ts';
import { createMetricsObservers } from '../observability/metrics/request-observer.ts';
import { createTracer } from '../observability/trace/tracer.ts';
import { openConfiguredPayloadLog } from '../payload-log/open.ts';
import type { PolicyTarget, PolicyVersion } from '../policy/contract.ts';
import { createClientIpResolver } from '../server/client-ip.ts';
import { createRequestHandler, type Lifecycle } from '../server/handler.ts';
import { createListener, drain, listen } from '../server/listener.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { assertProviderAddressPolicy } from '../upstream/index.ts';
import { backendsUp } from './backends-up.ts';
import { type KeyVerification, openKeyVerification } from './key-verification.ts';
import { createResourceStack, type ResourceStack } from './resource-stack.ts';
import { GATEWAY_VERSION } from './version.ts';

export interface Gateway {
  /** The config of the current runtime snapshot: the bootstrap plus the active policy. */
  readonly config: GatewayConfig;
  /** The config the gateway was started with (its bootstrap sections never change while it runs). */
  readonly bootstrapConfig: GatewayConfig;
  readonly store: Store;
  /** The tamper-evident audit log (src/audit/); closed with the gateway. */
  readonly audit: AuditLog;
  /** The current snapshot's stage chain. */
  readonly pipeline: Pipeline;
  readonly server: Server;
  /** Prometheus metrics; undefined when `metrics.enabled` is false. */
  readonly metrics: GatewayMetrics | undefined;
  /** Security events (auth failures, lockouts, threat alerts): producers emit, detection and webhooks subscribe. */
  readonly securityEvents: SecurityEventBus;
  /** Live policy operations (src/live-policy/service.ts); undefined without a bootstrap. */
  readonly policy: PolicyService | undefined;
  /** Applies a policy version to this instance: builds a new runtime snapshot beside the running one, then swaps. */
  readonly policyTarget: PolicyTarget & { lastApplyMs(): number | undefined };
  /** The runtime snapshots (current and draining). */
  readonly runtimes: RuntimeSwitch;
  /** Following the store's active policy version; undefined without live policy. */
  readonly policySync: PolicySync | undefined;
  /**
   * SIGHUP: re-reads the config file's policy sections and, when valid and different, makes
   * them the active version everywhere. Undefined result: no live policy (nothing to do).
   */
  reloadPolicyFile(): Promise<FileReload | undefined>;
  /**
   * Call after revoking a key in the store from inside this process (admin API): evicts it from
   * this instance's key cache and broadcasts the revocation to every instance over Redis.
   */
  announceKeyRevocation(keyId: string): Promise<void>;
  /** Model requests accepted since start, and in flight now (the idle memory release reads them). */
  readonly activity: { arrivals(): number; inFlight(): number };
  /** Starts listening (and the metrics listener, when enabled); resolves with the base URL. */
  listen(): Promise<string>;
  /** Drains in-flight requests (up to the configured grace) and releases everything. */
  close(): Promise<void>;
}

export interface GatewayDeps {
  readonly log: Logger;
  /** Use this store instead of opening the configured one (tests); it is closed with the gateway. */
  readonly store?: Store;
  /** The config file without its policy sections (src/live-policy/document.ts); without it the policy routes answer 403. */
  readonly bootstrap?: Bootstrap;
  /**
   * Live policy versions (src/live-policy/live.ts): start on the store's active version (seeded from
   * the file) and follow new ones. Default: on when a bootstrap is given and the config came
   * from a file; off for the demo (its policy routes still apply versions to this process).
   */
  readonly livePolicy?: boolean;
}

export async function createGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { log } = deps;
  // Everything opened below is pushed here right after it opens; a failed start and close() both
  // unwind it newest first.
  const opened = createResourceStack(log);
  try {
    return await openGateway(config, deps, opened);
  } catch (err) {
    await opened.close();
    throw err;
  }
}

async function openGateway(config: GatewayConfig, deps: GatewayDeps, opened: ResourceStack): Promise<Gateway> {
  const { log } = deps;
  const securityEvents = createSecurityEventBus({ log });
  for (const provider of config.providers.values()) assertProviderAddressPolicy(provider);
  const keyHashSecret = resolveKeyHashSecret(config.security);
  const store = deps.store ?? (await openStore(config.store, log));
  let started = false;
  // A store handed in by the caller is closed with the gateway, but not by a start that failed.
  opened.push('store', store, (s) => (deps.store === undefined || started ? s.close() : undefined));
  // The one envelope, opened on first use by whoever needs it and closed (cached data keys wiped) before the store.
  const envelopes = opened.push('envelope', envelopeSource(config.security, store, log), (e) => e.close());
  // The version to start on: the store's active one (the file seeds the first). Throws when it cannot be built here.
  const livePolicy = deps.livePolicy ?? (deps.bootstrap !== undefined && !config.source.startsWith('<'));
  const startup = livePolicy
    ? await resolveStartupPolicy({ path: config.source, store, log, fileConfig: config })
    : undefined;
  let runtimes: RuntimeSwitch | undefined;
  let sync: PolicySync | undefined;
  let keyVerification: KeyVerification | undefined;
  const anyLockout = config.auth.lockout.enabled || config.admin?.enabled === true;
  // With a shared Redis, failures count across instances (identity/shared-lockout.ts).
  const sharedLockouts =
    config.redis === undefined || !anyLockout
      ? undefined
      : opened.push('shared lockouts', createSharedLockouts({ redis: config.redis, log }), (l) => l.close());
  const auditLog = opened.push(
    'audit log',
    await openConfiguredAuditLog(config.audit, config.security.dataDir, log),
    (a) => a.close(), // signs a final checkpoint
  );
  const keyWarning = config.source === '<demo>' ? undefined : generatedKeyWarning(config.audit);
  if (keyWarning !== undefined)
    log.warn({ event: 'audit.generated_signing_key', path: config.audit.generatedKeyPath }, keyWarning);
  recordSecurityEvents(securityEvents, auditLog, log);
  const lifecycle: Lifecycle = { draining: false, inFlight: new Set(), arrivals: 0 };
  // prom-client (and the @opentelemetry/api it loads) only in a gateway that serves metrics.
  const metrics = config.metrics.enabled
    ? (await import('../observability/metrics/gateway-metrics.ts')).createGatewayMetrics({
        config: startup?.config ?? config,
        ...(startup === undefined
          ? {}
          : { policyVersions: () => ({ active: runtimes?.current().policy?.number, failed: sync?.status().failed }) }),
        breakerStates: () => runtimes?.current().upstream.breakerStates() ?? [],
        inFlight: () => lifecycle.inFlight.size,
        // Read at scrape time: the backends below are opened after the metrics.
        backendsUp: () =>
          backendsUp({
            store,
            limits: runtimes?.current().limitBackend,
            budgets: runtimes?.current().budgetBackend,
            lockout: sharedLockouts,
            revocations: keyVerification?.listener,
          }),
        alertDeliveries: () => {
          const s = runtimes?.current().alerts?.stats();
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
  const oauthServer = await openOAuthServer(config, {
    store,
    envelopes,
    serverSecret: keyHashSecret,
    log,
    events: securityEvents,
    lockout: lockoutFromConfig(config.auth.lockout, 'oauth', sharedLockouts),
  });
  if (oauthServer !== undefined) opened.push('oauth server', oauthServer, (o) => o.close());
  // Subscribes to key revocation broadcasts in the background when a shared Redis is configured.
  const keys = opened.push('key verification', openKeyVerification(config, store, keyHashSecret, log, envelopes), (k) =>
    k.close(),
  );
  keyVerification = keys;
  // Encryption at rest: a wrong master key stops the start here; the payload log when enabled.
  const payloads = await openConfiguredPayloadLog(config, store, log, envelopes);
  if (payloads !== undefined) opened.push('payload log', payloads, (p) => p.stop());
  // Tenant suspension: one short-lived status cache for the request path and the admin API.
  const tenantStatus = createTenantStatusGate({ store });
  const tracer = config.tracing.enabled
    ? opened.push(
        'tracer',
        createTracer(config.tracing, {
          log,
          version: GATEWAY_VERSION,
          providerKind: (id) => runtimes?.current().config.providers.get(id)?.kind,
        }),
        (t) => t.close(), // after the drain, so the last requests' spans are sent
      )
    : undefined;
  // Everything the policy sections decide is one snapshot (src/live-policy/runtime.ts), swapped whole.
  const bootstrap: RuntimeBootstrap = {
    log,
    store,
    audit: auditLog,
    events: securityEvents,
    observers,
    keyVerifier: keys.verifier,
    tenantStatus,
    payloadLog: payloads,
    oauthServer,
    sharedLockouts,
    tracer,
    createdAt: Math.floor(Date.now() / 1000),
    sharedPenalties: config.audit.postgres,
  };
  const switcher = createRuntimeSwitch(
    await buildGatewayRuntime(
      startup?.config ?? config,
      bootstrap,
      startup === undefined ? {} : { policy: startup.policy },
    ),
  );
  runtimes = switcher;
  // After the drain, and before the audit log: dead-letters undelivered alerts, closes pools and backends.
  opened.defer('runtime snapshots', () => switcher.close());
  const policyTarget = createPolicyApplier({
    runtimes: switcher,
    log,
    build: async (next, version, previous) => {
      const built = await buildGatewayRuntime(next, bootstrap, { policy: version, previous });
      // Models and providers the new version adds are counted under their own names.
      metrics?.labels.admit(next);
      return built;
    },
  });
  if (startup !== undefined) {
    opened.defer('policy reader', () => closeComposer());
    sync = opened.push(
      'policy sync',
      startPolicySync({
        store,
        target: policyTarget,
        bootstrap: startup.bootstrap,
        redis: config.redis,
        pollIntervalMs: config.policy.pollIntervalMs,
        heartbeatIntervalMs: config.policy.heartbeatIntervalMs,
        instance: thisInstance(`${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
        log,
        events: securityEvents,
        onResult: (result) => metrics?.observePolicyApply(result),
      }),
      (s) => s.close(),
    );
  }
  const policySync = sync;
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
          // This instance switches at once (the others on the announcement or their next poll).
          onActivated: (version, composed) => adoptHere(version, composed),
        });
  async function adoptHere(version: PolicyVersion, composed: GatewayConfig): Promise<void> {
    if (policySync === undefined) {
      await policyTarget.applyPolicy(composed, { number: version.number, sha256: version.sha256 });
      return;
    }
    await policySync.check({ number: version.number, config: composed });
    const s = policySync.status();
    if (s.failed === version.number) throw new Error(s.failure ?? 'this instance could not build the version');
  }
  const liveConfig = liveGatewayConfig(() => switcher.current().config);
  const clientIp = createClientIpResolver(config.server.trustedProxies);
  // The admin API (admin section): on the main listener under /admin/v1, or on its own listener.
  // Its modules (routes, admin identity, console, compliance report) load only when it is
  // enabled: a data-plane instance without it never holds them.
  const adminApi =
    config.admin?.enabled !== true
      ? undefined
      : await (await import('../admin/open.ts')).openAdminApi(config, {
          store,
          envelopes,
          keyHashSecret,
          audit: auditLog,
          events: securityEvents,
          log,
          clientIp,
          tenantStatus,
          liveConfig,
          runningConfig: () => switcher.current().config,
          ...(startup === undefined ? {} : { policyHeartbeatMs: config.policy.heartbeatIntervalMs }),
          ...(policy === undefined
            ? {}
            : { policy: { service: policy, operatorTenant: config.policy.operatorTenant } }),
          ...(sharedLockouts === undefined ? {} : { sharedLockouts }),
          onKeyRevoked: (keyId) => keys.announceRevocation(keyId),
          breakerStates: () => switcher.current().upstream.breakerStates(),
          budgetBackend: {
            peek: (items) => {
              const backend = switcher.current().budgetBackend;
              if (backend === undefined) return Promise.reject(new Error('no budget rules in the active policy'));
              return backend.peek(items);
            },
          },
        });
  if (adminApi !== undefined) opened.push('admin API', adminApi, (a) => a.close());
  const handler = createRequestHandler({
    runtime: () => {
      const lease = switcher.acquire();
      return {
        pipeline: lease.runtime.pipeline,
        terminal: lease.runtime.terminal,
        policyVersion: lease.runtime.policy?.number,
        release: lease.release,
      };
    },
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
  const metricsServer: MetricsServer | undefined =
    metrics === undefined
      ? undefined
      : opened.push('metrics listener', createMetricsServer({ config: config.metrics, metrics, log }), (m) =>
          m.close(),
        );
  // Last in, so first out: requests drain before anything they use is closed.
  opened.defer('listener', async () => {
    const aborted = server.listening ? await drain(server, lifecycle, config.server.shutdownGraceMs) : 0;
    if (aborted > 0) log.warn({ aborted }, 'shutdown grace period passed; aborted in-flight requests');
  });
  started = true;
  let reloads: Promise<unknown> = Promise.resolve();
  return {
    get config() {
      return switcher.current().config;
    },
    bootstrapConfig: config,
    store,
    audit: auditLog,
    get pipeline() {
      return switcher.current().pipeline;
    },
    server,
    metrics,
    securityEvents,
    policy,
    policyTarget,
    runtimes: switcher,
    policySync,
    reloadPolicyFile() {
      if (startup === undefined || policySync === undefined) return Promise.resolve(undefined);
      const sync = policySync;
      // One at a time: a second SIGHUP waits for the first and then reads the file as it is then.
      const run = reloads.then(async () => {
        const r = await reloadPolicyFile({ path: config.source, store, log, bootstrap: startup.bootstrap });
        // The other instances are told at once; this one builds meanwhile (from the config just read).
        if (r.result === 'applied')
          await Promise.all([
            publishPolicyActivation(config.redis, r.version, log),
            sync.check({ number: r.version, config: r.config }),
          ]);
        return r;
      });
      reloads = run.catch(() => undefined);
      return run;
    },
    announceKeyRevocation: (keyId) => keys.announceRevocation(keyId),
    activity: { arrivals: () => lifecycle.arrivals, inFlight: () => lifecycle.inFlight.size },
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
    close: () => opened.close(),
  };
}

/**
 * The policy sections the admin API reads (providers, routes, budget and limit rules), always
 * those of the current snapshot.
 */
function liveGatewayConfig(
  current: () => GatewayConfig,
): Pick<GatewayConfig, 'providers' | 'models' | 'budgets' | 'limits'> {
  return {
    get providers() {
      return current().providers;
    },
    get models() {
      return current().models;
    },
    get budgets() {
      return current().budgets;
    },
    get limits() {
      return current().limits;
    },
  };
}
