import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runStoreContract } from '../contract.ts';
import { sampleApiKeyRecord, sampleRequestRecord } from '../contract-fixtures.ts';
import { StoreOpenError } from '../errors.ts';
import { openStore } from '../open.ts';
import type { Store } from '../store.ts';
import { MIGRATIONS } from './migrations.ts';
import { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

// One database for the file (created here, dropped at the end); one schema per case.
let db: TestDatabase | undefined;
before(async () => {
  db = await createTestDatabase('portcullis_test_store');
});
after(async () => {
  await db?.drop();
});

let n = 0;
const freshSchema = (): string => `case_${process.pid}_${++n}`;
const dbUrl = (): string => {
  if (db === undefined) throw new Error('the test database was not created (see the error above)');
  return db.url;
};
const dropSchema = async (schema: string): Promise<void> => {
  await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
};

for (const batchWindowMs of [50, 0]) {
  runStoreContract(`postgres (batch window ${batchWindowMs} ms)`, async () => {
    const schema = freshSchema();
    const make = () => createPostgresStore({ url: dbUrl(), schema, poolSize: 4, batchWindowMs });
    return { store: make(), reopen: async () => make(), cleanup: () => dropSchema(schema) };
  });
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('postgres store specifics', () => {
  const opened: Store[] = [];
  const schemas: string[] = [];
  const store = (o: Partial<PostgresStoreOptions> = {}): Store => {
    const s = createPostgresStore({ url: dbUrl(), poolSize: 2, ...o });
    opened.push(s);
    return s;
  };
  const schema = (): string => {
    const s = freshSchema();
    schemas.push(s);
    return s;
  };
  after(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    for (const s of schemas) await dropSchema(s);
  });

  it('migrates exactly once when several instances start at the same time', async () => {
    const s = schema();
    const stores = Array.from({ length: 5 }, () => store({ schema: s }));
    await Promise.all(stores.map((x) => x.init()));
    for (const x of stores) assert.equal(await x.schemaVersion(), MIGRATIONS.length);
    const rows = await db!.query<{ version: number }>(`SELECT version FROM "${s}".schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.rows.map((r) => r.version),
      MIGRATIONS.map((_m, i) => i + 1),
    );
    const k = sampleApiKeyRecord();
    await stores[0]!.insertApiKey(k);
    assert.deepEqual(await stores[4]!.getApiKey(k.id), k, 'every instance sees the same data');
  });

  it('refuses a schema written by a newer version, saying so, and stays closed', async () => {
    const s = schema();
    await store({ schema: s }).init();
    await db!.query(`INSERT INTO "${s}".schema_migrations (version, applied_at) VALUES ($1, $2)`, [
      MIGRATIONS.length + 1,
      new Date().toISOString(),
    ]);
    const newer = store({ schema: s });
    await assert.rejects(newer.init(), (err: unknown) => {
      assert.ok(err instanceof StoreOpenError);
      assert.match(
        err.message,
        new RegExp(
          `schema version ${MIGRATIONS.length + 1}, newer than this Portcullis knows \\(${MIGRATIONS.length}\\)`,
        ),
      );
      return true;
    });
    await assert.rejects(newer.ping());
  });

  it('completes many more parallel operations than it has connections, never using more', async () => {
    for (const earlier of opened.splice(0)) await earlier.close();
    const s = schema();
    const x = store({ schema: s, poolSize: 2, batchWindowMs: 0, connectTimeoutMs: 30_000 });
    await x.init();
    const keys = Array.from({ length: 60 }, () => sampleApiKeyRecord({ tenantId: 'pool' }));
    await Promise.all([
      ...keys.map((k) => x.insertApiKey(k)),
      ...Array.from({ length: 60 }, () => x.insertRequestRecord(sampleRequestRecord({ tenantId: 'pool' }))),
      ...Array.from({ length: 30 }, () => x.listApiKeys({ tenantId: 'pool' })),
      ...Array.from({ length: 30 }, () => x.ping()),
    ]);
    assert.equal((await x.listApiKeys({ tenantId: 'pool' })).length, 60);
    assert.equal((await x.listRequestRecords({ limit: 100, tenantId: 'pool' })).length, 60);
    const conns = await db!.query<{ n: number }>(
      "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'portcullis'",
    );
    assert.ok(conns.rows[0]!.n <= 2, `at most poolSize connections (found ${conns.rows[0]!.n})`);
  });

  it('stores SQL-shaped labels, model names and tenants as data', async () => {
    const x = store({ schema: schema() });
    await x.init();
    const evil = "'); DROP TABLE api_keys; --";
    const k = sampleApiKeyRecord({
      label: evil,
      tenantId: `t${evil}`,
      allowedModels: [evil, 'NULL', '{a,b}', '"quoted"', 'back\\slash', ''],
    });
    const r = sampleRequestRecord({ tenantId: evil, model: `m${evil}`, errorCode: "x' OR 1=1 --" });
    await x.insertApiKey(k);
    await x.insertRequestRecord(r);
    assert.deepEqual(await x.getApiKey(k.id), k);
    assert.deepEqual(await x.listApiKeys({ tenantId: `t${evil}` }), [k]);
    assert.deepEqual(await x.listRequestRecords({ limit: 5, tenantId: evil }), [r]);
    assert.equal((await x.listApiKeys({})).length, 1, 'the table is still there and holds one key');
  });

  it('flushes queued records on close and reports only the records it could not write', async () => {
    const s = schema();
    const lost: number[] = [];
    const x = store({ schema: s, batchWindowMs: 60_000, onWriteError: (_e, count) => lost.push(count) });
    await x.init();
    const dup = sampleRequestRecord();
    await x.insertRequestRecord(dup);
    await x.insertRequestRecord(sampleRequestRecord());
    await x.insertRequestRecord(dup);
    await x.close();
    assert.deepEqual(lost, [1], 'only the duplicate is lost, not its batch');
    const again = store({ schema: s });
    await again.init();
    assert.equal((await again.listRequestRecords({ limit: 10 })).length, 2);
  });

  it('opens through openStore with the postgres driver', async () => {
    const s = schema();
    const x = await openStore({ driver: 'postgres', url: dbUrl(), poolSize: 3, schema: s });
    opened.push(x);
    assert.equal(x.driver, 'postgres');
    assert.equal(await x.schemaVersion(), MIGRATIONS.length);
  });

  it('fails init clearly, without the password, when the server is unreachable', async () => {
    const port = await closedPort();
    const x = store({
      url: `postgres://portcullis:planted-pg-password@127.0.0.1:${port}/nowhere`,
      connectTimeoutMs: 2_000,
    });
    await assert.rejects(x.init(), (err: unknown) => {
      assert.ok(err instanceof StoreOpenError);
      assert.match(
        err.message,
        new RegExp(`cannot connect to PostgreSQL at postgres://portcullis@127\\.0\\.0\\.1:${port}/nowhere`),
      );
      assert.ok(!err.message.includes('planted-pg-password'));
      return true;
    });
    await assert.rejects(x.ping());
  });

  it('rejects bad options at construction', () => {
    const url = 'postgres://u@127.0.0.1/db';
    assert.throws(() => createPostgresStore({ url: 'mysql://u@h/db' }), /postgres:\/\//);
    for (const poolSize of [0, 201, 1.5, Number.NaN])
      assert.throws(() => createPostgresStore({ url, poolSize }), RangeError);
    for (const bad of ['Public', 'x"; DROP SCHEMA public; --', 'pg_catalog', '', '1abc', 'a'.repeat(64)]) {
      assert.throws(() => createPostgresStore({ url, schema: bad }), TypeError, bad);
    }
    assert.throws(() => createPostgresStore({ url, maxBatch: 0 }), RangeError);
    assert.throws(() => createPostgresStore({ url, batchWindowMs: -1 }), RangeError);
  });
});
