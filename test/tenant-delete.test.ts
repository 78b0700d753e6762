/**
 * `portcullis tenants delete` against a running gateway sharing a real Redis: the tenant is
 * suspended, its API keys are revoked (and the revocations broadcast, so its key is refused at
 * once), its data keys and tenant shred key are destroyed, and the running gateway is told to
 * wipe its cached data keys of the tenant instead of keeping them for the cache TTL. Another
 * tenant is untouched; a rerun finishes nothing twice; every step is in the audit log.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRedisBackend } from '../src/limits/redis/redis-backend.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PREFIX = `portcullis-tenant-delete:${randomUUID()}:`;
const MARK = `okapi-${randomBytes(4).toString('hex')}`;

describe('tenants delete', { timeout: 180_000 }, () => {
  let gw: RunningGateway;
  let acmeKey: string;
  let globexKey: string;
  let acmeRequest: string;

  const cli = (...args: string[]) => gw.cli([...args, '--config', gw.configPath]);

  async function chat(key: string): Promise<{ status: number; id: string | null }> {
    const r = await rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: `${MARK} hello` }] }),
    });
    return { status: r.status, id: r.headers.get('x-request-id') };
  }

  async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`never happened: ${what}`);
  }

  before(async () => {
    gw = await startGateway({
      stateYaml: [
        'store:',
        '  path: ./state/portcullis.db',
        'security:',
        '  data_dir: ./state',
        'payload_log:',
        '  enabled: true',
        '  retention_days: 7',
        'redis:',
        '  url: "${TEST_REDIS_URL}"',
        `  key_prefix: "${PREFIX}"`,
        '',
      ].join('\n'),
      env: { TEST_REDIS_URL: REDIS_URL },
    });
    for (const [id, name] of [
      ['acme', 'Acme'],
      ['globex', 'Globex'],
    ]) {
      const r = await cli('tenants', 'create', '--id', id!, '--name', name!);
      assert.equal(r.code, 0, r.stderr);
    }
    const key = async (tenant: string) => {
      const r = await cli('keys', 'create', '--tenant', tenant, '--label', tenant, '--json');
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { key: string }).key;
    };
    acmeKey = await key('acme');
    globexKey = await key('globex');
    const first = await chat(acmeKey);
    assert.equal(first.status, 200);
    acmeRequest = first.id!;
    assert.equal((await chat(globexKey)).status, 200);
    // The payload row is written after the response: wait until it can be read back.
    await eventually(
      'the payload was logged',
      async () => (await cli('payloads', 'show', acmeRequest, '--json')).code === 0,
    );
  });

  after(async () => {
    await gw?.stop();
    const admin = createRedisBackend({ url: REDIS_URL, keyPrefix: PREFIX, timeoutMs: 2000, log: silentLogger() });
    try {
      await admin.ready();
      await admin.deleteAllKeys();
    } finally {
      await admin.close();
    }
  });

  it('refuses without --yes, and for a tenant that does not exist', async () => {
    const unconfirmed = await cli('tenants', 'delete', 'acme');
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /add --yes/);
    const missing = await cli('tenants', 'delete', 'no-such-tenant', '--yes');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no tenant with id "no-such-tenant"/);
    assert.equal((await chat(acmeKey)).status, 200, 'nothing happened to acme');
  });

  it('suspends, revokes, shreds and tells the running gateway to drop the cached keys', async () => {
    const r = await cli('tenants', 'delete', 'acme', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted tenant acme: suspended, 1 API key\(s\) revoked, 1 data key\(s\) destroyed/);
    assert.match(r.stdout, /told to drop their cached copy of these keys now \(1 subscriber\(s\)\)/);
    assert.match(r.stdout, /Tenant shred key destroyed in the file tenant key vault/);

    // The revocation was broadcast: refused at once, without waiting for any cache.
    const refused = await chat(acmeKey);
    assert.ok(refused.status === 401 || refused.status === 403, `acme's key is refused (got ${refused.status})`);
    await eventually('the gateway wiped the cached data keys of acme', () =>
      /"event":"crypto\.tenant_keys_forgotten"[^\n]*"tenant":"acme"/.test(gw.output()),
    );
    assert.ok(!/"event":"crypto\.tenant_keys_forgotten"[^\n]*"tenant":"globex"/.test(gw.output()));

    const shown = await cli('payloads', 'show', acmeRequest, '--json');
    assert.equal(shown.code, 1);
    assert.match(shown.stderr, /crypto-shredded/);
    assert.ok(!shown.stdout.includes(MARK));

    const tenants = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as Array<{
      id: string;
      status: string;
    }>;
    assert.equal(tenants.find((t) => t.id === 'acme')?.status, 'suspended', 'the record stays, suspended');
    assert.equal(tenants.find((t) => t.id === 'globex')?.status, 'active');
    const keys = JSON.parse((await cli('keys', 'list', '--tenant', 'acme', '--json')).stdout) as Array<{
      revokedAt: string | null;
    }>;
    assert.ok(
      keys.length === 1 && keys[0]!.revokedAt !== null,
      'the key is revoked, not just suspended with its tenant',
    );

    // The other tenant keeps working and its payloads stay readable.
    const globex = await chat(globexKey);
    assert.equal(globex.status, 200);
    await eventually(
      'globex payload readable',
      async () => (await cli('payloads', 'show', globex.id!, '--json')).code === 0,
    );
  });

  it('a rerun completes without doing anything twice, and every step is in the audit log', async () => {
    const again = await cli('tenants', 'delete', 'acme', '--yes');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /suspended, 0 API key\(s\) revoked, 0 data key\(s\) destroyed/);
    assert.match(again.stdout, /No tenant shred key was left/);

    const exported = await cli('audit', 'export', '--from', '2000-01-01', '--to', '2100-01-01', '--format', 'jsonl');
    assert.equal(exported.code, 0, exported.stderr);
    const actions = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: string })
      .filter((e) => e.target === 'acme' || e.action === 'key.revoke')
      .map((e) => e.action);
    for (const action of ['tenant.delete', 'tenant.suspend', 'key.revoke', 'crypto.shred_tenant'])
      assert.ok(actions.includes(action), `${action} audited (${actions.join(', ')})`);
    assert.equal(actions.filter((a) => a === 'tenant.suspend').length, 1, 'the rerun did not suspend again');
    assert.equal(actions.filter((a) => a === 'key.revoke').length, 1, 'the rerun revoked nothing');
    const verified = await cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  });
});
