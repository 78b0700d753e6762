/**
 * A complete admin API in the test process (not a test file itself): a real SQLite store in a
 * temp folder, envelope encryption from the crypto test harness, a cheap scrypt cost, a frozen
 * clock the test moves, and an HTTP server. The client address is taken from X-Forwarded-For
 * when a test sends one, so lockout tests can play several sources.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '../audit/types.ts';
import { harness } from '../crypto/test-fixtures.ts';
import type { SecurityEvent } from '../events/security-events.ts';
import { type AdminIdentity, createAdminIdentity } from '../identity/admin/admin-identity.ts';
import type { AdminRole } from '../identity/admin/roles.ts';
import { base32Decode, totpCode, totpStepAt } from '../identity/admin/totp.ts';
import { createLockout } from '../identity/lockout.ts';
import { silentLogger } from '../observability/logger.ts';
import { createSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { buildAdminRoutes } from './routes.ts';
import { type AdminHandler, createAdminHandler } from './server.ts';
import type { AdminRoute } from './types.ts';

/**
 * A parsed JSON response body. Shared test harness: callers read bodies of many shapes field by
 * field and assert them at run time; typing it `unknown` would mean narrowing at every call site.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; this alias is the one place the harness uses any
export type ResponseJson = any;

export const TEST_PASSWORD = 'correct-staple-horse-battery-9';
export const T0 = Date.UTC(2027, 0, 4, 9, 0, 0);

export interface AdminFixture {
  readonly url: string;
  readonly store: Store;
  readonly identity: AdminIdentity;
  readonly handler: AdminHandler;
  readonly audit: AuditEntry[];
  readonly events: SecurityEvent[];
  /** Delays the login throttle asked for (never slept). */
  readonly delays: number[];
  clock: number;
  /** Auditing fails while true (to test fail-closed paths). */
  auditDown: boolean;
  createUser(opts?: { email?: string; role?: AdminRole; tenantId?: string; teamId?: string | null }): Promise<TestUser>;
  /** Moves the clock one TOTP step on, logs in with that step's code; returns cookie and CSRF token. */
  login(user: TestUser, opts?: { stepOffset?: number; ip?: string }): Promise<Session>;
  request(
    method: string,
    path: string,
    opts?: RequestOptions,
  ): Promise<{ status: number; body: ResponseJson; headers: Headers }>;
  close(): Promise<void>;
}

export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly totpSecret: Buffer;
  readonly recoveryCodes: readonly string[];
  codeAt(stepOffset?: number): string;
}

export interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  readonly session?: Session;
  /** Sends the CSRF header of the session (default true for a session). */
  readonly csrf?: boolean;
  readonly bearer?: string;
  readonly ip?: string;
}

export async function startAdminFixture(
  opts: {
    idleTimeoutS?: number;
    absoluteTimeoutS?: number;
    threshold?: number;
    maxBodyBytes?: number;
    extraRoutes?: AdminRoute[];
  } = {},
): Promise<AdminFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-'));
  const store = createSqliteStore({ path: join(dir, 'store.db'), batchWindowMs: 0 });
  await store.init();
  const crypto = harness();
  const audit: AuditEntry[] = [];
  const events: SecurityEvent[] = [];
  const delays: number[] = [];
  const secret = Buffer.alloc(32, 7);
  const fx = { clock: T0, auditDown: false } as AdminFixture;
  const now = () => fx.clock;
  const append = async (e: AuditEntry) => {
    if (fx.auditDown) throw new Error('audit log down (test)');
    audit.push(e);
  };
  const identity = createAdminIdentity({
    store,
    secret,
    sealer: crypto.envelope,
    secureCookie: false,
    sessions: { idleTimeoutS: opts.idleTimeoutS ?? 900, absoluteTimeoutS: opts.absoluteTimeoutS ?? 3600 },
    audit: append,
    events: {
      emit: (e) => {
        events.push(e);
      },
    },
    log: silentLogger(),
    lockout: createLockout({ threshold: opts.threshold ?? 5, windowS: 900, baseLockoutS: 60, maxLockoutS: 3600, now }),
    scryptCost: { N: 1024, r: 8, p: 1 },
    now,
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
  const routes = [
    ...buildAdminRoutes({
      store,
      audit: { append, healthy: () => !fx.auditDown },
      auditPath: join(dir, 'audit.db'),
      keyHashSecret: secret,
      identity,
      now: () => new Date(fx.clock),
    }),
    ...(opts.extraRoutes ?? []),
  ];
  const handler = createAdminHandler({
    routes,
    authenticator: identity.authenticator,
    secret,
    audit: append,
    log: silentLogger(),
    maxBodyBytes: opts.maxBodyBytes ?? 4096,
    https: false,
    clientIp: (peer, xff) => (typeof xff === 'string' ? xff : peer),
  });
  const server: Server = createServer((req, res) => {
    void handler.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function request(method: string, path: string, o: RequestOptions = {}) {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined || o.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    if (o.session) {
      headers.cookie = o.session.cookie;
      if (o.csrf !== false) headers['x-csrf-token'] ??= o.session.csrf;
    }
    if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
    if (o.ip) headers['x-forwarded-for'] = o.ip;
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  let n = 0;
  Object.assign(fx, {
    url,
    store,
    identity,
    handler,
    audit,
    events,
    delays,
    request,
    async createUser(u: { email?: string; role?: AdminRole; tenantId?: string; teamId?: string | null } = {}) {
      const created = await identity.accounts.create({
        tenantId: u.tenantId ?? 't1',
        teamId: u.teamId ?? null,
        email: u.email ?? `admin${++n}@example.com`,
        role: u.role ?? 'owner',
        password: TEST_PASSWORD,
      });
      const totpSecret = base32Decode(created.mfa!.totpSecret);
      return {
        id: created.user.id,
        email: created.user.email,
        totpSecret,
        recoveryCodes: created.mfa!.recoveryCodes,
        codeAt: (offset = 0) => totpCode(totpSecret, totpStepAt(fx.clock) + offset),
      };
    },
    async login(user: TestUser, o: { stepOffset?: number; ip?: string } = {}) {
      // Each TOTP step is accepted once per user: move to a fresh step for every login.
      fx.clock += 30_000;
      const r = await request('POST', '/admin/v1/session', {
        body: { email: user.email, password: TEST_PASSWORD, totp_code: user.codeAt(o.stepOffset ?? 0) },
        ...(o.ip ? { ip: o.ip } : {}),
      });
      if (r.status !== 201) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
      const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
      return { cookie, csrf: r.body.csrf_token as string };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
      crypto.dataKeys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return fx;
}
