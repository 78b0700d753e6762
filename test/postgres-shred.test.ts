/**
 * Crypto-shredding in the scale-out setup, attacked the way a backup would: the gateway runs on
 * PostgreSQL with the tenant key vault in a second, separate PostgreSQL database and payload
 * logging on. The tenant's data-key rows are copied out before `tenants shred` (what a backup
 * of the store holds) and put back afterwards (what restoring that backup does), with the same
 * master key still configured: the tenant's payloads stay unreadable because its shred key is
 * gone from the vault, while the other tenant's payloads, from the same restored rows, read fine.
 * Both databases are created for the run and dropped after.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const MARK = `pangolin-${randomBytes(4).toString('hex')}`;
const STATE_YAML = [
  'store:',
  '  driver: postgres',
  '  url: "${STORE_URL}"',
  '  pool_size: 4',
  'security:',
  '  data_dir: ./state',
  '  key_hash_secret: "${KHS}"',
  '  master_key: "${MASTER_KEY}"',
  '  tenant_keys:',
  '    vault: postgres',
  '    url: "${VAULT_URL}"',
  'payload_log:',
  '  enabled: true',
  '  retention_days: 7',
  '',
].join('\n');

let store: TestDatabase;
let vault: TestDatabase;
let gw: RunningGateway;

before(async () => {
  store = await createTestDatabase('portcullis_test_shred');
  vault = await createTestDatabase('portcullis_test_vault');
  gw = await startGateway({
    stateYaml: STATE_YAML,
    env: {
      STORE_URL: store.url,
      VAULT_URL: vault.url,
      KHS: randomBytes(32).toString('base64url'),
      MASTER_KEY: randomBytes(32).toString('base64'),
    },
  });
});
after(async () => {
  await gw?.stop();
  await store?.drop();
  await vault?.drop();
});

test('a restored backup of the data keys stays unreadable after the shred, with the same master key', {
  timeout: 180_000,
}, async () => {
  const cli = (...args: string[]) => gw.cli([...args, '--config', gw.configPath]);
  const show = (id: string) => cli('payloads', 'show', id, '--json');
  const call = async (tenant: string): Promise<string> => {
    const made = await cli('keys', 'create', '--tenant', tenant, '--label', tenant, '--json');
    assert.equal(made.code, 0, made.stderr);
    const r = await rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: {
        authorization: `Bearer ${(JSON.parse(made.stdout) as { key: string }).key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: `${MARK} ${tenant}` }] }),
    });
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id')!;
    for (let i = 0; i < 100 && (await show(id)).code !== 0; i++) await new Promise((res) => setTimeout(res, 100));
    return id;
  };
  const acmeId = await call('acme');
  const globexId = await call('globex');
  assert.ok((await show(acmeId)).stdout.includes(`${MARK} acme`), 'readable before the shred');

  const vaultRows = await vault.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM portcullis_tenant_keys ORDER BY tenant_id',
  );
  assert.deepEqual(
    vaultRows.rows.map((r) => r.tenant_id),
    ['acme', 'globex'],
    'one shred key per tenant, in the vault database only',
  );
  const backup = await store.query(
    'SELECT id, tenant_id, version, kek_id, wrapped, created_at, encryptions FROM data_keys',
  );
  assert.equal(backup.rows.length, 2);

  const shred = await cli('tenants', 'shred', 'acme', '--yes');
  assert.equal(shred.code, 0, shred.stderr);
  assert.match(shred.stdout, /1 data key\(s\) destroyed/);
  assert.match(shred.stdout, /Tenant shred key destroyed in the postgres tenant key vault/);
  assert.deepEqual(
    (await vault.query<{ tenant_id: string }>('SELECT tenant_id FROM portcullis_tenant_keys')).rows.map(
      (r) => r.tenant_id,
    ),
    ['globex'],
  );

  // Restore the backup: the tombstones go and the pre-shred key rows come back, as they would
  // with the whole database restored from a dump taken before the shred.
  await store.query('DELETE FROM data_key_tombstones');
  await store.query('DELETE FROM data_keys');
  for (const row of backup.rows) {
    await store.query(
      'INSERT INTO data_keys (id, tenant_id, version, kek_id, wrapped, created_at, encryptions) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [row.id, row.tenant_id, row.version, row.kek_id, row.wrapped, row.created_at, row.encryptions],
    );
  }
  const acme = await show(acmeId);
  assert.equal(acme.code, 1, 'the restored key of a shredded tenant opens nothing');
  assert.match(acme.stderr, /crypto-shredded/);
  assert.ok(!acme.stdout.includes(MARK));
  const globex = await show(globexId);
  assert.equal(globex.code, 0, globex.stderr);
  assert.ok(globex.stdout.includes(`${MARK} globex`), 'the other tenant reads fine from the same restored rows');
});
