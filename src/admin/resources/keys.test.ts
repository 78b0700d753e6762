import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyApiKey } from '../../identity/api-keys.ts';
import { sampleAdminUser } from '../../store/admin-contract.ts';
import { createKeyRoutes } from './keys.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

type KeyBody = {
  id: string;
  key?: string;
  owner_user_id: string | null;
  team_id: string | null;
  created_by: string | null;
  revoked_at: string | null;
  expires_at: string | null;
};

describe('admin key routes', () => {
  let fx: ResourceFixture;
  let routes: ReturnType<typeof createKeyRoutes>;
  const list = () => route(routes, 'GET', '/admin/v1/keys');
  const create = () => route(routes, 'POST', '/admin/v1/keys');
  const get = () => route(routes, 'GET', '/admin/v1/keys/:keyId');
  const revoke = () => route(routes, 'POST', '/admin/v1/keys/:keyId/revoke');
  const rotate = () => route(routes, 'POST', '/admin/v1/keys/:keyId/rotate');
  const admin = principal('admin');
  // Team managers and developers of team t1; the users exist in the store.
  const tm = principal('team_manager', { userId: 'u_tm', teamId: 't1' });
  const dev = principal('developer', { userId: 'u_dev', teamId: 't1' });
  const dev2 = principal('developer', { userId: 'u_dev2', teamId: 't1' });

  beforeEach(async () => {
    fx = await openResourceFixture();
    routes = createKeyRoutes(fx.deps);
    const now = new Date().toISOString();
    for (const [id, name] of [
      ['t1', 'one'],
      ['t2', 'two'],
    ]) {
      await fx.store.insertTeam({ id: id!, tenantId: 'tA', name: name!, ipAllowlist: [], createdAt: now });
    }
    await fx.store.insertTeam({ id: 'tb1', tenantId: 'tB', name: 'b', ipAllowlist: [], createdAt: now });
    for (const [id, tenantId, teamId] of [
      ['u_dev', 'tA', 't1'],
      ['u_dev2', 'tA', 't1'],
      ['u_t2', 'tA', 't2'],
      ['u_b', 'tB', 'tb1'],
    ]) {
      await fx.store.insertAdminUser(
        sampleAdminUser({ id: id!, tenantId: tenantId!, teamId: teamId!, role: 'developer' }),
      );
    }
  });
  afterEach(async () => {
    await fx.close();
  });

  async function makeKey(who = admin, body: Record<string, unknown> = {}): Promise<KeyBody> {
    const r = await call(create(), who, { body: { label: 'k', ...body } });
    assert.equal(r.status, 201);
    return r.body as KeyBody;
  }
  const ids = async (who = admin, query = ''): Promise<string[]> =>
    ((await call(list(), who, { query })).body as { data: KeyBody[] }).data.map((k) => k.id);

  it('creates a key that works, shows it once, and records who made it', async () => {
    const r = await call(create(), admin, {
      body: {
        label: ' ci ',
        models: ['gpt-4o'],
        team_id: 't2',
        owner_user_id: 'u_t2',
        expires_at: '2999-01-01T00:00:00Z',
      },
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers?.['cache-control'], 'no-store');
    const k = r.body as KeyBody & { label: string; hash?: string };
    assert.equal(k.label, 'ci');
    assert.equal(k.team_id, 't2');
    assert.equal(k.owner_user_id, 'u_t2');
    assert.equal(k.created_by, 'u_admin');
    assert.equal(k.expires_at, '2999-01-01T00:00:00.000Z');
    assert.equal(k.hash, undefined);
    const verdict = await verifyApiKey(fx.store, fx.deps.keyHashSecret, k.key!, new Date());
    assert.equal(verdict.ok && verdict.record.id, k.id);
    const again = (await call(get(), admin, { params: { keyId: k.id } })).body as KeyBody & { hash?: string };
    assert.equal(again.key, undefined, 'the key is never shown again');
    assert.equal(again.hash, undefined);
    assert.equal(fx.entries.length, 1);
    assert.equal(fx.entries[0]?.action, 'key.create');
    assert.equal(JSON.stringify(fx.entries).includes(k.key!), false, 'the audit log never holds the key');
  });

  it('refuses bad input with the path and creates nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ label: 'x', scopes: [] }, 'scopes'],
      [{}, 'label'],
      [{ label: '   ' }, 'label'],
      [{ label: 'x', models: [] }, 'models'],
      [{ label: 'x', models: ['ok', 3] }, 'models[1]'],
      [{ label: 'x', expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
      [{ label: 'x', expires_at: 'tomorrow' }, 'expires_at'],
      [{ label: 'x', ip_allowlist: ['300.0.0.1'] }, 'ip_allowlist[0]'],
      [{ label: 'x', allowed_endpoints: ['chat', 'admin'] }, 'allowed_endpoints[1]'],
      [{ label: 'x', read_only: 'yes' }, 'read_only'],
      [{ label: 'x', team_id: 5 }, 'team_id'],
      [{ label: 'x', client_cert_sha256: 'AB:CD' }, 'client_cert_sha256'],
      [{ label: 'x', client_cert_sha256: 7 }, 'client_cert_sha256'],
    ];
    for (const [body, path] of cases) {
      await assert.rejects(
        call(create(), admin, { body }),
        (e: { code: string; param?: string }) => e.code === 'request.invalid' && (e.param ?? '') === path,
        JSON.stringify(body),
      );
    }
    assert.deepEqual(await fx.store.listTenantApiKeys('tA'), []);
  });

  it('binds a key to a client certificate fingerprint, in canonical form', async () => {
    const hex = 'ab'.repeat(32);
    const r = await call(create(), admin, { body: { label: 'x', client_cert_sha256: hex } });
    const body = r.body as KeyBody & { client_cert_sha256: string | null };
    assert.equal(body.client_cert_sha256, Array.from({ length: 32 }, () => 'AB').join(':'));
    assert.equal((await fx.store.getApiKey(body.id))?.clientCertSha256, body.client_cert_sha256);
    const plain = (await call(create(), admin, { body: { label: 'y' } })).body as { client_cert_sha256: string | null };
    assert.equal(plain.client_cert_sha256, null);
  });

  it('developers create, see and revoke only their own keys', async () => {
    const own = await makeKey(dev);
    assert.equal(own.owner_user_id, 'u_dev');
    assert.equal(own.team_id, 't1', "placed in the developer's team");
    const theirs = await makeKey(dev2);
    const adminKey = await makeKey(admin);
    assert.deepEqual(await ids(dev), [own.id]);
    assert.deepEqual(await ids(dev, 'owner_user_id=u_dev2'), [], 'a filter never widens the scope');
    assert.equal(await outcome(get(), dev, { params: { keyId: theirs.id } }), 'resource.not_found');
    assert.equal(await outcome(revoke(), dev, { params: { keyId: adminKey.id } }), 'resource.not_found');
    assert.equal(await outcome(rotate(), dev, { params: { keyId: theirs.id } }), 'resource.not_found');
    assert.equal(await outcome(create(), dev, { body: { label: 'x', owner_user_id: 'u_dev2' } }), 'resource.not_found');
    assert.equal(await outcome(create(), dev, { body: { label: 'x', team_id: 't2' } }), 'resource.not_found');
    assert.equal(await outcome(create(), dev, { body: { label: 'x', team_id: null } }), 'resource.not_found');
    assert.equal((await fx.store.getApiKey(theirs.id))?.revokedAt, null);
    assert.equal((await call(revoke(), dev, { params: { keyId: own.id } })).status, 200);
    assert.deepEqual(fx.revoked, [own.id]);
    assert.equal((await fx.store.listTenantApiKeys('tA')).length, 3, 'nothing else created');
  });

  it('team managers reach every key of their team and no other', async () => {
    const devKey = await makeKey(dev);
    const t2Key = await makeKey(admin, { team_id: 't2', owner_user_id: 'u_t2' });
    const tenantWide = await makeKey(admin);
    assert.deepEqual(await ids(tm), [devKey.id]);
    assert.deepEqual(await ids(tm, 'team_id=t2'), []);
    for (const id of [t2Key.id, tenantWide.id]) {
      assert.equal(await outcome(get(), tm, { params: { keyId: id } }), 'resource.not_found');
      assert.equal(await outcome(revoke(), tm, { params: { keyId: id } }), 'resource.not_found');
    }
    const forDev = await makeKey(tm, { owner_user_id: 'u_dev2' });
    assert.equal(forDev.team_id, 't1');
    assert.equal(await outcome(create(), tm, { body: { label: 'x', owner_user_id: 'u_t2' } }), 'resource.not_found');
    assert.equal((await call(revoke(), tm, { params: { keyId: devKey.id } })).status, 200);
  });

  it('read-only and unrelated roles: auditors read everything, change nothing; billing sees no keys', async () => {
    const k = await makeKey(admin);
    const auditor = principal('security_auditor');
    assert.deepEqual(await ids(auditor), [k.id]);
    assert.equal(await outcome(create(), auditor, { body: { label: 'x' } }), 'rbac.forbidden');
    assert.equal(await outcome(revoke(), auditor, { params: { keyId: k.id } }), 'rbac.forbidden');
    assert.equal(await outcome(list(), principal('billing_viewer')), 'rbac.forbidden');
    // A token limited to reading cannot write even for a role that could.
    const readOnlyToken = principal('admin', {
      via: 'token',
      tokenId: 'atk_1',
      tokenActions: ['key.read', 'key.read_own'],
    });
    assert.equal(await outcome(create(), readOnlyToken, { body: { label: 'x' } }), 'rbac.forbidden');
    assert.equal((await fx.store.listTenantApiKeys('tA')).length, 1);
  });

  it("another tenant's owner gets 404 on every key route and changes nothing", async () => {
    const k = await makeKey(admin);
    const intruder = principal('owner', { tenantId: 'tB', userId: 'u_b' });
    assert.deepEqual(await ids(intruder), []);
    assert.equal(await outcome(get(), intruder, { params: { keyId: k.id } }), 'resource.not_found');
    assert.equal(await outcome(revoke(), intruder, { params: { keyId: k.id } }), 'resource.not_found');
    assert.equal(await outcome(rotate(), intruder, { params: { keyId: k.id } }), 'resource.not_found');
    // Nor can it place a key in tenant A's team or give it to tenant A's user.
    assert.equal(await outcome(create(), intruder, { body: { label: 'x', team_id: 't1' } }), 'resource.not_found');
    assert.equal(
      await outcome(create(), intruder, { body: { label: 'x', owner_user_id: 'u_dev' } }),
      'resource.not_found',
    );
    const stored = await fx.store.getApiKey(k.id);
    assert.equal(stored?.revokedAt, null);
    assert.equal(stored?.expiresAt, null);
    assert.deepEqual(await fx.store.listTenantApiKeys('tB'), []);
  });

  it('revokes once (409 after), and rotates with a grace period', async () => {
    const k = await makeKey(admin);
    assert.equal(
      ((await call(revoke(), admin, { params: { keyId: k.id } })).body as KeyBody).revoked_at !== null,
      true,
    );
    assert.equal(await outcome(revoke(), admin, { params: { keyId: k.id } }), 'resource.conflict');
    assert.equal(await outcome(rotate(), admin, { params: { keyId: k.id } }), 'resource.conflict');

    const live = await makeKey(dev);
    const r = await call(rotate(), dev, { params: { keyId: live.id }, body: { grace_seconds: 3600 } });
    assert.equal(r.status, 201);
    const body = r.body as KeyBody & { old: KeyBody };
    assert.notEqual(body.id, live.id);
    assert.equal(body.owner_user_id, 'u_dev');
    assert.ok(body.old.expires_at !== null && Date.parse(body.old.expires_at) > Date.now());
    assert.equal((await verifyApiKey(fx.store, fx.deps.keyHashSecret, body.key!, new Date())).ok, true);
    assert.equal(
      await outcome(rotate(), dev, { params: { keyId: live.id }, body: { grace_seconds: -1 } }),
      'request.invalid',
    );
    assert.deepEqual(
      fx.entries.map((e) => e.action),
      ['key.create', 'key.revoke', 'key.create', 'key.rotate'],
    );
  });

  it('a key the audit log cannot record is revoked before anyone can use it', async () => {
    fx.failAudit(false);
    assert.equal(await outcome(create(), admin, { body: { label: 'ghost' } }), 'audit.unavailable');
    const keys = await fx.store.listTenantApiKeys('tA');
    assert.equal(keys.length, 1);
    assert.notEqual(keys[0]?.revokedAt, null);
  });
});
