/** The postgres tenant key vault against the real server, in a database of its own (dropped afterwards). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../store/postgres/test-database.ts';
import { isCryptoError } from '../crypto-error.ts';
import { wrapAad } from '../data-keys.ts';
import { createPostgresVault, VAULT_TABLE } from './postgres-vault.ts';
import { runVaultContract } from './vault-contract.ts';

let db: TestDatabase | undefined;
before(async () => {
  db = await createTestDatabase('portcullis_test_vault');
});
after(async () => {
  await db?.drop();
});
const url = (): string => {
  if (db === undefined) throw new Error('the test database was not created (see the error above)');
  return db.url;
};
const aad = (t: string) => wrapAad({ id: 'd'.repeat(32), tenantId: t, version: 1 });

runVaultContract('postgres', () => ({ make: () => createPostgresVault({ url: url() }) }));

describe('postgres tenant key vault', () => {
  it('creates its table, stores one row per tenant, and a destroy deletes the row', async () => {
    const v = createPostgresVault({ url: url() });
    try {
      await v.seal('acme-pg', randomBytes(40), aad('acme-pg'));
      await v.seal('acme-pg', randomBytes(40), aad('acme-pg'));
      const rows = (
        await db!.query(
          `SELECT tenant_id, length(key_id) AS id_len, length(shred_key) AS key_len FROM ${VAULT_TABLE} WHERE tenant_id = $1`,
          ['acme-pg'],
        )
      ).rows;
      assert.deepEqual(rows, [{ tenant_id: 'acme-pg', id_len: 16, key_len: 32 }]);
      assert.equal(await v.destroy('acme-pg'), true);
      assert.equal((await db!.query(`SELECT 1 FROM ${VAULT_TABLE} WHERE tenant_id = $1`, ['acme-pg'])).rowCount, 0);
    } finally {
      await v.close();
    }
  });

  it('two vaults starting on an empty database both create the table and agree on keys', async () => {
    const other = await createTestDatabase('portcullis_test_vault2');
    const [a, b] = [createPostgresVault({ url: other.url }), createPostgresVault({ url: other.url })];
    try {
      const sealed = await Promise.all([
        a.seal('t', randomBytes(40), aad('t')),
        b.seal('t', randomBytes(40), aad('t')),
      ]);
      assert.equal(sealed[0]!.subarray(13, 29).toString('hex'), sealed[1]!.subarray(13, 29).toString('hex'));
    } finally {
      await a.close();
      await b.close();
      await other.drop();
    }
  });

  it('refuses a database that holds a store, however the URL names it, and writes nothing there', async () => {
    const shared = await createTestDatabase('portcullis_test_vault_shared');
    // A store in a non-default schema, reached through a URL that differs from the store's
    // (`localhost` instead of 127.0.0.1): only what is in the database can tell.
    await shared.query('CREATE SCHEMA gw');
    for (const t of ['request_records', 'api_keys', 'schema_migrations'])
      await shared.query(`CREATE TABLE gw.${t} (id text)`);
    const aliased = shared.url.replace('127.0.0.1', 'localhost');
    const v = createPostgresVault({ url: aliased });
    try {
      await assert.rejects(
        v.seal('t', randomBytes(40), aad('t')),
        (e) => isCryptoError(e, 'bad_key') && /holds a Portcullis store \(schema gw\)/.test(e.message),
      );
      assert.equal(
        (await shared.query('SELECT to_regclass($1) AS t', [VAULT_TABLE])).rows[0]!.t,
        null,
        'no vault table was created',
      );
      // One look-alike table is not a store.
      await shared.query('DROP TABLE gw.schema_migrations');
      const ok = createPostgresVault({ url: aliased });
      try {
        await ok.seal('t', randomBytes(40), aad('t'));
      } finally {
        await ok.close();
      }
    } finally {
      await v.close();
      await shared.drop();
    }
  });

  it('an unreachable vault fails closed with a message that holds no password', async () => {
    const secret = `pw${randomBytes(8).toString('hex')}`;
    const v = createPostgresVault({ url: `postgres://someone:${secret}@127.0.0.1:1/nowhere`, connectTimeoutMs: 1_000 });
    try {
      await assert.rejects(
        v.seal('t', randomBytes(40), aad('t')),
        (e) =>
          isCryptoError(e, 'bad_key') &&
          /tenant key vault at postgres:\/\/someone@127\.0\.0\.1:1\/nowhere/.test(e.message) &&
          !e.message.includes(secret),
      );
    } finally {
      await v.close();
    }
  });
});
