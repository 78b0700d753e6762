/**
 * Test support for the resource route modules: a real SQLite store and a real audit log in a
 * temp folder, a switch that makes the audit log fail, principals, and a way to call one route
 * the way the admin server would (after authentication and the RBAC check).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditLog } from '../../audit/audit-log.ts';
import { newKeyPem, openTestLog } from '../../audit/test-support.ts';
import type { AuditEntry } from '../../audit/types.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { AdminRole } from '../../identity/admin/roles.ts';
import { createSqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { Store } from '../../store/store.ts';
import { principalAllows } from '../rbac.ts';
import type { AdminMethod, AdminPrincipal, AdminResponse, AdminRoute } from '../types.ts';
import type { AdminResourceDeps } from './deps.ts';

export interface ResourceFixture {
  readonly deps: AdminResourceDeps;
  readonly store: Store;
  /** Entries the routes appended (successful ones). */
  readonly entries: AuditEntry[];
  readonly revoked: string[];
  /** From now on every append rejects (and `healthy()` says so when `announce`). */
  failAudit(announce: boolean): void;
  close(): Promise<void>;
}

export async function openResourceFixture(): Promise<ResourceFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-res-'));
  const store = createSqliteStore({ path: join(dir, 'store.db'), batchWindowMs: 0 });
  await store.init();
  const auditPath = join(dir, 'audit.db');
  const log: AuditLog = await openTestLog(auditPath, newKeyPem());
  const entries: AuditEntry[] = [];
  const revoked: string[] = [];
  let failing = false;
  let announced = false;
  const deps: AdminResourceDeps = {
    store,
    auditPath,
    keyHashSecret: randomBytes(32),
    onKeyRevoked: (id) => {
      revoked.push(id);
    },
    audit: {
      healthy: () => !announced,
      async append(entry) {
        if (failing) throw new Error('disk full');
        await log.append(entry);
        entries.push(entry);
      },
    },
  };
  return {
    deps,
    store,
    entries,
    revoked,
    failAudit(announce) {
      failing = true;
      announced = announce;
    },
    async close() {
      await log.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function principal(role: AdminRole, over: Partial<AdminPrincipal> = {}): AdminPrincipal {
  return { userId: `u_${role}`, tenantId: 'tA', role, teamId: null, via: 'session', ...over };
}

export interface CallInput {
  readonly params?: Record<string, string>;
  readonly query?: string;
  readonly body?: unknown;
}

/** Finds the route by method and path pattern. */
export function route(routes: readonly AdminRoute[], method: AdminMethod, path: string): AdminRoute {
  const r = routes.find((x) => x.method === method && x.path === path);
  if (r === undefined) throw new Error(`no route ${method} ${path}`);
  return r;
}

/** Calls a route as the admin server would: the RBAC check first (403), then the handler. */
export async function call(r: AdminRoute, who: AdminPrincipal, input: CallInput = {}): Promise<AdminResponse> {
  if (!principalAllows(who, r.action))
    throw new GatewayError('rbac.forbidden', { params: { role: who.role, action: r.action } });
  return r.handle({
    principal: who,
    params: input.params ?? {},
    query: new URLSearchParams(input.query ?? ''),
    body: input.body,
    requestId: 'req-test',
    remoteAddress: '203.0.113.9',
    headers: {},
  });
}

/** The error code a call fails with (or 'ok' when it succeeds). */
export async function outcome(r: AdminRoute, who: AdminPrincipal, input: CallInput = {}): Promise<string> {
  try {
    await call(r, who, input);
    return 'ok';
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
}
