import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { clientSecretMatches } from '../../identity/oauth/client-secret.ts';
import { createOAuthClientRoutes } from './oauth-clients.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

interface ClientView {
  client_id: string;
  tenant_id: string;
  team_id: string | null;
  client_secret?: string;
  revoked_at: string | null;
  scopes: string[];
  models: string[];
}

describe('admin OAuth client routes', () => {
  let fx: ResourceFixture;
  let routes: ReturnType<typeof createOAuthClientRoutes>;
  const owner = principal('owner');
  const auditor = principal('security_auditor');
  const manager = principal('team_manager', { teamId: 'team1' });
  const list = () => route(routes, 'GET', '/admin/v1/oauth/clients');
  const create = () => route(routes, 'POST', '/admin/v1/oauth/clients');
  const get = () => route(routes, 'GET', '/admin/v1/oauth/clients/:clientId');
  const revoke = () => route(routes, 'POST', '/admin/v1/oauth/clients/:clientId/revoke');

  beforeEach(async () => {
    fx = await openResourceFixture();
    routes = createOAuthClientRoutes(fx.deps);
    const createdAt = new Date().toISOString();
    for (const [id, tenantId] of [
      ['team1', 'tA'],
      ['team2', 'tA'],
      ['teamB', 'tB'],
    ] as const) {
      await fx.store.insertTeam({ id, tenantId, name: id, ipAllowlist: [], createdAt });
    }
  });
  afterEach(async () => {
    await fx.close();
  });

  it('creates a client whose secret is returned once (no-store) and stored only as a keyed hash; lists, reads and revokes it, audited', async () => {
    const r = await call(create(), owner, {
      body: { name: 'batch job', scopes: ['chat', 'oauth:introspect'], models: ['gpt-*'] },
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers?.['cache-control'], 'no-store');
    const c = r.body as ClientView;
    assert.match(c.client_id, /^pcc_/);
    assert.match(c.client_secret ?? '', /^pcs_/);
    assert.equal(c.tenant_id, 'tA');
    assert.deepEqual([c.scopes, c.models], [['chat', 'oauth:introspect'], ['gpt-*']]);
    const stored = await fx.store.getOAuthClient(c.client_id);
    assert.ok(stored);
    assert.ok(!JSON.stringify(stored).includes(c.client_secret!), 'the secret is not stored');
    assert.ok(clientSecretMatches(c.client_id, c.client_secret!, stored.secretHash, fx.deps.keyHashSecret));

    const read = (await call(get(), auditor, { params: { clientId: c.client_id } })).body as ClientView;
    assert.equal(read.client_secret, undefined, 'never shown again');
    assert.deepEqual((await call(list(), auditor)).body, { data: [read] });

    const rv = await call(revoke(), owner, { params: { clientId: c.client_id } });
    assert.notEqual((rv.body as ClientView).revoked_at, null);
    assert.notEqual((await fx.store.getOAuthClient(c.client_id))?.revokedAt, null);
    assert.equal(await outcome(revoke(), owner, { params: { clientId: c.client_id } }), 'resource.conflict');
    assert.deepEqual(
      fx.entries.map((e) => [e.action, e.actor.tenant, e.target]),
      [
        ['oauth_client.create', 'tA', c.client_id],
        ['oauth_client.revoke', 'tA', c.client_id],
      ],
    );
    assert.ok(!JSON.stringify(fx.entries).includes(c.client_secret!), 'the secret is not in the audit log');
  });

  it('registers a private_key_jwt client from a public JWKS and refuses a private key in it', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = publicKey.export({ format: 'jwk' });
    const r = await call(create(), owner, {
      body: { name: 'signer', auth_method: 'private_key_jwt', jwks: { keys: [pub] } },
    });
    assert.equal((r.body as ClientView).client_secret, undefined);
    const priv = privateKey.export({ format: 'jwk' });
    await assert.rejects(
      call(create(), owner, { body: { name: 'leak', auth_method: 'private_key_jwt', jwks: { keys: [priv] } } }),
      (e: { code: string; param?: string }) => e.code === 'request.invalid' && e.param === 'jwks',
    );
    await assert.rejects(
      call(create(), owner, { body: { name: 'nokeys', auth_method: 'private_key_jwt' } }),
      (e: { code: string; param?: string }) => e.code === 'request.invalid' && e.param === 'jwks',
    );
  });

  it('refuses bad input with the path, and stores nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', secret: 'mine' }, 'secret'],
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', auth_method: 'none' }, 'auth_method'],
      [{ name: 'x', scopes: ['has space'] }, 'scopes'],
      [{ name: 'x', scopes: 'chat' }, 'scopes'],
      [{ name: 'x', models: [] }, 'models'],
      [{ name: 'x', jwks: 'text' }, 'jwks'],
      [{ name: 'x', jwks: { keys: [] } }, 'jwks'],
      [undefined, ''],
    ];
    for (const [body, path] of cases) {
      await assert.rejects(
        call(create(), owner, { body }),
        (e: { code: string; param?: string }) => e.code === 'request.invalid' && (e.param ?? '') === path,
        JSON.stringify(body),
      );
    }
    assert.deepEqual(await fx.store.listOAuthClients({}), []);
    assert.deepEqual(fx.entries, []);
  });

  it("keeps tenants and teams apart: other tenants' and other teams' clients answer 404", async () => {
    const theirs = (
      await call(create(), principal('owner', { tenantId: 'tB', userId: 'u_b' }), {
        body: { name: 'b', team_id: 'teamB' },
      })
    ).body as ClientView;
    const team2 = (await call(create(), owner, { body: { name: 't2', team_id: 'team2' } })).body as ClientView;
    const mine = (await call(create(), manager, { body: { name: 'mine' } })).body as ClientView;
    assert.equal(mine.team_id, 'team1', "a team manager's client belongs to its team");
    for (const id of [theirs.client_id, 'pcc_nothing']) {
      assert.equal(await outcome(get(), owner, { params: { clientId: id } }), 'resource.not_found');
      assert.equal(await outcome(revoke(), owner, { params: { clientId: id } }), 'resource.not_found');
    }
    assert.equal(await outcome(get(), manager, { params: { clientId: team2.client_id } }), 'resource.not_found');
    assert.equal(await outcome(revoke(), manager, { params: { clientId: team2.client_id } }), 'resource.not_found');
    assert.equal(await outcome(create(), manager, { body: { name: 'x', team_id: 'team2' } }), 'resource.not_found');
    assert.equal(await outcome(create(), owner, { body: { name: 'x', team_id: 'teamB' } }), 'resource.not_found');
    assert.deepEqual(
      ((await call(list(), manager)).body as { data: ClientView[] }).data.map((c) => c.client_id),
      [mine.client_id],
    );
    assert.deepEqual(
      ((await call(list(), owner)).body as { data: ClientView[] }).data.map((c) => c.client_id).sort(),
      [team2.client_id, mine.client_id].sort(),
    );
    assert.equal((await fx.store.getOAuthClient(theirs.client_id))?.revokedAt, null);
    assert.equal(await outcome(create(), auditor, { body: { name: 'x' } }), 'rbac.forbidden');
    assert.equal(await outcome(list(), principal('developer', { teamId: 'team1' })), 'rbac.forbidden');
  });

  it('a client the audit log cannot record is revoked and its secret never shown', async () => {
    fx.failAudit(false);
    assert.equal(await outcome(create(), owner, { body: { name: 'unrecorded' } }), 'audit.unavailable');
    const clients = await fx.store.listOAuthClients({ tenantId: 'tA' });
    assert.equal(clients.length, 1);
    assert.notEqual(clients[0]!.revokedAt, null);
  });
});
