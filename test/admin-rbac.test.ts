/**
 * The role matrix, through the real gateway process and its admin HTTP server: every admin
 * route × every role, called with an admin API token of that role, must be refused with 403
 * `rbac.forbidden` exactly when src/admin/rbac.ts's table says so. Then every route × every
 * role × a token narrowed to each single action: allowed exactly where the action is the
 * route's own or (key.read, key.write) includes it, and never beyond the role. Then tenant B's owner
 * attacks tenant A's objects on every endpoint that takes an id: each answers 404 and nothing
 * of tenant A changes.
 *
 * Tenants, teams, users, keys and tokens are seeded straight into the gateway's SQLite store
 * (tokens hashed with the configured secret, as the admin API would store them).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_ACTIONS, type AdminAction, roleAllows } from '../src/admin/rbac.ts';
import { type AdminRouteDeps, buildAdminRoutes } from '../src/admin/routes.ts';
import type { AdminRoute } from '../src/admin/types.ts';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { ADMIN_ROLES, type AdminRole } from '../src/identity/admin/roles.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { sampleApiKeyRecord } from '../src/store/contract-fixtures.ts';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';

const KHS = 'admin-rbac-test-secret-0123456789abcdef';
const NOW = new Date().toISOString();

interface Reply {
  status: number;
  code: string | undefined;
  json: unknown;
}

describe('admin API: role matrix and tenant isolation over HTTP', { timeout: 180_000 }, () => {
  let gw: RunningGateway;
  let store: Store;
  const tokens = new Map<string, string>();
  let narrowedTokens = 0;

  async function seedUser(id: string, tenantId: string, role: AdminRole, teamId: string | null): Promise<void> {
    await store.insertAdminUser(sampleAdminUser({ id, tenantId, teamId, role, email: `${id}@example.com` }));
  }

  async function seedToken(userId: string, tenantId: string, actions: string[] | null = null): Promise<string> {
    const token = newAdminToken();
    const id = actions === null ? `atk_${userId}` : `atk_${userId}_n${++narrowedTokens}`;
    await store.insertAdminToken({
      id,
      userId,
      tenantId,
      label: 'matrix',
      prefix: tokenDisplayPrefix(token),
      hash: keyedHash(Buffer.from(KHS, 'utf8'), 'admin-token', token),
      actions,
      createdAt: NOW,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    if (actions === null) tokens.set(userId, token);
    return token;
  }

  async function api(token: string, method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, code: res.headers.get('x-portcullis-error-code') ?? undefined, json };
  }

  before(async () => {
    gw = await startGateway({
      serverYaml: 'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\nadmin:\n  enabled: true\n',
      stateYaml:
        'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_TEST_KHS}"\n',
      env: { PORTCULLIS_TEST_KHS: KHS },
    });
    store = createSqliteStore({ path: join(gw.dir, 'state', 'portcullis.db'), batchWindowMs: 0 });
    await store.init();
    for (const [id, name] of [
      ['tA', 'Tenant A'],
      ['tB', 'Tenant B'],
    ])
      await store.insertTenant({ id: id!, name: name!, status: 'active', createdAt: NOW });
    for (const [id, tenantId] of [
      ['teamA1', 'tA'],
      ['teamA2', 'tA'],
      ['teamAx', 'tA'],
      ['teamB1', 'tB'],
    ]) {
      await store.insertTeam({ id: id!, tenantId: tenantId!, name: id!, ipAllowlist: [], createdAt: NOW });
    }
    // One admin of every role in tenant A (team-bound ones in teamA1), and tenant B's owner.
    for (const role of ADMIN_ROLES) {
      const teamId = role === 'team_manager' || role === 'developer' ? 'teamA1' : null;
      await seedUser(`u_${role}`, 'tA', role, teamId);
      await seedToken(`u_${role}`, 'tA');
    }
    await seedUser('u_b_owner', 'tB', 'owner', null);
    await seedToken('u_b_owner', 'tB');
    // Victims: objects the calls act on.
    await seedUser('u_victim', 'tA', 'developer', 'teamA2');
    await seedUser('u_victim_x', 'tA', 'developer', 'teamAx');
    await store.insertApiKey(
      sampleApiKeyRecord({ id: 'key_victim', tenantId: 'tA', teamId: 'teamA2', ownerUserId: 'u_victim' }),
    );
    await store.insertApiKey(
      sampleApiKeyRecord({ id: 'key_victim_x', tenantId: 'tA', teamId: 'teamAx', ownerUserId: 'u_victim_x' }),
    );
    await store.insertApiKey(
      sampleApiKeyRecord({ id: 'key_b', tenantId: 'tB', teamId: 'teamB1', ownerUserId: 'u_b_owner' }),
    );
    for (const [clientId, tenantId, teamId] of [
      ['pcc_victim', 'tA', 'teamA2'],
      ['pcc_victim_x', 'tA', 'teamAx'],
      ['pcc_b', 'tB', 'teamB1'],
    ]) {
      await store.insertOAuthClient({
        clientId: clientId!,
        tenantId: tenantId!,
        teamId: teamId!,
        name: `client ${clientId}`,
        authMethod: 'client_secret_basic',
        secretHash: '0'.repeat(64),
        jwks: null,
        scopes: [],
        allowedModels: ['*'],
        createdAt: NOW,
        revokedAt: null,
      });
    }
  });

  after(async () => {
    await store?.close();
    await gw?.stop();
  });

  /** Every admin route the gateway serves (the factories only read deps when a route runs). */
  function allRoutes(): AdminRoute[] {
    return buildAdminRoutes({} as AdminRouteDeps);
  }

  async function snapshotTenantA(): Promise<string> {
    return JSON.stringify({
      tenant: await store.getTenant('tA'),
      teams: await store.listTeams('tA'),
      keys: (await store.listTenantApiKeys('tA')).map((k) => ({ ...k, lastUsedAt: null })),
      users: await store.listAdminUsers({ tenantId: 'tA' }),
      oauthClients: await store.listOAuthClients({ tenantId: 'tA' }),
    });
  }

  it("tenant B's owner gets 404 for every tenant-A object, sees none in lists, and changes nothing", async () => {
    const b = tokens.get('u_b_owner')!;
    const before = await snapshotTenantA();
    const attacks: Array<[string, string, unknown?]> = [
      ['GET', '/admin/v1/tenants/tA'],
      ['PATCH', '/admin/v1/tenants/tA', { name: 'pwned' }],
      ['GET', '/admin/v1/teams/teamAx'],
      ['PATCH', '/admin/v1/teams/teamAx', { name: 'pwned' }],
      ['DELETE', '/admin/v1/teams/teamAx'],
      ['GET', '/admin/v1/keys/key_victim_x'],
      ['POST', '/admin/v1/keys/key_victim_x/revoke'],
      ['POST', '/admin/v1/keys/key_victim_x/rotate', { grace_seconds: 0 }],
      ['POST', '/admin/v1/keys', { label: 'planted', team_id: 'teamAx' }],
      ['POST', '/admin/v1/keys', { label: 'planted', owner_user_id: 'u_victim_x' }],
      ['PATCH', '/admin/v1/users/u_victim_x', { role: 'admin' }],
      ['POST', '/admin/v1/users/u_victim_x/disable'],
      ['POST', '/admin/v1/users/u_victim_x/reset-mfa'],
      ['DELETE', `/admin/v1/tokens/atk_u_owner`],
      ['GET', '/admin/v1/oauth/clients/pcc_victim_x'],
      ['POST', '/admin/v1/oauth/clients/pcc_victim_x/revoke'],
    ];
    const served = new Set(allRoutes().map((r) => `${r.method} ${r.path}`));
    for (const [method, path, body] of attacks) {
      const r = await api(b, method, path, body);
      assert.equal(r.status, 404, `${method} ${path} → ${r.status} ${r.code}`);
      assert.equal(r.code, 'resource.not_found', `${method} ${path}`);
      // The same answer as for an id that exists nowhere: existence in another tenant is not revealed.
      const ghost = await api(
        b,
        method,
        path.replace(/tA|teamAx|key_victim_x|u_victim_x|atk_u_owner|pcc_victim_x/, 'nothing_here'),
        body,
      );
      assert.deepEqual([ghost.status, ghost.code], [r.status, r.code], `${method} ${path} differs from a missing id`);
      assert.doesNotMatch(JSON.stringify(r.json), /Tenant A|@example\.com/, 'the answer reveals nothing of tenant A');
    }
    // Every route that takes an id of tenant A's objects was attacked above.
    const idRoutes = [...served].filter((s) => /\/:(tenantId|teamId|keyId|userId|tokenId|clientId)/.test(s));
    const attacked = new Set(
      attacks.map(
        ([m, p]) =>
          `${m} ${p.replace(
            /\/(tA|teamAx|key_victim_x|u_victim_x|atk_u_owner|pcc_victim_x)(?=\/|$)/,
            (_, id: string) =>
              `/:${{ tA: 'tenantId', teamAx: 'teamId', key_victim_x: 'keyId', u_victim_x: 'userId', atk_u_owner: 'tokenId', pcc_victim_x: 'clientId' }[id]}`,
          )}`,
      ),
    );
    for (const s of idRoutes) assert.ok(attacked.has(s), `cross-tenant case missing for ${s}`);

    for (const path of ['/admin/v1/teams', '/admin/v1/keys', '/admin/v1/users', '/admin/v1/oauth/clients']) {
      const r = await api(b, 'GET', path);
      assert.equal(r.status, 200, path);
      assert.doesNotMatch(
        JSON.stringify(r.json),
        /"tA"|teamA|key_victim|u_victim|u_owner|pcc_victim/,
        `${path} lists nothing of tenant A`,
      );
    }
    // Tenant B's log holds its own (refused) attempts on tenant A's ids, and nothing tenant A did.
    const log = await api(b, 'GET', '/admin/v1/audit?from=2000-01-01&to=2999-01-01&limit=1000');
    const records = (log.json as { data: Array<{ actor: { tenant: string | null } }> }).data;
    assert.ok(records.length > 0);
    assert.deepEqual([...new Set(records.map((x) => x.actor.tenant))], ['tB']);
    // A refused login to a tenant-A account is tenant A's security event, never tenant B's.
    const login = await fetch(`${gw.url}/admin/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'u_victim@example.com', password: 'wrong-password-123', totp_code: '000000' }),
    });
    assert.equal(login.status, 401);
    type SecurityPage = { data: Array<{ action: string; target: string | null; actor: { tenant: string | null } }> };
    const securityOf = async (t: string) =>
      ((await api(t, 'GET', '/admin/v1/security-events?from=2000-01-01&to=2999-01-01&limit=1000')).json as SecurityPage)
        .data;
    let seenByA: SecurityPage['data'] = [];
    for (let i = 0; i < 100 && !seenByA.some((x) => x.target === 'u_victim'); i++) {
      seenByA = await securityOf(tokens.get('u_owner')!);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      seenByA.some((x) => x.action === 'admin.login' && x.target === 'u_victim'),
      'tenant A sees its refused login',
    );
    const seenByB = await securityOf(b);
    assert.ok(
      seenByB.every((x) => x.actor.tenant === 'tB'),
      'tenant B sees no security event of tenant A',
    );
    assert.doesNotMatch(JSON.stringify(seenByB), /u_victim/);
    assert.equal(await snapshotTenantA(), before, 'tenant A is unchanged');
  });

  const PROBE_PARAMS: Record<string, string> = {
    tenantId: 'tA',
    teamId: 'teamA2',
    keyId: 'key_victim',
    userId: 'u_victim',
    tokenId: 'atk_nobody',
    clientId: 'pcc_victim',
  };

  /** Calls a route the way the matrix walks do: a body that fails validation where RBAC lets it through, so nothing changes. */
  function probe(token: string, route: AdminRoute): Promise<Reply> {
    const path = route.path.replace(/:(\w+)/g, (_, name: string) => PROBE_PARAMS[name] ?? 'x');
    const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : { __matrix_probe: true };
    return api(token, route.method, path, body);
  }

  async function assertVictimsUnchanged(): Promise<void> {
    assert.equal((await store.getApiKey('key_victim'))?.revokedAt, null);
    assert.ok(await store.getTeam('tA', 'teamA2'));
    assert.equal((await store.getAdminUser('u_victim'))?.disabledAt, null);
    assert.equal((await store.getOAuthClient('pcc_victim'))?.revokedAt, null);
    assert.equal((await store.listOAuthClients({ tenantId: 'tA' })).length, 2, 'no client was registered by the walk');
  }

  it('every route × every role: 403 rbac.forbidden exactly where the role table says no', async () => {
    const routes = allRoutes().filter((r) => r.auth === 'principal');
    assert.ok(routes.length >= 20, `only ${routes.length} principal routes`);
    const mismatches: string[] = [];
    for (const route of routes) {
      for (const role of ADMIN_ROLES) {
        const r = await probe(tokens.get(`u_${role}`)!, route);
        const refused = r.status === 403 && r.code === 'rbac.forbidden';
        const expected = !roleAllows(role, route.action);
        if (refused !== expected || r.status === 401 || r.status >= 500) {
          mismatches.push(`${role} ${route.method} ${route.path} (${route.action}): ${r.status} ${r.code ?? ''}`);
        }
      }
    }
    assert.deepEqual(mismatches, []);
    // The probes were refused (or found nothing) without a change to the victims.
    await assertVictimsUnchanged();
  });

  // What a token limited to one action is meant to reach, stated here independently of rbac.ts:
  // the routes of that action, and for the tenant-wide key actions also the routes of their _own form.
  const INTENDED_ALSO: Partial<Record<AdminAction, readonly string[]>> = {
    'key.read': ['key.read_own'],
    'key.write': ['key.write_own'],
  };

  it('every route × every role × a token narrowed to each action: allowed exactly where the action reaches, never beyond the role', async () => {
    const routes = allRoutes().filter((r) => r.auth === 'principal');
    const mismatches: string[] = [];
    let allowedCalls = 0;
    for (const role of ADMIN_ROLES) {
      for (const action of ADMIN_ACTIONS) {
        // Seeded in the store, so also actions the role lacks (the API would refuse to mint those).
        const token = await seedToken(`u_${role}`, 'tA', [action]);
        for (const route of routes) {
          const r = await probe(token, route);
          const refused = r.status === 403 && r.code === 'rbac.forbidden';
          const reaches = route.action === action || (INTENDED_ALSO[action]?.includes(route.action) ?? false);
          const expected = !(reaches && roleAllows(role, route.action));
          if (!refused) allowedCalls++;
          if (refused !== expected || r.status === 401 || r.status >= 500) {
            mismatches.push(
              `${role} token[${action}] ${route.method} ${route.path} (${route.action}): ${r.status} ${r.code ?? ''}`,
            );
          }
        }
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(
      allowedCalls > ADMIN_ROLES.length * 10,
      `the walk let calls through (${allowedCalls}), so it tested more than refusals`,
    );
    await assertVictimsUnchanged();
  });

  it('a token narrowed to key.read lists the whole key scope; one narrowed to key.read_own only its own keys', async () => {
    const ids = async (token: string) => {
      const r = await api(token, 'GET', '/admin/v1/keys');
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return (r.json as { data: Array<{ id: string }> }).data.map((k) => k.id).sort();
    };
    const ownerWide = await seedToken('u_owner', 'tA', ['key.read']);
    assert.deepEqual(await ids(ownerWide), ['key_victim', 'key_victim_x']);
    assert.equal((await api(ownerWide, 'GET', '/admin/v1/keys/key_victim')).status, 200);
    assert.equal(
      (await api(ownerWide, 'POST', '/admin/v1/keys/key_victim/revoke')).code,
      'rbac.forbidden',
      'reading never includes writing',
    );
    assert.equal((await api(ownerWide, 'GET', '/admin/v1/me')).code, 'rbac.forbidden', 'self is not implied');
    const ownerOwn = await seedToken('u_owner', 'tA', ['key.read_own']);
    assert.deepEqual(await ids(ownerOwn), [], 'the owner owns no key: the narrow action sees none');
    assert.equal((await api(ownerOwn, 'GET', '/admin/v1/keys/key_victim')).status, 404);
    // Minting: a key.read token may give its narrow form away, never the wide one from a narrow token.
    const minter = await seedToken('u_owner', 'tA', ['key.read', 'token.write']);
    assert.equal(
      (await api(minter, 'POST', '/admin/v1/tokens', { label: 'narrow', actions: ['key.read_own'] })).status,
      201,
    );
    assert.equal(
      (await api(minter, 'POST', '/admin/v1/tokens', { label: 'wide', actions: ['key.write'] })).code,
      'rbac.forbidden',
    );
    const narrowMinter = await seedToken('u_owner', 'tA', ['key.read_own', 'token.write']);
    assert.equal(
      (await api(narrowMinter, 'POST', '/admin/v1/tokens', { label: 'escalate', actions: ['key.read'] })).code,
      'rbac.forbidden',
    );
  });
});
