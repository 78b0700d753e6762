/**
 * Tenant suspension attacked through the real gateway process: while `portcullis tenants
 * suspend` is in force, the tenant's API key, its OAuth access token (the client registered
 * through the admin API), its owner's admin API token and admin session are all refused with 403
 * `auth.tenant_suspended`, the token endpoint issues nothing, and another tenant is untouched.
 * `tenants resume` restores everything, and both changes are in the tenant's audit log.
 *
 * The change is made by another process (the CLI), so the gateway sees it when its ≤ 1 s status
 * cache expires: the test polls for the new state rather than timing it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keyedHash, newAdminToken, newSessionId, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const KHS = 'tenant-suspension-test-secret-0123456789abcdef';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('tenant suspension over HTTP', { timeout: 180_000 }, () => {
  let gw: RunningGateway;
  let store: Store;
  let acmeKey: string;
  let otherKey: string;
  let adminToken: string;
  let sessionId: string;
  let client: { client_id: string; client_secret: string };
  let accessToken: string;

  async function chat(credential: string): Promise<{ status: number; code: string | undefined }> {
    const r = await rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: r.status, code: (r.json as { error?: { code?: string } } | undefined)?.error?.code };
  }

  async function admin(headers: Record<string, string>, method = 'GET', path = '/admin/v1/me', body?: unknown) {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      code: res.headers.get('x-portcullis-error-code') ?? undefined,
      json: text ? (JSON.parse(text) as unknown) : undefined,
    };
  }

  async function tokenRequest() {
    const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
    return rawRequest(`${gw.url}/oauth/token`, {
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
  }

  /** Polls until the check holds (the gateway's tenant status cache lives at most 1 s). */
  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`never happened: ${what}`);
  }

  async function cli(...args: string[]) {
    const r = await gw.cli([...args, '--config', gw.configPath]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    const port = await freePort();
    gw = await startGateway({
      serverYaml: `server:\n  host: 127.0.0.1\n  port: ${port}\n  shutdown_grace_ms: 3000\nadmin:\n  enabled: true\n`,
      stateYaml:
        'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_TEST_KHS}"\n',
      authYaml: `oauth_server:\n  issuer: http://127.0.0.1:${port}\n  token_ttl_s: 300\n`,
      env: { PORTCULLIS_TEST_KHS: KHS },
    });
    await cli('tenants', 'create', '--id', 'acme', '--name', 'Acme');
    await cli('tenants', 'create', '--id', 'other', '--name', 'Other');
    acmeKey = (
      JSON.parse(await cli('keys', 'create', '--tenant', 'acme', '--label', 'acme', '--json')) as { key: string }
    ).key;
    otherKey = (
      JSON.parse(await cli('keys', 'create', '--tenant', 'other', '--label', 'other', '--json')) as { key: string }
    ).key;

    store = createSqliteStore({ path: join(gw.dir, 'state', 'portcullis.db'), batchWindowMs: 0 });
    await store.init();
    const secret = Buffer.from(KHS, 'utf8');
    await store.insertAdminUser(
      sampleAdminUser({
        id: 'u_acme_owner',
        tenantId: 'acme',
        teamId: null,
        role: 'owner',
        email: 'owner@acme.example',
      }),
    );
    adminToken = newAdminToken();
    await store.insertAdminToken({
      id: 'atk_acme',
      userId: 'u_acme_owner',
      tenantId: 'acme',
      label: 'suspension',
      prefix: tokenDisplayPrefix(adminToken),
      hash: keyedHash(secret, 'admin-token', adminToken),
      actions: null,
      createdAt: new Date().toISOString(),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    sessionId = newSessionId();
    const now = Date.now();
    await store.insertAdminSession({
      idHash: keyedHash(secret, 'session', sessionId),
      userId: 'u_acme_owner',
      tenantId: 'acme',
      createdMs: now,
      lastSeenMs: now,
    });

    // The OAuth client is registered through the admin API (the secret is shown once).
    const created = await admin({ authorization: `Bearer ${adminToken}` }, 'POST', '/admin/v1/oauth/clients', {
      name: 'batch',
      models: ['gpt'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    client = created.json as typeof client;
    const t = await tokenRequest();
    assert.equal(t.status, 200, t.text);
    accessToken = (t.json as { access_token: string }).access_token;
  });

  after(async () => {
    await store?.close();
    await gw?.stop();
  });

  it('an active tenant works with every credential', async () => {
    assert.equal((await chat(acmeKey)).status, 200);
    assert.equal((await chat(accessToken)).status, 200);
    assert.equal((await admin({ authorization: `Bearer ${adminToken}` })).status, 200);
    assert.equal((await admin({ cookie: `portcullis_admin=${sessionId}` })).status, 200);
  });

  it("a suspended tenant's key, OAuth token, admin token and session are refused; another tenant is not", async () => {
    assert.match(await cli('tenants', 'suspend', 'acme'), /Suspended tenant acme/);
    await eventually('the key is refused', async () => (await chat(acmeKey)).status === 403);
    assert.deepEqual(await chat(acmeKey), { status: 403, code: 'auth.tenant_suspended' });
    assert.deepEqual(await chat(accessToken), { status: 403, code: 'auth.tenant_suspended' });
    const byToken = await admin({ authorization: `Bearer ${adminToken}` });
    assert.deepEqual([byToken.status, byToken.code], [403, 'auth.tenant_suspended']);
    // A write through the admin API is refused too, and changes nothing.
    const revoke = await admin(
      { authorization: `Bearer ${adminToken}` },
      'POST',
      `/admin/v1/oauth/clients/${client.client_id}/revoke`,
    );
    assert.deepEqual([revoke.status, revoke.code], [403, 'auth.tenant_suspended']);
    assert.equal((await store.getOAuthClient(client.client_id))?.revokedAt, null);
    const bySession = await admin({ cookie: `portcullis_admin=${sessionId}` });
    assert.deepEqual([bySession.status, bySession.code], [403, 'auth.tenant_suspended']);
    const token = await tokenRequest();
    assert.equal(token.status, 400);
    assert.equal((token.json as { error: string }).error, 'invalid_grant');
    assert.equal((await chat(otherKey)).status, 200, 'another tenant is untouched');
    // Suspending twice changes nothing and says so.
    assert.match(await cli('tenants', 'suspend', 'acme'), /already suspended/);
  });

  it("resume restores every credential, and both changes are in the tenant's audit log", async () => {
    assert.match(await cli('tenants', 'resume', 'acme'), /Resumed tenant acme/);
    await eventually('the key works again', async () => (await chat(acmeKey)).status === 200);
    assert.equal((await chat(accessToken)).status, 200);
    assert.equal((await admin({ authorization: `Bearer ${adminToken}` })).status, 200);
    assert.equal((await admin({ cookie: `portcullis_admin=${sessionId}` })).status, 200);
    assert.equal((await tokenRequest()).status, 200);
    const log = await admin(
      { authorization: `Bearer ${adminToken}` },
      'GET',
      '/admin/v1/audit?from=2000-01-01&to=2999-01-01&limit=1000',
    );
    const actions = (log.json as { data: Array<{ action: string; actor: { kind: string } }> }).data
      .filter((r) => r.actor.kind === 'cli')
      .map((r) => r.action);
    assert.deepEqual(
      actions.filter((a) => a === 'tenant.suspend' || a === 'tenant.resume'),
      ['tenant.suspend', 'tenant.resume'],
    );
  });

  it('the CLI refuses an unknown tenant and stray arguments', async () => {
    const missing = await gw.cli(['tenants', 'suspend', 'nope', '--config', gw.configPath]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no tenant with id "nope"/);
    const usage = await gw.cli(['tenants', 'resume', '--config', gw.configPath]);
    assert.notEqual(usage.code, 0);
    assert.match(usage.stderr, /tenants resume TENANT/);
  });
});
