/**
 * Assembles the admin API from config (create-gateway.ts calls this once at startup): the
 * envelope for TOTP secrets, the identity services, every route, the handler, and, with
 * `admin.listen`, its own listener (then the main listener does not serve /admin/v1 at all).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AuditLog } from '../audit/audit-log.ts';
import { openPgAuditReader } from '../audit/postgres/reader.ts';
import type { GatewayConfig } from '../config/types.ts';
import { createConsoleHandler } from '../console/serve.ts';
import type { EnvelopeSource } from '../crypto/open.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type { SecurityEventSink } from '../events/security-events.ts';
import { type AdminIdentity, createAdminIdentity } from '../identity/admin/admin-identity.ts';
import { keyedHash } from '../identity/admin/admin-secrets.ts';
import { createLockout, type Lockout } from '../identity/lockout.ts';
import type { SharedLockouts } from '../identity/shared-lockout.ts';
import type { TenantStatusGate } from '../identity/tenant-status.ts';
import type { Logger } from '../observability/logger.ts';
import type { ClientIpResolver } from '../server/client-ip.ts';
import { createListener, listen } from '../server/listener.ts';
import type { Store } from '../store/store.ts';
import type { AdminConfig } from './config-types.ts';
import type { AdminResourceDeps } from './resources/deps.ts';
import { buildAdminRoutes } from './routes.ts';
import { type AdminHandler, createAdminHandler, sendAdminError } from './server.ts';

export interface AdminApi {
  readonly config: AdminConfig;
  readonly identity: AdminIdentity;
  readonly handler: AdminHandler;
  /** For the main listener: the handler, unless the admin API has a listener of its own. */
  readonly onMainListener: AdminHandler | undefined;
  /** The separate listener, when `admin.listen` is set. */
  readonly server: Server | undefined;
  /** Starts the separate listener (if any); resolves with its URL. */
  listen(): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface OpenAdminOptions {
  readonly store: Store;
  /** The gateway's envelope (admin secrets are sealed with it). */
  readonly envelopes: EnvelopeSource;
  readonly keyHashSecret: Buffer;
  readonly audit: AuditLog;
  readonly events: SecurityEventSink;
  readonly log: Logger;
  readonly clientIp?: ClientIpResolver;
  readonly onKeyRevoked?: (keyId: string) => void | Promise<void>;
  /** Tenant suspension: admins of a suspended tenant can neither log in nor use a session or token. */
  readonly tenantStatus?: TenantStatusGate;
  /** With a shared Redis: login failures count across instances. */
  readonly sharedLockouts?: SharedLockouts;
  /** This instance's circuit-breaker states, for GET /admin/v1/breakers. */
  readonly breakerStates?: AdminResourceDeps['breakerStates'];
  /** The budget counters (when budget rules are configured), for GET /admin/v1/budgets. */
  readonly budgetBackend?: AdminResourceDeps['budgetBackend'];
  /**
   * The policy sections of the running snapshot (live policy swaps them); default: those of
   * `config`, fixed.
   */
  readonly liveConfig?: AdminResourceDeps['gatewayConfig'];
  /** The whole config of the running snapshot (policy dry-run compares against it); default: `config`. */
  readonly runningConfig?: () => GatewayConfig;
  /** Live policy's heartbeat period: enables GET /admin/v1/policy/status. */
  readonly policyHeartbeatMs?: number;
  /** Live policy operations, for the /admin/v1/policy routes. */
  readonly policy?: AdminResourceDeps['policy'];
}

/**
 * The identity services with tenant suspension applied: a login of a suspended tenant's admin is
 * checked after the password and second factor (so the answer tells a guesser nothing), its new
 * session is deleted and 403 `auth.tenant_suspended` returned; sessions and admin API tokens are
 * refused the same way on every call.
 */
export function withTenantSuspension(identity: AdminIdentity, gate: TenantStatusGate, store: Store): AdminIdentity {
  return {
    ...identity,
    login: {
      ...identity.login,
      async login(attempt) {
        const result = await identity.login.login(attempt);
        try {
          await gate.assertActive(result.user.tenantId);
        } catch (err) {
          await store
            .deleteAdminSession(keyedHash(identity.secret, 'session', result.sessionId))
            .catch(() => undefined);
          throw err;
        }
        return result;
      },
    },
    authenticator: {
      ...identity.authenticator,
      async authenticate(headers) {
        const who = await identity.authenticator.authenticate(headers);
        if (who !== undefined) await gate.assertActive(who.principal.tenantId);
        return who;
      },
    },
  };
}

export async function openAdminApi(config: GatewayConfig, opts: OpenAdminOptions): Promise<AdminApi | undefined> {
  const cfg = config.admin;
  if (cfg === undefined || !cfg.enabled) return undefined;
  const { store, log } = opts;
  const envelope = await opts.envelopes.get();
  const append = (entry: Parameters<AuditLog['append']>[0]) => opts.audit.append(entry);
  const baseIdentity = createAdminIdentity({
    store,
    secret: opts.keyHashSecret,
    sealer: envelope,
    sessions: cfg.session,
    secureCookie: cfg.secureCookie,
    ...(config.server.hideProductName === true ? { neutralCookieName: true } : {}),
    enrolmentTtlS: cfg.enrolmentTtlS,
    audit: append,
    events: opts.events,
    log,
    lockout: adminLockout(cfg.lockout, opts.sharedLockouts),
  });
  const identity =
    opts.tenantStatus === undefined ? baseIdentity : withTenantSuspension(baseIdentity, opts.tenantStatus, store);
  // With PostgreSQL the audit routes read every instance's chain, not a local file.
  const auditReader = config.audit.postgres === undefined ? undefined : openPgAuditReader(config.audit.postgres);
  const routes = buildAdminRoutes({
    store,
    audit: opts.audit,
    auditPath: config.audit.path,
    keyHashSecret: opts.keyHashSecret,
    identity,
    events: opts.events,
    gatewayConfig: opts.liveConfig ?? config,
    fullConfig: config,
    runningConfig: opts.runningConfig ?? (() => config),
    ...(opts.policyHeartbeatMs === undefined ? {} : { policyHeartbeatMs: opts.policyHeartbeatMs }),
    ...(auditReader ? { auditReader } : {}),
    ...(opts.onKeyRevoked ? { onKeyRevoked: opts.onKeyRevoked } : {}),
    ...(opts.breakerStates ? { breakerStates: opts.breakerStates } : {}),
    ...(opts.budgetBackend ? { budgetBackend: opts.budgetBackend } : {}),
    ...(opts.policy ? { policy: opts.policy } : {}),
  });
  const api = createAdminHandler({
    routes,
    authenticator: identity.authenticator,
    secret: opts.keyHashSecret,
    audit: append,
    log,
    // Behind a TLS-terminating proxy (secure_cookie: true) browsers send an https Origin.
    maxBodyBytes: cfg.maxBodyBytes,
    https: config.server.tls !== undefined || cfg.secureCookie,
    allowedOrigins: cfg.allowedOrigins,
    ...(opts.clientIp ? { clientIp: opts.clientIp } : {}),
  });
  // The console (web/) beside the API, same origin, so its calls carry the session cookie.
  const web = createConsoleHandler();
  const handler: AdminHandler = {
    handles: (path) => api.handles(path) || web.handles(path),
    async handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      if (web.handles(path)) web.handle(req, res);
      else await api.handle(req, res);
    },
  };

  let server: Server | undefined;
  if (cfg.listen !== undefined) {
    server = createListener(
      config.server,
      (req: IncomingMessage, res: ServerResponse) => {
        const path = (req.url ?? '/').split('?')[0]!;
        if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
          res.writeHead(302, { location: '/console/', 'content-length': 0, 'cache-control': 'no-store' }).end();
          return;
        }
        if (handler.handles(path)) {
          handler.handle(req, res).catch((err: unknown) => {
            log.error({ err }, 'admin request handler failed');
            if (!res.headersSent) res.writeHead(500).end();
            else res.destroy();
          });
          return;
        }
        sendAdminError(
          res,
          gatewayError('request.not_found', { params: { method: req.method ?? 'GET', path: path.slice(0, 200) } }),
          '-',
        );
      },
      log,
    );
  }
  const listener = server;
  const listenCfg = cfg.listen;
  return {
    config: cfg,
    identity,
    handler,
    server,
    onMainListener: listener === undefined ? handler : undefined,
    async listen() {
      if (listener === undefined || listenCfg === undefined) return undefined;
      const url = await listen(listener, listenCfg.host, listenCfg.port);
      log.info({ url: `${url}/admin/v1` }, 'admin API listening');
      return url;
    },
    async close() {
      await auditReader?.close().catch(() => undefined);
      if (listener === undefined || !listener.listening) return;
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        listener.closeAllConnections();
      });
    },
  };
}

function adminLockout(
  c: { threshold: number; windowS: number; baseLockoutS: number; maxLockoutS: number },
  shared: SharedLockouts | undefined,
): Lockout {
  const local = createLockout({
    threshold: c.threshold,
    windowS: c.windowS,
    baseLockoutS: c.baseLockoutS,
    maxLockoutS: c.maxLockoutS,
  });
  return shared === undefined ? local : shared.share('admin', local, c);
}
