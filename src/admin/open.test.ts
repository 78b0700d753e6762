import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AdminIdentity } from '../identity/admin/admin-identity.ts';
import { keyedHash } from '../identity/admin/admin-secrets.ts';
import { createTenantStatusGate } from '../identity/tenant-status.ts';
import { sampleAdminUser } from '../store/admin-contract.ts';
import type { Store } from '../store/store.ts';
import type { TenantStatus } from '../store/tenancy.ts';
import { withTenantSuspension } from './open.ts';

const SECRET = Buffer.alloc(32, 7);

function setup(status: TenantStatus) {
  const deleted: string[] = [];
  const user = sampleAdminUser({ id: 'u1', tenantId: 'tA', teamId: null, role: 'owner', email: 'o@example.com' });
  const store = {
    deleteAdminSession: async (h: string) => {
      deleted.push(h);
    },
  } as unknown as Store;
  const base = {
    secret: SECRET,
    login: { login: async () => ({ sessionId: 'sess-1', csrfToken: 'c', user, method: 'totp' as const }) },
    authenticator: {
      cookieName: 'portcullis_admin',
      sessionIdFrom: () => 'sess-1',
      authenticate: async () => ({
        principal: { userId: 'u1', tenantId: 'tA', role: 'owner' as const, teamId: null, via: 'session' as const },
        sessionId: 'sess-1',
      }),
    },
  } as unknown as AdminIdentity;
  const gate = createTenantStatusGate({ store: { getTenant: async () => ({ status }) }, cacheTtlMs: 0 });
  return { identity: withTenantSuspension(base, gate, store), deleted };
}

const attempt = {
  email: 'o@example.com',
  password: 'pw',
  totpCode: '123456',
  sourceIp: '203.0.113.1',
  requestId: 'r1',
};

describe('admin identity with tenant suspension', () => {
  it("a suspended tenant's admin: the login is refused after the credentials were checked and its session deleted; sessions and tokens are refused", async () => {
    const { identity, deleted } = setup('suspended');
    await assert.rejects(
      identity.login.login(attempt),
      (e: unknown) => e instanceof GatewayError && e.code === 'auth.tenant_suspended' && e.status === 403,
    );
    assert.deepEqual(deleted, [keyedHash(SECRET, 'session', 'sess-1')]);
    await assert.rejects(
      identity.authenticator.authenticate({}),
      (e: unknown) => e instanceof GatewayError && e.code === 'auth.tenant_suspended',
    );
    assert.equal(identity.authenticator.sessionIdFrom({}), 'sess-1', 'the other authenticator methods are kept');
  });

  it("an active tenant's admin logs in and is authenticated as before", async () => {
    const { identity, deleted } = setup('active');
    assert.equal((await identity.login.login(attempt)).sessionId, 'sess-1');
    assert.equal((await identity.authenticator.authenticate({}))?.principal.userId, 'u1');
    assert.deepEqual(deleted, []);
  });
});
