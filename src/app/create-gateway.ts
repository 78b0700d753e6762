/**
 * Assembles a gateway from a validated config: store, identity secret, upstream pools, the
 * frozen stage chain and the listener. Everything that can be misconfigured fails here, at
 * startup, not on a request.
 */
import type { Server } from 'node:http';
import type { AuditLog } from '../audit/audit-log.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import type { GatewayConfig } from '../config/types.ts';
import { createPipeline, type Pipeline } from '../core/pipeline.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { createKeyVerifier } from '../identity/key-verifier.ts';
import { createJwtVerifier, type JwtVerifier } from '../identity/jwt/verifier.ts';
import type { LimitBackend } from '../limits/limit-backend.ts';
import { openLimitBackend } from '../limits/open.ts';
import type { Logger } from '../observability/logger.ts';
import { createGatewayMetrics, type GatewayMetrics } from '../observability/metrics/gateway-metrics.ts';
import { createMetricsServer, type MetricsServer } from '../observability/metrics/metrics-server.ts';
import { createMetricsObservers } from '../observability/metrics/request-observer.ts';
import { adapterFor } from '../providers/registry.ts';
import { createRequestHandler, type Lifecycle } from '../server/handler.ts';
import { createListener, drain, listen } from '../server/listener.ts';
import { createAuditStage } from '../stages/audit/index.ts';
import { createAuthorizeStage } from '../stages/authorize/index.ts';
import { createIdentifyStage } from '../stages/identify/index.ts';
import { createLimitStage } from '../stages/limit/index.ts';
import { createMeterStage } from '../stages/meter/index.ts';
import { createRouteStage } from '../stages/route/index.ts';
import { createValidateStage } from '../stages/validate/index.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { assertProviderAddressPolicy, createUpstream, type Upstream } from '../upstream/index.ts';
import { createTerminal } from './terminal.ts';

export interface Gateway {
  readonly config: GatewayConfig;
  readonly store: Store;
  /** The tamper-evident audit log (src/audit/); closed with the gateway. */
  readonly audit: AuditLog;
  readonly pipeline: Pipeline;
  readonly server: Server;
  /** Prometheus metrics; undefined when `metrics.enabled` is false. */
  readonly metrics: GatewayMetrics | undefined;
  /** Starts listening (and the metrics listener, when enabled); resolves with the base URL. */
  listen(): Promise<string>;
  /** Drains in-flight requests (up to the configured grace) and releases everything. */
  close(): Promise<void>;
}

export interface GatewayDeps {
  readonly log: Logger;
  /** Use this store instead of opening the configured one (tests); it is closed with the gateway. */
  readonly store?: Store;
}

export async function createGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { log } = deps;
  for (const provider of config.providers.values()) assertProviderAddressPolicy(provider);
  const keyHashSecret = resolveKeyHashSecret(config.security);
  const store = deps.store ?? (await openStore(config.store));
  let upstream: Upstream | undefined;
  let jwt: JwtVerifier | undefined;
  let audit: AuditLog | undefined;
  let limitBackend: LimitBackend | undefined;
  try {
    audit = await openConfiguredAuditLog(config.audit, config.security.dataDir, log);
    const auditLog = audit;
    upstream = createUpstream({ providers: config.providers, adapterFor, log });
    const up0 = upstream;
    const metrics = config.metrics.enabled
      ? createGatewayMetrics({ config, breakerStates: () => up0.breakerStates(), inFlight: () => lifecycle.inFlight.size })
      : undefined;
    const observers = metrics === undefined ? undefined : createMetricsObservers(metrics, log);
    // JWKS are fetched on first use, not here: an IdP that is down must not stop the gateway starting.
    jwt = config.auth.jwt.issuers.length === 0 ? undefined : createJwtVerifier(config.auth.jwt.issuers, {
      onFetchError: (issuer, err) => log.warn({ event: 'jwks.fetch_failed', issuer, error: (err as Error).message }, 'could not fetch issuer keys'),
    });
    const jwtVerifier = jwt;
    // Redis is connected in the background: while it is unreachable, limits fail closed (or fall back) per request.
    limitBackend = config.limits.rules.length === 0 ? undefined : openLimitBackend(config.limits, log);
    const limits = limitBackend;
    const pipeline = createPipeline([
      createAuditStage({ audit: auditLog }),
      createMeterStage({ store }),
      createIdentifyStage({ store, jwt: jwtVerifier, apiKeysEnabled: config.auth.apiKeys.enabled, verifier: createKeyVerifier({ store, secret: keyHashSecret }), onAuthFailure: observers?.authFailure }),
      createValidateStage({ maxJsonDepth: config.server.maxJsonDepth, payload: config.payload }),
      createAuthorizeStage(),
      ...(limits === undefined ? [] : [createLimitStage({ config: config.limits, backend: limits, models: config.models })]),
      createRouteStage({ config, adapterFor }),
    ]);
    const terminal = createTerminal({ config, upstream, createdAt: Math.floor(Date.now() / 1000), onAttempt: observers?.attempt });
    const lifecycle: Lifecycle = { draining: false, inFlight: new Set() };
    const handler = createRequestHandler({
      pipeline, terminal, log, lifecycle,
      observer: observers?.request,
      maxBodyBytes: config.server.maxBodyBytes,
      maxInFlight: config.server.maxInFlight,
      ready: async () => {
        await store.ping();
        return auditLog.healthy();
      },
    });
    const server = createListener(config.server, handler, log);
    const up = upstream;
    const metricsServer: MetricsServer | undefined = metrics === undefined
      ? undefined
      : createMetricsServer({ config: config.metrics, metrics, log });
    let closing: Promise<void> | undefined;
    return {
      config, store, audit: auditLog, pipeline, server, metrics,
      listen: async () => {
        const url = await listen(server, config.server.host, config.server.port);
        if (metricsServer !== undefined) {
          try {
            const metricsUrl = await metricsServer.listen();
            log.info({ url: `${metricsUrl}/metrics`, tokenRequired: config.metrics.bearerToken !== undefined }, 'metrics listening');
          } catch (err) {
            server.close();
            const code = (err as NodeJS.ErrnoException).code;
            throw new Error(`metrics listener could not start on ${config.metrics.host}:${config.metrics.port} (metrics.host/metrics.port): ${code ?? String(err)}`, { cause: err });
          }
        }
        return url;
      },
      close: () => (closing ??= (async () => {
        const aborted = server.listening ? await drain(server, lifecycle, config.server.shutdownGraceMs) : 0;
        if (aborted > 0) log.warn({ aborted }, 'shutdown grace period passed; aborted in-flight requests');
        // After the drain, so scrapes still see the last requests finish.
        await metricsServer?.close();
        await up.close();
        await jwtVerifier?.close();
        await limits?.close();
        await auditLog.close(); // signs a final checkpoint
        await store.close();
      })()),
    };
  } catch (err) {
    await upstream?.close().catch(() => {});
    await jwt?.close().catch(() => {});
    await limitBackend?.close().catch(() => {});
    await audit?.close().catch(() => {});
    if (!deps.store) await store.close().catch(() => {});
    throw err;
  }
}
